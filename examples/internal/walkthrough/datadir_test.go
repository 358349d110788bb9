package walkthrough

import (
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
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
	db := filepath.Join(dir, "sessions.db")
	got, _, err := newDataDir(dir).storeURL()
	if err != nil {
		t.Fatalf("storeURL(): %v", err)
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "sqlite" || u.Path != filepath.ToSlash(db) {
		t.Errorf("storeURL() = %q (%v), want an sqlite: URL of %s", got, err, db)
	}
	checkPerm(t, dir, 0o700)
	// The file is made private before SQLite opens it, whatever the umask.
	checkPerm(t, db, 0o600)
	// A file from an earlier version, readable by others, is made private.
	if err := os.WriteFile(db, []byte("sessions"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	_, undo, err := newDataDir(dir).storeURL()
	if err != nil {
		t.Fatalf("storeURL() again: %v", err)
	}
	undo() // created nothing: removes nothing
	if b, err := os.ReadFile(db); err != nil || string(b) != "sessions" {
		t.Errorf("the existing sessions file was changed: %q, %v", b, err)
	}
	checkPerm(t, db, 0o600)
}

// TestStoreURLUndo: undo removes the empty sessions file and the
// directory that storeURL made, and only those.
func TestStoreURLUndo(t *testing.T) {
	t.Run("new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		_, undo, err := newDataDir(dir).storeURL()
		if err != nil {
			t.Fatal(err)
		}
		undo()
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the data directory is still there (%v)", err)
		}
	})
	t.Run("existing directory", func(t *testing.T) {
		dir := t.TempDir()
		_, undo, err := newDataDir(dir).storeURL()
		if err != nil {
			t.Fatal(err)
		}
		undo()
		if _, err := os.Stat(filepath.Join(dir, "sessions.db")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the sessions file is still there (%v)", err)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("the existing directory was removed: %v", err)
		}
	})
	t.Run("written to since", func(t *testing.T) {
		dir := t.TempDir()
		_, undo, err := newDataDir(dir).storeURL()
		if err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "sessions.db")
		if err := os.WriteFile(db, []byte("SQLite format 3"), 0o600); err != nil {
			t.Fatal(err)
		}
		undo()
		if _, err := os.Stat(db); err != nil {
			t.Errorf("a sessions file with data in it was removed: %v", err)
		}
	})
}

// TestDataDirRefused: a data directory that another user could write to
// is refused at startup, in every mode, before anything in it is read or
// written, with advice; so is one that is not a directory.
func TestDataDirRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits")
	}
	cases := []struct {
		name  string
		perm  fs.FileMode
		owner int // -1: ours
		want  string
	}{
		{"group-writable", 0o770, -1, "chmod go-w"},
		{"other-writable", 0o707, -1, "chmod go-w"},
		{"world-writable and sticky, like /tmp", 0o777 | fs.ModeSticky, -1, "chmod go-w"},
		{"another user's", 0o755, 65534, "belongs to uid 65534"},
	}
	for _, c := range cases {
		for _, mode := range []latch.Mode{latch.ModeOpaque, latch.ModeJWT} {
			t.Run(c.name+"/"+string(mode), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "data")
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				// What another user would plant: a sessions file.
				planted := filepath.Join(dir, "sessions.db")
				if err := os.WriteFile(planted, []byte("planted"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, c.perm); err != nil {
					t.Fatal(err)
				}
				if c.owner >= 0 {
					if os.Getuid() != 0 {
						t.Skip("chown needs root")
					}
					if err := os.Chown(dir, c.owner, c.owner); err != nil {
						t.Fatal(err)
					}
				}
				_, err := New(context.Background(), latch.Config{Mode: mode}, latchhttp.Config{}, dir)
				if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "data directory "+dir) {
					t.Fatalf("New: %v, want an error about the data directory saying %q", err, c.want)
				}
				entries, _ := os.ReadDir(dir)
				if len(entries) != 1 {
					t.Errorf("the refused start wrote to the directory: %v", entries)
				}
			})
		}
	}
	t.Run("not a directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(context.Background(), latch.Config{Mode: latch.ModeOpaque}, latchhttp.Config{}, path); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("New: %v, want an error saying it is not a directory", err)
		}
	})
	t.Run("readable by others is fine", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		startApp(t, latch.Config{Mode: latch.ModeJWT, Store: "memory:"}, dir)
	})
}

// TestRefusedStartLeavesNoSessionsFile: with LATCH_STORE unset, a start
// that latch refuses removes the sessions file it made, and the data
// directory if it made that too.
func TestRefusedStartLeavesNoSessionsFile(t *testing.T) {
	bad := latch.Config{Mode: latch.ModeOpaque, MaxSessions: -1}
	t.Run("new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if _, err := New(context.Background(), bad, latchhttp.Config{}, dir); err == nil {
			t.Fatal("New accepted max_sessions -1")
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the data directory was left behind (%v)", err)
		}
	})
	t.Run("existing directory", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := New(context.Background(), bad, latchhttp.Config{}, dir); err == nil {
			t.Fatal("New accepted max_sessions -1")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("left behind: %v", entries)
		}
	})
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
		wg.Go(func() { secrets[i], _, errs[i] = d.secret(secretFile, 32) })
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
