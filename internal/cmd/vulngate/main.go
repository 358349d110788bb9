// Command vulngate reads `govulncheck -format json` on standard input and
// decides whether CI passes. It looks only at findings whose trace reaches
// a vulnerable function (what govulncheck's text mode calls "your code is
// affected"):
//
//   - a finding in a module (not the standard library) fails the run
//     unless the allow file lists its OSV id with a reason;
//   - a finding in the standard library is reported as a warning: it is
//     fixed by building with a newer Go, not by changing this repository,
//     and CI runs on whatever Go the machine has;
//   - an allow-file entry that no finding used is reported, so the list
//     does not outlive its reasons.
//
// It exits with status 1 on an unlisted finding or unreadable input.
//
//	govulncheck -format json ./... | go run ./internal/cmd/vulngate -allow .ci/vulncheck-allow
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

func main() {
	allowPath := flag.String("allow", "", "file of allowed OSV ids, one per line: ID reason")
	flag.Parse()
	allow := map[string]string{}
	if *allowPath != "" {
		f, err := os.Open(*allowPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vulngate: %v\n", err)
			os.Exit(1)
		}
		allow, err = readAllow(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "vulngate: %s: %v\n", *allowPath, err)
			os.Exit(1)
		}
	}
	os.Exit(run(os.Stdin, os.Stdout, allow))
}

// message is one JSON value of govulncheck's stream; only findings and
// OSV summaries matter here.
type message struct {
	OSV     *osv     `json:"osv"`
	Finding *finding `json:"finding"`
}

type osv struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
}

type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

// called is one vulnerability the code reaches, with the module it is in.
type called struct {
	id, module, version, fixed, where string
}

// readAllow parses the allow file: "ID reason" per line, # comments and
// blank lines ignored. A reason is required.
func readAllow(r io.Reader) (map[string]string, error) {
	allow := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(id, "GO-") || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("line %d: want \"GO-YYYY-NNNN reason\"", n)
		}
		allow[id] = strings.TrimSpace(reason)
	}
	return allow, sc.Err()
}

func run(in io.Reader, out io.Writer, allow map[string]string) int {
	summaries := map[string]string{}
	found := map[string]called{}
	dec := json.NewDecoder(in)
	messages := 0
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(out, "vulngate: reading govulncheck output: %v\n", err)
			return 1
		}
		messages++
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // imported or required, but not called
		}
		if _, ok := found[f.OSV]; ok {
			continue
		}
		top := f.Trace[0]
		where := top.Package + "." + top.Function
		if last := f.Trace[len(f.Trace)-1]; len(f.Trace) > 1 {
			where = last.Package + "." + last.Function + " → " + where
		}
		found[f.OSV] = called{id: f.OSV, module: top.Module, version: top.Version, fixed: f.FixedVersion, where: where}
	}
	if messages == 0 {
		fmt.Fprintln(out, "vulngate: no govulncheck output")
		return 1
	}

	ids := slices.Sorted(maps.Keys(found))
	status := 0
	for _, id := range ids {
		c := found[id]
		fix := "fixed in " + c.fixed
		if c.fixed == "" {
			fix = "no fixed version"
		}
		desc := fmt.Sprintf("%s %s@%s (%s; %s), reached from %s", id, c.module, c.version, summaries[id], fix, c.where)
		switch reason, ok := allow[id]; {
		case c.module == "stdlib":
			fmt.Fprintf(out, "vulngate: warning: Go toolchain: %s; build releases with Go %s or newer\n", desc, c.fixed)
		case ok:
			fmt.Fprintf(out, "vulngate: allowed: %s: %s\n", desc, reason)
		default:
			fmt.Fprintf(out, "vulngate: FAIL: %s\n", desc)
			status = 1
		}
	}
	for _, id := range slices.Sorted(maps.Keys(allow)) {
		if _, ok := found[id]; !ok {
			fmt.Fprintf(out, "vulngate: note: %s is allowed but no longer found; remove it from the allow file\n", id)
		}
	}
	if status == 0 {
		fmt.Fprintf(out, "vulngate: ok: %d reachable vulnerabilities, none unlisted outside the standard library\n", len(found))
	}
	return status
}
