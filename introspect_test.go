package latch_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
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

// TestIntrospection: an active access or refresh token, in every mode, is
// described; once its session ends, it expires, its user is gone or it is
// not a token at all, the answer is exactly {"active":false}. A JWT is
// checked against its session even without Config.SessionCheck.
func TestIntrospection(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.AccessTTL = latch.Duration(time.Minute) })
			h := e.auth.IntrospectionHandler(latch.BasicClient("resource-server", introspectionSecret))
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
			jwtAccess := mode != latch.ModeOpaque

			tok := e.login(t, users["1"], "laptop")
			m := ask(tok.AccessToken)
			want := map[string]any{
				"active": true, "token_type": "access_token", "sub": "1", "sid": tok.SessionID, "fresh": true,
				"foo": "bar", "upcase_name": "TEST", "is_administrator": false,
				"exp": float64(e.clock.Now().Add(time.Minute).Unix()),
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("access token: %s = %v, want %v (%v)", k, m[k], v, m)
				}
			}
			if _, ok := m["jti"]; ok != jwtAccess {
				t.Errorf("access token: jti present = %v, want %v", ok, jwtAccess)
			}
			if _, ok := m["iat"]; ok != jwtAccess {
				t.Errorf("access token: iat present = %v, want %v", ok, jwtAccess)
			}
			m = ask(tok.RefreshToken)
			if m["active"] != true || m["token_type"] != "refresh_token" || m["sub"] != "1" || m["sid"] != tok.SessionID || m["foo"] != "bar" {
				t.Errorf("refresh token: %v", m)
			}
			if _, ok := m["fresh"]; ok {
				t.Errorf("refresh token: fresh is an access token's property: %v", m)
			}
			// A refresh JWT's jti is its secret (the store keeps its hash):
			// it must never be shown.
			if _, ok := m["jti"]; ok {
				t.Errorf("refresh token: jti shown: %v", m)
			}

			// Expired access token; its refresh token lives on.
			e.clock.Add(2 * time.Minute)
			if m := ask(tok.AccessToken); m["active"] != false {
				t.Errorf("expired access token: %v", m)
			}
			if m := ask(tok.RefreshToken); m["active"] != true {
				t.Errorf("refresh token after the access token expired: %v", m)
			}

			// Ended session: inactive at once, JWTs included, although
			// this Auth has no SessionCheck.
			tok = e.login(t, users["1"], "phone")
			if err := e.auth.RevokeSession(bg, "1", tok.SessionID); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{tok.AccessToken, tok.RefreshToken} {
				if m := ask(s); m["active"] != false {
					t.Errorf("token of a revoked session: %v", m)
				}
			}

			// A user the loader no longer finds.
			ghost := e.login(t, users["3"], "ghost")
			for _, s := range []string{ghost.AccessToken, ghost.RefreshToken} {
				if m := ask(s); m["active"] != false {
					t.Errorf("token of a disabled user: %v", m)
				}
			}

			// A spent refresh token, presented past the reuse grace, is
			// inactive and ends its session (reuse detection).
			tok = e.login(t, users["2"], "cave")
			next, err := e.auth.Refresh(bg, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Add(latch.DefaultReuseGrace + time.Second)
			if m := ask(tok.RefreshToken); m["active"] != false {
				t.Errorf("spent refresh token: %v", m)
			}
			if m := ask(next.AccessToken); m["active"] != false {
				t.Errorf("the session survived the reuse of its refresh token: %v", m)
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
// answer, but none can overwrite what latch states about the token.
func TestIntrospectionClaimsCannotLie(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			h := e.auth.IntrospectionHandler(latch.BasicClient("rs", introspectionSecret))
			tok, err := e.auth.Login(bg, users["1"], latch.LoginOptions{Claims: map[string]any{
				"active": false, "token_type": "refresh_token", "scope": "read write",
			}})
			if err != nil {
				t.Fatal(err)
			}
			w := introspect(h, "rs", introspectionSecret, "token="+url.QueryEscape(tok.AccessToken), false)
			m := bodyMap(t, w)
			if m["active"] != true || m["token_type"] != "access_token" || m["scope"] != "read write" {
				t.Errorf("answer = %s", w.Body)
			}
		})
	}
}

// TestIntrospectionCaller: the endpoint answers only its authorized
// caller, decides that before it reads the body or the store, and refuses
// everything else with the documented answers.
func TestIntrospectionCaller(t *testing.T) {
	e := newEnv(t, latch.ModeHybrid, nil)
	tok := e.login(t, users["1"], "laptop")
	form := "token=" + url.QueryEscape(tok.AccessToken)
	h := e.auth.IntrospectionHandler(latch.BasicClient("svc:a", introspectionSecret))
	const challenge = `Basic realm="latch", charset="UTF-8"`

	gets := e.store.Calls().Get
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
	if g := e.store.Calls().Get; g != gets {
		t.Errorf("refused callers read the store %d times", g-gets)
	}

	// The right client, its parts form-encoded (RFC 6749 §2.3.1) or not.
	if w := introspect(h, "svc:a", introspectionSecret, form, true); w.Code != 200 || bodyMap(t, w)["active"] != true {
		t.Errorf("encoded credentials: %d %s", w.Code, w.Body)
	}
	plain := e.auth.IntrospectionHandler(latch.BasicClient("svc", introspectionSecret))
	if w := introspect(plain, "svc", introspectionSecret, form, false); w.Code != 200 || bodyMap(t, w)["active"] != true {
		t.Errorf("unencoded credentials: %d %s", w.Code, w.Body)
	}

	for _, c := range []struct {
		name, method, form string
		status             int
		body               string
	}{
		{"GET", "GET", "", 405, `{"msg":"Method not allowed"}`},
		{"no token", "POST", "token_type_hint=access_token", 400, `{"msg":"Invalid request"}`},
		{"unreadable form", "POST", "token=%zz", 400, `{"msg":"Invalid request"}`},
	} {
		r := httptest.NewRequest(c.method, "/introspect", strings.NewReader(c.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("svc", introspectionSecret)
		w := httptest.NewRecorder()
		plain.ServeHTTP(w, r)
		if w.Code != c.status || strings.TrimSpace(w.Body.String()) != c.body {
			t.Errorf("%s: %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.body)
		}
	}

	// A store failure is 503, never "inactive": the caller cannot tell.
	e.store.SetDown(true)
	w = introspect(plain, "svc", introspectionSecret, form, false)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Errorf("store down: %d %v %s", w.Code, w.Header(), w.Body)
	}
	e.store.SetDown(false)

	// authorize functions of one's own: latch errors are answered as
	// such; any other error is invalid_client, without its text.
	deny := e.auth.IntrospectionHandler(func(*http.Request) error { return latch.Forbidden("Not from this network") })
	if w := introspect(deny, "svc", introspectionSecret, form, false); w.Code != 403 || !strings.Contains(w.Body.String(), "Not from this network") {
		t.Errorf("Forbidden authorize: %d %s", w.Code, w.Body)
	}
	oops := e.auth.IntrospectionHandler(func(*http.Request) error { return errors.New("mtls: no peer certificate from 10.1.2.3") })
	if w := introspect(oops, "svc", introspectionSecret, form, false); w.Code != 401 || strings.Contains(w.Body.String(), "10.1.2.3") {
		t.Errorf("plain-error authorize: %d %s", w.Code, w.Body)
	}
}

// TestIntrospectionSetupPanics: a handler without an authorize function,
// or a client with an empty id or a short secret, fails at setup.
func TestIntrospectionSetupPanics(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	for name, f := range map[string]func(){
		"nil authorize":     func() { e.auth.IntrospectionHandler(nil) },
		"short secret":      func() { latch.BasicClient("rs", introspectionSecret[:31]) },
		"empty id":          func() { latch.BasicClient("", introspectionSecret) },
		"32 bytes is fine.": nil,
	} {
		if f == nil {
			latch.BasicClient("rs", introspectionSecret[:32])
			continue
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestIntrospectReasons: Auth.Introspect, the function behind the
// endpoint, reports the reason for an inactive token.
func TestIntrospectReasons(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, nil)
	tok := e.login(t, users["1"], "laptop")
	if p, err := e.auth.Introspect(context.Background(), tok.RefreshToken); err != nil || p.Type != latch.Refresh || p.Subject != "1" {
		t.Fatalf("refresh token: %+v, %v", p, err)
	}
	if err := e.auth.RevokeSession(bg, "1", tok.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Introspect(bg, tok.AccessToken); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("revoked session: %v, want ErrTokenRevoked", err)
	}
	ghost := e.login(t, users["3"], "ghost")
	if _, err := e.auth.Introspect(bg, ghost.AccessToken); !errors.Is(err, latch.ErrUserNotFound) {
		t.Errorf("disabled user: %v, want ErrUserNotFound", err)
	}
	if _, err := e.auth.Introspect(bg, "nonsense"); !errors.Is(err, latch.ErrInvalidToken) {
		t.Errorf("nonsense: %v, want ErrInvalidToken", err)
	}
}

// FuzzIntrospection sends fuzzed credentials and forms to
// IntrospectionHandler. Nothing may panic or answer 5xx; only the right
// client gets a 200; an active answer is only ever about the run's own
// tokens ($A access, $R refresh, filled in per run) and shows neither; a
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
		h := e.auth.IntrospectionHandler(latch.BasicClient("rs", introspectionSecret))
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
		tk := x.e.login(t, users["1"], "fuzz")
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
			if m["active"] != true || (tok != tk.AccessToken && tok != tk.RefreshToken) || m["sid"] != tk.SessionID {
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
		var hdr strings.Builder
		w.Header().Write(&hdr)
		if echoes(w.Body.String()+hdr.String(), x.fixed, authz, body) {
			t.Fatalf("the %d answer echoes the request: %s %s", w.Code, hdr.String(), w.Body)
		}
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
