package latchhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/storetest"
)

func TestMiddlewareTable(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			admin := e.Login(t, users["2"], "cave")
			ghost := e.Login(t, users["3"], "nowhere")
			cases := []struct {
				name   string
				method string
				path   string
				hdr    map[string]string
				want   want
			}{
				{"no token", "GET", "/protected", nil, want{401, realm, "Missing authorization token"}},
				{"wrong scheme", "GET", "/protected", map[string]string{"Authorization": "Basic dGVzdDp0ZXN0"}, want{401, realm, "Missing authorization token"}},
				{"empty bearer", "GET", "/protected", map[string]string{"Authorization": "Bearer "}, want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"garbage", "GET", "/protected", bearer("abc.def"), want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"many dots", "GET", "/protected", bearer(strings.Repeat(".", 8000)), want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"oversized", "GET", "/protected", bearer(strings.Repeat("a", latch.MaxTokenLen+1)), want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"non ascii", "GET", "/protected", bearer("tökén"), want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"space inside", "GET", "/protected", bearer("a b"), want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"valid", "GET", "/protected", bearer(tk.AccessToken), want{200, "", ""}},
				{"scheme any case", "GET", "/protected", map[string]string{"Authorization": "bEaReR " + tk.AccessToken}, want{200, "", ""}},
				{"refresh as access", "GET", "/protected", bearer(tk.RefreshToken), want{401, invalidTok + `Wrong token type"`, "Wrong token type"}},
				{"access as refresh", "GET", "/refresh-only", bearer(tk.AccessToken), want{401, invalidTok + `Wrong token type"`, "Wrong token type"}},
				{"refresh where refresh", "GET", "/refresh-only", bearer(tk.RefreshToken), want{200, "", ""}},
				{"optional without token", "GET", "/optional", nil, want{200, "", ""}},
				{"optional wrong scheme", "GET", "/optional", map[string]string{"Authorization": "Basic dGVzdDp0ZXN0"}, want{200, "", ""}},
				{"optional invalid token", "GET", "/optional", bearer("abc"), want{401, invalidTok + `Malformed token"`, "Malformed token"}},
				{"optional valid", "GET", "/optional", bearer(tk.AccessToken), want{200, "", ""}},
				{"fresh after login", "GET", "/fresh", bearer(tk.AccessToken), want{200, "", ""}},
				{"admin guard refuses", "GET", "/admin", bearer(tk.AccessToken), want{403, forbiddenTo + `Admins only!"`, "Admins only!"}},
				{"admin guard admits", "GET", "/admin", bearer(admin.AccessToken), want{200, "", ""}},
				{"user loader nil", "GET", "/protected", bearer(ghost.AccessToken), want{401, invalidTok + `Error loading the user 3"`, "Error loading the user 3"}},
				{"two headers", "GET", "/protected", nil, want{400, "", ""}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					before := e.Store.Calls().Writes()
					var got *resp
					if c.name == "two headers" {
						w := doMulti(e.handler(), tk.AccessToken)
						got = &resp{status: w.Code, authn: w.Header().Get("WWW-Authenticate"), body: w.Body.String()}
						c.want.authn = `Bearer realm="latch", error="invalid_request", error_description="Invalid request"`
					} else {
						got = call(t, e, c.method, c.path, c.hdr, "")
					}
					check(t, got, c.want)
					if c.want.status != 200 && e.Store.Calls().Writes() != before {
						t.Errorf("a refused request wrote to the store")
					}
					if c.want.status == 200 && c.path != "/optional" || c.name == "optional valid" {
						if got.json["anonymous"] != false {
							t.Errorf("handler saw no principal: %s", got.body)
						}
					}
					if c.name == "valid" {
						if got.json["sub"] != "1" || got.json["foo"] != "bar" || got.json["user"] != "test" ||
							got.json["fresh"] != true || got.json["type"] != "access" || got.json["sid"] != tk.SessionID {
							t.Errorf("principal = %s", got.body)
						}
					}
					if strings.HasPrefix(c.name, "optional without") && got.json["anonymous"] != true {
						t.Errorf("optional route without token is not anonymous: %s", got.body)
					}
				})
			}
		})
	}
}

func doMulti(h http.Handler, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/protected", nil)
	r.Header.Add("Authorization", "Bearer "+tok)
	r.Header.Add("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStoreUnavailable(t *testing.T) {
	for _, mode := range modes {
		for _, withCheck := range []bool{false, true} {
			name := string(mode)
			if withCheck {
				name += "/session-check"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, mode, sessionCheck(withCheck))
				tk := e.Login(t, users["1"], "laptop")
				e.Store.SetDown(true)
				got := call(t, e, "GET", "/protected", bearer(tk.AccessToken), "")
				stateless := mode != latch.ModeOpaque && !withCheck
				if stateless {
					// jwt access tokens without session checks need no store.
					if got.status != 200 {
						t.Errorf("stateless JWT with store down: %d %s, want 200", got.status, got.body)
					}
				} else {
					check(t, got, want{503, "", "Service temporarily unavailable"})
					if ra := do(e.handler(), "GET", "/protected", bearer(tk.AccessToken), "").Header().Get("Retry-After"); ra != "5" {
						t.Errorf("Retry-After = %q, want 5", ra)
					}
				}
				// Refresh always needs the store: 503, never a pass.
				r := call(t, e, "POST", "/refresh", bearer(tk.RefreshToken), "")
				check(t, r, want{503, "", "Service temporarily unavailable"})
				if !strings.Contains(e.Logs.String(), "store_error") {
					t.Errorf("store failure not logged: %s", e.Logs)
				}
				// Service recovers by itself.
				e.Store.SetDown(false)
				if got := call(t, e, "GET", "/protected", bearer(tk.AccessToken), ""); got.status != 200 {
					t.Errorf("after recovery: %d %s", got.status, got.body)
				}
			})
		}
	}
}

func TestStoreTimeout(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config, _ *latchhttp.Config) { c.StoreTimeout = latch.Duration(50 * time.Millisecond) })
	slow := &storetest.Probe{Store: e.Store}
	a, err := latch.New(bg, e.Auth.Config(), latch.WithStore(slow), latch.WithClock(e.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	web, err := latchhttp.New(a, e.web.Config())
	if err != nil {
		t.Fatal(err)
	}
	tk, err := a.Login(context.Background(), "1", latch.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slow.SetDelay(time.Minute)
	start := time.Now()
	w := do(web.Middleware(latchhttp.Required())(okHandler), "GET", "/", bearer(tk.AccessToken), "")
	if w.Code != 503 {
		t.Errorf("slow store: status %d, want 503", w.Code)
	}
	// Bounded by the timeout, not the store: generous margin for noisy machines.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("request took %s with a 50ms store timeout", d)
	}
}

// TestUseRecordedOnlyWhenAccepted: past the touch interval, a request
// whose token is refused for freshness or by the user loader records no
// use of its session (nothing is written), one refused by a guard's check
// does (its user did authenticate), and so does an accepted one, once;
// the revocation endpoint ends a session without recording a use.
func TestUseRecordedOnlyWhenAccepted(t *testing.T) {
	for _, setup := range []struct {
		name  string
		mode  latch.Mode
		check bool
	}{{"opaque", latch.ModeOpaque, false}, {"jwt+session_check", latch.ModeJWT, true}, {"hybrid+session_check", latch.ModeHybrid, true}} {
		t.Run(setup.name, func(t *testing.T) {
			e := newEnv(t, setup.mode, sessionCheck(setup.check))
			first := e.Login(t, users["1"], "laptop")
			tk, err := e.Auth.Refresh(bg, first.RefreshToken) // not fresh
			if err != nil {
				t.Fatal(err)
			}
			ghost := e.Login(t, users["3"], "ghost")
			e.Clock.Add(2 * latch.DefaultTouchInterval)
			for _, c := range []struct {
				name, path, token string
				want              want
				touches           int
			}{
				{"not fresh", "/fresh", tk.AccessToken, want{401, invalidTok + `Fresh token required"`, "Fresh token required"}, 0},
				{"no such user", "/protected", ghost.AccessToken, want{401, invalidTok + `Error loading the user 3"`, "Error loading the user 3"}, 0},
				{"guard refuses", "/admin", tk.AccessToken, want{403, forbiddenTo + `Admins only!"`, "Admins only!"}, 1},
				{"accepted, use already recorded", "/protected", tk.AccessToken, want{200, "", ""}, 0},
			} {
				before := e.Store.Calls()
				check(t, call(t, e, "GET", c.path, bearer(c.token), ""), c.want)
				after := e.Store.Calls()
				if after.Touch-before.Touch != c.touches || after.Writes()-before.Writes() != c.touches {
					t.Errorf("%s: %d Touch, %d writes, want %d of each", c.name, after.Touch-before.Touch, after.Writes()-before.Writes(), c.touches)
				}
			}
			// The first accepted request past the interval records its use.
			e.Clock.Add(2 * latch.DefaultTouchInterval)
			before := e.Store.Calls().Touch
			check(t, call(t, e, "GET", "/protected", bearer(tk.AccessToken), ""), want{200, "", ""})
			if n := e.Store.Calls().Touch - before; n != 1 {
				t.Errorf("accepted request: %d Touch, want 1", n)
			}
			// Revoking through the revocation endpoint ends the session
			// without recording a use of it first.
			e.Clock.Add(2 * latch.DefaultTouchInterval)
			c := e.Store.Calls()
			w := do(e.web.RevocationHandler(), "POST", "/revoke",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "token="+tk.AccessToken)
			if w.Code != 200 {
				t.Fatalf("revocation: %d %s", w.Code, w.Body)
			}
			if after := e.Store.Calls(); after.Touch != c.Touch || after.Writes()-c.Writes() != 1 {
				t.Errorf("RevocationHandler: %+v after %+v, want one write and no Touch", after, c)
			}
		})
	}
}
