package walkthrough

import (
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// checkPerm checks path's permission bits where the OS has them.
func checkPerm(t *testing.T, path string, perm fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != perm {
		t.Errorf("%s has mode %04o, want %04o", path, fi.Mode().Perm(), perm)
	}
}

func TestNewDataDir(t *testing.T) {
	if got := newDataDir(""); got != defaultDataDir {
		t.Errorf(`newDataDir("") = %q, want %q`, got, defaultDataDir)
	}
	if got := newDataDir("/var/lib/seed"); got.file(secretFile) != filepath.Join("/var/lib/seed", "jwt-secret") {
		t.Errorf("file() = %q", got.file(secretFile))
	}
	dir := filepath.Join(t.TempDir(), "data #1?")
	got, created, err := newDataDir(dir).storeURL()
	if err != nil || !created {
		t.Fatalf("storeURL() created %v, %v", created, err)
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "sqlite" || u.Path != filepath.ToSlash(filepath.Join(dir, "sessions.db")) {
		t.Errorf("storeURL() = %q (%v), want an sqlite: URL of %s", got, err, filepath.Join(dir, "sessions.db"))
	}
	checkPerm(t, dir, 0o700)
	if _, created, err := newDataDir(dir).storeURL(); err != nil || created {
		t.Errorf("storeURL() again: created %v, %v", created, err)
	}
}

// TestJWTSecretConcurrentStarts starts several servers on one new data
// directory at once: they must all end up with the same secret.
func TestJWTSecretConcurrentStarts(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	const n = 8
	secrets := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { secrets[i], _, errs[i] = d.jwtSecret(32) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		if secrets[i] != secrets[0] {
			t.Fatalf("start %d got another secret", i)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(string(d), ".tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}
