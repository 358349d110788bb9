package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestPrivateModCache(t *testing.T) {
	shared := tree(t, map[string]string{
		"github.com/latchauth/latch@v0.1.0/stale.go":                "package latch // an earlier run's\n",
		"github.com/other/x@v1.0.0/x.go":                            "package x\n",
		"golang.org/x/sys@v0.49.0/go.mod":                           "module golang.org/x/sys\n",
		"cache/download/github.com/latchauth/latch/@v/v0.1.0.zip":   "stale",
		"cache/download/github.com/latchauth/latch/@v/list":         "v0.1.0\n",
		"cache/download/github.com/other/x/@v/v1.0.0.zip":           "zip",
		"cache/download/sumdb/sum.example/lookup/golang.org/x/sys@": "lookup",
		"cache/lock": "",
	})
	// The go command leaves what it unpacks read-only.
	if err := os.Chmod(filepath.Join(shared, "github.com/other/x@v1.0.0"), 0o555); err != nil {
		t.Fatal(err)
	}
	private := filepath.Join(t.TempDir(), "modcache")
	if err := privateModCache(private, shared); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"github.com/latchauth", "cache/download/github.com/latchauth"} {
		if _, err := os.Lstat(filepath.Join(private, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is in the private cache (%v): a latch module could come from an earlier run", p, err)
		}
	}
	for _, p := range []string{"github.com/other", "golang.org", "cache/download/github.com/other", "cache/download/sumdb", "cache/lock"} {
		got, err := os.Readlink(filepath.Join(private, p))
		if want := filepath.Join(shared, p); err != nil || got != want {
			t.Errorf("%s links to %q (%v), want %q", p, got, err, want)
		}
	}
	for _, p := range []string{"github.com", "cache", "cache/download", "cache/download/github.com"} {
		if fi, err := os.Lstat(filepath.Join(private, p)); err != nil || !fi.IsDir() {
			t.Errorf("%s is not a directory of the private cache (%v)", p, err)
		}
	}
	if data, err := os.ReadFile(filepath.Join(private, "github.com/other/x@v1.0.0/x.go")); err != nil || string(data) != "package x\n" {
		t.Errorf("another module through the private cache: %q, %v", data, err)
	}

	// A latch module unpacked read-only into the private cache, as the go
	// command does: removeAll takes it, and leaves the shared cache be.
	own := filepath.Join(private, "github.com/latchauth/latch@v0.1.0")
	if err := os.MkdirAll(own, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, "latch.go"), []byte("package latch\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(own, 0o555); err != nil {
		t.Fatal(err)
	}
	if err := removeAll(filepath.Dir(private)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(private); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("private cache left behind: %v", err)
	}
	fi, err := os.Stat(filepath.Join(shared, "github.com/other/x@v1.0.0"))
	if err != nil || fi.Mode().Perm() != 0o555 {
		t.Errorf("the shared cache was touched: %v, %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(shared, "github.com/latchauth/latch@v0.1.0/stale.go")); err != nil {
		t.Errorf("the shared cache lost an entry: %v", err)
	}
	// t.TempDir's cleanup needs shared writable again.
	os.Chmod(filepath.Join(shared, "github.com/other/x@v1.0.0"), 0o755)
}

func TestLinkExceptMissingSource(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "mc")
	if err := linkExcept(filepath.Join(t.TempDir(), "none"), dst, latchInCache); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(dst); err != nil || len(entries) != 0 {
		t.Errorf("from no shared cache: %v, %v; want an empty directory", entries, err)
	}
}
