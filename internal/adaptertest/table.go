package adaptertest

import (
	"context"
	"io"
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
	return browser(test, method, path, csrf)
}

// browser builds a browser's request carrying the cookies of tk(f), and
// the CSRF header as withCookies does.
func browser(tk func(f *Fixture) *latch.Tokens, method, path, csrf string) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		r := newRequest(method, path, "")
		cookies, access, refresh := f.Cookies(tk(f))
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

// withForm adds a form body of values(f) to the request build makes.
func withForm(build func(f *Fixture) *http.Request, values func(f *Fixture) url.Values) func(f *Fixture) *http.Request {
	return func(f *Fixture) *http.Request {
		r := build(f)
		body := values(f).Encode()
		r.Body = io.NopCloser(strings.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
}

// fields are form values: name, value, name, value…
func fields(kv ...string) func(*Fixture) url.Values {
	return func(*Fixture) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
}

// sessionOf is the form that names tk's session as id.
func sessionOf(tk func(f *Fixture) *latch.Tokens) func(*Fixture) url.Values {
	return func(f *Fixture) url.Values { return url.Values{"id": {tk(f).SessionID}} }
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
func issued(f *Fixture) *latch.Tokens    { return f.Issued }

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

	// Step-up: the StepUp route re-checks the password of a refreshed
	// session, after which the Fresh guard lets its access token through
	// (in JWT and hybrid modes the new one the answer set as a cookie),
	// by header and by cookie alike.
	{Name: "step-up, wrong password", Request: withForm(bearer("POST", "/stepup", access(refreshed)), fields("password", "wrong")),
		Want: badPassword},
	{Name: "step-up", Request: withForm(bearer("POST", "/stepup", access(refreshed)), password),
		Want: steppedUp, ModeWant: jwtModes(steppedUpJWT)},
	{Name: "step-up by cookie", Request: withForm(browser(refreshed, "POST", "/stepup", "access"), password),
		Want: steppedUp, ModeWant: jwtModes(steppedUpJWT)},
	{Name: "step-up by cookie without the CSRF header", Request: withForm(browser(refreshed, "POST", "/stepup", ""), password),
		Want: badCSRF},
	{Name: "step-up without a token", Request: withForm(bearer("POST", "/stepup", constant("")), password), Want: noToken},
	{Name: "step-up with the store down", Setup: storeDown, Request: withForm(bearer("POST", "/stepup", access(refreshed)), password),
		Want: down},
	{Name: "fresh required, refreshed token by cookie", Request: browser(refreshed, "GET", "/fresh", ""), Want: notFresh},
	{Name: "fresh required after step-up", Setup: stepUpRefreshed, Request: bearer("GET", "/fresh", access(issued)),
		Want: asTest},
	{Name: "fresh required after step-up, by cookie", Setup: stepUpRefreshed, Request: browser(issued, "GET", "/fresh", ""),
		Want: asTest},
	{Name: "step-up with a delegated token", Setup: loginAsTest, Request: withForm(bearer("POST", "/stepup", access(issued)), password),
		Want: delegated},

	// Delegation: an administrator logs in as test ("log in as", behind
	// AdminOnly); the delegated session's tokens pass the guards, are
	// never fresh, cannot manage test's sessions, and end with the
	// administrator's session.
	{Name: "log in as, not an administrator", Request: withForm(bearer("POST", "/login-as", access(test)), fields("username", "robin")),
		Want: Want{Status: 403, Authn: realm + `, error="insufficient_scope", error_description="Admins only!"`, Body: `{"msg":"Admins only!"}`}},
	{Name: "log in as", Request: withForm(bearer("POST", "/login-as", access(admin)), fields("username", "test")),
		Want: Want{Status: 200, Body: cookieBody, Cookies: delegatedCookies}},
	{Name: "log in as an account that is none", Request: withForm(bearer("POST", "/login-as", access(admin)), fields("username", "nobody")),
		Want: badRequest},
	{Name: "delegated token", Setup: loginAsTest, Request: bearer("GET", "/required", access(issued)),
		Want: Want{Status: 200, Body: ok("1", "test", false)}},
	{Name: "delegated token by cookie", Setup: loginAsTest, Request: browser(issued, "GET", "/required", ""),
		Want: Want{Status: 200, Body: ok("1", "test", false)}},
	{Name: "delegated token on a fresh route", Setup: loginAsTest, Request: bearer("GET", "/fresh", access(issued)), Want: notFresh},
	{Name: "delegated token lists sessions", Setup: loginAsTest, Request: bearer("GET", "/sessions", access(issued)), Want: delegated},
	{Name: "delegated token ends another session", Setup: loginAsTest,
		Request: withForm(bearer("POST", "/sessions/end", access(issued)), sessionOf(test)), Want: delegated},
	{Name: "delegated token ends its own session", Setup: loginAsTest,
		Request: withForm(bearer("POST", "/sessions/end", access(issued)), sessionOf(issued)), Want: sessionEndedOK},
	{Name: "delegated token after the administrator logged out", Setup: func(t testing.TB, f *Fixture) {
		loginAsTest(t, f)
		f.Logout(t, f.Admin)
	}, Request: bearer("GET", "/required", access(issued)), Want: revoked},
	{Name: "delegated refresh token after the administrator logged out", Setup: func(t testing.TB, f *Fixture) {
		loginAsTest(t, f)
		f.Logout(t, f.Admin)
	}, Request: bearer("POST", "/refresh", refresh(issued)), Want: revoked},
	{Name: "sessions list", Request: bearer("GET", "/sessions", access(test)), Want: Want{Status: 200, Body: sessionsOfTest("")}},
	{Name: "sessions list with a delegated session", Setup: loginAsTest, Request: bearer("GET", "/sessions", access(test)),
		Want: Want{Status: 200, Body: sessionsOfTest(delegatedSession)}},
	{Name: "end another session", Request: withForm(bearer("POST", "/sessions/end", access(test)), sessionOf(refreshed)),
		Want: sessionEndedOK},
	{Name: "end a session that is none", Request: withForm(bearer("POST", "/sessions/end", access(test)), fields("id", "nonsense")),
		Want: Want{Status: 404, Body: `{"msg":"Session not found"}`}},

	// Remember me: a login with an idle timeout of its own is not
	// remembered, and its cookies have no expiry, at login and at every
	// refresh; one without keeps them; an idle timeout longer than the
	// configured one is refused.
	{Name: "login, remembered", Request: sessionLogin("test", ""),
		Want: Want{Status: 200, Body: cookieBody, Cookies: refreshCookies}},
	{Name: "login, not remembered", Request: sessionLogin("test", "30m"),
		Want: Want{Status: 200, Body: cookieBody, Cookies: browserSessionCookies}},
	{Name: "login, not remembered, refreshed", Setup: func(t testing.TB, f *Fixture) {
		f.Issued = through(t, f, sessionLogin("test", "30m")(f), latch.Tokens{})
	}, Request: browser(issued, "POST", "/refresh", "refresh"),
		Want: Want{Status: 200, Body: cookieBody, Cookies: browserSessionCookies}},
	{Name: "login, idle timeout longer than configured", Request: sessionLogin("test", "8760h"),
		Want: Want{Status: 400, Body: `{"msg":"Invalid session lifetime"}`}},
	{Name: "login, idle timeout that is no duration", Request: sessionLogin("test", "soon"), Want: badRequest},
	{Name: "session login, wrong password", Request: withForm(bearer("POST", "/login/session", constant("")), fields("username", "test", "password", "wrong")),
		Want: badPassword},
}

// Answers of the step-up, delegation and remember-me rows.
var (
	badPassword    = Want{Status: 401, Body: `{"msg":"Bad username or password"}`}
	notFresh       = Want{Status: 401, Authn: invalidToken("Fresh token required"), Body: `{"msg":"Fresh token required"}`}
	delegated      = Want{Status: 403, Authn: realm + `, error="insufficient_scope", error_description="Not allowed in a delegated session"`, Body: `{"msg":"Not allowed in a delegated session"}`}
	sessionEndedOK = Want{Status: 200, Body: `{"msg":"Session ended"}`}
	// cookieBody is the body of an answer whose tokens went into cookies.
	cookieBody = `{"expires_in":900,"token_type":"Bearer"}`
	// steppedUp: in opaque mode the token in use is fresh now, and no
	// cookie is set; steppedUpJWT: a new access token, as a cookie.
	steppedUp    = Want{Status: 200, Body: cookieBody}
	steppedUpJWT = Want{Status: 200, Body: cookieBody, Cookies: refreshCookies[:2]}
	// delegatedCookies: the refresh cookies expire with the delegated
	// session, after latch.DefaultDelegationTTL.
	delegatedCookies = []string{
		refreshCookies[0], refreshCookies[1],
		"__Host-latch_refresh Path=/ Max-Age=3600 HttpOnly Secure SameSite=Lax",
		"__Host-latch_csrf_refresh Path=/ Max-Age=3600 Secure SameSite=Lax",
	}
	// browserSessionCookies are refreshCookies without an expiry.
	browserSessionCookies = []string{
		"__Host-latch_access Path=/ HttpOnly Secure SameSite=Lax",
		"__Host-latch_csrf_access Path=/ Secure SameSite=Lax",
		"__Host-latch_refresh Path=/ HttpOnly Secure SameSite=Lax",
		"__Host-latch_csrf_refresh Path=/ Secure SameSite=Lax",
	}
)

// password is the StepUp route's form with the right password.
var password = fields("password", loginPassword)

// sessionLogin posts username's credentials to the SessionLogin route
// from loginAddr, with idle as the idle timeout ("" for none).
func sessionLogin(username, idle string) func(f *Fixture) *http.Request {
	kv := []string{"username", username, "password", loginPassword}
	if idle != "" {
		kv = append(kv, "idle_timeout", idle)
	}
	return withForm(bearer("POST", "/login/session", constant("")), fields(kv...))
}

// sessionsOfTest is the ListSessions answer to test's own token: its
// session, then the refreshed one, then extra.
func sessionsOfTest(extra string) string {
	list := `{"current":true,"device":"table","expires_at":"` + epochAt(latch.DefaultRefreshTTL) + `"},` +
		`{"current":false,"device":"table","expires_at":"` + epochAt(latch.DefaultRefreshTTL) + `"}`
	if extra != "" {
		list += "," + extra
	}
	return `{"sessions":[` + list + `]}`
}

// delegatedSession is how ListSessions shows the session loginAsTest
// opens.
var delegatedSession = `{"actor":"2","current":false,"device":"table","expires_at":"` + epochAt(latch.DefaultDelegationTTL) + `"}`

// epochAt is the fixture's clock, d after its start, as JSON writes it.
func epochAt(d time.Duration) string { return epoch.Add(d).Format(time.RFC3339) }

// through serves r through the adapter under test (Fixture.Serve), fails
// t unless it answers 200, and returns tk with the tokens the answer set
// as cookies in place of its own.
func through(t testing.TB, f *Fixture, r *http.Request, tk latch.Tokens) *latch.Tokens {
	t.Helper()
	res := f.Serve(r)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d", r.Method, r.URL.Path, res.StatusCode)
	}
	for _, c := range res.Cookies() {
		switch c.Name {
		case "__Host-latch_access":
			tk.AccessToken = c.Value
		case "__Host-latch_refresh":
			tk.RefreshToken = c.Value
		}
	}
	p, err := f.Auth.Authenticate(context.Background(), tk.AccessToken, latch.Requirement{})
	if err != nil {
		t.Fatalf("%s %s: the access token: %v", r.Method, r.URL.Path, err)
	}
	tk.SessionID = p.SessionID
	return &tk
}

// stepUpRefreshed steps Refreshed's session up through the StepUp route;
// Issued then holds its tokens.
func stepUpRefreshed(t testing.TB, f *Fixture) {
	f.Issued = through(t, f, withForm(bearer("POST", "/stepup", access(refreshed)), password)(f), *f.Refreshed)
}

// loginAsTest logs batman in as test through the LoginAs route; Issued
// then holds the delegated session's tokens.
func loginAsTest(t testing.TB, f *Fixture) {
	f.Issued = through(t, f, withForm(bearer("POST", "/login-as", access(admin)), fields("username", "test"))(f), latch.Tokens{})
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
