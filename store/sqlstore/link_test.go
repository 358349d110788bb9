package sqlstore_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The modules of the three drivers.
var driverModules = map[string]string{
	"postgres": "github.com/lib/pq",
	"mysql":    "github.com/go-sql-driver/mysql",
	"sqlite":   "modernc.org/sqlite",
}

// TestLinkedDrivers builds, inside this repository's workspace, a
// program that imports sqlstore and one driver package, for each driver,
// and reads with go version -m which modules the binary holds: its
// driver's, and neither of the other two. A PostgreSQL-only program
// links neither the MySQL driver nor SQLite. A program with no driver
// package links none, and its Open says which package to import.
func TestLinkedDrivers(t *testing.T) {
	work := workspace(t)
	for _, pkg := range []string{"postgres", "mysql", "sqlite", ""} {
		name := pkg
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) {
			imp := ""
			if pkg != "" {
				imp = "_ \"github.com/latchauth/latch/store/sqlstore/" + pkg + "\""
			}
			bin := build(t, work, `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/latchauth/latch/store/sqlstore"
	`+imp+`
)

func main() {
	_, err := sqlstore.Open(context.Background(), os.Args[1])
	fmt.Println(err)
}
`)
			out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
			if err != nil {
				t.Fatalf("go version -m: %v\n%s", err, out)
			}
			for p, mod := range driverModules {
				if linked := strings.Contains(string(out), "\t"+mod+"\t"); linked != (p == pkg) {
					t.Errorf("a program importing %q links %s: %v, want %v\n%s", imp, mod, linked, p == pkg, out)
				}
			}
			if pkg != "" {
				return
			}
			out, _ = exec.Command(bin, "postgres://latch@127.0.0.1:1/db").CombinedOutput()
			if want := `import _ "github.com/latchauth/latch/store/sqlstore/postgres"`; !strings.Contains(string(out), want) {
				t.Errorf("Open without a driver package says %q, want it to say %s", out, want)
			}
		})
	}
}

// workspace returns a go.work in a directory of its own that uses every
// module of this repository's workspace and the directory's prog module.
func workspace(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	dir := t.TempDir()
	work := "go 1.26.0\n\nuse (\n\t./prog\n"
	for _, m := range strings.Fields(string(out)) {
		work += "\t" + m + "\n"
	}
	work += ")\n"
	gowork := strings.TrimSpace(run(t, "", "go", "env", "GOWORK"))
	sum, err := os.ReadFile(gowork + ".sum")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.work"), work)
	write(t, filepath.Join(dir, "go.work.sum"), string(sum))
	write(t, filepath.Join(dir, "prog", "go.mod"), "module linkcheck\n\ngo 1.26.0\n")
	return dir
}

// build builds main.go, holding src, in work's prog module, and returns
// the binary.
func build(t *testing.T, work, src string) string {
	t.Helper()
	prog := filepath.Join(work, "prog")
	write(t, filepath.Join(prog, "main.go"), src)
	bin := filepath.Join(t.TempDir(), "linkcheck")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = prog
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(work, "go.work"), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
