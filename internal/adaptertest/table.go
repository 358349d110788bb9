package adaptertest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// Want is the answer a case expects from every adapter.
type Want struct {
	Status int
	// Authn is the exact WWW-Authenticate header; "" for none.
	Authn string
	// Body is the body as compact JSON with keys sorted, tokens replaced
	// by "*".
	Body string
	// Cookies are the cookies set, in order, as "name attributes…" (see
	// cookieSummary); nil for none.
	Cookies []string
	// RetryAfter is the exact Retry-After header; "" for none.
	RetryAfter string
	// Bare: the answer is not latch's JSON (a responder wrote it, or
	// nothing): no Content-Type or Cache-Control, and Body is the body
	// byte for byte.
	Bare bool
}

// Case is one row of the table: a request to one of Routes, made after
// Setup, and the answer expected in each mode.
type Case struct {
	Name string
	// Setup prepares the fixture before the request: moves the clock,
	// ends a session, takes the store down.
	Setup func(t testing.TB, f *Fixture)
	// Request builds the request from the fixture's tokens.
	Request func(f *Fixture) *http.Request
	Want    Want
	// ModeWant overrides Want in the modes it names.
	ModeWant map[latch.Mode]Want
}

// want returns the answer c expects in mode.
func (c Case) want(mode latch.Mode) Want {
	if w, ok := c.ModeWant[mode]; ok {
		return w
	}
	return c.Want
}

// Modes are the modes every case runs in.
var Modes = []latch.Mode{latch.ModeOpaque, latch.ModeJWT, latch.ModeHybrid}

// Answers and challenges that several cases share.
const (
	realm = `Bearer realm="latch"`

	missingToken = `{"msg":"Missing authorization token"}`
	sessionEnded = `{"msg":"Session has ended"}`
	unavailable  = `{"msg":"Service temporarily unavailable"}`
	csrfFailed   = `{"msg":"CSRF token missing or incorrect"}`
	dave         = `{"code":"dave","err":"I can't let you do that"}`
)

func invalidToken(desc string) string {
	return realm + `, error="invalid_token", error_description="` + desc + `"`
}

// ok is the body of Answer for a principal and its user: sub and user
// through the adapter and the context getters alike.
func ok(sub, user string, fresh bool) string {
	f := "false"
	if fresh {
		f = "true"
	}
	return `{"body_bytes":0,"ctx_sub":"` + sub + `","ctx_user":"` + user + `","fresh":` + f + `,"sub":"` + sub + `","user":"` + user + `"}`
}

var (
	noToken    = Want{Status: 401, Authn: realm, Body: missingToken}
	malformed  = Want{Status: 401, Authn: invalidToken("Malformed token"), Body: `{"msg":"Malformed token"}`}
	wrongType  = Want{Status: 401, Authn: invalidToken("Wrong token type"), Body: `{"msg":"Wrong token type"}`}
	expired    = Want{Status: 401, Authn: invalidToken("Token has expired"), Body: dave}
	revoked    = Want{Status: 401, Authn: invalidToken("Session has ended"), Body: sessionEnded}
	down       = Want{Status: 503, Body: unavailable, RetryAfter: "5"}
	badCSRF    = Want{Status: 403, Body: csrfFailed}
	anonymous  = Want{Status: 200, Body: ok("", "", false)}
	asTest     = Want{Status: 200, Body: ok("1", "test", true)}
	badRequest = Want{Status: 400, Authn: realm + `, error="invalid_request", error_description="Invalid request"`, Body: `{"msg":"Invalid request"}`}
	conflict   = Want{Status: 400, Authn: realm + `, error="invalid_request", error_description="Different tokens in more than one location"`,
		Body: `{"msg":"Different tokens in more than one location"}`}
	asAdmin = Want{Status: 200, Body: ok("2", "batman", true)}
)

// jwtModes answers w in the jwt and hybrid modes, where access tokens
// verify without the store.
func jwtModes(w Want) map[latch.Mode]Want {
	return map[latch.Mode]Want{latch.ModeJWT: w, latch.ModeHybrid: w}
}

// newRequest builds a request with a bearer token ("" for none).
func newRequest(method, path, bearer string) *http.Request {
	r, _ := http.NewRequest(method, "http://example.com"+path, nil)
	r.RemoteAddr = "192.0.2.1:1234"
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return r
}

func bearer(method, path string, tok func(f *Fixture) string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request { return newRequest(method, path, tok(f)) }
}

func withHeader(method, path string, values ...string) func(f *Fixture) *http.Request {
	return func(*Fixture) *http.Request {
		r := newRequest(method, path, "")
		for _, v := range values {
			r.Header.Add("Authorization", v)
		}
		return r
	}
}

// withCookies builds a browser's request carrying test's cookies and,
// unless csrf is "", the CSRF header: "access" or "refresh" for the
// matching value, anything else verbatim.
func withCookies(method, path, csrf string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		r := newRequest(method, path, "")
		cookies, access, refresh := f.Cookies(f.Test)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		switch csrf {
		case "":
		case "access":
			r.Header.Set("X-CSRF-Token", access)
		case "refresh":
			r.Header.Set("X-CSRF-Token", refresh)
		default:
			r.Header.Set("X-CSRF-Token", csrf)
		}
		return r
	}
}

// withQuery builds a request with the token tok(f) in the access_token
// query parameter and, unless bearer is nil, bearer(f) in the header.
func withQuery(method, path string, tok, bearer func(f *Fixture) string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		b := ""
		if bearer != nil {
			b = bearer(f)
		}
		return newRequest(method, path+"?"+url.Values{"access_token": {tok(f)}}.Encode(), b)
	}
}

// headerAndCookies builds a browser's request carrying test's cookies and
// another token, tok(f), in the Authorization header, without the CSRF
// header.
func headerAndCookies(method, path string, tok func(f *Fixture) string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		r := withCookies(method, path, "")(f)
		r.Header.Set("Authorization", "Bearer "+tok(f))
		return r
	}
}

// introspect asks the introspection endpoint about tok as its client.
func introspect(tok func(f *Fixture) string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		r := form("/introspect", url.Values{"token": {tok(f)}})(f)
		r.SetBasicAuth("table", introspectionSecret)
		return r
	}
}

// epochPlus is the Unix time of the fixture's clock, d after its start.
func epochPlus(d time.Duration) string { return strconv.FormatInt(epoch.Add(d).Unix(), 10) }

func form(path string, values url.Values) func(f *Fixture) *http.Request {
	return func(*Fixture) *http.Request {
		r, _ := http.NewRequest("POST", "http://example.com"+path, strings.NewReader(values.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
}

func jsonBody(path, body string) func(f *Fixture) *http.Request {
	return func(*Fixture) *http.Request {
		r, _ := http.NewRequest("POST", "http://example.com"+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
}

func access(tk func(f *Fixture) *latch.Tokens) func(f *Fixture) string {
	return func(f *Fixture) string { return tk(f).AccessToken }
}

func refresh(tk func(f *Fixture) *latch.Tokens) func(f *Fixture) string {
	return func(f *Fixture) string { return tk(f).RefreshToken }
}

func test(f *Fixture) *latch.Tokens      { return f.Test }
func admin(f *Fixture) *latch.Tokens     { return f.Admin }
func ghost(f *Fixture) *latch.Tokens     { return f.Ghost }
func refreshed(f *Fixture) *latch.Tokens { return f.Refreshed }

func constant(s string) func(*Fixture) string { return func(*Fixture) string { return s } }

// The cookies a refresh through cookies sets: new token and CSRF cookies,
// access then refresh.
var refreshCookies = []string{
	"__Host-latch_access Path=/ Max-Age=900 HttpOnly Secure SameSite=Lax",
	"__Host-latch_csrf_access Path=/ Max-Age=900 Secure SameSite=Lax",
	"__Host-latch_refresh Path=/ Max-Age=7776000 HttpOnly Secure SameSite=Lax",
	"__Host-latch_csrf_refresh Path=/ Max-Age=7776000 Secure SameSite=Lax",
}

// Cases is the behavioural table.
var Cases = []Case{
	// Where the token is, and what it looks like.
	{Name: "no token", Request: bearer("GET", "/required", constant("")), Want: noToken},
	{Name: "no token on a refresh route", Request: bearer("POST", "/refresh-only", constant("")), Want: noToken},
	{Name: "wrong scheme", Request: withHeader("GET", "/required", "Basic dGVzdDp0ZXN0"), Want: noToken},
	{Name: "wrong scheme on an optional route", Request: withHeader("GET", "/optional", "Basic dGVzdDp0ZXN0"), Want: anonymous},
	{Name: "malformed", Request: bearer("GET", "/required", constant("abc.def")), Want: malformed},
	{Name: "malformed: bearer without a token", Request: withHeader("GET", "/required", "Bearer"), Want: malformed},
	{Name: "malformed: outside the token alphabet", Request: withHeader("GET", "/required", "Bearer a\"b"), Want: malformed},
	{Name: "two Authorization headers", Request: withHeader("GET", "/required", "Bearer a", "Bearer b"), Want: badRequest},
	{Name: "valid", Request: bearer("GET", "/required", access(test)), Want: asTest},
	{Name: "valid on POST", Request: bearer("POST", "/required", access(test)), Want: asTest},

	// Expiry, type, revocation.
	{Name: "expired (custom hook)", Setup: expire,
		Request: bearer("GET", "/required", access(test)), Want: expired},
	{Name: "expired on an optional route", Setup: expire,
		Request: bearer("GET", "/optional", access(test)), Want: expired},
	{Name: "wrong type: refresh token as access", Request: bearer("GET", "/required", refresh(test)), Want: wrongType},
	{Name: "wrong type: access token as refresh", Request: bearer("POST", "/refresh-only", access(test)), Want: wrongType},
	{Name: "refresh route with a refresh token", Request: bearer("POST", "/refresh-only", refresh(test)),
		Want: Want{Status: 200, Body: ok("1", "test", false)}},
	{Name: "revoked", Setup: logoutTest, Request: bearer("GET", "/required", access(test)), Want: revoked,
		ModeWant: jwtModes(asTest)}, // a JWT verifies without the store
	{Name: "revoked on a session route", Setup: logoutTest, Request: bearer("GET", "/session", access(test)), Want: revoked},
	{Name: "revoked refresh token", Setup: logoutTest, Request: bearer("POST", "/refresh-only", refresh(test)), Want: revoked},

	// Optional and fresh.
	{Name: "optional without a token", Request: bearer("GET", "/optional", constant("")), Want: anonymous},
	{Name: "optional with a token", Request: bearer("GET", "/optional", access(test)), Want: asTest},
	{Name: "optional with a refreshed token", Request: bearer("GET", "/optional", access(refreshed)),
		Want: Want{Status: 200, Body: ok("1", "test", false)}},
	{Name: "optional with a malformed token", Request: bearer("GET", "/optional", constant("abc.def")), Want: malformed},
	{Name: "fresh required, fresh token", Request: bearer("GET", "/fresh", access(test)), Want: asTest},
	{Name: "fresh required, refreshed token", Request: bearer("GET", "/fresh", access(refreshed)),
		Want: Want{Status: 401, Authn: invalidToken("Fresh token required"), Body: `{"msg":"Fresh token required"}`}},
	{Name: "session route", Request: bearer("GET", "/session", access(test)), Want: asTest},

	// Custom guards.
	{Name: "custom 403 guard", Request: bearer("GET", "/admin", access(test)),
		Want: Want{Status: 403, Authn: realm + `, error="insufficient_scope", error_description="Admins only!"`, Body: `{"msg":"Admins only!"}`}},
	{Name: "custom guard passes", Request: bearer("GET", "/admin", access(admin)),
		Want: Want{Status: 200, Body: ok("2", "batman", true)}},
	{Name: "custom guard with its own error", Request: bearer("GET", "/refused", access(test)),
		Want: Want{Status: 403, Authn: realm + `, error="insufficient_scope", error_description="Forbidden"`, Body: `{"msg":"Forbidden"}`}},
	{Name: "custom guard without a token", Request: bearer("GET", "/admin", constant("")), Want: noToken},

	// Cookies and CSRF.
	{Name: "cookie on GET needs no CSRF header", Request: withCookies("GET", "/required", ""), Want: asTest},
	{Name: "cookie on POST without the CSRF header", Request: withCookies("POST", "/required", ""), Want: badCSRF},
	{Name: "cookie on POST with the CSRF header", Request: withCookies("POST", "/required", "access"), Want: asTest},
	{Name: "cookie on POST with a wrong CSRF header", Request: withCookies("POST", "/required", "refresh"), Want: badCSRF},
	{Name: "cookie on a refresh route without the CSRF header", Request: withCookies("POST", "/refresh-only", ""), Want: badCSRF},
	{Name: "cookie on a refresh route with the CSRF header", Request: withCookies("POST", "/refresh-only", "refresh"),
		Want: Want{Status: 200, Body: ok("1", "test", false)}},
	{Name: "refresh endpoint with a cookie and the CSRF header", Request: withCookies("POST", "/refresh", "refresh"),
		Want: Want{Status: 200, Body: `{"expires_in":900,"token_type":"Bearer"}`, Cookies: refreshCookies}},
	{Name: "refresh endpoint with a cookie, no CSRF header", Request: withCookies("POST", "/refresh", ""), Want: badCSRF},
	{Name: "refresh endpoint with a bearer token", Request: bearer("POST", "/refresh", refresh(test)),
		Want: Want{Status: 200, Body: `{"access_token":"*","expires_in":900,"refresh_token":"*","token_type":"Bearer"}`}},
	{Name: "refresh endpoint with an access token", Request: bearer("POST", "/refresh", access(test)), Want: wrongType},

	// Tokens in a JSON body, through Middleware(Guard{Locations}).
	{Name: "json body token", Request: func(f *Fixture) *http.Request {
		return jsonBody("/json", `{"access_token":"`+f.Test.AccessToken+`"}`)(f)
	}, Want: Want{Status: 200}}, // body_bytes depends on the token's length: checked in Run
	{Name: "json body without a token", Request: jsonBody("/json", `{"x":1}`), Want: noToken},
	{Name: "json body that is not JSON", Request: jsonBody("/json", `{"access_token":`), Want: badRequest},
	{Name: "json body too large", Request: jsonBody("/json", `{"x":"`+strings.Repeat("x", 64<<10)+`"}`),
		Want: Want{Status: 413, Body: `{"msg":"Request body too large"}`}},

	// Revocation endpoint (RFC 7009).
	{Name: "revocation endpoint", Request: func(f *Fixture) *http.Request {
		return form("/revoke", url.Values{"token": {f.Test.RefreshToken}})(f)
	}, Want: Want{Status: 200, Body: `{}`}},
	{Name: "revocation endpoint without a token", Request: form("/revoke", nil), Want: badRequest},

	// Introspection endpoint (RFC 7662), for the client IntrospectionClient.
	{Name: "introspection of an access token", Request: introspect(access(test)), Want: Want{Status: 200,
		Body: `{"active":true,"exp":` + epochPlus(latch.DefaultAccessTTL) + `,"fresh":true,"is_administrator":false,"sid":"*","sub":"1","token_type":"Bearer"}`},
		ModeWant: jwtModes(Want{Status: 200,
			Body: `{"active":true,"exp":` + epochPlus(latch.DefaultAccessTTL) + `,"fresh":true,"iat":` + epochPlus(0) + `,"is_administrator":false,"jti":"*","sid":"*","sub":"1","token_type":"Bearer"}`})},
	{Name: "introspection of a refresh token", Request: introspect(refresh(test)), Want: Want{Status: 200, Body: `{"active":false}`}},
	{Name: "introspection of a revoked session's token", Setup: logoutTest, Request: introspect(access(test)),
		Want: Want{Status: 200, Body: `{"active":false}`}}, // JWTs too: the answer reads the session
	{Name: "introspection of a token that is none", Request: introspect(constant("nonsense")),
		Want: Want{Status: 200, Body: `{"active":false}`}},
	{Name: "introspection with the store down", Setup: storeDown, Request: introspect(access(test)), Want: down},
	{Name: "introspection without client credentials", Request: func(f *Fixture) *http.Request {
		return form("/introspect", url.Values{"token": {f.Test.AccessToken}})(f)
	}, Want: Want{Status: 401, Authn: `Basic realm="latch", charset="UTF-8"`, Body: `{"msg":"Invalid client credentials"}`}},
	{Name: "introspection without a token", Request: func(f *Fixture) *http.Request {
		r := form("/introspect", nil)(f)
		r.SetBasicAuth("table", introspectionSecret)
		return r
	}, Want: badRequest},

	// Methods: HEAD and OPTIONS are guarded like GET, and are safe, so a
	// cookie needs no CSRF header.
	{Name: "HEAD", Request: bearer("HEAD", "/required", access(test)), Want: asTest},
	{Name: "HEAD without a token", Request: bearer("HEAD", "/required", constant("")), Want: noToken},
	{Name: "HEAD with a cookie needs no CSRF header", Request: withCookies("HEAD", "/required", ""), Want: asTest},
	{Name: "OPTIONS without a token", Request: bearer("OPTIONS", "/required", constant("")), Want: noToken},
	{Name: "OPTIONS with a cookie needs no CSRF header", Request: withCookies("OPTIONS", "/required", ""), Want: asTest},

	// The query location, off unless the guard lists it; one token per
	// request across header, query and body (RFC 6750 §2); a cookie does
	// not count, and the header decides without a CSRF check.
	{Name: "query token where the query location is off", Request: withQuery("GET", "/required", access(test), nil), Want: noToken},
	{Name: "query token", Request: withQuery("GET", "/query", access(test), nil), Want: asTest},
	{Name: "query and header, the same token", Request: withQuery("GET", "/query", access(test), access(test)), Want: asTest},
	{Name: "query and header, different tokens", Request: withQuery("GET", "/query", access(admin), access(test)), Want: conflict},
	{Name: "body and header, the same token", Request: func(f *Fixture) *http.Request {
		r := jsonBody("/any", `{"access_token":"`+f.Test.AccessToken+`"}`)(f)
		r.Header.Set("Authorization", "Bearer "+f.Test.AccessToken)
		return r
	}, Want: Want{Status: 200}}, // body_bytes depends on the token's length: checked in Run
	{Name: "body and header, different tokens", Request: func(f *Fixture) *http.Request {
		r := jsonBody("/any", `{"access_token":"`+f.Admin.AccessToken+`"}`)(f)
		r.Header.Set("Authorization", "Bearer "+f.Test.AccessToken)
		return r
	}, Want: conflict},
	{Name: "cookie and header: the header decides", Request: headerAndCookies("GET", "/required", access(admin)), Want: asAdmin},
	{Name: "cookie and header on POST: no CSRF header needed", Request: headerAndCookies("POST", "/required", access(admin)), Want: asAdmin},

	// Guards mounted on groups.
	{Name: "group without a token", Request: bearer("GET", "/group/required", constant("")), Want: noToken},
	{Name: "group", Request: bearer("GET", "/group/required", access(test)), Want: asTest},
	{Name: "group with a check, refused", Request: bearer("GET", "/admin/dashboard", access(test)),
		Want: Want{Status: 403, Authn: realm + `, error="insufficient_scope", error_description="Admins only!"`, Body: `{"msg":"Admins only!"}`}},
	{Name: "group with a check, passed", Request: bearer("GET", "/admin/dashboard", access(admin)), Want: asAdmin},
	{Name: "group Use without a token", Request: bearer("GET", "/use/required", constant("")), Want: noToken},
	{Name: "group Use", Request: bearer("GET", "/use/required", access(test)), Want: asTest},
	{Name: "group Use, cookie on POST without the CSRF header", Request: withCookies("POST", "/use/required", ""), Want: badCSRF},

	// Responders that do not answer as WriteJSON does.
	{Name: "responder setting a header after the status", Request: bearer("GET", "/late", access(test)),
		Want: Want{Status: 400, Body: `{"msg":"late"}`}}, // and no X-Late: compared with net/http and answers.txt
	{Name: "responder writing nothing", Request: bearer("GET", "/silent", access(test)),
		Want: Want{Status: 200, Bare: true}},

	// The user loader.
	{Name: "user loader returns nil", Setup: removeGhost,
		Request: bearer("GET", "/required", access(ghost)),
		Want:    Want{Status: 401, Authn: invalidToken("Error loading the user 3"), Body: `{"msg":"Error loading the user 3"}`}},
	{Name: "user loader returns nil on an optional route", Setup: removeGhost,
		Request: bearer("GET", "/optional", access(ghost)),
		Want:    Want{Status: 401, Authn: invalidToken("Error loading the user 3"), Body: `{"msg":"Error loading the user 3"}`}},
	{Name: "user loader fails", Setup: breakLoader,
		Request: bearer("GET", "/required", access(test)), Want: down},

	// Login throttling on the application's login route (loginHandler),
	// from 192.0.2.1, after five failures there for the account: the
	// default free attempts of an (account, address) bucket.
	{Name: "login, wrong password", Request: login("test", "wrong"),
		Want: Want{Status: 401, Body: `{"msg":"Bad username or password"}`}},
	{Name: "login throttled", Setup: failLogins("test", 5), Request: login("test", loginPassword), Want: throttled("1")},
	{Name: "login throttled, unknown account", Setup: failLogins("nobody", 5), Request: login("nobody", "wrong"), Want: throttled("1")},
	{Name: "login throttled, wait rounded up", Setup: func(t testing.TB, f *Fixture) {
		failLogins("test", 5)(t, f)
		f.Advance(time.Second)
		failLogins("test", 1)(t, f) // waits 2s from here
		f.Advance(500 * time.Millisecond)
	}, Request: login("test", "wrong"), Want: throttled("2")},
	{Name: "login after the wait", Setup: func(t testing.TB, f *Fixture) {
		failLogins("test", 5)(t, f)
		f.Advance(time.Second)
	}, Request: login("test", loginPassword), Want: Want{Status: 200, Body: `{"msg":"Logged in"}`}},
	{Name: "login with the store down", Setup: storeDown, Request: login("test", loginPassword), Want: down},

	// The store.
	{Name: "store unavailable", Setup: storeDown,
		Request: bearer("GET", "/required", access(test)), Want: down, ModeWant: jwtModes(asTest)},
	{Name: "store unavailable on a session route", Setup: storeDown,
		Request: bearer("GET", "/session", access(test)), Want: down},
	{Name: "store unavailable on the refresh endpoint", Setup: storeDown,
		Request: bearer("POST", "/refresh", refresh(test)), Want: down},
	{Name: "store unavailable on the revocation endpoint", Setup: storeDown,
		Request: func(f *Fixture) *http.Request {
			return form("/revoke", url.Values{"token": {f.Test.AccessToken}})(f)
		}, Want: down},
}

// loginAddr is the client address of login requests.
const loginAddr = "192.0.2.1:1234"

// login posts credentials to the Login route from loginAddr.
func login(username, password string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		r := form("/login", url.Values{"username": {username}, "password": {password}})(f)
		r.RemoteAddr = loginAddr
		return r
	}
}

// throttled is the answer to a throttled login, retryAfter seconds from
// now.
func throttled(retryAfter string) Want {
	return Want{Status: 429, Body: `{"msg":"Too many failed login attempts, try again later"}`, RetryAfter: retryAfter}
}

// failLogins returns a setup that fails n logins to account from
// loginAddr.
func failLogins(account string, n int) func(t testing.TB, f *Fixture) {
	return func(t testing.TB, f *Fixture) {
		for range n {
			att, err := f.Auth.Throttle(context.Background(), account, loginAddr)
			if err == nil {
				err = att.Done(context.Background(), false)
			}
			if err != nil {
				t.Fatalf("failing a login: %v", err)
			}
		}
	}
}

// Setups.
func expire(_ testing.TB, f *Fixture)      { f.Advance(latch.DefaultAccessTTL + time.Second) }
func removeGhost(_ testing.TB, f *Fixture) { f.RemoveUser("3") }
func breakLoader(_ testing.TB, f *Fixture) { f.BreakLoader() }
func storeDown(_ testing.TB, f *Fixture)   { f.Store.SetDown(true) }
func logoutTest(t testing.TB, f *Fixture)  { f.Logout(t, f.Test) }
