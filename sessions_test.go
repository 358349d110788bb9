package latch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

func TestDevicesAreIndependent(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			laptop := e.Login(t, users["1"], "laptop")
			e.Clock.Add(time.Second)
			phone := e.Login(t, users["1"], "phone")
			e.Clock.Add(time.Second)
			tablet := e.Login(t, users["1"], "tablet")
			bat := e.Login(t, users["2"], "cave")

			pp, err := e.Auth.Authenticate(bg, phone.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			list, err := e.Auth.Sessions(bg, pp)
			if err != nil || len(list) != 3 {
				t.Fatalf("Sessions = %v, %v", list, err)
			}
			if list[0].Device.Label != "tablet" || list[2].Device.Label != "laptop" || !list[1].Current || list[0].Current {
				t.Errorf("Sessions order/current = %+v", list)
			}
			// Logging out the laptop leaves the phone and tablet.
			p, _ := e.Auth.Authenticate(bg, laptop.AccessToken, access)
			if err := e.Auth.Logout(bg, p); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Auth.Authenticate(bg, laptop.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("laptop after logout: %v", err)
			}
			if _, err := e.Auth.Refresh(bg, laptop.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("laptop refresh after logout: %v", err)
			}
			if _, err := e.Auth.Authenticate(bg, phone.AccessToken, access); err != nil {
				t.Errorf("phone after laptop logout: %v", err)
			}
			// Another user's session id: not found, nothing changes.
			if err := e.Auth.RevokeSession(bg, "1", bat.SessionID); !errors.Is(err, latch.ErrSessionNotFound) {
				t.Errorf("revoking another user's session: %v, want ErrSessionNotFound", err)
			}
			if _, err := e.Auth.Authenticate(bg, bat.AccessToken, access); err != nil {
				t.Errorf("batman after user 1 tried to revoke him: %v", err)
			}
			// Log out the others from the phone: the tablet ends, the phone
			// stays.
			if n, err := e.Auth.LogoutOthers(bg, pp); err != nil || n != 1 {
				t.Errorf("LogoutOthers = %d, %v; want 1", n, err)
			}
			if _, err := e.Auth.Authenticate(bg, tablet.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("tablet after LogoutOthers: %v", err)
			}
			if _, err := e.Auth.Authenticate(bg, phone.AccessToken, access); err != nil {
				t.Errorf("phone after LogoutOthers: %v", err)
			}
			bp, err := e.Auth.Authenticate(bg, bat.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := e.Auth.RevokeAll(bg, "1"); err != nil || n != 1 {
				t.Errorf("RevokeAll = %d, %v; want 1", n, err)
			}
			if list, err := e.Auth.Sessions(bg, pp); len(list) != 0 || !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("sessions after RevokeAll: %v, %v; want none and ErrTokenRevoked", list, err)
			}
			if list, _ := e.Auth.Sessions(bg, bp); len(list) != 1 || !list[0].Current {
				t.Errorf("batman's sessions after user 1's RevokeAll: %v", list)
			}
		})
	}
}

func TestMaxSessionsEvictsOldest(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) { c.MaxSessions = 2 })
	first := e.Login(t, users["1"], "a")
	e.Clock.Add(time.Second)
	e.Login(t, users["1"], "b")
	e.Clock.Add(time.Second)
	third := e.Login(t, users["1"], "c")
	if _, err := e.Auth.Authenticate(bg, first.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("oldest session over the cap: %v, want ErrTokenRevoked", err)
	}
	p, err := e.Auth.Authenticate(bg, third.AccessToken, access)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := e.Auth.Sessions(bg, p)
	if len(list) != 2 || list[0].Device.Label != "c" || list[1].Device.Label != "b" || !list[0].Current {
		t.Errorf("sessions = %+v", list)
	}
}

func TestRevokedJWTCannotManageSessions(t *testing.T) {
	e := newEnv(t, latch.ModeHybrid, nil) // stateless access tokens
	stolen := e.Login(t, users["1"], "stolen")
	mine := e.Login(t, users["1"], "mine")
	if err := e.Auth.RevokeSession(bg, "1", stolen.SessionID); err != nil {
		t.Fatal(err)
	}
	p, err := e.Auth.Authenticate(bg, stolen.AccessToken, access)
	if err != nil {
		t.Fatalf("stateless token should still verify: %v", err)
	}
	if _, err := e.Auth.LogoutOthers(bg, p); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("LogoutOthers from a revoked session: %v, want ErrTokenRevoked", err)
	}
	if list, err := e.Auth.Sessions(bg, p); !errors.Is(err, latch.ErrTokenRevoked) || list != nil {
		t.Errorf("Sessions from a revoked session: %v, %v; want ErrTokenRevoked and no list", list, err)
	}
	if err := e.Auth.LogoutSession(bg, p, mine.SessionID); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("LogoutSession from a revoked session: %v, want ErrTokenRevoked", err)
	}
	// Session management asks for a session check, which looks the
	// session up in every mode.
	check := latch.Requirement{SessionCheck: true}
	if _, err := e.Auth.Authenticate(bg, stolen.AccessToken, check); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("a session check of a revoked session's JWT: %v, want ErrTokenRevoked", err)
	}
	if p, err := e.Auth.Authenticate(bg, mine.AccessToken, check); err != nil || p.SessionID != mine.SessionID {
		t.Errorf("a session check of a live session's JWT: %+v, %v", p, err)
	}
	if _, err := e.Auth.Refresh(bg, mine.RefreshToken); err != nil {
		t.Errorf("victim's session ended: %v", err)
	}
}

// TestLogoutSession: a caller ends one of their own other sessions by id
// (event revoke); another subject's id, or an unknown one, is
// ErrSessionNotFound and ends nothing.
func TestLogoutSession(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			laptop := e.Login(t, users["1"], "laptop")
			phone := e.Login(t, users["1"], "phone")
			bat := e.Login(t, users["2"], "cave")
			p, err := e.Auth.Authenticate(bg, laptop.AccessToken, access)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{bat.SessionID, "0000000000000000000000"} {
				if err := e.Auth.LogoutSession(bg, p, id); !errors.Is(err, latch.ErrSessionNotFound) {
					t.Errorf("LogoutSession(%s) = %v, want ErrSessionNotFound", id, err)
				}
			}
			if _, err := e.Auth.Refresh(bg, bat.RefreshToken); err != nil {
				t.Errorf("another user's session ended: %v", err)
			}
			e.ClearEvents()
			if err := e.Auth.LogoutSession(bg, p, phone.SessionID); err != nil {
				t.Fatal(err)
			}
			if evs := e.Events(); len(evs) != 1 || evs[0].Kind != latch.EventRevoke || evs[0].SessionID != phone.SessionID {
				t.Errorf("events %+v, want one revoke of the phone's session", evs)
			}
			if _, err := e.Auth.Refresh(bg, phone.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("the phone's session lives on: %v", err)
			}
			if _, err := e.Auth.Refresh(bg, laptop.RefreshToken); err != nil {
				t.Errorf("the caller's own session ended: %v", err)
			}
		})
	}
}
