package latch_test

// The counterexamples Spin reports for the broken variants of the refresh
// model (docs/model/refresh.pml), each replayed against the real Auth and
// held to what the correct protocol does. The trace above each test is the
// one kept in docs/model/traces, whose first line names the test; .ci/spin
// fails when a trace changes. A model tick is tick below: the grace is two.

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/opaque"
)

// tick is one clock tick of the model, whose grace G is 2 ticks.
const tick = latch.DefaultReuseGrace / 2

// refreshSecret returns what identifies a refresh token's secret: the
// hash of an opaque one, the jti of a JWT (whose iat differs between two
// replies carrying the same secret).
func refreshSecret(t *testing.T, tok string) string {
	t.Helper()
	if opaque.Is(tok) {
		_, hash, err := opaque.Parse(tok, opaque.PrefixRefresh)
		if err != nil {
			t.Fatalf("refresh token does not parse: %v", err)
		}
		return hex.EncodeToString(hash)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatal("refresh token is neither opaque nor a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		ID string `json:"jti"`
	}
	if err == nil {
		err = json.Unmarshal(payload, &c)
	}
	if err != nil || c.ID == "" {
		t.Fatalf("refresh JWT without a jti: %v", err)
	}
	return c.ID
}

// sameSecret fails t unless a and b carry the same refresh secret.
func sameSecret(t *testing.T, what string, a, b *latch.Tokens) {
	t.Helper()
	if a == nil || b == nil {
		t.Fatalf("%s: missing tokens", what)
	}
	if refreshSecret(t, a.RefreshToken) != refreshSecret(t, b.RefreshToken) {
		t.Errorf("%s: a different refresh secret, a second lineage", what)
	}
}

// hook is a user loader that calls on, once armed, at its first call
// (inside Refresh, between reading the session and rotating it).
type hook struct {
	armed atomic.Bool
	calls atomic.Int32
	on    func(ctx context.Context, p *latch.Principal, call int32)
}

func (h *hook) option() latch.Option {
	return latch.WithUserLoader(func(ctx context.Context, p *latch.Principal) (*user, error) {
		if h.armed.Load() {
			h.on(ctx, p, h.calls.Add(1))
		}
		return users[p.Subject], nil
	})
}

// wait fails t if ch is not closed within a few seconds.
func wait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// docs/model/traces/random-p1.txt (random successors fail p1):
//
//	tab1 presents t0 at 0
//	  tab1: rotated to t1
//	tab1: reply t1 lost
//	tab1 presents t0 at 0
//	  tab1: refused: spent inside the grace
//	tab0 presents t0 at 0
//	  tab0: refused: spent inside the grace
//
// With derived successors both presentations get t1 again, with no store
// write, and the client is not logged out.
func TestTraceLostReplyRetry(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			t0 := e.Login(t, users["1"], "browser")
			lost, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab1; the reply is lost
			if err != nil {
				t.Fatalf("tab1: %v", err)
			}
			writes := e.Store.Calls().Writes()
			retry, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab1 again, same instant
			if err != nil {
				t.Fatalf("tab1's retry inside the grace: %v, want the lost reply again", err)
			}
			sameSecret(t, "tab1's retry", lost, retry)
			other, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab0, same instant
			if err != nil {
				t.Fatalf("tab0 inside the grace: %v, want tab1's reply", err)
			}
			sameSecret(t, "tab0", lost, other)
			if n := e.Store.Calls().Writes() - writes; n != 0 {
				t.Errorf("the repeated replies wrote the store %d times, want 0", n)
			}
			// The client holds t1, and it lives on past the grace.
			e.Clock.Add(2 * tick)
			if _, err := e.Auth.Refresh(bg, retry.RefreshToken); err != nil {
				t.Fatalf("the client's t1 after the grace: %v", err)
			}
		})
	}
}

// docs/model/traces/conflict-p1.txt (answering a lost compare-and-swap as
// any spent token fails p1):
//
//	tab1 presents t0 at 0
//	tab0 presents t0 at 2
//	  tab1: rotated to t1
//	tab1 holds t1
//	  tab0: Rotate: conflict
//	  tab0: spent after the grace: revoked
//
// tab0 read t0 while it was current: it lost a race, which never revokes.
// The user loader holds tab1 between its read and its Rotate.
func TestTraceSlowWinnerConflict(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			inside, release, winnerDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
			var once sync.Once
			let := func() { once.Do(func() { close(release) }) }
			h := &hook{on: func(_ context.Context, _ *latch.Principal, call int32) {
				switch call {
				case 1: // tab1, read at 0
					close(inside)
					<-release
				case 2: // tab0, read at 2: let tab1 rotate first
					let()
					<-winnerDone
				}
			}}
			e := newEnv(t, mode, nil, h.option())
			t0 := e.Login(t, users["1"], "browser")
			h.armed.Store(true)
			var won *latch.Tokens
			var wonErr error
			go func() {
				defer close(winnerDone)
				won, wonErr = e.Auth.Refresh(bg, t0.RefreshToken) // tab1
			}()
			wait(t, inside, "tab1 to read the session")
			e.Clock.Add(2 * tick)
			_, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab0
			// In case tab0 was refused before the loader ran.
			let()
			wait(t, winnerDone, "tab1's refresh")
			if wonErr != nil {
				t.Fatalf("tab1: %v", wonErr)
			}
			if errors.Is(err, latch.ErrRefreshReused) || !errors.Is(err, latch.ErrRefreshRace) {
				t.Errorf("tab0, which lost the race: %v, want ErrRefreshRace and the session alive", err)
			}
			h.armed.Store(false)
			if _, err := e.Auth.Refresh(bg, won.RefreshToken); err != nil {
				t.Fatalf("tab1's t1 after tab0 lost the race: %v", err)
			}
		})
	}
}

// docs/model/traces/nograce-p2.txt (a retry that ignores the grace fails
// p2):
//
//	tab1 presents t0 at 0
//	  tab1: rotated to t1
//	tab0 presents t0 at 2
//	  tab0: t1 again (no write)
//
// After the grace a spent t0 is reuse: the session is revoked and t1 dies
// with it.
func TestTraceSpentAfterGrace(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			t0 := e.Login(t, users["1"], "browser")
			t1, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab1
			if err != nil {
				t.Fatalf("tab1: %v", err)
			}
			e.Clock.Add(2 * tick)
			got, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab0, after the grace
			if got != nil || !errors.Is(err, latch.ErrRefreshReused) {
				t.Fatalf("t0 after the grace: %v (tokens %v), want ErrRefreshReused and none", err, got != nil)
			}
			if !e.HasEvent(latch.EventReuse) {
				t.Error("no refresh_reuse event")
			}
			if _, err := e.Auth.Refresh(bg, t1.RefreshToken); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("t1 after reuse detection: %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// docs/model/traces/revoke-p3.txt (a Rotate that ignores revocation fails
// p3):
//
//	tab1 presents t0 at 0
//	revoked at 0
//	  tab1: rotated to t1
//
// A logout between the refresh's read and its Rotate wins: no tokens,
// then or later.
func TestTraceRevokedDuringRefresh(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			var e *env
			h := &hook{on: func(ctx context.Context, p *latch.Principal, call int32) {
				if call == 1 {
					if err := e.Auth.Logout(ctx, p); err != nil {
						t.Errorf("Logout: %v", err)
					}
				}
			}}
			e = newEnv(t, mode, nil, h.option())
			t0 := e.Login(t, users["1"], "browser")
			h.armed.Store(true)
			got, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab1; logged out meanwhile
			if got != nil || !errors.Is(err, latch.ErrTokenRevoked) {
				t.Fatalf("refresh revoked before its Rotate: %v (tokens %v), want ErrTokenRevoked and none", err, got != nil)
			}
			for _, d := range []time.Duration{0, 2 * tick} {
				e.Clock.Add(d)
				if got, err := e.Auth.Refresh(bg, t0.RefreshToken); got != nil || !errors.Is(err, latch.ErrTokenRevoked) {
					t.Errorf("t0 of the revoked session, %v later: %v (tokens %v), want ErrTokenRevoked", d, err, got != nil)
				}
			}
		})
	}
}

// docs/model/traces/child-p4.txt (a new child per presentation fails p4):
//
//	tab1 presents t0 at 0
//	  tab1: rotated to t1
//	tab0 presents t0 at 1
//	  tab0: new child t2
//
// tab0 gets t1 as well, with no store write: after the grace one lineage
// is live, and it is the one both tabs hold.
func TestTraceLateTabInsideGrace(t *testing.T) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, nil)
			t0 := e.Login(t, users["1"], "browser")
			t1, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab1
			if err != nil {
				t.Fatalf("tab1: %v", err)
			}
			e.Clock.Add(tick)
			writes := e.Store.Calls().Writes()
			late, err := e.Auth.Refresh(bg, t0.RefreshToken) // tab0, inside the grace
			if err != nil {
				t.Fatalf("tab0 inside the grace: %v, want tab1's successor", err)
			}
			sameSecret(t, "tab0", t1, late)
			if n := e.Store.Calls().Writes() - writes; n != 0 {
				t.Errorf("tab0's repeated reply wrote the store %d times, want 0", n)
			}
			e.Clock.Add(2 * tick)
			if _, err := e.Auth.Refresh(bg, late.RefreshToken); err != nil {
				t.Fatalf("the one lineage after the grace: %v", err)
			}
		})
	}
}
