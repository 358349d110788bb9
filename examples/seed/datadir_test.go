package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/latchauth/latch"
)

// startApp builds an app on dir and serves it until the test ends.
func startApp(t *testing.T, cfg latch.Config, dir string) (*app, *httptest.Server) {
	t.Helper()
	a, err := newApp(cfg, dir, latch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return a, srv
}

// loginAt logs test in at the server at base and returns the tokens.
func loginAt(t *testing.T, base string) tokens {
	t.Helper()
	r := send(t, http.DefaultClient, base, request{method: "POST", path: "/login", body: `{"username":"test","password":"test"}`})
	r.check(t, want{status: 200})
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatal(err)
	}
	return tk
}

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

func TestJWTSecretFile(t *testing.T) {
	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		t.Run(string(mode), func(t *testing.T) {
			cfg := latch.Config{Mode: mode}
			dir := filepath.Join(t.TempDir(), "data")
			path := filepath.Join(dir, secretFile)
			a1, srv1 := startApp(t, cfg, dir)
			tk := loginAt(t, srv1.URL)
			first, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("generated", func(t *testing.T) {
				if a1.keySource != path+" (generated)" {
					t.Errorf("key source %q", a1.keySource)
				}
				b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(first)))
				if err != nil || len(b) != 32 {
					t.Errorf("the secret file holds %d bytes of base64 (err %v), want 32", len(b), err)
				}
				checkPerm(t, dir, 0o700)
				checkPerm(t, path, 0o600)
			})
			t.Run("reused after a restart", func(t *testing.T) {
				srv1.Close()
				a1.Close()
				a2, srv2 := startApp(t, cfg, dir)
				if a2.keySource != path {
					t.Errorf("key source %q, want %q", a2.keySource, path)
				}
				send(t, http.DefaultClient, srv2.URL, request{method: "GET", path: "/protected", token: tk.AccessToken}).
					check(t, want{200, "", loggedInAs("1")})
				if again, _ := os.ReadFile(path); string(again) != string(first) {
					t.Error("the secret file changed")
				}
				checkPerm(t, path, 0o600)
			})
			t.Run("another data dir has another key", func(t *testing.T) {
				_, srv3 := startApp(t, cfg, t.TempDir())
				r := send(t, http.DefaultClient, srv3.URL, request{method: "GET", path: "/protected", token: tk.AccessToken})
				r.check(t, want{401, invalidToken("Invalid token"), `{"msg":"Invalid token"}`})
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
			_, srv := startApp(t, latch.Config{Mode: latch.ModeJWT, JWT: latch.JWTConfig{Alg: alg}}, dir)
			tk := loginAt(t, srv.URL)
			send(t, http.DefaultClient, srv.URL, request{method: "GET", path: "/protected", token: tk.AccessToken}).
				check(t, want{200, "", loggedInAs("1")})
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
// file; no secret is generated for it.
func TestNoSecretForKeyAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			_, err := newApp(latch.Config{Mode: latch.ModeHybrid, JWT: latch.JWTConfig{Alg: alg}}, dir)
			if err == nil || !strings.Contains(err.Error(), "LATCH_JWT_KEY_FILE") {
				t.Errorf("newApp: %v, want an error naming LATCH_JWT_KEY_FILE", err)
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
			_, err := newApp(latch.Config{Mode: latch.ModeJWT}, dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("newApp: %v, want an error saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(c.content)) && strings.TrimSpace(c.content) != "" {
				t.Error("the error shows the secret")
			}
		})
	}
}

// TestSecretOnlyWhenNeeded: the data directory always holds the sessions,
// but a JWT secret is generated only when a JWT mode has no key.
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
			a, _ := startApp(t, c.cfg, dir)
			if a.keySource != c.key {
				t.Errorf("key source %q, want %q", a.keySource, c.key)
			}
			if _, err := os.Stat(filepath.Join(dir, secretFile)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a JWT secret was generated (%v)", err)
			}
			checkPerm(t, dir, 0o700)
		})
	}

	// With another store configured, nothing is written at all.
	dir := filepath.Join(t.TempDir(), "data")
	startApp(t, latch.Config{Mode: latch.ModeOpaque, Store: "memory:"}, dir)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the data directory was created for a memory: store (%v)", err)
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

func TestNewDataDir(t *testing.T) {
	if got := newDataDir(""); got != defaultDataDir {
		t.Errorf(`newDataDir("") = %q, want %q`, got, defaultDataDir)
	}
	if got := newDataDir("/var/lib/seed"); got.file(secretFile) != filepath.Join("/var/lib/seed", "jwt-secret") {
		t.Errorf("file() = %q", got.file(secretFile))
	}
	dir := filepath.Join(t.TempDir(), "data #1?")
	got, err := newDataDir(dir).storeURL()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "sqlite" || u.Path != filepath.ToSlash(filepath.Join(dir, sessionsFile)) {
		t.Errorf("storeURL() = %q (%v), want an sqlite: URL of %s", got, err, filepath.Join(dir, sessionsFile))
	}
	checkPerm(t, dir, 0o700)
}

// TestSessionsSurviveRestart: with no LATCH_STORE the sessions live in an
// SQLite file in the data directory, so a restart logs nobody out, and a
// revocation made before it stays made.
func TestSessionsSurviveRestart(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			cfg := latch.Config{Mode: mode}
			restart := func() (*app, string) {
				a, srv := startApp(t, cfg, dir)
				return a, srv.URL
			}
			a, base := restart()
			laptop, phone := loginAt(t, base), loginAt(t, base)
			a.Close()

			a, base = restart()
			if _, err := os.Stat(filepath.Join(dir, sessionsFile)); err != nil {
				t.Fatalf("no sessions file in the data directory: %v", err)
			}
			get := func(path, tok string) *response {
				return send(t, http.DefaultClient, base, request{method: "GET", path: path, token: tok})
			}
			get("/protected", laptop.AccessToken).check(t, want{200, "", `{"logged_in_as":"1"}`})
			get("/sessions", phone.AccessToken).check(t, want{status: 200})
			r := send(t, http.DefaultClient, base, request{method: "POST", path: "/refresh", token: laptop.RefreshToken})
			r.check(t, want{status: 200})
			var fresh tokens
			if err := json.Unmarshal(r.body, &fresh); err != nil {
				t.Fatal(err)
			}
			send(t, http.DefaultClient, base, request{method: "POST", path: "/logout", token: phone.AccessToken}).check(t, want{status: 200})
			a.Close()

			_, base = restart()
			get = func(path, tok string) *response {
				return send(t, http.DefaultClient, base, request{method: "GET", path: path, token: tok})
			}
			// The logged-out phone stays logged out: its session is gone.
			get("/sessions", phone.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			send(t, http.DefaultClient, base, request{method: "POST", path: "/refresh", token: phone.RefreshToken}).
				check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			if mode == latch.ModeOpaque {
				get("/protected", phone.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			}
			// The laptop's refreshed session carries on.
			get("/protected", fresh.AccessToken).check(t, want{200, "", `{"logged_in_as":"1"}`})
			get("/sessions", fresh.AccessToken).check(t, want{status: 200})
		})
	}
}
