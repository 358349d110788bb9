package latch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

// A login that asks for shorter lifetimes keeps them across refreshes and
// uses, in every mode, and the device list shows them.
func TestLoginLifetimesEveryMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			start := e.Clock.Now()
			tk, err := e.Auth.Login(bg, users["1"], latch.LoginOptions{IdleTimeout: time.Hour, Lifetime: 3 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if !tk.Ephemeral || !tk.RefreshExpiresAt.Equal(start.Add(3*time.Hour)) {
				t.Errorf("tokens: ephemeral %v, refresh expires %s; want true, +3h", tk.Ephemeral, tk.RefreshExpiresAt.Sub(start))
			}
			info := currentInfo(t, e, tk)
			if info.IdleTimeout.D() != time.Hour || !info.AbsoluteExpiresAt.Equal(start.Add(3*time.Hour)) || !info.ExpiresAt.Equal(start.Add(time.Hour)) {
				t.Errorf("session info = %+v", info)
			}
			// Refreshing every 50 minutes slides the idle deadline by one
			// hour, not by the configured 30 days...
			for range 2 {
				e.Clock.Add(50 * time.Minute)
				if tk, err = e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
					t.Fatalf("refresh: %v", err)
				}
				if !tk.Ephemeral {
					t.Error("a refresh forgot the login's idle timeout")
				}
				if got := currentInfo(t, e, tk).ExpiresAt; !got.Equal(e.Clock.Now().Add(time.Hour)) {
					t.Errorf("after refresh the session idles out in %s, want 1h", got.Sub(e.Clock.Now()))
				}
			}
			// ...61 idle minutes end it...
			e.Clock.Add(61 * time.Minute)
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("refresh after the login's idle timeout: %v, want ErrTokenRevoked", err)
			}
			// ...and refreshing in time cannot pass the login's lifetime.
			start = e.Clock.Now()
			tk, err = e.Auth.Login(bg, users["1"], latch.LoginOptions{Lifetime: 90 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if tk.Ephemeral {
				t.Error("a login without its own idle timeout is ephemeral")
			}
			e.Clock.Add(time.Hour)
			if tk, err = e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
				t.Fatal(err)
			}
			if tk.AccessExpiresAt.After(start.Add(90 * time.Minute)) {
				t.Errorf("access token outlives the session by %s", tk.AccessExpiresAt.Sub(start.Add(90*time.Minute)))
			}
			e.Clock.Add(30 * time.Minute)
			// ErrTokenRevoked, or ErrTokenExpired for a JWT whose exp is the
			// session's end.
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrInvalidToken) {
				t.Errorf("refresh at the login's lifetime: %v, want ErrInvalidToken", err)
			}
		})
	}
}

// In opaque mode (and with a session check) each use slides the idle
// deadline by the login's own idle timeout: the store's Touch honours it.
func TestLoginIdleTimeoutSlidesOnUse(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true; c.AccessTTL = latch.Duration(5 * time.Hour) })
			tk, err := e.Auth.Login(bg, users["1"], latch.LoginOptions{IdleTimeout: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				e.Clock.Add(45 * time.Minute)
				if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil {
					t.Fatalf("in use: %v", err)
				}
			}
			if got := currentInfo(t, e, tk).ExpiresAt; !got.Equal(e.Clock.Now().Add(time.Hour)) {
				t.Errorf("idle deadline %s ahead, want 1h", got.Sub(e.Clock.Now()))
			}
			e.Clock.Add(61 * time.Minute)
			if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("after the idle timeout: %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// A login may shorten its lifetimes, never lengthen them.
func TestLoginLifetimesRefused(t *testing.T) {
	for _, mode := range modes {
		e := newEnv(t, mode, func(c *latch.Config) {
			c.RefreshTTL = latch.Duration(24 * time.Hour)
			c.SessionTTL = latch.Duration(7 * 24 * time.Hour)
		})
		for name, o := range map[string]latch.LoginOptions{
			"idle over refresh_ttl":      {IdleTimeout: 25 * time.Hour},
			"lifetime over session_ttl":  {Lifetime: 8 * 24 * time.Hour},
			"negative idle":              {IdleTimeout: -time.Minute},
			"negative lifetime":          {Lifetime: -time.Minute},
			"idle under twice the touch": {IdleTimeout: 90 * time.Second},
		} {
			if _, err := e.Auth.Login(bg, users["1"], o); !errors.Is(err, latch.ErrInvalidLifetime) {
				t.Errorf("%s: %s: %v, want ErrInvalidLifetime", mode, name, err)
			}
		}
		if _, err := e.Auth.Login(bg, users["1"], latch.LoginOptions{IdleTimeout: 24 * time.Hour, Lifetime: 7 * 24 * time.Hour}); err != nil {
			t.Errorf("%s: the configured lifetimes themselves: %v", mode, err)
		}
	}
}

// currentInfo returns the session info of tk's session from the device list.
func currentInfo(t *testing.T, e *env, tk *latch.Tokens) latch.SessionInfo {
	t.Helper()
	list, err := e.Auth.Sessions(bg, &latch.Principal{Subject: "1", SessionID: tk.SessionID})
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	for _, s := range list {
		if s.Current {
			return s
		}
	}
	t.Fatal("no current session")
	return latch.SessionInfo{}
}
