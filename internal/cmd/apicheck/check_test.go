package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCheck writes the API files of testdata/work, a workspace of a root
// module, a nested module, an example and an internal tool module, then
// changes a copy of it in one way per case and checks: an unchanged API
// passes, and a changed API, a missing file or a file of no module
// fails with a diff and the way out.
func TestCheck(t *testing.T) {
	base := t.TempDir()
	if err := os.CopyFS(base, os.DirFS("testdata/work")); err != nil {
		t.Fatal(err)
	}
	if code, out := runIn(t, base, true); code != 0 {
		t.Fatalf("apicheck -w exited %d:\n%s", code, out)
	}
	// The example and the internal module have no API, so no file.
	entries, err := os.ReadDir(filepath.Join(base, "api"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"sub.txt", "work.txt"}; !slices.Equal(names, want) {
		t.Fatalf("api/ holds %q, want %q", names, want)
	}
	for _, c := range []struct {
		name   string
		change func(t *testing.T, root string)
		fails  bool
		want   []string // in the output
	}{
		{"unchanged", func(*testing.T, string) {}, false,
			[]string{"apicheck: api/ matches the API of 2 modules"}},
		{"unexported addition", appendTo("work.go", "func helper() {}\n"), false, nil},
		{"exported addition", appendTo("sub/sub.go", "func Added() {}\n"), true, []string{
			"--- api/sub.txt (committed)\n+++ api/sub.txt (the code)\n+pkg work/sub, func Added()\n",
			"run `make api` and commit api/",
		}},
		{"changed signature", replaceIn("work.go", "Hello()", "Hello(name string)"), true, []string{
			"-pkg work, func Hello() string\n+pkg work, func Hello(string) string\n",
		}},
		{"removed constant", replaceIn("sub/sub.go", "const Version = 1", ""), true, []string{
			"-pkg work/sub, const Version = 1\n-pkg work/sub, const Version ideal-int\n",
		}},
		{"missing file", remove("api/sub.txt"), true, []string{
			"api/sub.txt: missing: a published module without its API file\n",
			"+pkg work/sub, const Version = 1\n",
		}},
		{"file of no module", appendTo("api/gone.txt", "pkg gone, func F()\n"), true, []string{
			"api/gone.txt: no module publishes this API any more",
			"-pkg gone, func F()\n",
		}},
		{"module left the workspace", replaceIn("go.work", "./sub", ""), true, []string{
			"api/sub.txt: no module publishes this API any more",
		}},
		{"lines out of order", replaceIn("api/sub.txt",
			"pkg work/sub, const Version = 1\npkg work/sub, const Version ideal-int\n",
			"pkg work/sub, const Version ideal-int\npkg work/sub, const Version = 1\n"), true, []string{
			"(the same lines, in another order or spacing)",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.CopyFS(root, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			c.change(t, root)
			code, out := runIn(t, root, false)
			if (code != 0) != c.fails || (c.fails && code != 1) {
				t.Errorf("exited %d, want failure %v:\n%s", code, c.fails, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if !c.fails {
				return
			}
			// The way out: regenerate, and the check passes.
			if code, out := runIn(t, root, true); code != 0 {
				t.Fatalf("apicheck -w exited %d:\n%s", code, out)
			}
			if code, out := runIn(t, root, false); code != 0 {
				t.Errorf("after apicheck -w, the check exited %d:\n%s", code, out)
			}
		})
	}
}

// runIn runs apicheck on the tree at root, writing the files or checking
// them, and returns its exit status and output.
func runIn(t *testing.T, root string, write bool) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(root, "api", write, &out, &out)
	return code, out.String()
}

func appendTo(file, text string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		f, err := os.OpenFile(filepath.Join(root, file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
}

func replaceIn(file, old, new string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		name := filepath.Join(root, file)
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%s lacks %q", file, old)
		}
		if err := os.WriteFile(name, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(file string) func(*testing.T, string) {
	return func(t *testing.T, root string) {
		if err := os.Remove(filepath.Join(root, file)); err != nil {
			t.Fatal(err)
		}
	}
}

func mustAbs(t *testing.T, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
