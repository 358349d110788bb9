package latch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch"
)

func TestIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, func(c *latch.Config) {
		c.AccessTTL = latch.Duration(time.Hour)
		c.RefreshTTL = latch.Duration(30 * time.Minute) // idle timeout
		c.SessionTTL = latch.Duration(2 * time.Hour)
	})
	tk := e.Login(t, users["1"], "laptop")
	// Used every 20 minutes, the session slides past the idle timeout...
	for range 2 {
		e.Clock.Add(20 * time.Minute)
		if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil {
			t.Fatalf("in use: %v", err)
		}
	}
	// ...but 31 idle minutes end it.
	e.Clock.Add(31 * time.Minute)
	if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("after idle timeout: %v, want ErrTokenRevoked", err)
	}

	// Absolute lifetime: refreshing every 25 minutes cannot pass 2 hours.
	tk = e.Login(t, users["1"], "laptop")
	start := e.Clock.Now()
	var err error
	for e.Clock.Now().Sub(start) < 2*time.Hour-25*time.Minute {
		e.Clock.Add(25 * time.Minute)
		if tk, err = e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
			t.Fatalf("refresh at %s: %v", e.Clock.Now().Sub(start), err)
		}
		if tk.AccessExpiresAt.After(start.Add(2 * time.Hour)) {
			t.Errorf("access token outlives the session: %s", tk.AccessExpiresAt.Sub(start))
		}
	}
	e.Clock.Add(2*time.Hour - e.Clock.Now().Sub(start))
	if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
		t.Errorf("refresh at the absolute expiry: %v, want ErrTokenRevoked", err)
	}
}

func TestTouchIsThrottled(t *testing.T) {
	e := newEnv(t, latch.ModeOpaque, nil)
	tk := e.Login(t, users["1"], "laptop")
	before := e.Store.Calls().Writes()
	for range 50 {
		e.Clock.Add(time.Second)
		if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); err != nil {
			t.Fatal(err)
		}
	}
	// 50 requests over 50 seconds: inside one touch interval, no write.
	if n := e.Store.Calls().Writes() - before; n != 0 {
		t.Errorf("%d store writes for 50 requests inside the touch interval, want 0", n)
	}
	e.Clock.Add(time.Minute)
	e.Auth.Authenticate(bg, tk.AccessToken, access)
	if n := e.Store.Calls().Writes() - before; n != 1 {
		t.Errorf("%d writes after the interval, want 1", n)
	}
}

func TestJWTRefreshFollowsSlidingIdle(t *testing.T) {
	e := newEnv(t, latch.ModeJWT, func(c *latch.Config) {
		c.SessionCheck = true
		c.AccessTTL = latch.Duration(24 * time.Hour)
		c.RefreshTTL = latch.Duration(30 * 24 * time.Hour)
	})
	tk := e.Login(t, users["1"], "laptop")
	// Access tokens in use every 20 days slide the idle timeout...
	for range 2 {
		e.Clock.Add(20 * 24 * time.Hour)
		next := e.SignAccess(t, tk.SessionID)
		if _, err := e.Auth.Authenticate(bg, next, access); err != nil {
			t.Fatal(err)
		}
	}
	// ...so at day 40 the session is live and its refresh token works.
	if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
		t.Errorf("refresh at day 40 of a session in use: %v", err)
	}
}

func TestFreshnessDeadline(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.FreshTTL = latch.Duration(5 * time.Minute) })
			tk := e.Login(t, users["1"], "laptop")
			fresh := latch.Requirement{Fresh: true}
			if p, err := e.Auth.Authenticate(bg, tk.AccessToken, fresh); err != nil || !p.Fresh {
				t.Fatalf("fresh requirement right after login: %+v, %v", p, err)
			}
			e.Clock.Add(6 * time.Minute) // the access token is still valid, no longer fresh
			p, err := e.Auth.Authenticate(bg, tk.AccessToken, access)
			if err != nil || p.Fresh {
				t.Fatalf("after the fresh deadline: fresh=%v err=%v", p != nil && p.Fresh, err)
			}
			e.ClearEvents()
			_, err = e.Auth.Authenticate(bg, tk.AccessToken, fresh)
			if !errors.Is(err, latch.ErrFreshRequired) || latch.PublicMessage(err) != "Fresh token required" {
				t.Errorf("fresh requirement after the deadline: %v (%q), want ErrFreshRequired", err, latch.PublicMessage(err))
			}
			if evs := e.Events(); len(evs) != 1 || evs[0].Kind != latch.EventFailure ||
				!errors.Is(evs[0].Err, latch.ErrFreshRequired) || evs[0].SessionID != tk.SessionID {
				t.Errorf("events of the refusal: %+v, want one failure naming the session", evs)
			}
			// A new credential login is fresh again.
			again := e.Login(t, users["1"], "laptop")
			if p, _ := e.Auth.Authenticate(bg, again.AccessToken, access); !p.Fresh {
				t.Error("a new login is not fresh")
			}
		})
	}
}
