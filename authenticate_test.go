package latch_test

import (
	"errors"
	"testing"

	"github.com/latchauth/latch"
)

// TestUseRecordedOnlyWhenAccepted: past the touch interval, a token
// refused for freshness or by the user loader records no use of its
// session (nothing is written), and an accepted one does, once; RevokeToken
// ends a session without recording a use of it first. (latchhttp's test of
// the same name adds a guard's check, which refuses after the use is
// recorded, since its user did authenticate.)
func TestUseRecordedOnlyWhenAccepted(t *testing.T) {
	for _, setup := range []struct {
		name  string
		mode  latch.Mode
		check bool
	}{{"opaque", latch.ModeOpaque, false}, {"jwt+session_check", latch.ModeJWT, true}, {"hybrid+session_check", latch.ModeHybrid, true}} {
		t.Run(setup.name, func(t *testing.T) {
			e := newEnv(t, setup.mode, func(c *latch.Config) { c.SessionCheck = setup.check })
			first := e.Login(t, users["1"], "laptop")
			tk, err := e.Auth.Refresh(bg, first.RefreshToken) // not fresh
			if err != nil {
				t.Fatal(err)
			}
			ghost := e.Login(t, users["3"], "ghost")
			e.Clock.Add(2 * latch.DefaultTouchInterval)
			for _, c := range []struct {
				name, token string
				req         latch.Requirement
				want        error
				touches     int
			}{
				{"not fresh", tk.AccessToken, latch.Requirement{Fresh: true}, latch.ErrFreshRequired, 0},
				{"no such user", ghost.AccessToken, access, latch.ErrUserNotFound, 0},
				{"accepted", tk.AccessToken, access, nil, 1},
				{"accepted, use already recorded", tk.AccessToken, access, nil, 0},
			} {
				before := e.Store.Calls()
				_, err := e.Auth.Authenticate(bg, c.token, c.req)
				if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
					t.Errorf("%s: %v, want %v", c.name, err, c.want)
				}
				after := e.Store.Calls()
				if after.Touch-before.Touch != c.touches || after.Writes()-before.Writes() != c.touches {
					t.Errorf("%s: %d Touch, %d writes, want %d of each", c.name, after.Touch-before.Touch, after.Writes()-before.Writes(), c.touches)
				}
			}
			// Revoking through the token ends the session without
			// recording a use of it first.
			e.Clock.Add(2 * latch.DefaultTouchInterval)
			c := e.Store.Calls()
			if err := e.Auth.RevokeToken(bg, tk.AccessToken); err != nil {
				t.Fatal(err)
			}
			if after := e.Store.Calls(); after.Touch != c.Touch || after.Writes()-c.Writes() != 1 {
				t.Errorf("RevokeToken: %+v after %+v, want one write and no Touch", after, c)
			}
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("Refresh after RevokeToken: %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// TestAuthenticateSessionCheckReasons: with Requirement.SessionCheck (what
// latchhttp's introspection asks for) a JWT is checked against its session
// although the Auth has no Config.SessionCheck, and each refusal says why:
// a refresh token, an ended session, a user the loader no longer finds,
// no token at all. An accepted token records a use of its session; one
// the loader refuses records none.
func TestAuthenticateSessionCheckReasons(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, nil)
	check := latch.Requirement{SessionCheck: true}
	tok := e.Login(t, users["1"], "laptop")
	if p, err := e.Auth.Authenticate(bg, tok.AccessToken, check); err != nil || p.Type != latch.Access || p.Subject != "1" || p.Device.Label != "laptop" {
		t.Fatalf("access token: %+v, %v", p, err)
	}
	if _, err := e.Auth.Authenticate(bg, tok.RefreshToken, check); !errors.Is(err, latch.ErrWrongTokenType) {
		t.Errorf("refresh token: %v, want ErrWrongTokenType", err)
	}
	if err := e.Auth.RevokeSession(bg, "1", tok.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Auth.Authenticate(bg, tok.AccessToken, check); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("revoked session: %v, want ErrTokenRevoked", err)
	}
	if _, err := e.Auth.Authenticate(bg, tok.AccessToken, access); err != nil {
		t.Errorf("without the session check, the stateless JWT of a revoked session: %v", err)
	}
	ghost, live := e.Login(t, users["3"], "ghost"), e.Login(t, users["1"], "phone")
	e.Clock.Add(2 * latch.DefaultTouchInterval)
	writes, touches := e.Store.Calls().Writes(), e.Store.Calls().Touch
	if _, err := e.Auth.Authenticate(bg, ghost.AccessToken, check); !errors.Is(err, latch.ErrUserNotFound) {
		t.Errorf("disabled user: %v, want ErrUserNotFound", err)
	}
	if w := e.Store.Calls().Writes() - writes; w != 0 {
		t.Errorf("a disabled user's token wrote %d times, want 0", w)
	}
	if _, err := e.Auth.Authenticate(bg, live.AccessToken, check); err != nil {
		t.Errorf("live token: %v", err)
	}
	if c := e.Store.Calls(); c.Writes()-writes != 1 || c.Touch-touches != 1 {
		t.Errorf("a live token past the touch interval: %+v, want one Touch", c)
	}
	if _, err := e.Auth.Authenticate(bg, "nonsense", check); !errors.Is(err, latch.ErrInvalidToken) {
		t.Errorf("nonsense: %v, want ErrInvalidToken", err)
	}
	if _, err := e.Auth.Authenticate(bg, "", check); !errors.Is(err, latch.ErrMalformedToken) {
		t.Errorf("no token: %v, want ErrMalformedToken", err)
	}
}
