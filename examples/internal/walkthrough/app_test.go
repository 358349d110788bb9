package walkthrough

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// testSecret is a random 32-byte HMAC key, base64, for tests that set
// LATCH_JWT_SECRET.
const testSecret = "7lrqdxHt/5Kc+XeV5iRyrWJv8ZEl6/IrPPbeELcfecI="

// testSessionKey is a session key for tests that set LATCH_SESSION_KEY.
const testSessionKey = "K2a9QhKXv3I3mN0wP5tEeJm7l0M1t6Yb4bV2nLqC8xA="

// startApp builds an app on dir, closed when the test ends. This package
// links no SQL store in, so cfg names a store (memory:) unless New is
// meant to fail before it opens one.
func startApp(t *testing.T, cfg latch.Config, dir string) *App {
	t.Helper()
	a, err := New(context.Background(), cfg, latchhttp.Config{}, dir, latch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// loginTest logs the user test in and returns its access token.
func loginTest(t *testing.T, a *App) string {
	t.Helper()
	tk, err := a.Auth.Login(context.Background(), a.Users.Get("1"), latch.LoginOptions{})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return tk.AccessToken
}

// guarded answers a request carrying the access token tok on a route
// behind latchhttp.Required(): the status and the body.
func guarded(a *App, tok string) (int, string) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	a.Web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := latch.FromContext(r.Context())
		w.Write([]byte(p.Subject))
	})).ServeHTTP(w, r)
	return w.Code, strings.TrimSpace(w.Body.String())
}

// TestJWTSecretFile: a JWT mode without a key generates a secret in the
// data directory, private to its owner, and keeps it across restarts and
// mode changes; another data directory has another secret.
func TestJWTSecretFile(t *testing.T) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := latch.Config{Mode: mode, Store: "memory:"}
			dir := filepath.Join(t.TempDir(), "data")
			path := filepath.Join(dir, secretFile)
			a1 := startApp(t, cfg, dir)
			tok := loginTest(t, a1)
			first, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("generated", func(t *testing.T) {
				if a1.KeySource != path+" (generated)" {
					t.Errorf("key source %q", a1.KeySource)
				}
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(first)))
				if err != nil || len(b) != 32 {
					t.Errorf("the secret file holds %d bytes of base64 (err %v), want 32", len(b), err)
				}
				checkPerm(t, dir, 0o700)
				checkPerm(t, path, 0o600)
			})
			t.Run("reused after a restart", func(t *testing.T) {
				a1.Close()
				a2 := startApp(t, cfg, dir)
				if a2.KeySource != path {
					t.Errorf("key source %q, want %q", a2.KeySource, path)
				}
				if status, body := guarded(a2, tok); status != 200 || body != "1" {
					t.Errorf("the first start's token: %d %s", status, body)
				}
				if again, _ := os.ReadFile(path); string(again) != string(first) {
					t.Error("the secret file changed")
				}
				checkPerm(t, path, 0o600)
			})
			t.Run("kept across modes", func(t *testing.T) {
				other := latch.ModeHybrid
				if mode == latch.ModeHybrid {
					other = latch.ModeJWT
				}
				if a := startApp(t, latch.Config{Mode: other, Store: "memory:"}, dir); a.KeySource != path {
					t.Errorf("%s: key source %q, want %q", other, a.KeySource, path)
				}
			})
			t.Run("another data dir has another key", func(t *testing.T) {
				a3 := startApp(t, cfg, t.TempDir())
				if status, body := guarded(a3, tok); status != 401 || body != `{"msg":"Invalid token"}` {
					t.Errorf("the first data dir's token: %d %s, want 401 Invalid token", status, body)
				}
			})
		})
	}
}

// TestJWTSecretSize: a generated secret is as long as the hash of
// LATCH_JWT_ALG, so HS512 works without a secret of one's own.
func TestJWTSecretSize(t *testing.T) {
	for alg, size := range map[string]int{"": 32, "HS256": 32, "HS384": 48, "HS512": 64} {
		t.Run("alg "+alg, func(t *testing.T) {
			dir := t.TempDir()
			a := startApp(t, latch.Config{Mode: latch.ModeJWT, Store: "memory:", JWT: latch.JWTConfig{Alg: alg}}, dir)
			if status, body := guarded(a, loginTest(t, a)); status != 200 || body != "1" {
				t.Errorf("a token of its own: %d %s", status, body)
			}
			text, err := os.ReadFile(filepath.Join(dir, secretFile))
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text))); len(b) != size {
				t.Errorf("generated %d bytes, want %d", len(b), size)
			}
		})
	}
}

// TestNoSecretForKeyAlgorithms: an asymmetric LATCH_JWT_ALG needs a key
// file; no secret is generated for it, and with LATCH_STORE unset the
// refused start does not create the data directory for the sessions
// either.
func TestNoSecretForKeyAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, err := New(context.Background(), latch.Config{Mode: latch.ModeHybrid, JWT: latch.JWTConfig{Alg: alg}}, latchhttp.Config{}, dir)
			if err == nil || !strings.Contains(err.Error(), "LATCH_JWT_KEY_FILE") {
				t.Errorf("New: %v, want an error naming LATCH_JWT_KEY_FILE", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the data directory was created (%v)", err)
			}
		})
	}
}

func TestJWTSecretFileRefused(t *testing.T) {
	secret := "c2VjcmV0LWJ1dC1ub3QtaGVyZS1ub3ctb3Itbm93aGVyZQ=="
	cases := []struct {
		name    string
		content string
		perm    fs.FileMode
		want    string
	}{
		{"readable by others", secret, 0o644, "chmod 600"},
		{"empty", "\n", 0o600, "is empty"},
		{"not base64", "not a secret!", 0o600, "delete the file to generate a new one"},
		{"too short", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), 0o600, "delete the file to generate a new one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.perm != 0o600 && runtime.GOOS == "windows" {
				t.Skip("no permission bits")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, secretFile)
			if err := os.WriteFile(path, []byte(c.content), c.perm); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, c.perm); err != nil { // past the umask
				t.Fatal(err)
			}
			_, err := New(context.Background(), latch.Config{Mode: latch.ModeJWT}, latchhttp.Config{}, dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want an error saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(c.content)) && strings.TrimSpace(c.content) != "" {
				t.Error("the error shows the secret")
			}
		})
	}
}

// TestSecretOnlyWhenNeeded: a JWT secret is generated only when a JWT
// mode has no key, and a session key only when LATCH_SESSION_KEY is
// unset; with both keys and a store configured, nothing is written at
// all. (With LATCH_STORE unset the data directory holds the sessions: see
// the e2e suite's SessionsSurviveRestart, run by examples/seed.)
func TestSecretOnlyWhenNeeded(t *testing.T) {
	cases := []struct {
		name string
		cfg  latch.Config
		key  string
	}{
		{"opaque", latch.Config{Mode: latch.ModeOpaque}, ""},
		{"jwt with a secret", latch.Config{Mode: latch.ModeJWT, JWT: latch.JWTConfig{Secret: testSecret}}, "LATCH_JWT_SECRET"},
		{"hybrid with a secret", latch.Config{Mode: latch.ModeHybrid, JWT: latch.JWTConfig{Secret: testSecret}}, "LATCH_JWT_SECRET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			c.cfg.Store = "memory:"
			c.cfg.SessionKey = testSessionKey
			a := startApp(t, c.cfg, dir)
			if a.KeySource != c.key || a.SessionKeySource != "LATCH_SESSION_KEY" {
				t.Errorf("key sources %q and %q, want %q and LATCH_SESSION_KEY", a.KeySource, a.SessionKeySource, c.key)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the data directory was created (%v)", err)
			}
		})
	}
}

// TestSessionKeyFile: without LATCH_SESSION_KEY the app generates a
// session key in the data directory, private to its owner, and every
// later start uses it, in any mode.
func TestSessionKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, sessionKeyFile)
	a := startApp(t, latch.Config{Mode: latch.ModeOpaque, Store: "memory:"}, dir)
	if a.SessionKeySource != path+" (generated)" {
		t.Errorf("session key source %q, want %q", a.SessionKeySource, path+" (generated)")
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session key file: %v, mode %v; want 0600", err, fi)
	}
	text, _ := os.ReadFile(path)
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text))); err != nil || len(b) != 32 {
		t.Errorf("the session key file holds %d bytes of base64 (err %v), want 32", len(b), err)
	}
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		if a := startApp(t, latch.Config{Mode: mode, Store: "memory:"}, dir); a.SessionKeySource != path {
			t.Errorf("%s: session key source %q, want the kept key %q", mode, a.SessionKeySource, path)
		}
	}
	if again, _ := os.ReadFile(path); string(again) != string(text) {
		t.Error("the session key file changed")
	}
}

func TestStoreScheme(t *testing.T) {
	cases := []struct{ url, want string }{
		{"memory:", "memory"},
		{"sqlite:latch-data/latch.db", "sqlite"},
		{"postgres://latch:hunter2@db/latch", "postgres"},
		{"redis://:hunter2@cache:6379/0", "redis"},
		{"postgres://latch:hun%zz@db/latch", "postgres"},
		{"latch.db", "?"},
		{"", "?"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			if got := StoreScheme(c.url); got != c.want {
				t.Errorf("StoreScheme(%q) = %q, want %q", c.url, got, c.want)
			}
		})
	}
}
