// Package srccheck checks a package's source from its own tests: rules
// that hold for the code as written, which no test of its behaviour
// could see broken.
package srccheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// parse parses the Go files in dir: its tests, or the rest.
func parse(t testing.TB, dir string, tests bool) (*token.FileSet, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") != tests {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return fset, files
}

// SubtleUses returns how many times the code (not the tests) of the
// package in dir uses crypto/subtle, and fails t for every bytes.Equal,
// bytes.Compare or hmac.Equal in it: secrets are compared in constant
// time, through one function that the tests can count.
func SubtleUses(t testing.TB, dir string) int {
	t.Helper()
	fset, files := parse(t, dir, false)
	uses := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch pkg.Name + "." + sel.Sel.Name {
			case "bytes.Equal", "bytes.Compare", "hmac.Equal":
				t.Errorf("%s: %s.%s: compare secrets with secretCompare", fset.Position(sel.Pos()), pkg.Name, sel.Sel.Name)
			}
			if pkg.Name == "subtle" {
				uses++
			}
			return true
		})
	}
	return uses
}

// NoParallel fails t for every call of Parallel in the tests of the
// package in dir, whose work counters are global: a test reads them as the
// work of its own call, and a test running beside it would add to them.
func NoParallel(t testing.TB, dir string) {
	t.Helper()
	fset, files := parse(t, dir, true)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Parallel" && len(call.Args) == 0 {
				t.Errorf("%s calls Parallel; the work counters in export_test.go are global, so this package's tests run one at a time",
					fset.Position(call.Pos()))
			}
			return true
		})
	}
}
