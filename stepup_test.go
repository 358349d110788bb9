package latch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

var fresh = latch.Requirement{Fresh: true}

// A session that is no longer fresh becomes fresh again for fresh_ttl
// after a step-up, with no new login or session, in every mode.
func TestStepUpEveryMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.FreshTTL = latch.Duration(5 * time.Minute) })
			tk := e.Login(t, users["1"], "laptop")
			e.Clock.Add(6 * time.Minute)
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, fresh); !errors.Is(err, latch.ErrFreshRequired) {
				t.Fatalf("before step-up: %v, want ErrFreshRequired", err)
			}
			p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			before := len(currentList(t, e, p))
			up, err := e.Auth.StepUp(bg, p)
			if err != nil {
				t.Fatalf("StepUp: %v", err)
			}
			if up.RefreshToken != "" || up.SessionID != tk.SessionID {
				t.Errorf("step-up tokens: refresh %q, session %s; want none, %s", up.RefreshToken, up.SessionID, tk.SessionID)
			}
			use := up.AccessToken
			if mode == latch.ModeOpaque {
				// Freshness is read from the session: the token in use is fresh now.
				if use != "" || up.ExpiresIn <= 0 {
					t.Errorf("opaque step-up: access token %q, expires_in %d", use, up.ExpiresIn)
				}
				use = tk.AccessToken
			} else if _, err := e.Auth.Authenticate(bg, tk.AccessToken, fresh); !errors.Is(err, latch.ErrFreshRequired) {
				t.Errorf("the old JWT after step-up: %v, want ErrFreshRequired", err)
			}
			if fp, err := e.Auth.Authenticate(bg, use, fresh); err != nil || !fp.Fresh || fp.SessionID != tk.SessionID {
				t.Errorf("after step-up: %+v, %v; want fresh, same session", fp, err)
			}
			if n := len(currentList(t, e, p)); n != before {
				t.Errorf("step-up opened a session: %d, was %d", n, before)
			}
			if !e.HasEvent(latch.EventStepUp) {
				t.Error("no step_up event")
			}
			// For fresh_ttl, no longer.
			e.Clock.Add(6 * time.Minute)
			if _, err := e.Auth.Authenticate(bg, use, fresh); !errors.Is(err, latch.ErrFreshRequired) {
				t.Errorf("fresh_ttl after step-up: %v, want ErrFreshRequired", err)
			}
			// The refresh token was left alone.
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
				t.Errorf("refresh after step-up: %v", err)
			}
		})
	}
}

// With fresh_ttl 0 a step-up is fresh as a login is: until the session's
// next refresh.
func TestStepUpFreshTTLZero(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			tk, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err != nil || p.Fresh {
				t.Fatalf("after refresh: %+v, %v; want not fresh", p, err)
			}
			up, err := e.Auth.StepUp(bg, p)
			if err != nil {
				t.Fatal(err)
			}
			use := up.AccessToken
			if use == "" {
				use = tk.AccessToken
			}
			e.Clock.Add(10 * time.Minute)
			if _, err := e.Auth.Authenticate(bg, use, fresh); err != nil {
				t.Errorf("after step-up: %v", err)
			}
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, fresh); !errors.Is(err, latch.ErrFreshRequired) {
				t.Errorf("after the next refresh: %v, want ErrFreshRequired", err)
			}
		})
	}
}

// A session that has ended cannot step up.
func TestStepUpEndedSession(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, nil)
		tk := e.Login(t, users["1"], "laptop")
		p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Auth.Logout(bg, p); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Auth.StepUp(bg, p); !errors.Is(err, latch.ErrTokenRevoked) {
			t.Errorf("%s: StepUp after logout: %v, want ErrTokenRevoked", mode, err)
		}
		if _, err := e.Auth.StepUp(bg, nil); !errors.Is(err, latch.ErrNoToken) {
			t.Errorf("%s: StepUp(nil): %v, want ErrNoToken", mode, err)
		}
	}
}

func currentList(t *testing.T, e *env, p *latch.Principal) []latch.SessionInfo {
	t.Helper()
	list, err := e.Auth.Sessions(bg, p)
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	return list
}
