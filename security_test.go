package latch_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// goFiles returns the repository's Go files (every module; the root
// package's directory is the repository's root), skipping testdata.
func goFiles(t *testing.T, tests bool) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != "."):
			return filepath.SkipDir
		case d.IsDir() || !strings.HasSuffix(path, ".go"):
			return nil
		case strings.HasSuffix(path, "_test.go") == tests:
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Go files found")
	}
	return files
}

// TestNoMathRand: no code outside tests, in any module, imports
// math/rand. Every id, secret and key comes from crypto/rand.
func TestNoMathRand(t *testing.T) {
	fset := token.NewFileSet()
	for _, path := range goFiles(t, false) {
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "math/rand" || p == "math/rand/v2" {
				t.Errorf("%s imports %s; use crypto/rand", path, p)
			}
		}
	}
}

// TestSecurityDocNamesRealTests: every test, fuzz target and benchmark
// that docs/SECURITY.md cites as proof exists in some module.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("docs/SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Z]\w*)\(`)
	for _, path := range goFiles(t, true) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
	}
	for name := range e2eCases(t) {
		defined[name] = true
	}
	cited := regexp.MustCompile("`((?:Test|Fuzz|Benchmark)[A-Z]\\w*(?:/[A-Z]\\w*)?)`").FindAllSubmatch(doc, -1)
	if len(cited) < 40 {
		t.Fatalf("docs/SECURITY.md cites %d tests; the pattern or the doc changed", len(cited))
	}
	for _, m := range cited {
		if name := string(m[1]); !defined[name] {
			t.Errorf("docs/SECURITY.md cites %s, which no _test.go file defines", name)
		}
	}
}

// e2eCases returns the end-to-end suite's cases as go test names them,
// "TestE2E/AttackAlgNone": each case of examples/internal/e2e's Run
// functions under the Test function of examples/seed that calls it.
func e2eCases(t *testing.T) map[string]bool {
	callers := map[string]string{} // e2e.RunStores -> TestE2EStores
	seed, err := os.ReadFile("examples/seed/e2e_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`func (Test\w+)\(t \*testing\.T\) \{ e2e\.(Run\w*)\(`).FindAllSubmatch(seed, -1) {
		callers[string(m[2])] = string(m[1])
	}
	src, err := os.ReadFile("examples/internal/e2e/e2e.go")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	run := ""
	for _, line := range strings.Split(string(src), "\n") {
		if m := regexp.MustCompile(`^func (Run\w*)\(`).FindStringSubmatch(line); m != nil {
			run = m[1]
		}
		if m := regexp.MustCompile(`\{"(\w+)", test\w+\}`).FindStringSubmatch(line); m != nil && callers[run] != "" {
			cases[callers[run]+"/"+m[1]] = true
		}
	}
	if len(cases) < 30 {
		t.Fatalf("found %d end-to-end cases; examples/internal/e2e/e2e.go or examples/seed/e2e_test.go changed shape", len(cases))
	}
	return cases
}
