package main

import (
	"context"
	"encoding/json"
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
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// TestWalkthrough plays the scripted walkthrough: every answer must be
// the one in transcript.txt, which examples/gin and examples/echo are
// held to as well. Record it again with
//
//	go test -run TestWalkthrough -update-transcript
func TestWalkthrough(t *testing.T) { walkthroughtest.RunScript(t, walkthroughtest.FromRoutes(routes)) }

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) { walkthroughtest.ServeAndShutDown(t, "seed", routes) }

// TestPanicLogsNoToken: a panicking handler reaches net/http's server,
// which drops the connection and logs the panic without the request:
// nothing the request carried is logged.
func TestPanicLogsNoToken(t *testing.T) {
	logs := &walkthroughtest.SyncBuffer{}
	status, _ := walkthroughtest.PanicLogs(t, "seed", func(app *walkthrough.App) http.Handler {
		h := routes(app)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/panic" {
				panic("boom")
			}
			h.ServeHTTP(w, r)
		})
	}, logs)
	if status != 0 {
		t.Errorf("answer %d, want the connection dropped", status)
	}
}

// TestStartupHidesStorePassword starts the server with store URLs that
// cannot open: a scheme no package linked in registers, and each store
// that main links in, at a dead address.
func TestStartupHidesStorePassword(t *testing.T) {
	for name, u := range map[string]string{
		"store not linked in":   "memcached://:hunter2@cache.internal:11211",
		"postgres dead address": "postgres://latch:hunter2@127.0.0.1:1/latch?sslmode=disable&connect_timeout=2",
		"mysql dead address":    "mysql://latch:hunter2@127.0.0.1:1/latch?timeout=2s",
		"redis dead address":    "redis://:hunter2@127.0.0.1:1/0?dial_timeout=2s",
		"cluster dead address":  "redis+cluster://:hunter2@127.0.0.1:1?dial_timeout=2s",
		"mongo dead address":    "mongodb://latch:hunter2@127.0.0.1:1/latch?serverSelectionTimeoutMS=2000&connectTimeoutMS=2000",
	} {
		t.Run(name, func(t *testing.T) {
			walkthroughtest.ClearLatchEnv(t)
			t.Setenv("LATCH_STORE", u)
			t.Setenv("LATCH_ADDR", "127.0.0.1:0")
			_, err := walkthrough.Start(context.Background(), "seed", slog.New(slog.DiscardHandler), routes)
			if err == nil {
				t.Fatal("started with a store that cannot open")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the store password", err)
			}
		})
	}
}

// startApp builds an app on dir and serves it until the test ends.
func startApp(t *testing.T, cfg latch.Config, dir string) (*walkthrough.App, *httptest.Server) {
	t.Helper()
	a, err := walkthrough.New(context.Background(), cfg, latchhttp.Config{}, dir, latch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("walkthrough.New: %v", err)
	}
	srv := httptest.NewServer(routes(a))
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

// TestSessionsSurviveRestart: with no LATCH_STORE the sessions live in an
// SQLite file, sessions.db (0600), in the data directory (created 0700), so a
// restart logs nobody out, and a revocation made before it stays made.
func TestSessionsSurviveRestart(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			survivesRestart(t, latch.Config{Mode: mode}, dir, func() {
				if _, err := os.Stat(filepath.Join(dir, "sessions.db")); err != nil {
					t.Fatalf("no sessions file in the data directory: %v", err)
				}
				if fi, _ := os.Stat(dir); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
					t.Errorf("the data directory has mode %04o, want 0700", fi.Mode().Perm())
				}
				// The database and SQLite's journal files beside it are
				// private to their owner, whatever the umask.
				files, _ := filepath.Glob(filepath.Join(dir, "sessions.db*"))
				for _, f := range files {
					if fi, err := os.Stat(f); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
						t.Errorf("%s has mode %04o, want 0600", filepath.Base(f), fi.Mode().Perm())
					}
				}
			})
		})
	}
}

// survivesRestart logs in twice, restarts the app on the same store,
// refreshes one device and logs the other out, restarts again, and checks
// that each session is where it was left. afterRestart runs after the
// first restart.
func survivesRestart(t *testing.T, cfg latch.Config, dir string, afterRestart func()) {
	t.Helper()
	restart := func() (*walkthrough.App, string) {
		a, srv := startApp(t, cfg, dir)
		return a, srv.URL
	}
	a, base := restart()
	laptop, phone := loginAt(t, base), loginAt(t, base)
	a.Close()

	a, base = restart()
	afterRestart()
	get := func(path, tok string) *response {
		return send(t, http.DefaultClient, base, request{method: "GET", path: path, token: tok})
	}
	get("/protected", laptop.AccessToken).check(t, want{200, "", `{"logged_in_as":"1"}`})
	if n := len(listed(t, get("/sessions", phone.AccessToken))); n != 2 {
		t.Errorf("/sessions lists %d sessions after two logins, want 2", n)
	}
	r := send(t, http.DefaultClient, base, request{method: "POST", path: "/refresh", token: laptop.RefreshToken})
	r.check(t, want{status: 200})
	var fresh tokens
	if err := json.Unmarshal(r.body, &fresh); err != nil {
		t.Fatal(err)
	}
	send(t, http.DefaultClient, base, request{method: "POST", path: "/logout", token: phone.AccessToken}).check(t, want{status: 200})
	a.Close()

	_, base = restart()
	// The logged-out phone stays logged out: its session is gone.
	get("/sessions", phone.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
	send(t, http.DefaultClient, base, request{method: "POST", path: "/refresh", token: phone.RefreshToken}).
		check(t, want{401, invalidToken("Session has ended"), sessionEnded})
	if cfg.Mode == latch.ModeOpaque {
		get("/protected", phone.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
	}
	// The laptop's refreshed session carries on, and is the only one left.
	get("/protected", fresh.AccessToken).check(t, want{200, "", `{"logged_in_as":"1"}`})
	if n := len(listed(t, get("/sessions", fresh.AccessToken))); n != 1 {
		t.Errorf("/sessions lists %d sessions after a logout, want 1", n)
	}
}
