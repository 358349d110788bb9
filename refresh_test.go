package latch_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
	"github.com/latchauth/latch/store"
)

func TestRefreshRotationAndReuse(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			tk := e.Login(t, users["1"], "laptop")
			other := e.Login(t, users["1"], "phone")
			e.Clock.Add(time.Minute)
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if next.RefreshToken == tk.RefreshToken || next.AccessToken == tk.AccessToken || next.SessionID != tk.SessionID {
				t.Fatalf("refresh did not rotate: %+v", next)
			}
			if mode == latch.ModeOpaque {
				// The old opaque access secret was replaced.
				if _, err := e.Auth.Authenticate(bg, tk.AccessToken, access); !errors.Is(err, latch.ErrInvalidToken) {
					t.Errorf("old access token after refresh: %v", err)
				}
			}
			// Inside the grace window the spent token is a retry, or a
			// concurrent refresh that lost: it gets the same tokens again,
			// and nothing is written.
			writes := e.Store.Calls().Writes()
			again, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatalf("spent token inside grace: %v, want the same tokens again", err)
			}
			if again.RefreshToken != next.RefreshToken || again.SessionID != next.SessionID ||
				(mode == latch.ModeOpaque && again.AccessToken != next.AccessToken) {
				t.Errorf("a retry inside the grace got other tokens:\n%+v\nwant\n%+v", again, next)
			}
			if n := e.Store.Calls().Writes() - writes; n != 0 {
				t.Errorf("a retry inside the grace wrote %d times, want 0", n)
			}
			for _, tok := range []string{next.AccessToken, again.AccessToken} {
				if _, err := e.Auth.Authenticate(bg, tok, access); err != nil {
					t.Fatalf("session died inside the grace window: %v", err)
				}
			}
			// Later, the spent token is a replay: the session is revoked.
			e.Clock.Add(10 * time.Second)
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrRefreshReused) {
				t.Fatalf("replayed token: %v, want ErrRefreshReused", err)
			}
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, access); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("access after reuse detection: %v, want ErrTokenRevoked", err)
			}
			if _, err := e.Auth.Refresh(bg, next.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("current refresh after reuse detection: %v, want ErrTokenRevoked", err)
			}
			// The user's other device is untouched.
			if _, err := e.Auth.Authenticate(bg, other.AccessToken, access); err != nil {
				t.Errorf("other device after reuse detection: %v", err)
			}
			if !e.HasEvent(latch.EventReuse) {
				t.Error("no refresh_reuse event")
			}
		})
	}
}

func TestForgedRefreshChangesNothing(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			var forged string
			if mode == latch.ModeJWT {
				// A correctly signed refresh token naming the session but
				// carrying a secret that was never issued (a key holder's
				// forgery): still only invalid.
				forged = e.SignRefresh(t, tk.SessionID, "1")
			} else {
				secret, _ := opaque.NewSecret()
				forged = opaque.Format(opaque.PrefixRefresh, tk.SessionID, secret)
			}
			before := e.Store.Calls().Writes()
			// The answer is the one an unknown session gets (no liveness
			// oracle), and it is not reuse detection.
			_, err := e.Auth.Refresh(bg, forged)
			if !errors.Is(err, latch.ErrTokenRevoked) || errors.Is(err, latch.ErrRefreshReused) {
				t.Fatalf("forged refresh: %v, want ErrTokenRevoked without reuse", err)
			}
			var unknownTok string
			if mode == latch.ModeJWT {
				unknownTok = e.SignRefresh(t, store.NewID(), "1")
			} else {
				secret, _ := opaque.NewSecret()
				unknownTok = opaque.Format(opaque.PrefixRefresh, store.NewID(), secret)
			}
			_, unknown := e.Auth.Refresh(bg, unknownTok)
			if latch.PublicMessage(err) != latch.PublicMessage(unknown) {
				t.Errorf("wrong secret answers %q, unknown session %q: an oracle", latch.PublicMessage(err), latch.PublicMessage(unknown))
			}
			if e.Store.Calls().Writes() != before {
				t.Error("a forged refresh token wrote to the store")
			}
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
				t.Errorf("real refresh after forgery: %v", err)
			}
		})
	}
}

// TestConcurrentRefreshAllGetOneAnswer: of 50 refreshes racing with one
// token, one rotates and every other gets its answer: the same refresh
// token, and access tokens that work. The session rotated once.
func TestConcurrentRefreshAllGetOneAnswer(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			const n = 50
			var wg sync.WaitGroup
			results := make([]*latch.Tokens, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { results[i], errs[i] = e.Auth.Refresh(bg, tk.RefreshToken) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("refresh %d of %d: %v", i, n, err)
				}
				if results[i].RefreshToken != results[0].RefreshToken {
					t.Fatalf("refresh %d got another refresh token than refresh 0", i)
				}
				if _, err := e.Auth.Authenticate(bg, results[i].AccessToken, access); err != nil {
					t.Fatalf("access token of refresh %d: %v", i, err)
				}
			}
			s, err := e.Store.Get(bg, tk.SessionID, e.Clock.Now())
			if err != nil || len(s.Spent) != 1 {
				t.Fatalf("after the race the session holds %d spent hashes (%v), want 1: one rotation", len(s.Spent), err)
			}
			if _, err := e.Auth.Refresh(bg, results[0].RefreshToken); err != nil {
				t.Errorf("the session did not survive the race: %v", err)
			}
		})
	}
}

// TestRefreshRetryAcrossSessionKeys: a refresh retried on an instance
// whose session key has replaced the one that derived its answer gets the
// same answer while the old key is among PreviousSessionKeys, and
// ErrRefreshRace (the session lives on) once it is gone.
func TestRefreshRetryAcrossSessionKeys(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			next, err := e.Auth.Refresh(bg, tk.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			other := func(previous ...latch.Secret) *latch.Auth {
				cfg := e.Auth.Config()
				cfg.SessionKey, cfg.PreviousSessionKeys = "VCeNMHeMu0RMIkuQab1Xbl6sjlS/fgC0uaXp5nK0830=", previous
				a, err := latch.New(bg, cfg, latch.WithStore(e.Store), latch.WithClock(e.Clock.Now))
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			again, err := other(sessionKey).Refresh(bg, tk.RefreshToken)
			if err != nil || again.RefreshToken != next.RefreshToken {
				t.Fatalf("retry with the old key among the previous ones: %v, same token %v", err, err == nil && again.RefreshToken == next.RefreshToken)
			}
			if _, err := other().Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrRefreshRace) {
				t.Fatalf("retry without the old key: %v, want ErrRefreshRace", err)
			}
			if _, err := other().Refresh(bg, next.RefreshToken); err != nil {
				t.Fatalf("the session did not survive: %v", err)
			}
		})
	}
}

// Browsers restoring many tabs refresh with one token several times within
// moments; none of that is a replay.
func TestRefreshStormInsideGraceIsNotReuse(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			a := e.Login(t, users["1"], "browser")
			e.Clock.Add(time.Minute)
			b, err := e.Auth.Refresh(bg, a.RefreshToken) // tab 1
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(300 * time.Millisecond)
			c, err := e.Auth.Refresh(bg, b.RefreshToken) // tab 3, already holding B
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(300 * time.Millisecond)
			if _, err := e.Auth.Refresh(bg, a.RefreshToken); !errors.Is(err, latch.ErrRefreshRace) { // tab 2, late with A
				t.Fatalf("late tab: %v, want ErrRefreshRace", err)
			}
			if _, err := e.Auth.Refresh(bg, c.RefreshToken); err != nil {
				t.Fatalf("session did not survive the tab storm: %v", err)
			}
		})
	}
}

// TestRefreshRunsTheUserLoader: Refresh asks the user loader, with the
// refresh token's principal (Type Refresh, never Fresh). A user it no
// longer finds (a nil user, or ErrUserNotFound) gets ErrUserNotFound, whose
// public message is "Error loading the user <sub>", and the session is
// left as it was: nothing is rotated, however often it is tried. Any other
// loader error is ErrUnavailable, wrapping the loader's.
func TestRefreshRunsTheUserLoader(t *testing.T) {
	errDB := errors.New("test: user database down")
	for _, c := range []struct {
		name string
		user *user
		err  error
		want error
		msg  string // latch.PublicMessage
	}{
		{"nil user", nil, nil, latch.ErrUserNotFound, "Error loading the user 1"},
		{"ErrUserNotFound", nil, fmt.Errorf("test: no such user: %w", latch.ErrUserNotFound), latch.ErrUserNotFound, "Error loading the user 1"},
		{"other error", nil, errDB, latch.ErrUnavailable, "Service temporarily unavailable"},
	} {
		for _, mode := range modes {
			t.Run(c.name+"/"+string(mode), func(t *testing.T) {
				var found bool // the loader's answer: users["1"] when true, else c's
				var seen []latch.Principal
				e := newEnv(t, mode, nil, latch.WithUserLoader(func(_ context.Context, p *latch.Principal) (*user, error) {
					seen = append(seen, *p)
					if found {
						return users["1"], nil
					}
					return c.user, c.err
				}))
				found = true
				tk := e.Login(t, users["1"], "laptop")
				found = false
				writes := e.Store.Calls().Writes()

				for range 2 {
					_, err := e.Auth.Refresh(bg, tk.RefreshToken)
					if !errors.Is(err, c.want) || latch.PublicMessage(err) != c.msg {
						t.Errorf("Refresh: %v (%q), want %v (%q)", err, latch.PublicMessage(err), c.want, c.msg)
					}
					if c.want == latch.ErrUnavailable && !errors.Is(err, errDB) {
						t.Errorf("Refresh: %v, want it to wrap the loader's error", err)
					}
				}
				var failures int
				for _, ev := range e.Events() {
					if ev.Kind == latch.EventFailure {
						failures++
						if !errors.Is(ev.Err, c.want) || ev.SessionID != tk.SessionID || ev.Subject != "1" {
							t.Errorf("failure event %+v, want %v for session %s of 1", ev, c.want, tk.SessionID)
						}
					}
				}
				if failures != 2 || e.HasEvent(latch.EventRefresh) {
					t.Errorf("%d failure events and a refresh event %v for two refused refreshes, want 2 and none", failures, e.HasEvent(latch.EventRefresh))
				}
				if n := e.Store.Calls().Writes(); n != writes {
					t.Errorf("the store was written %d times; a refused user's session must not rotate", n-writes)
				}
				if len(seen) != 2 {
					t.Fatalf("the loader ran %d times for two refreshes, want 2", len(seen))
				}
				for _, p := range seen {
					if p.Type != latch.Refresh || p.Fresh || p.Subject != "1" || p.SessionID != tk.SessionID {
						t.Errorf("the loader got %+v, want a non-fresh refresh principal of session %s", p, tk.SessionID)
					}
				}
				// The session was left as it was: its refresh token still works.
				found = true
				if _, err := e.Auth.Refresh(bg, tk.RefreshToken); err != nil {
					t.Errorf("Refresh once the loader finds the user again: %v", err)
				}
			})
		}
	}
}
