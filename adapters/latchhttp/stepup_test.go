package latchhttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// stepUp is an application's step-up route (after its own password check):
// latch.Auth.StepUp, answered with WriteStepUp.
func (e *env) stepUp() http.Handler {
	return e.web.Middleware(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := latch.FromContext(r.Context())
		t, err := e.Auth.StepUp(r.Context(), p)
		if err != nil {
			e.web.WriteError(w, r, err)
			return
		}
		e.web.WriteStepUp(w, t)
	}))
}

// A Fresh guard refuses a stale session before step-up and passes after
// it, in every mode, with tokens in the header or in cookies.
func TestStepUpOverHTTP(t *testing.T) {
	for _, mode := range modes {
		for _, loc := range []latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie} {
			t.Run(string(mode)+"/"+string(loc), func(t *testing.T) {
				e := newEnv(t, mode, func(c *latch.Config, h *latchhttp.Config) {
					c.FreshTTL = latch.Duration(5 * time.Minute)
					h.Locations = []latchhttp.Location{loc}
				})
				tk := e.Login(t, users["1"], "browser")
				jar := cookieJar{}
				send := func(h http.Handler, method, path, tok string) *httptest.ResponseRecorder {
					r := httptest.NewRequest(method, path, nil)
					if loc == latchhttp.InHeader {
						r.Header.Set("Authorization", "Bearer "+tok)
					} else {
						jar.addTo(r)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					return w
				}
				if loc == latchhttp.InCookie {
					w := httptest.NewRecorder()
					e.web.SetCookies(w, tk)
					jar.take(w)
				}
				e.Clock.Add(6 * time.Minute)
				if w := send(e.handler(), "GET", "/fresh", tk.AccessToken); w.Code != 401 || bodyMap(t, w)["msg"] != "Fresh token required" {
					t.Fatalf("before step-up: %d %s", w.Code, w.Body)
				}
				w := send(e.stepUp(), "POST", "/step-up", tk.AccessToken)
				if w.Code != 200 {
					t.Fatalf("step-up: %d %s", w.Code, w.Body)
				}
				var body map[string]any
				json.Unmarshal(w.Body.Bytes(), &body)
				if _, ok := body["refresh_token"]; ok {
					t.Errorf("step-up answered a refresh token: %s", w.Body)
				}
				newTok := tk.AccessToken
				switch {
				case mode == latch.ModeOpaque:
					if len(w.Result().Cookies()) != 0 || body["access_token"] != nil {
						t.Errorf("opaque step-up wrote a token: %v %s", w.Header()["Set-Cookie"], w.Body)
					}
				case loc == latchhttp.InCookie:
					jar.take(w)
					if jar["__Host-latch_access"] == nil || jar["__Host-latch_access"].Value == tk.AccessToken || body["access_token"] != nil {
						t.Errorf("cookie step-up: cookies %v, body %s", w.Header()["Set-Cookie"], w.Body)
					}
					for _, c := range w.Result().Cookies() {
						if c.Name == "__Host-latch_refresh" {
							t.Error("step-up replaced the refresh cookie")
						}
					}
				default:
					newTok, _ = body["access_token"].(string)
					if newTok == "" || newTok == tk.AccessToken {
						t.Errorf("header step-up body: %s", w.Body)
					}
				}
				if w := send(e.handler(), "GET", "/fresh", newTok); w.Code != 200 || bodyMap(t, w)["fresh"] != true {
					t.Errorf("after step-up: %d %s", w.Code, w.Body)
				}
			})
		}
	}
}

// cookieJar keeps the cookies a response set, by name, and sends them
// with the CSRF header a browser client adds.
type cookieJar map[string]*http.Cookie

func (j cookieJar) take(w *httptest.ResponseRecorder) {
	for _, c := range w.Result().Cookies() {
		j[c.Name] = c
	}
}

func (j cookieJar) addTo(r *http.Request) {
	for _, c := range j {
		r.AddCookie(c)
	}
	if c := j["__Host-latch_csrf_access"]; c != nil {
		r.Header.Set("X-CSRF-Token", c.Value)
	}
}

// A delegated session cannot step up: 403.
func TestStepUpDelegatedOverHTTP(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, nil)
		st := e.Login(t, users["2"], "desk")
		staff, err := e.Auth.Authenticate(bg, st.AccessToken, latch.Requirement{})
		if err != nil {
			t.Fatal(err)
		}
		tk, err := e.Auth.LoginAs(bg, staff, users["1"], latch.LoginOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := do(e.stepUp(), "POST", "/step-up", bearer(tk.AccessToken), "")
		if w.Code != 403 || bodyMap(t, w)["msg"] != "Not allowed in a delegated session" {
			t.Errorf("%s: delegated step-up: %d %s", mode, w.Code, w.Body)
		}
		if got := w.Header().Get("WWW-Authenticate"); got != forbiddenTo+`Not allowed in a delegated session"` {
			t.Errorf("%s: WWW-Authenticate = %q", mode, got)
		}
	}
}

// The cookies of a login that asked for its own idle timeout are
// browser-session cookies, on login and after a refresh; a remembered
// login's refresh cookie expires with its session.
func TestEphemeralCookies(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, locations(latchhttp.InCookie))
			for _, c := range []struct {
				name string
				opts latch.LoginOptions
				life time.Duration // of the refresh cookie; 0: a browser-session cookie
			}{
				{"remembered", latch.LoginOptions{Lifetime: 7 * 24 * time.Hour}, 7 * 24 * time.Hour},
				{"not remembered", latch.LoginOptions{IdleTimeout: time.Hour}, 0},
			} {
				tk, err := e.Auth.Login(bg, users["1"], c.opts)
				if err != nil {
					t.Fatal(err)
				}
				w := httptest.NewRecorder()
				e.web.WriteTokens(w, tk)
				jar := cookieJar{}
				jar.take(w)
				checkLife := func(when string) {
					for _, name := range []string{"__Host-latch_access", "__Host-latch_csrf_access", "__Host-latch_refresh", "__Host-latch_csrf_refresh"} {
						ck := jar[name]
						if ck == nil {
							t.Fatalf("%s, %s: no cookie %s", c.name, when, name)
						}
						session := ck.MaxAge == 0 && ck.Expires.IsZero()
						if session != (c.life == 0) {
							t.Errorf("%s, %s: %s Max-Age %d, Expires %v", c.name, when, name, ck.MaxAge, ck.Expires)
						}
						if c.life > 0 && name == "__Host-latch_refresh" && ck.MaxAge != int(c.life/time.Second) {
							t.Errorf("%s, %s: refresh cookie Max-Age %d, want the session's %d", c.name, when, ck.MaxAge, int(c.life/time.Second))
						}
					}
				}
				checkLife("login")
				r := httptest.NewRequest("POST", "/auth/refresh", nil)
				r.AddCookie(jar["__Host-latch_refresh"])
				r.Header.Set("X-CSRF-Token", jar["__Host-latch_csrf_refresh"].Value)
				rw := httptest.NewRecorder()
				e.web.RefreshHandler().ServeHTTP(rw, r)
				if rw.Code != 200 {
					t.Fatalf("refresh: %d %s", rw.Code, rw.Body)
				}
				jar.take(rw)
				checkLife("refresh")
			}
		})
	}
}
