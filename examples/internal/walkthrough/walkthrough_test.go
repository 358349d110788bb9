package walkthrough

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latchauth/latch"
)

func TestSettings(t *testing.T) {
	s := SettingsFrom(func(string) string { return "" })
	if s.Addr != "127.0.0.1:8080" || newDataDir(s.DataDir) != "latch-data" {
		t.Errorf("defaults: %+v", s)
	}
	env := map[string]string{"LATCH_ADDR": ":9000", "LATCH_DATA_DIR": "/tmp/x"}
	if s := SettingsFrom(func(k string) string { return env[k] }); s.Addr != ":9000" || s.DataDir != "/tmp/x" {
		t.Errorf("from the environment: %+v", s)
	}
}

// TestGeneratedSecret checks that a JWT mode without a key generates one
// in the data directory, private to its owner, and reuses it.
func TestGeneratedSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := New(latch.Config{Mode: latch.ModeJWT, Store: "memory:"}, dir) // sqlite: is not linked in here
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	path := filepath.Join(dir, secretFile)
	if a.KeySource != path+" (generated)" {
		t.Errorf("KeySource = %q", a.KeySource)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != want {
			t.Errorf("%s has mode %04o, want %04o", p, fi.Mode().Perm(), want)
		}
	}
	b, err := New(latch.Config{Mode: latch.ModeHybrid, Store: "memory:"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if b.KeySource != path {
		t.Errorf("second start: KeySource = %q, want the kept secret", b.KeySource)
	}
}

func TestWeakSecretRefused(t *testing.T) {
	for _, mode := range []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid} {
		_, err := New(latch.Config{Mode: mode, JWT: latch.JWTConfig{Secret: "super-secret"}}, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "openssl rand -base64 32") || strings.Contains(err.Error(), "super-secret") {
			t.Errorf("%s: %v, want advice and no secret", mode, err)
		}
	}
}

func TestStoreScheme(t *testing.T) {
	for raw, want := range map[string]string{
		"memory:": "memory", "sqlite:latch-data/latch.db": "sqlite", "postgres://latch:hunter2@db/latch": "postgres",
		"postgres://latch:hun%zz@db/latch": "postgres", "latch.db": "?", "": "?",
	} {
		if got := StoreScheme(raw); got != want {
			t.Errorf("StoreScheme(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestPasswords(t *testing.T) {
	users := newUserTable(seedUsers()...)
	for _, c := range []struct {
		username, password string
		id                 int
	}{
		{"test", "test", 1}, {"batman", "batman", 2}, {"test", "batman", 0}, {"test", "tes", 0},
		{"robin", "robin", 0}, {"robin", "\x00no such user", 0}, {"", "", 0},
	} {
		u := users.Authenticate(c.username, c.password)
		if (u == nil) != (c.id == 0) || u != nil && u.ID != c.id {
			t.Errorf("Authenticate(%q, %q) = %+v, want user %d", c.username, c.password, u, c.id)
		}
	}
}
