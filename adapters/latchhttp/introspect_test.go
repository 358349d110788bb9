package latchhttp_test

import (
	"context"
	"encoding/base64"
	"errors"
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
