package e2e

import (
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
	"github.com/latchauth/latch/examples/internal/walkthrough"
	"github.com/latchauth/latch/internal/storetest"
	"github.com/latchauth/latch/store/memstore"
)

// accessTTL is latch's default access token lifetime, which the tests run
// with.
const accessTTL = latch.DefaultAccessTTL

// isJWT reports whether tok has the shape of a JWT rather than of an
// opaque latch token.
func isJWT(tok string) bool {
	return strings.Count(tok, ".") == 2 && !strings.HasPrefix(tok, "lt")
}

// checkShape checks that a token answer has the mode's token formats.
func checkShape(t *testing.T, mode latch.Mode, tk tokens) {
	t.Helper()
	accessJWT, refreshJWT := mode != latch.ModeOpaque, mode == latch.ModeJWT
	if isJWT(tk.AccessToken) != accessJWT || !accessJWT && !strings.HasPrefix(tk.AccessToken, "lta_") {
		t.Errorf("%s mode: access token %.12s… has the wrong format", mode, tk.AccessToken)
	}
	if isJWT(tk.RefreshToken) != refreshJWT || !refreshJWT && !strings.HasPrefix(tk.RefreshToken, "ltr_") {
		t.Errorf("%s mode: refresh token %.12s… has the wrong format", mode, tk.RefreshToken)
	}
	if tk.TokenType != "Bearer" || tk.ExpiresIn != int(accessTTL/time.Second) {
		t.Errorf("token_type %q, expires_in %d; want Bearer, %d", tk.TokenType, tk.ExpiresIn, int(accessTTL/time.Second))
	}
}

func testLogin(t *testing.T, routes Routes) {
	const prefix, suffix = `{"username":"test","password":"test","device":"`, `"}`
	atLimit := prefix + strings.Repeat("x", 64<<10-len(prefix)-len(suffix)) + suffix
	overLimit := atLimit[:len(atLimit)-len(suffix)] + "x" + suffix
	bad := want{400, "", `{"msg":"Bad request"}`}
	wrong := want{401, "", `{"msg":"Bad username or password"}`}
	tooLarge := want{413, "", `{"msg":"Request body too large"}`}
	cases := []struct {
		name string
		body string
		want want
	}{
		{"test", `{"username":"test","password":"test"}`, want{status: 200}},
		{"batman with a device label", `{"username":"batman","password":"batman","device":"batcave"}`, want{status: 200}},
		{"body at the limit", atLimit, want{status: 200}},
		{"wrong password", `{"username":"test","password":"batman"}`, wrong},
		{"unknown user", `{"username":"robin","password":"robin"}`, wrong},
		{"username is case-sensitive", `{"username":"Test","password":"test"}`, wrong},
		{"garbage", `not json`, bad},
		{"no body", ``, bad},
		{"empty object", `{}`, bad},
		{"no password", `{"username":"test"}`, bad},
		{"empty password", `{"username":"test","password":""}`, bad},
		{"number for a string", `{"username":1,"password":"test"}`, bad},
		{"array", `[]`, bad},
		{"null", `null`, bad},
		{"trailing data", `{"username":"test","password":"test"}{}`, bad},
		{"body over the limit", overLimit, tooLarge},
	}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, nil)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := h.do(t, request{method: "POST", path: "/login", body: c.body})
					r.check(t, c.want)
					if got := r.header.Get("Cache-Control"); got != "no-store" {
						t.Errorf("Cache-Control = %q, want no-store", got)
					}
					if c.want.status == 200 {
						checkShape(t, mode, h.decodeTokens(t, r))
					}
				})
			}
		})
	}
}

func testRoutes(t *testing.T, routes Routes) {
	malformed := want{401, invalidToken("Malformed token"), `{"msg":"Malformed token"}`}
	wrongType := want{401, invalidToken("Wrong token type"), `{"msg":"Wrong token type"}`}
	noToken := want{401, realm, missingToken}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, nil)
			test, batman := h.login(t, "test", "laptop"), h.login(t, "batman", "batcave")
			as := map[string]string{
				"nobody":  "",
				"test":    test.AccessToken,
				"batman":  batman.AccessToken,
				"garbage": "abc.def",
				"refresh": test.RefreshToken,
			}
			jwks := want{404, "", `{"msg":"Not Found"}`}
			if mode != latch.ModeOpaque {
				jwks = want{200, "", `{"keys":[]}`}
			}
			cases := []struct {
				name, method, path, as string
				want                   want
			}{
				{"protected without token", "GET", "/protected", "nobody", noToken},
				{"protected", "GET", "/protected", "test", want{200, "", loggedInAs("1")}},
				{"protected as batman", "GET", "/protected", "batman", want{200, "", loggedInAs("2")}},
				{"protected with garbage", "GET", "/protected", "garbage", malformed},
				{"protected with a refresh token", "GET", "/protected", "refresh", wrongType},
				{"who_am_i without token", "GET", "/who_am_i", "nobody", noToken},
				{"who_am_i", "GET", "/who_am_i", "test", want{200, "", `{"id":1,"full_name":"Test User","username":"test"}`}},
				{"who_am_i as batman", "GET", "/who_am_i", "batman", want{200, "", `{"id":2,"full_name":"Bruce Wayne","username":"batman"}`}},
				{"claims without token", "GET", "/claims", "nobody", noToken},
				{"claims", "GET", "/claims", "test", want{200, "", `{"foo":"bar","upcase_name":"TEST"}`}},
				{"claims as batman", "GET", "/claims", "batman", want{200, "", `{"foo":"bar","upcase_name":"BATMAN"}`}},
				{"optionally_protected without token", "GET", "/optionally_protected", "nobody", want{200, "", loggedInAs("anonymous user")}},
				{"optionally_protected", "GET", "/optionally_protected", "test", want{200, "", loggedInAs("1")}},
				{"optionally_protected with garbage", "GET", "/optionally_protected", "garbage", malformed},
				{"admin without token", "GET", "/admin", "nobody", noToken},
				{"admin as test", "GET", "/admin", "test", want{403,
					`Bearer realm="latch", error="insufficient_scope", error_description="Admins only!"`, `{"msg":"Admins only!"}`}},
				{"admin as batman", "GET", "/admin", "batman", want{200, "", `{"foo":"bar"}`}},
				{"sessions without token", "GET", "/sessions", "nobody", noToken},
				{"sessions with garbage", "GET", "/sessions", "garbage", malformed},
				{"delete session without token", "DELETE", "/sessions/abc", "nobody", noToken},
				{"logout without token", "POST", "/logout", "nobody", noToken},
				{"logout with a refresh token", "POST", "/logout", "refresh", wrongType},
				{"logout_all without token", "POST", "/logout_all", "nobody", noToken},
				{"refresh without token", "POST", "/refresh", "nobody", noToken},
				{"refresh with an access token", "POST", "/refresh", "test", wrongType},
				{"refresh with garbage", "POST", "/refresh", "garbage", malformed},
				{"health", "GET", "/health", "nobody", want{200, "", `{"status":"ok"}`}},
				{"health ignores tokens", "GET", "/health", "garbage", want{200, "", `{"status":"ok"}`}},
				{"jwks", "GET", "/.well-known/jwks.json", "nobody", jwks},
				{"unknown path", "GET", "/nope", "test", want{404, "", `{"msg":"Not Found"}`}},
				{"wrong method", "GET", "/login", "nobody", want{405, "", `{"msg":"Method Not Allowed"}`}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := h.do(t, request{method: c.method, path: c.path, token: as[c.as]})
					r.check(t, c.want)
					// echo's router lists OPTIONS, which it answers itself
					// (the transcript leaves it out likewise).
					if allow := r.header.Get("Allow"); c.want.status == 405 && strings.TrimPrefix(allow, "OPTIONS, ") != "POST" {
						t.Errorf("Allow = %q, want POST", allow)
					}
				})
			}
		})
	}
}

func testExpiredAccessToken(t *testing.T, routes Routes) {
	dave := want{401, invalidToken("Token has expired"), daveBody}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, nil)
			tk, bat := h.login(t, "test", "laptop"), h.login(t, "batman", "batcave")
			h.clock.Add(accessTTL - time.Second)
			t.Run("valid until it expires", func(t *testing.T) {
				h.get(t, "/protected", tk.AccessToken).check(t, want{200, "", loggedInAs("1")})
			})
			h.clock.Add(2 * time.Second)
			for _, c := range []struct{ path, token string }{
				{"/protected", tk.AccessToken},
				{"/who_am_i", tk.AccessToken},
				{"/claims", tk.AccessToken},
				{"/optionally_protected", tk.AccessToken},
				{"/admin", bat.AccessToken},
				{"/sessions", tk.AccessToken},
			} {
				t.Run(c.path, func(t *testing.T) { h.get(t, c.path, c.token).check(t, dave) })
			}
			t.Run("refresh gives a working token", func(t *testing.T) {
				next := h.decodeTokens(t, h.refresh(t, tk.RefreshToken))
				checkShape(t, mode, next)
				h.get(t, "/protected", next.AccessToken).check(t, want{200, "", loggedInAs("1")})
			})
		})
	}
}

func testRefresh(t *testing.T, routes Routes) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, nil)
			old := h.login(t, "test", "laptop")
			h.clock.Add(time.Minute)
			var next tokens
			t.Run("new tokens work", func(t *testing.T) {
				next = h.decodeTokens(t, h.refresh(t, old.RefreshToken))
				checkShape(t, mode, next)
				if next.AccessToken == old.AccessToken || next.RefreshToken == old.RefreshToken {
					t.Fatal("refresh returned the old tokens")
				}
				h.get(t, "/protected", next.AccessToken).check(t, want{200, "", loggedInAs("1")})
				h.get(t, "/claims", next.AccessToken).check(t, want{200, "", `{"foo":"bar","upcase_name":"TEST"}`})
			})
			t.Run("old access token", func(t *testing.T) {
				r := h.get(t, "/protected", old.AccessToken)
				if mode == latch.ModeOpaque { // the session holds one access secret
					r.check(t, want{401, invalidToken("Session has ended"), `{"msg":"Session has ended"}`})
				} else { // a JWT lives until it expires
					r.check(t, want{200, "", loggedInAs("1")})
				}
			})
			sid := h.sessionID(t, next.AccessToken, "laptop")
			t.Run("replay within the grace gets the same tokens", func(t *testing.T) {
				h.clock.Add(time.Second)
				again := h.decodeTokens(t, h.refresh(t, old.RefreshToken))
				if again.RefreshToken != next.RefreshToken {
					t.Error("the retried refresh answered another refresh token")
				}
				// The session holds one access secret: the retry hands out
				// the same; an access JWT is signed afresh.
				if mode == latch.ModeOpaque && again.AccessToken != next.AccessToken {
					t.Error("the retried refresh answered another opaque access token")
				}
				h.get(t, "/protected", again.AccessToken).check(t, want{200, "", loggedInAs("1")})
				h.get(t, "/protected", next.AccessToken).check(t, want{200, "", loggedInAs("1")})
			})
			var last tokens
			t.Run("a token spent before the last refresh is refused within the grace", func(t *testing.T) {
				last = h.decodeTokens(t, h.refresh(t, next.RefreshToken))
				h.refresh(t, old.RefreshToken).check(t, refusedRaceLost)
				h.get(t, "/protected", last.AccessToken).check(t, want{200, "", loggedInAs("1")})
			})
			t.Run("replay after the grace ends the session", func(t *testing.T) {
				h.clock.Add(latch.DefaultReuseGrace)
				h.refresh(t, old.RefreshToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
			})
			t.Run("the session is gone", func(t *testing.T) {
				h.refresh(t, last.RefreshToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
				if mode == latch.ModeOpaque {
					h.get(t, "/protected", last.AccessToken).check(t, want{401, invalidToken("Session has ended"), sessionEnded})
				}
				fresh := h.login(t, "test", "desktop")
				for _, s := range h.sessions(t, fresh.AccessToken) {
					if s.ID == sid {
						t.Errorf("the replayed session %s is still listed", sid)
					}
				}
			})
		})
	}
}

func testUserRemoved(t *testing.T, routes Routes) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, nil)
			h.app.Users.Add(&walkthrough.User{ID: 3, FullName: "Dick Grayson", Username: "robin"}, "robin")
			robin, test, bat := h.login(t, "robin", "belt"), h.login(t, "test", "laptop"), h.login(t, "batman", "batcave")
			h.get(t, "/who_am_i", robin.AccessToken).check(t, want{200, "", `{"id":3,"full_name":"Dick Grayson","username":"robin"}`})
			h.app.Users.Remove("3")
			h.app.Users.Remove("1")
			for _, c := range []struct{ name, path, token, id string }{
				{"added user", "/who_am_i", robin.AccessToken, "3"},
				{"seed user", "/protected", test.AccessToken, "1"},
				{"optional route", "/optionally_protected", test.AccessToken, "1"},
			} {
				t.Run(c.name, func(t *testing.T) {
					msg := "Error loading the user " + c.id
					h.get(t, c.path, c.token).check(t, want{401, invalidToken(msg), `{"msg":"` + msg + `"}`})
				})
			}
			t.Run("login refused", func(t *testing.T) {
				h.do(t, request{method: "POST", path: "/login", body: `{"username":"test","password":"test"}`}).
					check(t, want{401, "", `{"msg":"Bad username or password"}`})
			})
			t.Run("others unaffected", func(t *testing.T) {
				h.get(t, "/who_am_i", bat.AccessToken).check(t, want{200, "", `{"id":2,"full_name":"Bruce Wayne","username":"batman"}`})
			})
		})
	}
}

func testCookies(t *testing.T, routes Routes) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			h := newHarness(t, routes, mode, func(c *config) {
				c.HTTP.Locations = []latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie}
				c.HTTP.Cookie.Insecure = true // httptest serves plain HTTP
			})
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			h.client.Jar = jar
			u, _ := url.Parse(h.srv.URL)
			cookie := func(name string) string {
				for _, c := range jar.Cookies(u) {
					if c.Name == name {
						return c.Value
					}
				}
				return ""
			}
			csrf := func(name string) map[string]string { return map[string]string{"X-CSRF-Token": cookie(name)} }
			badCSRF := want{403, "", `{"msg":"CSRF token missing or incorrect"}`}
			t.Run("login sets cookies, and keeps the tokens out of the body", func(t *testing.T) {
				h.do(t, request{method: "POST", path: "/login", body: `{"username":"test","password":"test","device":"browser"}`}).
					check(t, want{200, "", `{"expires_in":900,"token_type":"Bearer"}`})
				access, refresh := cookie("latch_access"), cookie("latch_refresh")
				if access == "" || refresh == "" {
					t.Fatal("no token cookies")
				}
				if cookie("latch_csrf_access") != latchhttp.CSRFToken(access) || cookie("latch_csrf_refresh") != latchhttp.CSRFToken(refresh) {
					t.Fatal("no CSRF cookies for the tokens")
				}
			})
			t.Run("cookie authenticates", func(t *testing.T) {
				h.get(t, "/protected", "").check(t, want{200, "", loggedInAs("1")})
			})
			t.Run("refresh needs the CSRF header", func(t *testing.T) {
				h.post(t, "/refresh", "").check(t, badCSRF)
				before := cookie("latch_access")
				// Tokens kept in HttpOnly cookies stay out of the body.
				h.do(t, request{method: "POST", path: "/refresh", header: csrf("latch_csrf_refresh")}).
					check(t, want{200, "", `{"expires_in":900,"token_type":"Bearer"}`})
				if after := cookie("latch_access"); after == before || after == "" {
					t.Error("refresh did not replace the access cookie")
				}
				h.get(t, "/protected", "").check(t, want{200, "", loggedInAs("1")})
			})
			t.Run("logout clears the cookies", func(t *testing.T) {
				h.post(t, "/logout", "").check(t, badCSRF)
				h.do(t, request{method: "POST", path: "/logout", header: csrf("latch_csrf_access")}).
					check(t, want{200, "", `{"msg":"Logged out"}`})
				if cookie("latch_access") != "" || cookie("latch_refresh") != "" {
					t.Error("cookies left after logout")
				}
				h.get(t, "/protected", "").check(t, want{401, realm, missingToken})
			})
		})
	}
}

func testStoreUnavailable(t *testing.T, routes Routes) {
	unavailable := want{503, "", `{"msg":"Service temporarily unavailable"}`}
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			fs := &storetest.Probe{Store: memstore.New()}
			h := newHarness(t, routes, mode, nil, latch.WithStore(fs))
			tk := h.login(t, "test", "laptop")
			id := h.sessionID(t, tk.AccessToken, "laptop")
			fs.SetDown(true)
			cases := []struct {
				name, method, path string
				token              string
				body               string
			}{
				{"login", "POST", "/login", "", `{"username":"test","password":"test"}`},
				{"sessions", "GET", "/sessions", tk.AccessToken, ""},
				{"delete session", "DELETE", "/sessions/" + id, tk.AccessToken, ""},
				{"logout", "POST", "/logout", tk.AccessToken, ""},
				{"logout_all", "POST", "/logout_all", tk.AccessToken, ""},
				{"refresh", "POST", "/refresh", tk.RefreshToken, ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := h.do(t, request{method: c.method, path: c.path, token: c.token, body: c.body})
					r.check(t, unavailable)
					if got := r.header.Get("Retry-After"); got != "5" {
						t.Errorf("Retry-After = %q, want 5", got)
					}
				})
			}
			t.Run("protected", func(t *testing.T) {
				r := h.get(t, "/protected", tk.AccessToken)
				if mode == latch.ModeOpaque { // every request reads the session
					r.check(t, unavailable)
				} else { // a JWT verifies without the store
					r.check(t, want{200, "", loggedInAs("1")})
				}
			})
			fs.SetDown(false)
			t.Run("nothing changed", func(t *testing.T) {
				checkList(t, h.sessions(t, tk.AccessToken), []string{"laptop"}, "laptop")
			})
		})
	}
}
