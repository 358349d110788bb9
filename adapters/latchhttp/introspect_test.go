package latchhttp_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/adapters/latchhttp"
)

// introspectionSecret is a client secret for the introspection tests: 32
// bytes, with characters that form encoding changes.
const introspectionSecret = "s3cr+t/with=chars&more-0123456789"

// introspect posts form to h as the client id:secret (Basic, each part
// form-encoded when encode is set).
func introspect(h http.Handler, id, secret, form string, encode bool) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/introspect", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if encode {
		id, secret = url.QueryEscape(id), url.QueryEscape(secret)
	}
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestIntrospection: an active access token, in every mode, is
// described, exactly; once its session ends, it expires, its user is gone,
// or it is a refresh token or no token at all, the answer is exactly
// {"active":false}. A JWT is checked against its session even without
// Config.SessionCheck.
func TestIntrospection(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			const fresh = 5 * time.Minute
			e := newEnv(t, mode, func(c *latch.Config, _ *latchhttp.Config) {
				c.AccessTTL = latch.Duration(10 * time.Minute)
				c.FreshTTL = latch.Duration(fresh)
			})
			h := e.web.IntrospectionHandler(latchhttp.BasicClient("resource-server", introspectionSecret))
			ask := func(tok string) map[string]any {
				t.Helper()
				w := introspect(h, "resource-server", introspectionSecret, "token="+url.QueryEscape(tok), true)
				if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("introspection: %d %v %s", w.Code, w.Header(), w.Body)
				}
				m := bodyMap(t, w)
				if m["active"] == false && len(m) != 1 {
					t.Errorf("an inactive token's answer says more than active: %s", w.Body)
				}
				return m
			}

			login := e.Clock.Now()
			tok := e.Login(t, users["1"], "laptop")
			want := map[string]any{
				"active": true, "token_type": "Bearer", "sub": "1", "sid": tok.SessionID, "fresh": true,
				"foo": "bar", "upcase_name": "TEST", "is_administrator": false,
				"exp": float64(login.Add(10 * time.Minute).Unix()),
			}
			if mode != latch.ModeOpaque {
				p, err := e.Auth.Authenticate(bg, tok.AccessToken, latch.Requirement{})
				if err != nil {
					t.Fatal(err)
				}
				want["iat"], want["jti"] = float64(login.Unix()), p.TokenID
			}
			if m := ask(tok.AccessToken); !maps.Equal(m, want) {
				t.Errorf("access token:\n got %v\nwant %v", m, want)
			}

			// Past FreshTTL: still active, no longer fresh.
			e.Clock.Add(fresh + time.Second)
			if m := ask(tok.AccessToken); m["active"] != true || m["fresh"] != false {
				t.Errorf("access token past fresh_ttl: %v", m)
			}

			// A refresh token is no bearer token for a resource server,
			// and is refused by its type, without the store.
			gets := e.Store.Calls().Get
			if m := ask(tok.RefreshToken); m["active"] != false {
				t.Errorf("refresh token: %v", m)
			}
			if g := e.Store.Calls().Get - gets; g != 0 {
				t.Errorf("a refresh token cost %d store reads", g)
			}

			// Expired.
			e.Clock.Add(10 * time.Minute)
			if m := ask(tok.AccessToken); m["active"] != false {
				t.Errorf("expired access token: %v", m)
			}

			// Ended session: inactive at once, JWTs included, although
			// this Auth has no SessionCheck.
			tok = e.Login(t, users["1"], "phone")
			if err := e.Auth.RevokeSession(bg, "1", tok.SessionID); err != nil {
				t.Fatal(err)
			}
			if m := ask(tok.AccessToken); m["active"] != false {
				t.Errorf("token of a revoked session: %v", m)
			}

			// A user the loader no longer finds.
			if m := ask(e.Login(t, users["3"], "ghost").AccessToken); m["active"] != false {
				t.Errorf("token of a disabled user: %v", m)
			}

			// Not tokens, or tokens of another format.
			for _, s := range []string{"x", "a.b.c", "lat_" + strings.Repeat("A", 60), strings.Repeat("a", latch.MaxTokenLen+1)} {
				if m := ask(s); m["active"] != false {
					t.Errorf("%.20q: %v", s, m)
				}
			}
		})
	}
}

// TestIntrospectionClaimsCannotLie: application claims appear in the
// answer, but none can overwrite or shadow, in any letter case, what
// latch states about the token; RFC 7662's other names are theirs.
func TestIntrospectionClaimsCannotLie(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			h := e.web.IntrospectionHandler(latchhttp.BasicClient("rs", introspectionSecret))
			tok, err := e.Auth.Login(bg, users["1"], latch.LoginOptions{Claims: map[string]any{
				"active": false, "Active": false, "token_type": "refresh_token", "TOKEN_TYPE": "x",
				"scope": "read write", "username": "test",
			}})
			if err != nil {
				t.Fatal(err)
			}
			w := introspect(h, "rs", introspectionSecret, "token="+url.QueryEscape(tok.AccessToken), false)
			m := bodyMap(t, w)
			if m["active"] != true || m["token_type"] != "Bearer" || m["scope"] != "read write" || m["username"] != "test" {
				t.Errorf("answer = %s", w.Body)
			}
			for _, k := range []string{"Active", "TOKEN_TYPE"} {
				if _, ok := m[k]; ok {
					t.Errorf("%s shown beside latch's member: %s", k, w.Body)
				}
			}
		})
	}
}

// TestIntrospectionCaller: the endpoint answers only its authorized
// caller, decides that before it reads the body or the store, reports
// refusals to the event hook, and refuses everything else with the
// documented answers.
func TestIntrospectionCaller(t *testing.T) {
	e := newEnv(t, latch.ModeHybrid, nil)
	tok := e.Login(t, users["1"], "laptop")
	form := "token=" + url.QueryEscape(tok.AccessToken)
	h := e.web.IntrospectionHandler(latchhttp.BasicClient("svc:a", introspectionSecret))
	const challenge = `Basic realm="latch", charset="UTF-8"`

	gets, events := e.Store.Calls().Get, len(e.Events())
	for _, c := range []struct {
		name, id, secret string
		encode           bool
	}{
		{"wrong secret", "svc:a", introspectionSecret + "x", true},
		{"secret one byte short", "svc:a", introspectionSecret[:len(introspectionSecret)-1], true},
		{"wrong id", "svc:b", introspectionSecret, true},
		{"empty credentials", "", "", false},
		{"id unencoded holds the colon", "svc:a", introspectionSecret, false},
	} {
		w := introspect(h, c.id, c.secret, form, c.encode)
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != challenge || w.Body.String() != "{\"msg\":\"Invalid client credentials\"}\n" {
			t.Errorf("%s: %d %q %s", c.name, w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
		}
	}
	r := httptest.NewRequest("POST", "/introspect", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken) // a user's token is no client credential
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != challenge {
		t.Errorf("bearer caller: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// A refused caller's body is never read: a reader that fails the
	// test stands in for it.
	r = httptest.NewRequest("POST", "/introspect", failingReader{t})
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("svc:a", "wrong")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Errorf("wrong client with a body: %d", w.Code)
	}
	if g := e.Store.Calls().Get; g != gets {
		t.Errorf("refused callers read the store %d times", g-gets)
	}
	evs := e.Events()[events:]
	if len(evs) != 7 {
		t.Errorf("7 refused callers made %d events, want 7", len(evs))
	}
	for _, ev := range evs {
		if ev.Kind != latch.EventFailure || !errors.Is(ev.Err, latch.ErrInvalidClient) {
			t.Errorf("event for a refused caller: %+v", ev)
		}
	}

	// The right client, its parts form-encoded (RFC 6749 §2.3.1, where
	// '+' is a space) or not.
	if w := introspect(h, "svc:a", introspectionSecret, form, true); w.Code != 200 || bodyMap(t, w)["active"] != true {
		t.Errorf("encoded credentials: %d %s", w.Code, w.Body)
	}
	spaced := e.web.IntrospectionHandler(latchhttp.BasicClient("svc a", introspectionSecret))
	if w := introspect(spaced, "svc+a", introspectionSecret, form, false); w.Code != 200 {
		t.Errorf("a space sent as '+': %d %s", w.Code, w.Body)
	}
	plain := e.web.IntrospectionHandler(latchhttp.BasicClient("svc", introspectionSecret))
	if w := introspect(plain, "svc", introspectionSecret, form, false); w.Code != 200 || bodyMap(t, w)["active"] != true {
		t.Errorf("unencoded credentials: %d %s", w.Code, w.Body)
	}

	// An inactive token is reported too.
	events = len(e.Events())
	if w := introspect(plain, "svc", introspectionSecret, "token=nonsense", false); w.Code != 200 {
		t.Errorf("nonsense: %d", w.Code)
	}
	if evs := e.Events()[events:]; len(evs) != 1 || evs[0].Kind != latch.EventFailure || !errors.Is(evs[0].Err, latch.ErrInvalidToken) {
		t.Errorf("events for an inactive token: %+v", evs)
	}

	for _, c := range []struct {
		name, method, target, form string
		status                     int
		body                       string
	}{
		{"GET", "GET", "/introspect", "", 405, `{"msg":"Method not allowed"}`},
		{"no token", "POST", "/introspect", "token_type_hint=access_token", 400, `{"msg":"Invalid request"}`},
		{"empty token", "POST", "/introspect", "token=", 400, `{"msg":"Invalid request"}`},
		{"two tokens", "POST", "/introspect", form + "&token=x", 400, `{"msg":"Invalid request"}`},
		{"token in the URL", "POST", "/introspect?" + form, "", 400, `{"msg":"Invalid request"}`},
		{"unreadable form", "POST", "/introspect", "token=%zz", 400, `{"msg":"Invalid request"}`},
		{"body over MaxBodyBytes", "POST", "/introspect", form + "&pad=" + strings.Repeat("x", 64<<10), 413, `{"msg":"Request body too large"}`},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("svc", introspectionSecret)
		w := httptest.NewRecorder()
		plain.ServeHTTP(w, r)
		if w.Code != c.status || strings.TrimSpace(w.Body.String()) != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.body)
		}
	}

	// An authorize function that reads the body reads it bounded.
	var readErr error
	greedy := e.web.IntrospectionHandler(func(r *http.Request) error {
		_, readErr = io.ReadAll(r.Body)
		return nil
	})
	if w := introspect(greedy, "svc", introspectionSecret, strings.Repeat("x", 64<<10+1), false); w.Code != 413 {
		t.Errorf("greedy authorize: %d", w.Code)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](readErr); !ok {
		t.Errorf("authorize read an unbounded body: %v", readErr)
	}

	// A store failure is 503, never "inactive": the caller cannot tell.
	e.Store.SetDown(true)
	w = introspect(plain, "svc", introspectionSecret, form, false)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Errorf("store down: %d %v %s", w.Code, w.Header(), w.Body)
	}
	e.Store.SetDown(false)

	// authorize functions of one's own: latch errors are answered as
	// such; any other error is invalid_client, without its text.
	deny := e.web.IntrospectionHandler(func(*http.Request) error { return latch.Forbidden("Not from this network") })
	if w := introspect(deny, "svc", introspectionSecret, form, false); w.Code != 403 || !strings.Contains(w.Body.String(), "Not from this network") {
		t.Errorf("Forbidden authorize: %d %s", w.Code, w.Body)
	}
	oops := e.web.IntrospectionHandler(func(*http.Request) error { return errors.New("mtls: no peer certificate from 10.1.2.3") })
	if w := introspect(oops, "svc", introspectionSecret, form, false); w.Code != 401 || strings.Contains(w.Body.String(), "10.1.2.3") {
		t.Errorf("plain-error authorize: %d %s", w.Code, w.Body)
	}
}

// failingReader is a request body that must not be read.
type failingReader struct{ t *testing.T }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the body of a refused caller was read")
	return 0, io.EOF
}

// TestBasicClientConstantWork: BasicClient makes the same four comparisons
// of equal-length digests whatever the credentials, right or wrong,
// encoded or not.
func TestBasicClientConstantWork(t *testing.T) {
	authorize := latchhttp.BasicClient("svc:a", introspectionSecret)
	for _, c := range []struct{ name, id, secret string }{
		{"right, encoded", url.QueryEscape("svc:a"), url.QueryEscape(introspectionSecret)},
		{"right, raw secret", url.QueryEscape("svc:a"), introspectionSecret},
		{"wrong id", "svc%3Ab", introspectionSecret},
		{"wrong secret", "svc%3Aa", "x"},
		{"both wrong and long", strings.Repeat("a", 300), strings.Repeat("%zz", 300)},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.id+":"+c.secret)))
		before := latchhttp.DoneWork()
		authorize(r)
		after := latchhttp.DoneWork()
		if n, m := after.Compares-before.Compares, after.Mismatched-before.Mismatched; n != 4 || m != 0 {
			t.Errorf("%s: %d comparisons, %d of different lengths; want 4 and 0", c.name, n, m)
		}
	}
}

// TestIntrospectionSetupPanics: a handler without an authorize function,
// or a client with an empty id or a short secret, fails at setup.
func TestIntrospectionSetupPanics(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	for name, f := range map[string]func(){
		"nil authorize": func() { e.web.IntrospectionHandler(nil) },
		"short secret":  func() { latchhttp.BasicClient("rs", introspectionSecret[:31]) },
		"empty id":      func() { latchhttp.BasicClient("", introspectionSecret) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	latchhttp.BasicClient("rs", introspectionSecret[:32]) // 32 bytes is enough
}

// TestIntrospectReasons: the endpoint answers an inactive token with
// {"active":false} alone, and reports why to the event hook (a refresh
// token, an ended session, a user the loader no longer finds, no token at
// all); an active answer records a use of the session, an answer the
// loader refuses records none; and a user loader that fails is an
// outage, a 503, not an inactive token.
func TestIntrospectReasons(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, nil)
	h := e.web.IntrospectionHandler(latchhttp.BasicClient("rs", introspectionSecret))
	// ask introspects tok and returns its answer's "active" and the
	// reason the failure event gives, if any.
	ask := func(tok string) (active any, reason error) {
		t.Helper()
		e.ClearEvents()
		w := introspect(h, "rs", introspectionSecret, "token="+url.QueryEscape(tok), false)
		if w.Code != 200 {
			t.Fatalf("introspection: %d %s", w.Code, w.Body)
		}
		m := bodyMap(t, w)
		for _, ev := range e.Events() {
			if ev.Kind == latch.EventFailure {
				reason = ev.Err
			}
		}
		return m["active"], reason
	}
	tok := e.Login(t, users["1"], "laptop")
	if active, reason := ask(tok.AccessToken); active != true || reason != nil {
		t.Fatalf("access token: active %v, reason %v", active, reason)
	}
	if active, reason := ask(tok.RefreshToken); active != false || !errors.Is(reason, latch.ErrWrongTokenType) {
		t.Errorf("refresh token: active %v, reason %v, want ErrWrongTokenType", active, reason)
	}
	if err := e.Auth.RevokeSession(bg, "1", tok.SessionID); err != nil {
		t.Fatal(err)
	}
	if active, reason := ask(tok.AccessToken); active != false || !errors.Is(reason, latch.ErrTokenRevoked) {
		t.Errorf("revoked session: active %v, reason %v, want ErrTokenRevoked", active, reason)
	}
	ghost, live := e.Login(t, users["3"], "ghost"), e.Login(t, users["1"], "phone")
	// Past the touch interval: an active answer records a use of the
	// session, an answer the loader refuses records none.
	e.Clock.Add(2 * latch.DefaultTouchInterval)
	writes, touches := e.Store.Calls().Writes(), e.Store.Calls().Touch
	if active, reason := ask(ghost.AccessToken); active != false || !errors.Is(reason, latch.ErrUserNotFound) {
		t.Errorf("disabled user: active %v, reason %v, want ErrUserNotFound", active, reason)
	}
	if w := e.Store.Calls().Writes() - writes; w != 0 {
		t.Errorf("introspecting a disabled user's token wrote %d times, want 0", w)
	}
	if active, reason := ask(live.AccessToken); active != true || reason != nil {
		t.Errorf("live token: active %v, reason %v", active, reason)
	}
	if c := e.Store.Calls(); c.Writes()-writes != 1 || c.Touch-touches != 1 {
		t.Errorf("introspecting a live token past the touch interval: %+v, want one Touch", c)
	}
	if active, reason := ask("nonsense"); active != false || !errors.Is(reason, latch.ErrInvalidToken) {
		t.Errorf("nonsense: active %v, reason %v, want ErrInvalidToken", active, reason)
	}

	broken := newEnv(t, latch.ModeOpaque, nil, latch.WithUserLoader(func(context.Context, *latch.Principal) (*user, error) {
		return nil, errors.New("users db: connection refused")
	}))
	h = broken.web.IntrospectionHandler(latchhttp.BasicClient("rs", introspectionSecret))
	w := introspect(h, "rs", introspectionSecret, "token="+url.QueryEscape(broken.Login(t, users["1"], "x").AccessToken), false)
	if w.Code != 503 {
		t.Errorf("failing user loader: %d %s, want 503", w.Code, w.Body)
	}
}

// FuzzIntrospection sends fuzzed credentials and forms to
// IntrospectionHandler. Nothing may panic or answer 5xx; only the right
// client gets a 200; an active answer is only ever about the run's own
// access token ($A; $R is its refresh token, filled in per run) and shows
// neither token; a
// refusal does not echo the request.
func FuzzIntrospection(f *testing.F) {
	type fixture struct {
		e     *env
		h     http.Handler
		fixed string
	}
	var fx []fixture
	for _, mode := range modes {
		e := newEnv(f, mode, nil)
		h := e.web.IntrospectionHandler(latchhttp.BasicClient("rs", introspectionSecret))
		fixed := do(h, "POST", "/", nil, "").Body.String() + do(h, "GET", "/", nil, "").Body.String()
		fx = append(fx, fixture{e: e, h: h, fixed: fixed})
	}
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("rs:"+url.QueryEscape(introspectionSecret)))
	for i := range fx {
		m := uint8(i)
		f.Add(m, good, "application/x-www-form-urlencoded", "token=$A")
		f.Add(m, good, "application/x-www-form-urlencoded", "token=$R&token_type_hint=refresh_token")
		f.Add(m, good, "application/x-www-form-urlencoded", "token=$Ax")
		f.Add(m, "Basic cnM6", "application/x-www-form-urlencoded", "token=$A")
		f.Add(m, "Bearer $A", "application/x-www-form-urlencoded", "token=$A")
	}
	f.Add(uint8(0), good, "application/x-www-form-urlencoded", "token=%zz")
	f.Add(uint8(1), good, "multipart/form-data; boundary=x", "--x\r\n")
	f.Add(uint8(2), good, "application/x-www-form-urlencoded", "token="+strings.Repeat(".", 9000))
	f.Fuzz(func(t *testing.T, mode uint8, authz, contentType, body string) {
		x := fx[int(mode)%len(fx)]
		tk := x.e.Login(t, users["1"], "fuzz")
		fill := strings.NewReplacer("$A", tk.AccessToken, "$R", tk.RefreshToken)
		authz, body = fill.Replace(authz), fill.Replace(body)
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		x.h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			if !rightClient(r) {
				t.Fatalf("answered %q", authz)
			}
			m := bodyMap(t, w)
			if m["active"] == false {
				return
			}
			tok := r.PostForm.Get("token")
			if m["active"] != true || tok != tk.AccessToken || m["sid"] != tk.SessionID {
				t.Fatalf("active answer %s for a token that is not the run's", w.Body)
			}
			if strings.Contains(w.Body.String(), tk.AccessToken) || strings.Contains(w.Body.String(), tk.RefreshToken) {
				t.Fatalf("the answer shows the token: %s", w.Body)
			}
			return
		case 400, 401, 405, 413:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		answerEchoesNothing(t, w, x.fixed, authz, body)
	})
}

// rightClient reports whether r carries the fuzz target's client
// credentials, each part form-encoded or not.
func rightClient(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	is := func(part, want string) bool {
		decoded, err := url.QueryUnescape(part)
		return part == want || err == nil && decoded == want
	}
	return ok && is(id, "rs") && is(secret, introspectionSecret)
}
