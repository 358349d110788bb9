package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clearLatchEnv unsets every LATCH_ variable for the test, so that it
// starts from "nothing set" whatever the environment holds.
func clearLatchEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LATCH_") {
			t.Setenv(k, "") // restored when the test ends
			os.Unsetenv(k)
		}
	}
}

func TestSettingsDefaults(t *testing.T) {
	s := settingsFrom(func(string) string { return "" })
	if s.addr != "127.0.0.1:8080" || newDataDir(s.dataDir) != "latch-data" {
		t.Errorf("defaults: addr %q, data dir %q", s.addr, newDataDir(s.dataDir))
	}
	env := map[string]string{"LATCH_ADDR": ":9000", "LATCH_DATA_DIR": "/tmp/x"}
	s = settingsFrom(func(k string) string { return env[k] })
	if s.addr != ":9000" || s.dataDir != "/tmp/x" {
		t.Errorf("from the environment: %+v", s)
	}
}

func TestStartupRefusesWeakSecret(t *testing.T) {
	for _, mode := range []string{"jwt", "hybrid", "opaque"} {
		t.Run(mode, func(t *testing.T) {
			clearLatchEnv(t)
			t.Setenv("LATCH_MODE", mode)
			t.Setenv("LATCH_JWT_SECRET", "super-secret")
			t.Setenv("LATCH_ADDR", "127.0.0.1:0")
			t.Setenv("LATCH_DATA_DIR", t.TempDir())
			s, err := start(slog.New(slog.DiscardHandler))
			if err == nil {
				s.ln.Close()
				s.app.Close()
				t.Fatal("started with LATCH_JWT_SECRET=super-secret")
			}
			if !strings.Contains(err.Error(), "openssl rand -base64 32") {
				t.Errorf("error %q does not say how to make a secret", err)
			}
			if strings.Contains(err.Error(), "super-secret") {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestStartupHidesStorePassword(t *testing.T) {
	for name, u := range map[string]string{
		"store not linked in": "redis://:hunter2@cache.internal:6379/0",
		"dead address":        "postgres://latch:hunter2@127.0.0.1:1/latch?sslmode=disable&connect_timeout=2",
		"mysql dead address":  "mysql://latch:hunter2@127.0.0.1:1/latch?timeout=2s",
	} {
		t.Run(name, func(t *testing.T) {
			clearLatchEnv(t)
			t.Setenv("LATCH_STORE", u)
			t.Setenv("LATCH_ADDR", "127.0.0.1:0")
			_, err := start(slog.New(slog.DiscardHandler))
			if err == nil {
				t.Fatal("started with a store that cannot open")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the store password", err)
			}
		})
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
			if got := storeScheme(c.url); got != c.want {
				t.Errorf("storeScheme(%q) = %q, want %q", c.url, got, c.want)
			}
		})
	}
}

// TestServeAndShutDown runs the server as main does, from the
// environment, and stops it as SIGINT would.
func TestServeAndShutDown(t *testing.T) {
	clearLatchEnv(t)
	dir := t.TempDir()
	t.Setenv("LATCH_MODE", "jwt")
	t.Setenv("LATCH_ADDR", "127.0.0.1:0")
	t.Setenv("LATCH_DATA_DIR", dir)
	logs := &syncBuffer{}
	s, err := start(slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := s.ln.Addr().String()
	t.Run("one startup line", func(t *testing.T) {
		line := logs.String()
		want := `msg="seed: listening" mode=jwt addr=http://` + addr + ` store=sqlite jwt_key="` +
			filepath.Join(dir, secretFile) + ` (generated)"` + "\n"
		if !strings.HasSuffix(line, want) || strings.Count(line, "\n") != 1 {
			t.Errorf("startup line %q, want one line ending %q", line, want)
		}
		secret, err := os.ReadFile(filepath.Join(dir, secretFile))
		if err != nil || strings.Contains(line, strings.TrimSpace(string(secret))) {
			t.Errorf("the startup line shows the secret (or it is unreadable: %v)", err)
		}
	})
	checkTimeouts(t, s.http)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(ctx) }()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	t.Run("serves", func(t *testing.T) {
		send(t, client, "http://"+addr, request{method: "GET", path: "/health"}).check(t, want{200, "", `{"status":"ok"}`})
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after the context ended")
	}
	if _, err := client.Get("http://" + addr + "/health"); err == nil {
		t.Error("still serving after shutdown")
	}
	if !strings.Contains(logs.String(), "seed: shutting down") {
		t.Error("no shutdown line")
	}
}

// checkTimeouts checks that no server limit is left at its unbounded
// default.
func checkTimeouts(t *testing.T, s *http.Server) {
	t.Helper()
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": s.ReadHeaderTimeout, "ReadTimeout": s.ReadTimeout,
		"WriteTimeout": s.WriteTimeout, "IdleTimeout": s.IdleTimeout,
	} {
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("%s = %v", name, d)
		}
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes = %d", s.MaxHeaderBytes)
	}
}

func TestPasswords(t *testing.T) {
	users := newUserTable(seedUsers()...)
	cases := []struct {
		name, username, password string
		wantID                   int // 0: refused
	}{
		{"test", "test", "test", 1},
		{"batman", "batman", "batman", 2},
		{"wrong password", "test", "batman", 0},
		{"prefix of the password", "test", "tes", 0},
		{"password with a suffix", "test", "test\x00", 0},
		{"unknown user", "robin", "robin", 0},
		{"unknown user with the dummy password", "robin", "\x00no such user", 0},
		{"empty", "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := users.authenticate(c.username, c.password)
			switch {
			case c.wantID == 0 && u != nil:
				t.Errorf("accepted as user %d", u.ID)
			case c.wantID != 0 && (u == nil || u.ID != c.wantID):
				t.Errorf("got %+v, want user %d", u, c.wantID)
			}
		})
	}
}
