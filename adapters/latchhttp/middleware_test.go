package latchhttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/internal/storetest"
)

const (
	realm       = `Bearer realm="latch"`
	invalidTok  = `Bearer realm="latch", error="invalid_token", error_description="`
	forbiddenTo = `Bearer realm="latch", error="insufficient_scope", error_description="`
)

type want struct {
	status int
	authn  string // WWW-Authenticate
	msg    string // body "msg"; "" to skip
}

func check(t *testing.T, got *resp, wt want) {
	t.Helper()
	if got.status != wt.status {
		t.Errorf("status = %d, want %d (body %s)", got.status, wt.status, got.body)
	}
	if got.authn != wt.authn {
		t.Errorf("WWW-Authenticate = %q, want %q", got.authn, wt.authn)
	}
	if wt.msg != "" && got.msg != wt.msg {
		t.Errorf("msg = %q, want %q (body %s)", got.msg, wt.msg, got.body)
	}
}

type resp struct {
	status int
	authn  string
	msg    string
	body   string
	json   map[string]any
}

func call(t *testing.T, e *env, method, path string, hdr map[string]string, body string) *resp {
	t.Helper()
	w := do(e.handler(), method, path, hdr, body)
	r := &resp{status: w.Code, authn: w.Header().Get("WWW-Authenticate"), body: w.Body.String()}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	r.json = bodyMap(t, w)
	r.msg, _ = r.json["msg"].(string)
	return r
}

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

func TestExpiredTokenResponder(t *testing.T) {
	dave := latchhttp.WithResponder(latch.ErrTokenExpired, func(w http.ResponseWriter, r *http.Request, err error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":"dave","err":"I can't let you do that"}`))
	})
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			var err error
			if e.web, err = latchhttp.New(e.Auth, e.web.Config(), dave); err != nil {
				t.Fatal(err)
			}
			tk := e.Login(t, users["1"], "laptop")
			e.Clock.Add(15*time.Minute + time.Second)
			got := call(t, e, "GET", "/protected", bearer(tk.AccessToken), "")
			check(t, got, want{401, invalidTok + `Token has expired"`, ""})
			if got.json["code"] != "dave" || got.json["err"] != "I can't let you do that" {
				t.Errorf("body = %s, want the custom responder's", got.body)
			}
			// The refresh token still works and gives a valid, non-fresh
			// access token.
			next, err := e.Auth.Refresh(context.Background(), tk.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh after access expiry: %v", err)
			}
			ok := call(t, e, "GET", "/protected", bearer(next.AccessToken), "")
			if ok.status != 200 || ok.json["fresh"] != false {
				t.Errorf("after refresh: %d %s, want 200 and fresh=false", ok.status, ok.body)
			}
			fresh := call(t, e, "GET", "/fresh", bearer(next.AccessToken), "")
			check(t, fresh, want{401, invalidTok + `Fresh token required"`, "Fresh token required"})
		})
	}
}

func TestDefaultExpiredBody(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	e.Clock.Add(16 * time.Minute)
	got := call(t, e, "GET", "/protected", bearer(tk.AccessToken), "")
	check(t, got, want{401, invalidTok + `Token has expired"`, "Token has expired"})
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
	w := do(web.Guard(latchhttp.Required())(okHandler), "GET", "/", bearer(tk.AccessToken), "")
	if w.Code != 503 {
		t.Errorf("slow store: status %d, want 503", w.Code)
	}
	// Bounded by the timeout, not the store: generous margin for noisy machines.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("request took %s with a 50ms store timeout", d)
	}
}

func TestConflictingLocations(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InHeader, latchhttp.InQuery, latchhttp.InJSON))
	a := e.Login(t, users["1"], "a")
	b := e.Login(t, users["1"], "b")
	cases := []struct {
		name   string
		target string
		hdr    map[string]string
		body   string
		status int
	}{
		{"header and query differ", "/protected?access_token=" + b.AccessToken, bearer(a.AccessToken), "", 400},
		{"header and query agree", "/protected?access_token=" + a.AccessToken, bearer(a.AccessToken), "", 200},
		{"query alone", "/protected?access_token=" + a.AccessToken, nil, "", 200},
		{"two query values", "/protected?access_token=" + a.AccessToken + "&access_token=" + a.AccessToken, nil, "", 400},
		{"header and body differ", "/protected", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Content-Type": "application/json"}, `{"access_token":"` + b.AccessToken + `"}`, 400},
		{"body alone", "/protected", map[string]string{"Content-Type": "application/json"}, `{"access_token":"` + a.AccessToken + `"}`, 200},
		{"body not an object", "/protected", map[string]string{"Content-Type": "application/json"}, `[1,2]`, 401},
		{"body not JSON", "/protected", map[string]string{"Content-Type": "application/json"}, `{"access_token":`, 400},
		{"header token, body an array", "/protected", bearer(a.AccessToken), `[1,2]`, 200},
		{"header token, body broken", "/protected", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Content-Type": "application/json"}, `{"x":`, 200},
		{"header token, body too large", "/protected", map[string]string{"Authorization": "Bearer " + a.AccessToken, "Content-Type": "application/json"}, `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, 200},
		{"body token not a string", "/protected", map[string]string{"Content-Type": "application/json"}, `{"access_token":12}`, 400},
		{"body deeply nested", "/protected", map[string]string{"Content-Type": "application/json"}, strings.Repeat("[", 20000), 400},
		{"body too large", "/protected", map[string]string{"Content-Type": "application/json"}, `{"x":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"body not json", "/protected", map[string]string{"Content-Type": "text/plain"}, `{"access_token":"` + a.AccessToken + `"}`, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "GET"
			if c.body != "" {
				method = "POST"
			}
			w := do(e.handler(), method, c.target, c.hdr, c.body)
			if w.Code != c.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, c.status, w.Body)
			}
			if c.status == 400 && !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_request"`) {
				t.Errorf("WWW-Authenticate = %q, want invalid_request", w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestQueryLocationOffByDefault(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "a")
	got := call(t, e, "GET", "/protected?access_token="+tk.AccessToken, nil, "")
	check(t, got, want{401, realm, "Missing authorization token"})
}

func TestBodyIsKeptForTheHandler(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InJSON))
	tk := e.Login(t, users["1"], "a")
	body := `{"access_token":"` + tk.AccessToken + `","note":"hello"}`
	var seen string
	h := e.web.Guard(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := latchhttp.ReadBody(r, 1<<20)
		seen = string(b)
	}))
	w := do(h, "POST", "/", map[string]string{"Content-Type": "application/json"}, body)
	if w.Code != 200 || seen != body {
		t.Errorf("status %d, handler read %q, want %q", w.Code, seen, body)
	}
}

// A chunked body over the limit, next to a header token, reaches the
// handler whole and readable.
func TestOversizedChunkedBodyStaysReadable(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, locations(latchhttp.InHeader, latchhttp.InJSON))
	tk := e.Login(t, users["1"], "a")
	body := `{"x":"` + strings.Repeat("a", 100<<10) + `"}`
	var got int
	var readErr error
	h := e.web.Guard(latchhttp.Required())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		got, readErr = len(b), err
	}))
	for _, withToken := range []bool{true, false} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.ContentLength = -1 // as a chunked upload arrives
		r.Header.Set("Content-Type", "application/json")
		if withToken {
			r.Header.Set("Authorization", "Bearer "+tk.AccessToken)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case withToken && (w.Code != 200 || got != len(body) || readErr != nil):
			t.Errorf("with a header token: %d, handler read %d of %d bytes, %v", w.Code, got, len(body), readErr)
		case !withToken && w.Code != 413:
			t.Errorf("without a token: %d, want 413", w.Code)
		}
	}
}

func TestRevocationEndpoint(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, sessionCheck(true))
			h := e.web.RevocationHandler()
			post := func(form string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("POST", "/revoke", strings.NewReader(form))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			byAccess, byRefresh, other := e.Login(t, users["1"], "a"), e.Login(t, users["1"], "b"), e.Login(t, users["1"], "c")
			for _, c := range []struct {
				name, form string
				status     int
			}{
				{"access token", "token=" + byAccess.AccessToken + "&token_type_hint=access_token", 200},
				{"refresh token", "token=" + byRefresh.RefreshToken, 200},
				{"garbage is still 200", "token=nonsense", 200},
				{"already revoked is still 200", "token=" + byAccess.AccessToken, 200},
				{"no token", "token_type_hint=refresh_token", 400},
				{"two tokens", "token=" + other.AccessToken + "&token=" + other.RefreshToken, 400},
				{"body too large", "token=" + other.AccessToken + "&pad=" + strings.Repeat("x", 64<<10), 413},
			} {
				if w := post(c.form); w.Code != c.status {
					t.Errorf("%s: %d, want %d (%s)", c.name, w.Code, c.status, w.Body)
				}
			}
			for _, tk := range []*latch.Tokens{byAccess, byRefresh} {
				if _, err := e.Auth.Authenticate(bg, tk.AccessToken, latch.Requirement{}); !errors.Is(err, latch.ErrTokenRevoked) {
					t.Errorf("session %s after revocation: %v", tk.SessionID, err)
				}
			}
			if _, err := e.Auth.Authenticate(bg, other.AccessToken, latch.Requirement{}); err != nil {
				t.Errorf("an unrelated session ended: %v", err)
			}
			if w := do(h, "GET", "/revoke", nil, ""); w.Code != 405 {
				t.Errorf("GET: %d, want 405", w.Code)
			}
			e.Store.SetDown(true)
			if w := post("token=" + other.AccessToken); w.Code != 503 {
				t.Errorf("store down: %d, want 503", w.Code)
			}
		})
	}
}

// TestOptionalSkipsChecks pins that an optional guard lets a request
// without a token through anonymously without running its checks (they
// need a principal), and runs them on a request with a valid token.
func TestOptionalSkipsChecks(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	var ran int
	counted := func(r *http.Request, p *latch.Principal) error {
		ran++
		return adminOnly(r, p)
	}
	h := e.web.Guard(latchhttp.Guard{Optional: true, Checks: []latchhttp.Check{counted}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok := latch.FromContext(r.Context())
			latchhttp.WriteJSON(w, http.StatusOK, map[string]bool{"anonymous": !ok})
		}))
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
		body   string
		ran    int
	}{
		{"no token: anonymous, checks skipped", nil, 200, `{"anonymous":true}`, 0},
		{"a token that fails the check", bearer(e.Login(t, users["1"], "laptop").AccessToken), 403, `{"msg":"Admins only!"}`, 1},
		{"a token that passes it", bearer(e.Login(t, users["2"], "cave").AccessToken), 200, `{"anonymous":false}`, 1},
		{"an invalid token: refused before the checks", bearer("abc.def"), 401, `{"msg":"Malformed token"}`, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ran = 0
			w := do(h, "GET", "/", c.hdr, "")
			if w.Code != c.status || strings.TrimSpace(w.Body.String()) != c.body || ran != c.ran {
				t.Errorf("%d %s, checks ran %d times; want %d %s, %d", w.Code, w.Body, ran, c.status, c.body, c.ran)
			}
		})
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

// TestRefreshHandlerRunsTheUserLoader: RefreshHandler answers a user the
// loader no longer finds 401 "Error loading the user <sub>", and a loader
// that fails 503, and rotates nothing either way. (The core's
// TestRefreshRunsTheUserLoader checks the rest.)
func TestRefreshHandlerRunsTheUserLoader(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want want
	}{
		{"no such user", nil, want{401, invalidTok + `Error loading the user 1"`, "Error loading the user 1"}},
		{"loader down", errors.New("test: user database down"), want{503, "", "Service temporarily unavailable"}},
	} {
		for _, mode := range modes {
			t.Run(c.name+"/"+string(mode), func(t *testing.T) {
				found := true
				e := newEnv(t, mode, nil, latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*user, error) {
					if found {
						return users["1"], nil
					}
					return nil, c.err
				}))
				tk := e.Login(t, users["1"], "laptop")
				found = false
				writes := e.Store.Calls().Writes()
				check(t, call(t, e, "POST", "/refresh", bearer(tk.RefreshToken), ""), c.want)
				if n := e.Store.Calls().Writes() - writes; n != 0 {
					t.Errorf("the store was written %d times; a refused user's session must not rotate", n)
				}
				found = true
				if got := call(t, e, "POST", "/refresh", bearer(tk.RefreshToken), ""); got.status != 200 || got.json["refresh_token"] == nil {
					t.Errorf("once the loader finds the user again: %d %s", got.status, got.body)
				}
			})
		}
	}
}
