package walkthroughtest

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

var discard = slog.New(slog.DiscardHandler)

// phases is the script.
var phases = []phase{
	{name: "routes", play: playRoutes},
	{name: "sessions", edit: func(c *latch.Config, _ *latchhttp.Config) { c.SessionCheck = true }, play: playSessions},
	{name: "cookies", edit: func(_ *latch.Config, httpCfg *latchhttp.Config) {
		httpCfg.Locations = []latchhttp.Location{latchhttp.InHeader, latchhttp.InCookie}
		httpCfg.Cookie.Insecure = true // httptest serves plain HTTP
	}, play: playCookies},
	{name: "store down", flaky: true, play: playStoreDown},
}

// playRoutes walks the walkthrough's routes, the router's own answers,
// refresh, expiry and a deleted user.
func playRoutes(p *player) {
	p.do("health", req{method: "GET", path: "/health"}, 200)
	test, testRefresh := p.login("login test", "test", "laptop")
	bat, _ := p.login("login batman", "batman", "batcave")

	const prefix, suffix = `{"username":"test","password":"test","device":"`, `"}`
	over := prefix + strings.Repeat("x", 64<<10-len(prefix)-len(suffix)+1) + suffix
	for _, c := range []struct {
		step, body string
		status     int
	}{
		{"login wrong password", `{"username":"test","password":"batman"}`, 401},
		{"login unknown user", `{"username":"robin","password":"robin"}`, 401},
		{"login garbage", `not json`, 400},
		{"login without body", ``, 400},
		{"login without password", `{"username":"test"}`, 400},
		{"login trailing data", `{"username":"test","password":"test"}{}`, 400},
		{"login body over the limit", over, 413},
	} {
		p.do(c.step, req{method: "POST", path: "/login", body: c.body}, c.status)
	}

	p.do("protected without token", req{method: "GET", path: "/protected"}, 401)
	p.do("protected", req{method: "GET", path: "/protected", token: test}, 200)
	p.do("protected as batman", req{method: "GET", path: "/protected", token: bat}, 200)
	p.do("protected with garbage", req{method: "GET", path: "/protected", token: "abc.def"}, 401)
	p.do("protected with a refresh token", req{method: "GET", path: "/protected", token: testRefresh}, 401)
	p.do("protected with Basic", req{method: "GET", path: "/protected", header: map[string]string{"Authorization": "Basic dGVzdDp0ZXN0"}}, 401)
	p.do("HEAD protected", req{method: "HEAD", path: "/protected", token: test}, 200)
	p.do("who_am_i", req{method: "GET", path: "/who_am_i", token: test}, 200)
	p.do("who_am_i as batman", req{method: "GET", path: "/who_am_i", token: bat}, 200)
	p.do("who_am_i without token", req{method: "GET", path: "/who_am_i"}, 401)
	p.do("claims", req{method: "GET", path: "/claims", token: test}, 200)
	p.do("claims as batman", req{method: "GET", path: "/claims", token: bat}, 200)
	p.do("optionally_protected without token", req{method: "GET", path: "/optionally_protected"}, 200)
	p.do("optionally_protected", req{method: "GET", path: "/optionally_protected", token: test}, 200)
	p.do("optionally_protected with garbage", req{method: "GET", path: "/optionally_protected", token: "abc.def"}, 401)
	p.do("admin as test", req{method: "GET", path: "/admin", token: test}, 403)
	p.do("admin as batman", req{method: "GET", path: "/admin", token: bat}, 200)
	p.do("admin without token", req{method: "GET", path: "/admin"}, 401)
	p.do("jwks", req{method: "GET", path: "/.well-known/jwks.json"}, p.byMode(404, 200))
	p.do("unknown path", req{method: "GET", path: "/nope", token: test}, 404)
	p.do("trailing slash", req{method: "GET", path: "/protected/", token: test}, 404)
	p.do("wrong method on login", req{method: "GET", path: "/login"}, 405)
	p.do("wrong method on protected", req{method: "POST", path: "/protected", token: test}, 405)
	p.do("wrong method on refresh", req{method: "GET", path: "/refresh"}, 405)
	p.do("sessions without token", req{method: "GET", path: "/sessions"}, 401)
	p.do("logout with a refresh token", req{method: "POST", path: "/logout", token: testRefresh}, 401)

	p.do("refresh without token", req{method: "POST", path: "/refresh"}, 401)
	p.do("refresh with an access token", req{method: "POST", path: "/refresh", token: test}, 401)
	p.do("refresh with garbage", req{method: "POST", path: "/refresh", token: "abc.def"}, 401)
	p.advance(time.Minute)
	next, nextRefresh := p.tokens(p.do("refresh", req{method: "POST", path: "/refresh", token: testRefresh}, 200))
	p.do("protected with the new token", req{method: "GET", path: "/protected", token: next}, 200)
	p.do("protected with the old token", req{method: "GET", path: "/protected", token: test}, p.byMode(401, 200))
	p.advance(time.Second)
	// A retry within the grace gets the same tokens (the transcript masks
	// them, so the script compares them): the refresh token byte for
	// byte, the opaque access token too; an access JWT is signed afresh.
	again, againRefresh := p.tokens(p.do("refresh replayed within the grace", req{method: "POST", path: "/refresh", token: testRefresh}, 200))
	if againRefresh != nextRefresh || p.mode == latch.ModeOpaque && again != next {
		p.t.Errorf("refresh replayed within the grace: other tokens than the refresh's")
	}
	last, _ := p.tokens(p.do("refresh again", req{method: "POST", path: "/refresh", token: nextRefresh}, 200))
	p.do("refresh spent before the last one, within the grace", req{method: "POST", path: "/refresh", token: testRefresh}, 401)
	p.advance(latch.DefaultReuseGrace)
	p.do("refresh replayed after the grace", req{method: "POST", path: "/refresh", token: testRefresh}, 401)
	p.do("protected after the replay", req{method: "GET", path: "/protected", token: last}, p.byMode(401, 200))

	fresh, freshRefresh := p.login("login test again", "test", "desktop")
	p.advance(latch.DefaultAccessTTL + time.Second)
	for _, path := range []string{"/protected", "/who_am_i", "/claims", "/optionally_protected", "/sessions"} {
		p.do("expired on "+path, req{method: "GET", path: path, token: fresh}, 401)
	}
	renewed, _ := p.tokens(p.do("refresh after expiry", req{method: "POST", path: "/refresh", token: freshRefresh}, 200))
	p.do("protected after refresh", req{method: "GET", path: "/protected", token: renewed}, 200)

	p.target.RemoveUser("1")
	p.do("who_am_i of a deleted user", req{method: "GET", path: "/who_am_i", token: renewed}, 401)
	p.do("optionally_protected of a deleted user", req{method: "GET", path: "/optionally_protected", token: renewed}, 401)
	p.do("login of a deleted user", req{method: "POST", path: "/login", body: `{"username":"test","password":"test"}`}, 401)
}

// playSessions lists, revokes and logs out devices, with SessionCheck on,
// and revokes tokens at /revoke.
func playSessions(p *player) {
	a, aRefresh := p.login("login laptop", "test", "laptop")
	p.advance(time.Second)
	b, bRefresh := p.login("login phone", "test", "phone")
	p.do("sessions from laptop", req{method: "GET", path: "/sessions", token: a}, 200)
	p.do("sessions from phone", req{method: "GET", path: "/sessions", token: b}, 200)
	p.do("logout laptop", req{method: "POST", path: "/logout", token: a}, 200)
	p.do("protected after logout", req{method: "GET", path: "/protected", token: a}, 401)
	p.do("refresh after logout", req{method: "POST", path: "/refresh", token: aRefresh}, 401)
	p.do("phone still works", req{method: "GET", path: "/protected", token: b}, 200)

	a, _ = p.login("login laptop again", "test", "laptop")
	id := p.sessionID(a, "phone")
	p.do("laptop revokes phone", req{method: "DELETE", path: "/sessions/" + id, token: a}, 200)
	p.do("protected on the revoked phone", req{method: "GET", path: "/protected", token: b}, 401)
	p.do("refresh on the revoked phone", req{method: "POST", path: "/refresh", token: bRefresh}, 401)
	p.do("revoke phone again", req{method: "DELETE", path: "/sessions/" + id, token: a}, 404)
	p.do("revoke an unknown id", req{method: "DELETE", path: "/sessions/nope", token: a}, 404)
	p.do("revoke an id with a slash", req{method: "DELETE", path: "/sessions/a%2Fb", token: a}, 404)
	p.do("revoke a long id", req{method: "DELETE", path: "/sessions/" + strings.Repeat("z", 300), token: a}, 404)
	// A real id with its first character percent-encoded: the router
	// decodes it once, as net/http's PathValue does.
	watch, _ := p.login("login watch", "test", "watch")
	wid := p.sessionID(a, "watch")
	p.do("revoke a percent-encoded id", req{method: "DELETE", path: fmt.Sprintf("/sessions/%%%02X%s", wid[0], wid[1:]), token: a}, 200)
	p.do("protected on the revoked watch", req{method: "GET", path: "/protected", token: watch}, 401)
	p.do("delete session without token", req{method: "DELETE", path: "/sessions/abc"}, 401)

	bat, batRefresh := p.login("login batman", "batman", "batcave")
	p.do("batman's session is not test's", req{method: "DELETE", path: "/sessions/" + p.sessionID(bat, "batcave"), token: a}, 404)
	_, _ = p.login("login tablet", "test", "tablet")
	p.do("logout_all", req{method: "POST", path: "/logout_all", token: a}, 200)
	p.do("protected after logout_all", req{method: "GET", path: "/protected", token: a}, 401)
	p.do("batman unaffected", req{method: "GET", path: "/protected", token: bat}, 200)

	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	p.do("revoke batman's refresh token", req{method: "POST", path: "/revoke", body: "token=" + batRefresh, header: form}, 200)
	p.do("revoke garbage", req{method: "POST", path: "/revoke", body: "token=not-a-token", header: form}, 200)
	p.do("revoke without a token", req{method: "POST", path: "/revoke", body: "x=1", header: form}, 400)
	p.do("batman after revocation", req{method: "GET", path: "/protected", token: bat}, 401)
}

// playCookies logs a browser in with cookies and the CSRF header.
func playCookies(p *player) {
	p.client.Jar = newJar()
	a := p.do("login", req{method: "POST", path: "/login", body: `{"username":"test","password":"test","device":"browser"}`}, 200)
	if strings.Contains(string(a.body), "_token") || p.cookie("latch_access") == "" || p.cookie("latch_refresh") == "" {
		p.t.Errorf("login with cookies answered %s, and set access %t, refresh %t: want the tokens in cookies only",
			a.body, p.cookie("latch_access") != "", p.cookie("latch_refresh") != "")
	}
	csrf := func(name string) map[string]string { return map[string]string{"X-CSRF-Token": p.cookie(name)} }
	p.do("cookie authenticates", req{method: "GET", path: "/protected"}, 200)
	p.do("refresh without the CSRF header", req{method: "POST", path: "/refresh"}, 403)
	p.do("refresh with the CSRF header", req{method: "POST", path: "/refresh", header: csrf("latch_csrf_refresh")}, 200)
	p.do("cookie authenticates after refresh", req{method: "GET", path: "/protected"}, 200)
	p.do("logout without the CSRF header", req{method: "POST", path: "/logout"}, 403)
	p.do("logout with the CSRF header", req{method: "POST", path: "/logout", header: csrf("latch_csrf_access")}, 200)
	p.do("protected after logout", req{method: "GET", path: "/protected"}, 401)
}

// playStoreDown takes the store down: every route that needs it is a 503.
func playStoreDown(p *player) {
	test, testRefresh := p.login("login", "test", "laptop")
	id := p.sessionID(test, "laptop")
	p.store.SetDown(true)
	p.do("login", req{method: "POST", path: "/login", body: `{"username":"test","password":"test"}`}, 503)
	p.do("sessions", req{method: "GET", path: "/sessions", token: test}, 503)
	p.do("delete session", req{method: "DELETE", path: "/sessions/" + id, token: test}, 503)
	p.do("logout", req{method: "POST", path: "/logout", token: test}, 503)
	p.do("logout_all", req{method: "POST", path: "/logout_all", token: test}, 503)
	p.do("refresh", req{method: "POST", path: "/refresh", token: testRefresh}, 503)
	p.do("protected", req{method: "GET", path: "/protected", token: test}, p.byMode(503, 200))
	p.store.SetDown(false)
	p.do("sessions when it is back", req{method: "GET", path: "/sessions", token: test}, 200)
}
