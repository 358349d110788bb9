// Command testreport reads `go test -json` on standard input and prints
// what a plain `go test` run would, plus the lines latch needs to see
// even when tests pass:
//
//   - one summary line per package (ok, FAIL, ?), as go test prints it;
//   - the output of every failing test and of failed builds and vet runs;
//   - output outside tests (panics, TestMain) of a failing package;
//   - every message logged with t.Log, t.Skip and friends that starts
//     with "testenv: " or "conformance: ", once each, after the test's
//     name.
//
// It exits with status 1 if any package, test or build failed.
//
//	go test -json ./... | go run ./internal/cmd/testreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// event is one line of `go test -json` (see go doc test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail
	FailedBuild string // set on a package's fail when its build failed
}

// line is one output line of a package, with the test that wrote it.
type line struct {
	test, text string
}

// pkg collects a package's output until its final event.
type pkg struct {
	lines   []line
	result  map[string]string // test name -> pass, fail or skip
	summary string            // go test's "ok  \tpkg\t0.1s" line
	notes   []note            // highlighted log lines
}

// note is a highlighted message and the test that logged it.
type note struct {
	test, msg string
}

// reporter turns events into the report written to w.
type reporter struct {
	w        io.Writer
	pkgs     map[string]*pkg
	order    []string            // packages in order of first event
	build    map[string][]string // build output by ImportPath
	buildBad map[string]bool     // ImportPaths whose build failed
	printed  map[string]bool     // ImportPaths whose build output was printed
	errLines map[string]bool     // build output lines printed
	seen     map[string]bool     // highlighted messages printed
	failed   bool
}

// logLine matches a message logged by t.Log and friends: an indent, the
// file:line of the call, then the message.
var logLine = regexp.MustCompile(`^\s+[^\s:]+\.go:\d+: (.*)$`)

// highlighted are the prefixes of logged messages shown even when tests pass.
var highlighted = []string{"testenv: ", "conformance: "}

func run(in io.Reader, w io.Writer) int {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	r := &reporter{
		w:        bw,
		pkgs:     map[string]*pkg{},
		build:    map[string][]string{},
		printed:  map[string]bool{},
		errLines: map[string]bool{},
		seen:     map[string]bool{},
		buildBad: map[string]bool{},
	}
	br := bufio.NewReader(in)
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			var e event
			if json.Unmarshal(b, &e) != nil || e.Action == "" {
				// Not test2json output (a go command message): pass it on.
				bw.Write(b)
			} else {
				r.handle(e)
			}
			bw.Flush()
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(bw, "testreport: reading input: %v\n", err)
				r.failed = true
			}
			break
		}
	}
	r.finish()
	if r.failed {
		fmt.Fprintln(bw, "FAIL")
		return 1
	}
	return 0
}

func (r *reporter) pkg(name string) *pkg {
	p := r.pkgs[name]
	if p == nil {
		p = &pkg{result: map[string]string{}}
		r.pkgs[name] = p
		r.order = append(r.order, name)
	}
	return p
}

func (r *reporter) handle(e event) {
	switch e.Action {
	case "build-output":
		r.build[e.ImportPath] = append(r.build[e.ImportPath], e.Output)
		return
	case "build-fail":
		r.buildBad[e.ImportPath] = true
		r.failed = true
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package)
	switch e.Action {
	case "output":
		text := e.Output
		if e.Test == "" && isSummary(text) {
			p.summary = text
			return
		}
		p.lines = append(p.lines, line{e.Test, text})
		if e.Test != "" {
			r.highlight(p, e.Test, text)
		}
	case "pass", "fail", "skip":
		if e.Test != "" {
			p.result[e.Test] = e.Action
			return
		}
		if e.FailedBuild != "" {
			r.printBuild(e.FailedBuild)
		}
		r.flush(e.Package, p, e.Action == "fail")
	}
}

// isSummary reports whether s is go test's result line for a package.
func isSummary(s string) bool {
	for _, prefix := range []string{"ok  \t", "FAIL\t", "?   \t"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// highlight records text if it is a logged message with a highlighted
// prefix not seen before.
func (r *reporter) highlight(p *pkg, test, text string) {
	m := logLine.FindStringSubmatch(strings.TrimRight(text, "\r\n"))
	if m == nil {
		return
	}
	msg := m[1]
	for _, prefix := range highlighted {
		if strings.HasPrefix(msg, prefix) && !r.seen[msg] {
			r.seen[msg] = true
			p.notes = append(p.notes, note{test, msg})
			return
		}
	}
}

func (r *reporter) printBuild(importPath string) {
	if r.printed[importPath] {
		return
	}
	r.printed[importPath] = true
	// The same compile error can come twice, for the package and for its
	// test variant: print a block only if it says something new.
	lines := r.build[importPath]
	fresh := false
	for _, s := range lines {
		if !strings.HasPrefix(s, "# ") && !r.errLines[s] {
			fresh = true
		}
	}
	if !fresh && len(lines) > 0 {
		return
	}
	for _, s := range lines {
		r.errLines[s] = true
	}
	r.write(lines...)
}

// flush prints a finished package: its failures, its highlighted lines,
// then its summary line.
func (r *reporter) flush(name string, p *pkg, failed bool) {
	if failed {
		r.failed = true
		r.printFailures(p)
	}
	for _, n := range p.notes {
		// A failed test's notes are in its output, printed above.
		if res, ok := p.result[n.test]; failed && (!ok || res == "fail") {
			continue
		}
		fmt.Fprintf(r.w, "    %s: %s\n", n.test, n.msg)
	}
	switch {
	case p.summary != "":
		io.WriteString(r.w, p.summary)
	case failed:
		fmt.Fprintf(r.w, "FAIL\t%s\n", name)
	default:
		fmt.Fprintf(r.w, "ok  \t%s\n", name)
	}
	delete(r.pkgs, name)
}

// printFailures prints, test by test in the order they started, the
// output of each failed test (its "--- FAIL" line first) and of each test
// still running when the binary died; then the output outside tests.
func (r *reporter) printFailures(p *pkg) {
	var tests []string
	byTest := map[string][]string{}
	for _, l := range p.lines {
		if _, ok := byTest[l.test]; !ok {
			tests = append(tests, l.test)
		}
		byTest[l.test] = append(byTest[l.test], l.text)
	}
	for _, test := range tests {
		res, ok := p.result[test]
		if test == "" || (ok && res != "fail") {
			continue
		}
		var head, body []string
		for _, text := range byTest[test] {
			switch {
			case isProgress(text):
			case strings.HasPrefix(text, "--- "):
				head = append(head, text)
			default:
				body = append(body, text)
			}
		}
		r.write(head...)
		r.write(body...)
	}
	for _, text := range byTest[""] {
		if t := strings.TrimSpace(text); t != "PASS" && t != "FAIL" {
			r.write(text)
		}
	}
}

func (r *reporter) write(lines ...string) {
	for _, s := range lines {
		io.WriteString(r.w, s)
	}
}

// isProgress reports whether s is one of the "=== RUN" lines go test -v
// adds; plain go test omits them.
func isProgress(s string) bool {
	for _, prefix := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// finish prints what never reached a final event: packages cut off and
// build output no package referred to.
func (r *reporter) finish() {
	for _, name := range r.order {
		if p := r.pkgs[name]; p != nil {
			r.flush(name, p, true)
		}
	}
	for _, importPath := range slices.Sorted(maps.Keys(r.buildBad)) {
		r.printBuild(importPath)
	}
}
