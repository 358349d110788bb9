package walkthroughtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
)

// ClearLatchEnv unsets every LATCH_ variable for the test, so that it
// starts from "nothing set" whatever the environment holds.
func ClearLatchEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LATCH_") {
			t.Setenv(k, "") // restored when the test ends
			os.Unsetenv(k)
		}
	}
}

// SyncBuffer is a bytes.Buffer that the server's goroutines may log to.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// FromRoutes is the NewTarget of an example built on package
// walkthrough: walkthrough.New, served by the example's routes.
func FromRoutes(routes func(*walkthrough.App) http.Handler) NewTarget {
	return func(cfg latch.Config, httpCfg latchhttp.Config, dataDir string, opts ...latch.Option) (Target, error) {
		app, err := walkthrough.New(context.Background(), cfg, httpCfg, dataDir, opts...)
		if err != nil {
			return Target{}, err
		}
		return Target{Handler: routes(app), RemoveUser: app.Users.Remove, Close: app.Close}, nil
	}
}

// ServeAndShutDown starts an example as its main does, from the
// environment (LATCH_MODE, LATCH_ADDR, LATCH_DATA_DIR), checks its one
// startup line (with the default SQLite store, which the example links
// in) and that it serves, and stops it as SIGINT would.
func ServeAndShutDown(t *testing.T, name string, routes func(*walkthrough.App) http.Handler) {
	ClearLatchEnv(t)
	dir := t.TempDir()
	t.Setenv("LATCH_MODE", "jwt")
	t.Setenv("LATCH_ADDR", "127.0.0.1:0")
	t.Setenv("LATCH_DATA_DIR", dir)
	logs := &SyncBuffer{}
	s, err := walkthrough.Start(context.Background(), name, slog.New(slog.NewTextHandler(logs, nil)), routes)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Listener.Addr().String()
	line := logs.String()
	want := `msg="` + name + `: listening" mode=jwt addr=http://` + addr + ` store=sqlite session_key="` +
		filepath.Join(dir, "session-key") + ` (generated)" jwt_key="` +
		filepath.Join(dir, "jwt-secret") + ` (generated)"` + "\n"
	if !strings.HasSuffix(line, want) || strings.Count(line, "\n") != 1 {
		t.Errorf("startup line %q, want one line ending %q", line, want)
	}
	for _, f := range []string{"jwt-secret", "session-key"} {
		secret, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || strings.Contains(line, strings.TrimSpace(string(secret))) {
			t.Errorf("the startup line shows the %s (or it is unreadable: %v)", f, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"status":"ok"}`+"\n" {
		t.Errorf("GET /health: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the context ended")
	}
	if _, err := client.Get("http://" + addr + "/health"); err == nil {
		t.Error("still serving after shutdown")
	}
	if !strings.Contains(logs.String(), name+": shutting down") {
		t.Error("no shutdown line")
	}
}

// Tokens a client may send, as PanicLogs sends them: none may reach a log.
const (
	panicAccess  = "panic-access-Z3Rva2Vu"
	panicRefresh = "panic-refresh-c2VjcmV0"
	panicCSRF    = "panic-csrf-Y3NyZg"
	panicQuery   = "panic-query-cXVlcnk"
)

// PanicLogs starts an example as its main does (see ServeAndShutDown),
// with routes, which must answer GET /panic by panicking with "boom". It
// sends that request carrying a token everywhere a client may put one
// (Authorization, the access and refresh cookies, X-CSRF-Token, the
// access_token query parameter), and fails if any of them reaches logs,
// which gets the server's log (and whatever else the caller sends there,
// such as gin's writers), or if the panic is not logged at all. It returns
// the status and body of the answer, or status 0 if the server dropped the
// connection, as net/http does after a panic.
func PanicLogs(t *testing.T, name string, routes func(*walkthrough.App) http.Handler, logs *SyncBuffer) (status int, body string) {
	t.Helper()
	ClearLatchEnv(t)
	t.Setenv("LATCH_MODE", "opaque")
	t.Setenv("LATCH_STORE", "memory:")
	t.Setenv("LATCH_ADDR", "127.0.0.1:0")
	t.Setenv("LATCH_DATA_DIR", t.TempDir())
	s, err := walkthrough.Start(context.Background(), name, slog.New(slog.NewTextHandler(logs, nil)), routes)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	r, _ := http.NewRequest("GET", "http://"+s.Listener.Addr().String()+"/panic?access_token="+panicQuery, nil)
	r.Header.Set("Authorization", "Bearer "+panicAccess)
	r.Header.Set("X-CSRF-Token", panicCSRF)
	r.AddCookie(&http.Cookie{Name: "__Host-latch_access", Value: panicAccess})
	r.AddCookie(&http.Cookie{Name: "__Host-latch_refresh", Value: panicRefresh})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	if resp, err := client.Do(r); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, body = resp.StatusCode, string(b)
	}
	// net/http logs a panic after the connection is gone: wait for it.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "boom") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, "boom") {
		t.Errorf("the panic was not logged:\n%s", out)
	}
	for _, tok := range []string{panicAccess, panicRefresh, panicCSRF, panicQuery} {
		if strings.Contains(out, tok) {
			t.Errorf("the log shows a token the request carried (%s):\n%s", tok, out)
		}
	}
	return status, body
}
