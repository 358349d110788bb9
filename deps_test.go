package latch_test

import (
	"os/exec"
	"strings"
	"testing"
)

// corePackages are the packages of the core: what a program that uses
// latch without HTTP, or a store's author, imports.
var corePackages = []string{
	"github.com/latchauth/latch",
	"github.com/latchauth/latch/token",
	"github.com/latchauth/latch/store",
	"github.com/latchauth/latch/store/memstore",
	"github.com/latchauth/latch/conformance",
}

// TestCoreImportsNoNetHTTP: no core package imports net/http (or a package
// under it), directly or through any package it depends on; HTTP is
// package latchhttp's. It asks the go command, so it sees what the
// compiler sees.
func TestCoreImportsNoNetHTTP(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the core's dependencies: %v", err)
	}
	// Each line: a package, then what it imports.
	args := append([]string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, corePackages...)
	out, err := exec.Command(goTool, args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		seen[fields[0]] = true
		for _, imp := range fields[1:] {
			if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
				t.Errorf("%s imports %s", fields[0], imp)
			}
		}
	}
	for _, p := range corePackages {
		if !seen[p] {
			t.Errorf("go list did not list %s", p)
		}
	}
	if !seen["github.com/golang-jwt/jwt/v5"] {
		t.Errorf("go list listed %d packages, golang-jwt not among them: not the dependencies of the core", len(seen))
	}
}
