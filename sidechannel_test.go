package latch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch"
	"github.com/latchauth/latch/internal/srccheck"
	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/token"
)

// cost is the work one call did: constant-time comparisons of secrets,
// hashes of presented secrets, store reads, and the comparisons whose
// arguments differed in length. subtle.ConstantTimeCompare returns at once
// on a length mismatch, so such a comparison is no work at all: comparing
// a presented hash with a missing (nil) dummy hash would be one.
type cost struct {
	compares, hashes int64
	gets             int
	mismatched       int64
}

func measure(e *env, fn func()) cost {
	w0, g0 := latch.DoneWork(), e.Store.Calls().Get
	fn()
	w1, g1 := latch.DoneWork(), e.Store.Calls().Get
	return cost{w1.Compares - w0.Compares, w1.Hashes - w0.Hashes, g1 - g0, w1.Mismatched - w0.Mismatched}
}

// TestUnknownSessionCostsTheSame: a token naming a session that does not
// exist costs the same secret comparisons, hashes and store reads as one
// with a wrong secret, and as the right one, and every comparison is of
// two full-length hashes (a dummy one where the session has none), so
// latch's own work does not tell a live session id from a dead one. The
// store's read of a live and of a missing session may still differ in
// time; that is the store's. Counted, not timed: every comparison goes
// through secretCompare and every hash through hashSecret or parseOpaque.
func TestUnknownSessionCostsTheSame(t *testing.T) {
	const keepSpent = 3
	keep := func(c *latch.Config) { c.KeepSpent = keepSpent }

	t.Run("opaque-access", func(t *testing.T) {
		e := newEnv(t, latch.ModeOpaque, keep)
		tk := e.Login(t, users["1"], "a")
		want := cost{1, 1, 1, 0}
		for _, c := range []struct {
			name, tok string
			err       error
		}{
			{"unknown session", e.UnknownSession(t, tk.AccessToken), latch.ErrTokenRevoked},
			{"wrong secret", e.WrongSecret(t, tk.AccessToken), latch.ErrTokenRevoked},
			{"right token", tk.AccessToken, nil},
		} {
			var err error
			if got := measure(e, func() { _, err = e.Auth.Authenticate(bg, c.tok, access) }); got != want {
				t.Errorf("%s: cost %+v, want %+v", c.name, got, want)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			}
		}
	})

	for _, mode := range modes {
		t.Run("refresh-"+string(mode), func(t *testing.T) {
			e := newEnv(t, mode, keep)
			// Every refresh token is checked against the current hash and
			// keepSpent spent ones, real or dummy.
			want := cost{keepSpent + 1, 1, 1, 0}
			spent := e.Login(t, users["1"], "a")
			tk, err := e.Auth.Refresh(bg, spent.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(time.Minute) // past the reuse grace: a spent token is a replay
			type tc struct {
				name, tok string
				err       error
			}
			for _, c := range []tc{
				{"unknown session", e.UnknownSession(t, tk.RefreshToken), latch.ErrTokenRevoked},
				{"wrong secret", e.WrongSecret(t, tk.RefreshToken), latch.ErrTokenRevoked},
				{"right token", tk.RefreshToken, nil},
				{"spent token", spent.RefreshToken, latch.ErrRefreshReused}, // last: it revokes the session
			} {
				var err error
				if got := measure(e, func() { _, err = e.Auth.Authenticate(bg, c.tok, refresh) }); got != want {
					t.Errorf("Verify, %s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("Verify, %s: error %v, want %v", c.name, err, c.err)
				}
			}
			// Refresh spends the same work before it rotates.
			tk = e.Login(t, users["1"], "b")
			for _, c := range []tc{
				{"unknown session", e.UnknownSession(t, tk.RefreshToken), latch.ErrTokenRevoked},
				{"wrong secret", e.WrongSecret(t, tk.RefreshToken), latch.ErrTokenRevoked},
				{"right token", tk.RefreshToken, nil},
			} {
				var err error
				if got := measure(e, func() { _, err = e.Auth.Refresh(bg, c.tok) }); got != want {
					t.Errorf("Refresh, %s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("Refresh, %s: error %v, want %v", c.name, err, c.err)
				}
			}
		})
	}

	for _, mode := range []latch.Mode{latch.ModeJWT, latch.ModeHybrid} {
		t.Run("jwt-access-session-check-"+string(mode), func(t *testing.T) {
			// A JWT's session id is signed, so there is no secret to
			// compare: a known and an unknown session cost one store read
			// and nothing else.
			e := newEnv(t, mode, func(c *latch.Config) { c.SessionCheck = true })
			tk := e.Login(t, users["1"], "a")
			want := cost{0, 0, 1, 0}
			for _, c := range []struct {
				name, tok string
				err       error
			}{
				{"unknown session", e.ForgeJWT(t, tk.AccessToken, func(c *token.Claims) { c.SessionID = store.NewID() }), latch.ErrTokenRevoked},
				{"right token", tk.AccessToken, nil},
			} {
				var err error
				if got := measure(e, func() { _, err = e.Auth.Authenticate(bg, c.tok, access) }); got != want {
					t.Errorf("%s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("%s: error %v, want %v", c.name, err, c.err)
				}
			}
		})
	}
}

// TestSecretComparisonsAreConstantTime: the one comparison function is
// subtle.ConstantTimeCompare, and the package's code compares nothing with
// bytes.Equal, hmac.Equal or a second crypto/subtle call beside it.
func TestSecretComparisonsAreConstantTime(t *testing.T) {
	if !latch.CompareIsConstantTime {
		t.Error("secretCompare is not subtle.ConstantTimeCompare")
	}
	if n := srccheck.SubtleUses(t, "."); n != 1 {
		t.Errorf("crypto/subtle is used %d times; every comparison should go through secretCompare", n)
	}
}

// TestSpentHashesBeyondKeepSpent: a session whose store holds more spent
// refresh hashes than KeepSpent now allows (KeepSpent was lowered since)
// costs exactly KeepSpent+1 comparisons, like an unknown session, and
// the spent hashes past KeepSpent are not compared at all: replaying the
// oldest spent token is no reuse, just an unknown secret, and the session
// lives on.
func TestSpentHashesBeyondKeepSpent(t *testing.T) {
	const before, after = 5, 2
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, func(c *latch.Config) { c.KeepSpent = before })
			tokens := []*latch.Tokens{e.Login(t, users["1"], "a")}
			for range before {
				tk, err := e.Auth.Refresh(bg, tokens[len(tokens)-1].RefreshToken)
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, tk)
			}
			oldest, newest, current := tokens[0], tokens[len(tokens)-2], tokens[len(tokens)-1]
			s, err := e.Store.Get(bg, current.SessionID, e.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Spent) != before {
				t.Fatalf("the store holds %d spent hashes, want %d", len(s.Spent), before)
			}

			// The same store, KeepSpent lowered.
			cfg := e.Auth.Config()
			cfg.KeepSpent = after
			cfg.JWT.Secret = "" // the keyring holds the key
			a, err := latch.New(bg, cfg, latch.WithStore(e.Store), latch.WithClock(e.Clock.Now), latch.WithKeyring(e.Auth.Keyring()))
			if err != nil {
				t.Fatal(err)
			}
			e.Clock.Add(time.Minute) // past the reuse grace: a spent token is a replay

			want := cost{after + 1, 1, 1, 0}
			writes := e.Store.Calls().Writes()
			for _, c := range []struct {
				name, tok string
				err       error
			}{
				{"unknown session", e.UnknownSession(t, current.RefreshToken), latch.ErrTokenRevoked},
				{"wrong secret", e.WrongSecret(t, current.RefreshToken), latch.ErrTokenRevoked},
				{"right token", current.RefreshToken, nil},
				{"oldest spent token", oldest.RefreshToken, latch.ErrTokenRevoked},
			} {
				var err error
				if got := measure(e, func() { _, err = a.Authenticate(bg, c.tok, refresh) }); got != want {
					t.Errorf("Verify, %s: cost %+v, want %+v", c.name, got, want)
				}
				if !errors.Is(err, c.err) || errors.Is(err, latch.ErrRefreshReused) {
					t.Errorf("Verify, %s: error %v, want %v", c.name, err, c.err)
				}
			}
			// Refresh with the oldest spent token: the answer an unknown
			// secret gets, nothing written, no reuse detected.
			var err2 error
			if got := measure(e, func() { _, err2 = a.Refresh(bg, oldest.RefreshToken) }); got != want {
				t.Errorf("Refresh, oldest spent token: cost %+v, want %+v", got, want)
			}
			if !errors.Is(err2, latch.ErrTokenRevoked) || errors.Is(err2, latch.ErrRefreshReused) {
				t.Errorf("Refresh, oldest spent token: %v, want ErrTokenRevoked without reuse", err2)
			}
			if n := e.Store.Calls().Writes(); n != writes {
				t.Errorf("replaying the oldest spent token wrote to the store %d times", n-writes)
			}
			if _, err := a.Authenticate(bg, current.RefreshToken, refresh); err != nil {
				t.Errorf("after replaying the oldest spent token, the session ended: %v", err)
			}
			// A spent token KeepSpent still covers is reuse: it ends the
			// session, at the same cost.
			var err3 error
			if got := measure(e, func() { _, err3 = a.Authenticate(bg, newest.RefreshToken, refresh) }); got != want {
				t.Errorf("Verify, newest spent token: cost %+v, want %+v", got, want)
			}
			if !errors.Is(err3, latch.ErrRefreshReused) {
				t.Errorf("Verify, newest spent token: %v, want ErrRefreshReused", err3)
			}
			if _, err := a.Authenticate(bg, current.RefreshToken, refresh); !errors.Is(err, latch.ErrTokenRevoked) {
				t.Errorf("after reuse, the current token: %v, want ErrTokenRevoked", err)
			}
		})
	}
}

// TestNoParallelTests: no test of this package calls t.Parallel. The
// work counters of export_test.go are global, and a test reads them as
// the work of its own call; a test running beside it would add to them.
func TestNoParallelTests(t *testing.T) { srccheck.NoParallel(t, ".") }
