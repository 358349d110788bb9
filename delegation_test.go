package latch_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/token"
)

// delegated logs batman (staff) in and opens a session for test (user 1)
// on his behalf; it returns the staff principal and the delegated tokens.
func delegated(t *testing.T, e *env) (*latch.Principal, *latch.Tokens) {
	t.Helper()
	st := e.Login(t, users["2"], "support desk")
	staff, err := e.Auth.Authenticate(bg, st.AccessToken, access)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := e.Auth.LoginAs(bg, staff, users["1"], latch.LoginOptions{Device: latch.Device{Label: "support"}})
	if err != nil {
		t.Fatalf("LoginAs: %v", err)
	}
	return staff, tk
}

func TestLoginAsEveryMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			own := e.Login(t, users["1"], "phone")
			staff, tk := delegated(t, e)
			want := &latch.Actor{Subject: "2", SessionID: staff.SessionID}
			p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			if p.Subject != "1" || p.Actor == nil || *p.Actor != *want || p.Fresh || p.User != users["1"] {
				t.Errorf("principal = %+v, actor %+v", p, p.Actor)
			}
			if !slices.ContainsFunc(e.Events(), func(ev latch.Event) bool {
				return ev.Kind == latch.EventLoginAs && ev.Subject == "1" && ev.Actor != nil && *ev.Actor == *want
			}) {
				t.Errorf("no login_as event with both subjects: %+v", e.Events())
			}
			if mode != latch.ModeOpaque { // RFC 8693: sub is the user, act.sub the staff member
				c, err := e.Auth.Keyring().Verify(tk.AccessToken, token.VerifyOptions{Now: e.Clock.Now()})
				if err != nil || c.Subject != "1" || c.Act == nil || c.Act.Subject != "2" || c.Act.SessionID != staff.SessionID {
					t.Errorf("claims = %+v (act %+v), %v", c, c.Act, err)
				}
			}
			// The user sees it, and who acts, in their device list.
			up, _ := e.Auth.Authenticate(bg, own.AccessToken, access)
			list := currentList(t, e, up)
			i := slices.IndexFunc(list, func(s latch.SessionInfo) bool { return s.ID == tk.SessionID })
			if i < 0 || list[i].Actor != "2" || !list[i].AbsoluteExpiresAt.Equal(e.Clock.Now().Add(time.Hour)) {
				t.Errorf("device list = %+v", list)
			}
			// What only the user's own login may do.
			for name, err := range map[string]error{
				"Sessions":      func() error { _, err := e.Auth.Sessions(bg, p); return err }(),
				"LogoutOthers":  func() error { _, err := e.Auth.LogoutOthers(bg, p); return err }(),
				"LogoutSession": e.Auth.LogoutSession(bg, p, own.SessionID),
				"StepUp":        func() error { _, err := e.Auth.StepUp(bg, p); return err }(),
				"LoginAs":       func() error { _, err := e.Auth.LoginAs(bg, p, users["2"], latch.LoginOptions{}); return err }(),
			} {
				if !errors.Is(err, latch.ErrDelegated) || !errors.Is(err, latch.ErrForbidden) {
					t.Errorf("%s in a delegated session: %v, want ErrDelegated", name, err)
				}
			}
			if _, err := e.Auth.Authenticate(bg, own.AccessToken, access); err != nil {
				t.Errorf("the user's own session after the refusals: %v", err)
			}
			// A refresh keeps the actor.
			tk, err = e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil || p.Actor == nil || *p.Actor != *want {
				t.Errorf("after refresh: %+v, %v", p, err)
			}
			// Its own logout works.
			p, _ = e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err := e.Auth.LogoutSession(bg, p, p.SessionID); err != nil {
				t.Errorf("a delegated session ending itself: %v", err)
			}
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("after its logout: %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// The delegated session stops the moment the staff member's session ends,
// even in JWT mode without a session check, for access and refresh alike.
func TestLoginAsEndsWithStaffSession(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			staff, tk := delegated(t, e)
			own := e.Login(t, users["1"], "phone")
			if err := e.Auth.Logout(bg, staff); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("access after the staff logout: %v, want ErrTokenRevoked", err)
			}
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("refresh after the staff logout: %v, want ErrTokenRevoked", err)
			}
			up, _ := e.Auth.Authenticate(bg, own.AccessToken, access)
			if list := currentList(t, e, up); len(list) != 1 {
				t.Errorf("device list after the staff logout: %+v, want the user's own only", list)
			}
		})
	}
}

// A refresh of the delegated session checks the staff session too.
func TestLoginAsRefreshChecksStaff(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, nil)
		staff, tk := delegated(t, e)
		if _, err := e.Auth.RevokeAll(bg, staff.Subject); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
			t.Errorf("%s: refresh after the staff sessions were revoked: %v, want ErrTokenRevoked", mode, err)
		}
	}
}

// Revoking the user's delegated session (the user's device list, or an
// administrator) ends it.
func TestLoginAsRevokedByUser(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, nil)
		_, tk := delegated(t, e)
		own := e.Login(t, users["1"], "phone")
		up, _ := e.Auth.Authenticate(bg, own.AccessToken, access)
		if err := e.Auth.LogoutSession(bg, up, tk.SessionID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
			t.Errorf("%s: after the user revoked it: %v, want ErrTokenRevoked", mode, err)
		}
	}
}

// A delegated session lives delegation_ttl at most, and never past the
// staff session; a longer lifetime is refused.
func TestLoginAsLifetime(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, func(c *latch.Config) { c.DelegationTTL = latch.Duration(30 * time.Minute) })
		staff, tk := delegated(t, e)
		if _, err := e.Auth.LoginAs(bg, staff, users["1"], latch.LoginOptions{Lifetime: time.Hour}); !errors.Is(err, latch.ErrInvalidLifetime) {
			t.Errorf("%s: a delegated lifetime over delegation_ttl: %v, want ErrInvalidLifetime", mode, err)
		}
		e.Clock.Add(31 * time.Minute)
		if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrInvalidToken) {
			t.Errorf("%s: refresh past delegation_ttl: %v, want ErrInvalidToken", mode, err)
		}
		if _, err := e.Auth.LoginAs(bg, nil, users["1"], latch.LoginOptions{}); !errors.Is(err, latch.ErrNoToken) {
			t.Errorf("%s: LoginAs without staff: %v, want ErrNoToken", mode, err)
		}
	}
	// Never past the staff session's end.
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) {
		c.SessionTTL = latch.Duration(time.Hour)
		c.RefreshTTL = latch.Duration(time.Hour)
	})
	st := e.Login(t, users["2"], "desk")
	e.Clock.Add(50 * time.Minute)
	tk, err := e.Auth.LoginAs(bg, &latch.Principal{Subject: "2", SessionID: st.SessionID}, users["1"], latch.LoginOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if end := e.Clock.Now().Add(10 * time.Minute); !tk.RefreshExpiresAt.Equal(end) {
		t.Errorf("delegated session ends %s after the staff one", tk.RefreshExpiresAt.Sub(end))
	}
}

// delegation_ttl defaults to 1h, or session_ttl if that is shorter.
func TestDelegationTTLDefault(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) {
		c.SessionTTL, c.RefreshTTL = latch.Duration(30*time.Minute), latch.Duration(30*time.Minute)
		c.AccessTTL = latch.Duration(time.Minute)
	})
	if got := e.Auth.Config().DelegationTTL.D(); got != 30*time.Minute {
		t.Errorf("default delegation_ttl with a 30m session_ttl = %s, want 30m", got)
	}
	if got := newEnv(t, latch.ModeOpaque, nil).Auth.Config().DelegationTTL.D(); got != time.Hour {
		t.Errorf("default delegation_ttl = %s, want 1h", got)
	}
}
