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
			// Inside the grace window a spent token is a lost race: 401,
			// and the session lives on.
			if _, err := e.Auth.Refresh(bg, tk.RefreshToken); !errors.Is(err, latch.ErrRefreshRace) {
				t.Errorf("spent token inside grace: %v, want ErrRefreshRace", err)
			}
			if _, err := e.Auth.Authenticate(bg, next.AccessToken, access); err != nil {
				t.Fatalf("session died inside the grace window: %v", err)
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

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			tk := e.Login(t, users["1"], "laptop")
			const n = 32
			var wg sync.WaitGroup
			results := make([]*latch.Tokens, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { results[i], errs[i] = e.Auth.Refresh(bg, tk.RefreshToken) })
			}
			wg.Wait()
			wins := 0
			var winner *latch.Tokens
			for i, err := range errs {
				switch {
				case err == nil:
					wins++
					winner = results[i]
				case !errors.Is(err, latch.ErrRefreshRace):
					t.Errorf("loser got %v, want ErrRefreshRace", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d refreshes won, want exactly 1", wins)
			}
			if _, err := e.Auth.Refresh(bg, winner.RefreshToken); err != nil {
				t.Errorf("the session did not survive the race: %v", err)
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
