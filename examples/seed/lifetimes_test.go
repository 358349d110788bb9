package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthroughtest"
)

// Per-login lifetimes ("remember me"), step-up and "log in as", over HTTP
// on the seed's routes, in every mode.

var allModes = []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}

// seedServer serves the seed's routes in mode on the memory store, with a
// clock the test moves.
type seedServer struct {
	h   http.Handler
	mu  sync.Mutex
	now time.Time
}

func newSeedServer(t *testing.T, mode latch.Mode, locs ...latchhttp.Location) *seedServer {
	t.Helper()
	s := &seedServer{now: time.Now().Truncate(time.Second)}
	cfg := latch.Config{Mode: mode, Store: "memory:", FreshTTL: latch.Duration(5 * time.Minute)}
	target, err := walkthroughtest.FromRoutes(routes)(cfg, latchhttp.Config{Locations: locs}, t.TempDir(),
		latch.WithClock(func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Close() })
	s.h = target.Handler
	return s
}

func (s *seedServer) add(d time.Duration) { s.mu.Lock(); s.now = s.now.Add(d); s.mu.Unlock() }

// call sends one request with a bearer token (if any), cookies (if any)
// and a JSON body (if any), and returns the recorder.
func (s *seedServer) call(method, path, tok, body string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for _, c := range cookies {
		r.AddCookie(c)
		if c.Name == "__Host-latch_csrf_access" {
			r.Header.Set("X-CSRF-Token", c.Value)
		}
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func (s *seedServer) login(t *testing.T, username, extra string) map[string]any {
	t.Helper()
	w := s.call("POST", "/login", "", `{"username":"`+username+`","password":"`+username+`"`+extra+`}`)
	if w.Code != 200 {
		t.Fatalf("login %s: %d %s", username, w.Code, w.Body)
	}
	return decode(t, w)
}

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	return m
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// A login with "remember": false gets browser-session cookies and a 30
// minute idle timeout, which the device list shows; a remembered one
// keeps the configured lifetimes and a refresh cookie that expires with
// its session.
func TestSeedRememberMe(t *testing.T) {
	for _, mode := range allModes {
		t.Run(string(mode), func(t *testing.T) {
			s := newSeedServer(t, mode, latchhttp.InCookie)
			for _, c := range []struct {
				extra string
				idle  string
				keep  bool
			}{
				{`,"remember":false`, "30m0s", false},
				{`,"remember":true`, "720h0m0s", true},
				{``, "720h0m0s", true},
			} {
				w := s.call("POST", "/login", "", `{"username":"test","password":"test"`+c.extra+`}`)
				if w.Code != 200 {
					t.Fatalf("login%s: %d %s", c.extra, w.Code, w.Body)
				}
				var access *http.Cookie
				for _, ck := range w.Result().Cookies() {
					persistent := ck.MaxAge > 0 && !ck.Expires.IsZero()
					if persistent != c.keep {
						t.Errorf("login%s: cookie %s Max-Age %d", c.extra, ck.Name, ck.MaxAge)
					}
					if ck.Name == "__Host-latch_refresh" && c.keep && ck.MaxAge != int(latch.DefaultSessionTTL/time.Second) {
						t.Errorf("login%s: refresh cookie Max-Age %d, want the session's", c.extra, ck.MaxAge)
					}
					if ck.Name == "__Host-latch_access" {
						access = ck
					}
				}
				lw := s.call("GET", "/sessions", "", "", access)
				var list struct{ Sessions []map[string]any }
				json.Unmarshal(lw.Body.Bytes(), &list)
				// The logins share a creation time, so the list's order
				// among them is the ids': find this login's session.
				var cur map[string]any
				for _, s := range list.Sessions {
					if s["current"] == true {
						cur = s
					}
				}
				if lw.Code != 200 || cur == nil || cur["idle_timeout"] != c.idle || cur["absolute_expires_at"] == nil {
					t.Errorf("login%s: sessions %d %s, want idle_timeout %s", c.extra, lw.Code, lw.Body, c.idle)
				}
			}
		})
	}
}

// A route behind Fresh refuses a session that is no longer fresh, and
// passes once the password was checked again at /step_up.
func TestSeedStepUp(t *testing.T) {
	for _, mode := range allModes {
		t.Run(string(mode), func(t *testing.T) {
			s := newSeedServer(t, mode)
			tk := s.login(t, "test", "")
			access := str(tk, "access_token")
			s.add(6 * time.Minute)
			if w := s.call("GET", "/protected_fresh", access, ""); w.Code != 401 || str(decode(t, w), "msg") != "Fresh token required" {
				t.Fatalf("before step-up: %d %s", w.Code, w.Body)
			}
			if w := s.call("POST", "/step_up", access, `{"password":"wrong"}`); w.Code != 401 {
				t.Errorf("step-up with a wrong password: %d %s", w.Code, w.Body)
			}
			w := s.call("POST", "/step_up", access, `{"password":"test"}`)
			if w.Code != 200 {
				t.Fatalf("step-up: %d %s", w.Code, w.Body)
			}
			up := decode(t, w)
			if up["refresh_token"] != nil {
				t.Errorf("step-up answered a refresh token")
			}
			if mode != latch.ModeOpaque {
				access = str(up, "access_token")
			}
			if w := s.call("GET", "/protected_fresh", access, ""); w.Code != 200 {
				t.Errorf("after step-up: %d %s", w.Code, w.Body)
			}
			if w := s.call("POST", "/refresh", str(tk, "refresh_token"), ""); w.Code != 200 {
				t.Errorf("refresh after step-up: %d %s", w.Code, w.Body)
			}
		})
	}
}

// An administrator opens a session as a user; it shows in the user's
// device list with the actor, cannot manage the user's sessions or step
// up, and ends the moment the administrator logs out, in jwt mode too.
func TestSeedLoginAs(t *testing.T) {
	for _, mode := range allModes {
		t.Run(string(mode), func(t *testing.T) {
			s := newSeedServer(t, mode)
			user := str(s.login(t, "test", `,"device":"phone"`), "access_token")
			staff := str(s.login(t, "batman", ""), "access_token")
			if w := s.call("POST", "/login_as", user, `{"user_id":"2"}`); w.Code != 403 {
				t.Errorf("login_as by a non-admin: %d %s", w.Code, w.Body)
			}
			if w := s.call("POST", "/login_as", staff, `{"user_id":"99"}`); w.Code != 404 {
				t.Errorf("login_as an unknown user: %d %s", w.Code, w.Body)
			}
			w := s.call("POST", "/login_as", staff, `{"user_id":"1"}`)
			if w.Code != 200 {
				t.Fatalf("login_as: %d %s", w.Code, w.Body)
			}
			acting := str(decode(t, w), "access_token")
			if w := s.call("GET", "/protected", acting, ""); w.Code != 200 || str(decode(t, w), "logged_in_as") != "1" {
				t.Errorf("delegated /protected: %d %s", w.Code, w.Body)
			}
			for _, c := range []struct{ method, path, body string }{
				{"GET", "/sessions", ""}, {"POST", "/step_up", `{"password":"test"}`}, {"POST", "/login_as", `{"user_id":"1"}`},
			} {
				if w := s.call(c.method, c.path, acting, c.body); w.Code != 403 {
					t.Errorf("delegated %s %s: %d %s, want 403", c.method, c.path, w.Code, w.Body)
				}
			}
			lw := s.call("GET", "/sessions", user, "")
			if lw.Code != 200 || !strings.Contains(lw.Body.String(), `"actor":"2"`) {
				t.Errorf("the user's device list: %d %s", lw.Code, lw.Body)
			}
			if w := s.call("POST", "/logout", staff, ""); w.Code != 200 {
				t.Fatalf("staff logout: %d %s", w.Code, w.Body)
			}
			if w := s.call("GET", "/protected", acting, ""); w.Code != 401 {
				t.Errorf("delegated /protected after the staff logout: %d %s, want 401", w.Code, w.Body)
			}
			if lw := s.call("GET", "/sessions", user, ""); strings.Contains(lw.Body.String(), `"actor"`) {
				t.Errorf("the user's device list after the staff logout: %s", lw.Body)
			}
		})
	}
}
