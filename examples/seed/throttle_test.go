package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/store/memstore"
)

// throttleServer serves the seed's routes with an in-memory store and a
// clock the test moves; every request comes from addr, which the test
// sets.
type throttleServer struct {
	srv *httptest.Server

	mu   sync.Mutex
	now  time.Time
	addr string
}

func newThrottleServer(t *testing.T) *throttleServer {
	s := &throttleServer{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), addr: "192.0.2.1:40000"}
	app, err := walkthrough.New(context.Background(), latch.Config{Store: "memory:"}, latchhttp.Config{}, t.TempDir(),
		latch.WithStore(memstore.New()), latch.WithClock(s.clock), latch.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	h := routes(app)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		r.RemoteAddr = s.addr // the client address the test plays
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { s.srv.Close(); app.Close() })
	return s
}

func (s *throttleServer) clock() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }

func (s *throttleServer) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

func (s *throttleServer) from(addr string) { s.mu.Lock(); defer s.mu.Unlock(); s.addr = addr }

// loginAnswer is an answer of POST /login: status, Retry-After and body.
type loginAnswer struct {
	status     int
	retryAfter string
	body       string
}

func (s *throttleServer) login(t *testing.T, username, password string) loginAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	res, err := http.Post(s.srv.URL+"/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return loginAnswer{res.StatusCode, res.Header.Get("Retry-After"), strings.TrimSpace(string(b))}
}

// TestLoginThrottled: over HTTP, repeated wrong passwords meet 429 with
// Retry-After, for a known account and an unknown one alike, byte for
// byte; other accounts from another address log in meanwhile; the right
// password after the wait logs in and resets the count.
func TestLoginThrottled(t *testing.T) {
	const (
		wrong     = `{"msg":"Bad username or password"}`
		throttled = `{"msg":"Too many failed login attempts, try again later"}`
	)
	s := newThrottleServer(t)
	free := latch.DefaultThrottlePairFree
	for _, account := range []string{"test", "nobody"} {
		for i := range free {
			if got := s.login(t, account, "guess"); got != (loginAnswer{401, "", wrong}) {
				t.Fatalf("%s, wrong password %d: %+v", account, i+1, got)
			}
		}
		if got := s.login(t, account, "guess"); got != (loginAnswer{429, "1", throttled}) {
			t.Fatalf("%s, after %d wrong passwords: %+v, want 429 with Retry-After 1", account, free, got)
		}
	}
	// The right password is refused too while the wait lasts: it is not
	// even checked.
	if got := s.login(t, "test", "test"); got.status != 429 {
		t.Errorf("right password during the wait: %+v, want 429", got)
	}

	// Another account from another address is untouched.
	s.from("198.51.100.5:5555")
	if got := s.login(t, "batman", "batman"); got.status != 200 {
		t.Errorf("batman from another address: %+v", got)
	}

	// After the wait the right password logs in, and the count restarts.
	s.from("192.0.2.1:40001")
	s.advance(time.Second)
	if got := s.login(t, "test", "test"); got.status != 200 {
		t.Fatalf("right password after the wait: %+v", got)
	}
	for i := range free {
		if got := s.login(t, "test", "guess"); got.status != 401 {
			t.Fatalf("after the reset, wrong password %d: %+v, want 401", i+1, got)
		}
	}
}
