package e2e

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
)

// opaqueSecret is the secret part of an opaque token.
func opaqueSecret(tok string) string { return tok[4+store.IDLen : opaque.Len-6] }

// pick returns the answer for s's mode: opaque, jwt (with or without
// SessionCheck) or hybrid.
func pick(s attackSetup, opaque, jwt, hybrid want) want {
	switch s.mode {
	case latch.ModeOpaque:
		return opaque
	case latch.ModeJWT:
		return jwt
	}
	return hybrid
}

// expectRefusal checks a refused request: a "Session has ended" answer
// reads the session once, any other refusal happens before the store is
// called. Nothing is ever written.
func (a *attackHarness) expectRefusal(t *testing.T, req request, w want) {
	t.Helper()
	if w != refusedEnded {
		a.untouched(t, req, w)
		return
	}
	if c := a.refused(t, req, w); c.Get != 1 {
		t.Errorf("Get called %d times, want once", c.Get)
	}
}

// testAttackTokenType: a refresh token where an access token belongs and
// the other way round, in each mode's own forms and in the other mode's:
// opaque tokens in JWT modes, JWTs in opaque ones, an opaque secret under
// the other type's prefix, and JWTs whose type claim an attacker holding
// the key changed.
func testAttackTokenType(t *testing.T, routes Routes) {
	// outsiderJWT is a JWT of type typ for tk's session, signed by a key
	// the app does not know: what presenting a JWT in opaque mode takes.
	outsiderJWT := func(t *testing.T, tk tokens, typ string) string {
		return outsider.sign(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "x"},
			map[string]any{"sub": "1", "sid": sessionOf(t, tk.AccessToken), "type": typ, "exp": time.Now().Add(time.Hour).Unix()})
	}
	type tokFn func(t *testing.T, a *attackHarness, tk tokens) string
	access := func(_ *testing.T, _ *attackHarness, tk tokens) string { return tk.AccessToken }
	refresh := func(_ *testing.T, _ *attackHarness, tk tokens) string { return tk.RefreshToken }
	cases := []struct {
		name, method, path string
		tok                tokFn
		want               func(s attackSetup) want
		applies            func(s attackSetup) bool
	}{
		{"refresh token at GET protected", "GET", "/protected", refresh, nil, nil},
		{"refresh token at GET optionally_protected", "GET", "/optionally_protected", refresh, nil, nil},
		{"refresh token at GET sessions", "GET", "/sessions", refresh, nil, nil},
		{"refresh token at POST logout", "POST", "/logout", refresh, nil, nil},
		{"refresh token at POST logout_all", "POST", "/logout_all", refresh, nil, nil},
		{"refresh token at DELETE sessions id", "DELETE", "/sessions/", refresh, nil, nil},
		{"access token at POST refresh", "POST", "/refresh", access, nil, nil},
		{"opaque access form at GET protected", "GET", "/protected", func(t *testing.T, _ *attackHarness, tk tokens) string {
			return newOpaque(opaque.PrefixAccess, sessionOf(t, tk.AccessToken))
		}, func(s attackSetup) want { return pick(s, refusedEnded, refusedWrongType, refusedWrongType) }, nil},
		{"opaque refresh form at POST refresh", "POST", "/refresh", func(t *testing.T, _ *attackHarness, tk tokens) string {
			return newOpaque(opaque.PrefixRefresh, sessionOf(t, tk.AccessToken))
		}, func(s attackSetup) want { return pick(s, refusedEnded, refusedWrongType, refusedEnded) }, nil},
		{"refresh secret under the access prefix", "GET", "/protected", func(t *testing.T, _ *attackHarness, tk tokens) string {
			return opaque.Format(opaque.PrefixAccess, sessionOf(t, tk.AccessToken), opaqueSecret(tk.RefreshToken))
		}, func(s attackSetup) want { return pick(s, refusedEnded, refusedWrongType, refusedWrongType) },
			func(s attackSetup) bool { return !s.jwtRefresh() }},
		{"access secret under the refresh prefix", "POST", "/refresh", func(t *testing.T, _ *attackHarness, tk tokens) string {
			return opaque.Format(opaque.PrefixRefresh, sessionOf(t, tk.AccessToken), opaqueSecret(tk.AccessToken))
		}, func(attackSetup) want { return refusedEnded }, func(s attackSetup) bool { return !s.jwtAccess() }},
		{"JWT access form at GET protected", "GET", "/protected", func(t *testing.T, _ *attackHarness, tk tokens) string {
			return outsiderJWT(t, tk, "access")
		}, func(s attackSetup) want { return pick(s, refusedMalformed, refusedInvalid, refusedInvalid) }, nil},
		{"JWT refresh form at POST refresh", "POST", "/refresh", func(t *testing.T, _ *attackHarness, tk tokens) string {
			return outsiderJWT(t, tk, "refresh")
		}, func(s attackSetup) want { return pick(s, refusedWrongType, refusedInvalid, refusedWrongType) }, nil},
		{"access JWT without type", "GET", "/protected", func(t *testing.T, a *attackHarness, tk tokens) string {
			return a.key.reforge(t, tk.AccessToken, func(_, c map[string]any) { delete(c, "type") })
		}, nil, attackSetup.jwtAccess},
		{"access JWT of type ACCESS", "GET", "/protected", func(t *testing.T, a *attackHarness, tk tokens) string {
			return a.key.reforge(t, tk.AccessToken, func(_, c map[string]any) { c["type"] = "ACCESS" })
		}, nil, attackSetup.jwtAccess},
		{"access JWT retyped refresh at POST refresh", "POST", "/refresh", func(t *testing.T, a *attackHarness, tk tokens) string {
			return a.key.reforge(t, tk.AccessToken, func(_, c map[string]any) { c["type"] = "refresh" })
		}, func(attackSetup) want { return refusedEnded }, attackSetup.jwtRefresh},
		{"refresh JWT without type at POST refresh", "POST", "/refresh", func(t *testing.T, a *attackHarness, tk tokens) string {
			return a.key.reforge(t, tk.RefreshToken, func(_, c map[string]any) { delete(c, "type") })
		}, nil, attackSetup.jwtRefresh},
	}
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			tk := a.login(t, "test", "laptop")
			sid := sessionOf(t, tk.AccessToken)
			for _, c := range cases {
				if c.applies != nil && !c.applies(s) {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					w := refusedWrongType
					if c.want != nil {
						w = c.want(s)
					}
					path := c.path
					if strings.HasSuffix(path, "/") {
						path += sid
					}
					req := request{method: c.method, path: path, token: c.tok(t, a, tk)}
					if w.status == 200 {
						a.refused(t, req, w)
						return
					}
					a.expectRefusal(t, req, w)
				})
			}
			t.Run("the session is untouched", func(t *testing.T) {
				a.get(t, "/protected", tk.AccessToken).check(t, servedTest)
				a.decodeTokens(t, a.refresh(t, tk.RefreshToken))
			})
		})
	}
}

// sessionState is what an attack must leave unchanged of a session.
func sessionState(s *store.Session) store.Session {
	c := *s
	c.Device, c.Claims = store.Device{}, nil
	return c
}

// testAttackRefreshReuse: a spent refresh token replayed past the reuse
// grace ends its session (the store shows it gone: one Revoke, nothing
// else). Within the grace, the token the session's last refresh spent
// gets that refresh's tokens again, the refresh token byte for byte, and
// nothing is written; one spent before the last refresh is refused, and
// the session lives. A forged refresh token for the same session is
// refused and the session is exactly as it was.
func testAttackRefreshReuse(t *testing.T, routes Routes) {
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			old := a.login(t, "test", "laptop")
			sid := sessionOf(t, old.AccessToken)
			a.clock.Add(time.Minute)
			next := a.decodeTokens(t, a.refresh(t, old.RefreshToken))
			before := sessionState(a.session(t, sid))
			unchanged := func(t *testing.T) {
				t.Helper()
				if after := sessionState(a.session(t, sid)); !reflect.DeepEqual(after, before) {
					t.Errorf("the session changed:\n got %+v\nwant %+v", after, before)
				}
			}
			randomSecret := func() string { secret, _ := opaque.NewSecret(); return secret }
			type forgedToken struct {
				name string
				tok  func(t *testing.T) string
				want want
			}
			var forged []forgedToken
			if s.jwtRefresh() {
				forged = []forgedToken{
					// Even signed with the app's key, a jti that is not the
					// session's refresh secret is refused.
					{"forged with a random secret", func(t *testing.T) string {
						return a.key.reforge(t, next.RefreshToken, func(_, c map[string]any) { c["jti"] = randomSecret() })
					}, refusedEnded},
					{"forged with the access token's jti", func(t *testing.T) string {
						_, ac := decodeJWT(t, next.AccessToken)
						return a.key.reforge(t, next.RefreshToken, func(_, c map[string]any) { c["jti"] = ac["jti"] })
					}, refusedEnded},
					{"forged signature", func(t *testing.T) string {
						return outsider.reforge(t, next.RefreshToken, func(_, _ map[string]any) {})
					}, refusedInvalid},
				}
			} else {
				forged = []forgedToken{
					{"forged with a random secret", func(*testing.T) string {
						return opaque.Format(opaque.PrefixRefresh, sid, randomSecret())
					}, refusedEnded},
				}
				if !s.jwtAccess() {
					forged = append(forged, forgedToken{"forged with the access secret", func(*testing.T) string {
						return opaque.Format(opaque.PrefixRefresh, sid, opaqueSecret(next.AccessToken))
					}, refusedEnded})
				}
			}
			for _, f := range forged {
				t.Run(f.name, func(t *testing.T) {
					a.expectRefusal(t, request{method: "POST", path: "/refresh", token: f.tok(t)}, f.want)
					unchanged(t)
				})
			}
			t.Run("spent, within the grace", func(t *testing.T) {
				a.clock.Add(time.Second)
				r, c := a.counted(t, request{method: "POST", path: "/refresh", token: old.RefreshToken})
				again := a.decodeTokens(t, r)
				if c.Get != 1 || c.Writes() != 0 {
					t.Errorf("store calls %+v, want one Get and no write", c)
				}
				if again.RefreshToken != next.RefreshToken {
					t.Error("the retry got another refresh token")
				}
				if !s.jwtAccess() && again.AccessToken != next.AccessToken {
					t.Error("the retry got another opaque access token")
				}
				unchanged(t)
			})
			var last tokens
			t.Run("spent before the last refresh, within the grace", func(t *testing.T) {
				last = a.decodeTokens(t, a.refresh(t, next.RefreshToken))
				before = sessionState(a.session(t, sid))
				if c := a.refused(t, request{method: "POST", path: "/refresh", token: old.RefreshToken}, refusedRaceLost); c.Get != 1 {
					t.Errorf("Get called %d times, want once", c.Get)
				}
				unchanged(t)
			})
			t.Run("spent, past the grace", func(t *testing.T) {
				a.clock.Add(latch.DefaultReuseGrace)
				c := a.attempt(t, request{method: "POST", path: "/refresh", token: old.RefreshToken}, refusedEnded)
				if c.Writes() != 1 || c.Revoke != 1 {
					t.Errorf("store calls %+v, want the one Revoke of reuse detection", c)
				}
				a.gone(t, sid)
			})
			t.Run("the current refresh token is refused after reuse", func(t *testing.T) {
				a.expectRefusal(t, request{method: "POST", path: "/refresh", token: last.RefreshToken}, refusedEnded)
			})
		})
	}
}

// testAttackRevokedSession: every token of a session that was logged out
// is refused, and writes nothing. Access JWTs without SessionCheck are
// stateless: they are refused on the routes that check the session, and
// served elsewhere until they expire (testJWTLogoutWithoutSessionCheck).
func testAttackRevokedSession(t *testing.T, routes Routes) {
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			tk := a.login(t, "test", "laptop")
			other := a.login(t, "test", "phone")
			sid := sessionOf(t, tk.AccessToken)
			a.post(t, "/logout", tk.AccessToken).check(t, want{200, "", `{"msg":"Logged out"}`})
			stateless := s.jwtAccess() && !s.sessionCheck
			cases := []struct {
				name, method, path, token string
			}{
				{"refresh", "POST", "/refresh", tk.RefreshToken},
				{"sessions", "GET", "/sessions", tk.AccessToken},
				{"logout_all", "POST", "/logout_all", tk.AccessToken},
				{"delete own session", "DELETE", "/sessions/" + sid, tk.AccessToken},
				{"delete another session", "DELETE", "/sessions/" + sessionOf(t, other.AccessToken), tk.AccessToken},
			}
			if !stateless {
				cases = append(cases, []struct{ name, method, path, token string }{
					{"protected", "GET", "/protected", tk.AccessToken},
					{"optionally_protected", "GET", "/optionally_protected", tk.AccessToken},
					{"logout", "POST", "/logout", tk.AccessToken},
				}...)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					a.expectRefusal(t, request{method: c.method, path: c.path, token: c.token}, refusedEnded)
				})
			}
			if stateless {
				t.Run("protected serves a stateless JWT until it expires", func(t *testing.T) {
					a.refused(t, request{method: "GET", path: "/protected", token: tk.AccessToken}, servedTest)
				})
			}
			t.Run("RFC 7009 revocation of the ended session's refresh token", func(t *testing.T) {
				form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
				a.refused(t, request{method: "POST", path: "/revoke", body: "token=" + url.QueryEscape(tk.RefreshToken), header: form},
					want{200, "", "{}"})
			})
			t.Run("the other device is untouched", func(t *testing.T) {
				checkList(t, a.sessions(t, other.AccessToken), []string{"phone"}, "phone")
			})
		})
	}
}

// testAttackDeletedUser: the tokens of a user removed from the user table
// are refused everywhere, the refresh endpoint included, and nothing is
// written; other users are unaffected.
func testAttackDeletedUser(t *testing.T, routes Routes) {
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			tk, bat := a.login(t, "test", "laptop"), a.login(t, "batman", "batcave")
			sid := sessionOf(t, tk.AccessToken)
			a.app.Users.Remove("1")
			// Past the touch interval, within the access token's life: a
			// request the loader refuses must not record a use (refused
			// checks that nothing is written), so the session's idle
			// timeout stops sliding.
			a.clock.Add(2 * latch.DefaultTouchInterval)
			before := sessionState(a.session(t, sid))
			defer func() {
				if after := sessionState(a.session(t, sid)); !reflect.DeepEqual(after, before) {
					t.Errorf("the deleted user's session changed:\n got %+v\nwant %+v", after, before)
				}
			}()
			gone := want{401, invalidToken("Error loading the user 1"), `{"msg":"Error loading the user 1"}`}
			for _, c := range []struct{ name, method, path, token string }{
				{"protected", "GET", "/protected", tk.AccessToken},
				{"who_am_i", "GET", "/who_am_i", tk.AccessToken},
				{"optionally_protected", "GET", "/optionally_protected", tk.AccessToken},
				{"sessions", "GET", "/sessions", tk.AccessToken},
				{"logout", "POST", "/logout", tk.AccessToken},
				{"logout_all", "POST", "/logout_all", tk.AccessToken},
				{"delete session", "DELETE", "/sessions/" + sid, tk.AccessToken},
				{"refresh", "POST", "/refresh", tk.RefreshToken},
			} {
				t.Run(c.name, func(t *testing.T) {
					a.refused(t, request{method: c.method, path: c.path, token: c.token}, gone)
				})
			}
			t.Run("login", func(t *testing.T) {
				// A failed login counts strikes (login throttling), and
				// writes no session.
				c := a.attempt(t, request{method: "POST", path: "/login", body: `{"username":"test","password":"test"}`},
					want{401, "", `{"msg":"Bad username or password"}`})
				if c.AddStrike != 3 || c.Writes() != c.AddStrike {
					t.Errorf("store calls %+v, want the 3 strikes of a failed login and no other write", c)
				}
			})
			t.Run("other users", func(t *testing.T) {
				a.get(t, "/who_am_i", bat.AccessToken).check(t, want{200, "", `{"id":2,"full_name":"Bruce Wayne","username":"batman"}`})
			})
		})
	}
}

// testAttackOtherUsersSession: test deletes batman's session by its id:
// 404, and nothing changes. Ids that are not ids never reach the store.
func testAttackOtherUsersSession(t *testing.T, routes Routes) {
	notFound := want{404, "", `{"msg":"Session not found"}`}
	for _, s := range allSetups {
		t.Run(s.name, func(t *testing.T) {
			a := newAttackHarness(t, routes, s, nil)
			tk, bat := a.login(t, "test", "laptop"), a.login(t, "batman", "batcave")
			batSID := sessionOf(t, bat.AccessToken)
			before := sessionState(a.session(t, batSID))
			for _, c := range []struct {
				name, id string
				// The caller's session, read by the guard's session check
				// and again by LogoutSession, which does not trust the
				// route to have checked; then the id's, if it is one.
				gets int
			}{
				{"batman's session", batSID, 3},
				{"batman's session in lower case", strings.ToLower(batSID), 3},
				{"path traversal", "../" + batSID, 2},
				{"SQL", "' OR 1=1--", 2},
				{"empty-looking", "%20", 2},
			} {
				t.Run(c.name, func(t *testing.T) {
					cl := a.refused(t, request{method: "DELETE", path: "/sessions/" + url.PathEscape(c.id), token: tk.AccessToken}, notFound)
					if cl.Get != c.gets {
						t.Errorf("Get called %d times, want %d", cl.Get, c.gets)
					}
					if after := sessionState(a.session(t, batSID)); !reflect.DeepEqual(after, before) {
						t.Errorf("batman's session changed")
					}
				})
			}
			t.Run("batman is still logged in", func(t *testing.T) {
				a.get(t, "/protected", bat.AccessToken).check(t, want{200, "", loggedInAs("2")})
				checkList(t, a.sessions(t, bat.AccessToken), []string{"batcave"}, "batcave")
			})
		})
	}
}
