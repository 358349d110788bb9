package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

var rotateRules = []rule{
	{"rotate-replaces-hashes-and-remembers-spent", plain, rotateReplaces},
	{"rotate-wrong-hash-is-conflict", plain, rotateConflict},
	{"rotate-compare-and-swap-64-racers", plain, rotateRace},
	{"rotate-spent-hashes-bounded", plain, rotateSpentBounded},
	{"rotate-absent-is-not-found", plain, rotateAbsent},
	{"rotate-keeps-per-login-lifetimes", plain, rotateKeepsLifetimes},
}

// rotation returns the Rotation a refresh at now makes in opaque mode.
func rotation(old []byte, now time.Time, keep int) store.Rotation {
	return store.Rotation{
		Old:             old,
		RefreshHash:     randomHash(),
		SecretHash:      randomHash(),
		AccessExpiresAt: now.Add(15 * time.Minute),
		IdleUntil:       now.Add(time.Hour),
		KeepSpent:       keep,
	}
}

func rotateReplaces(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	id := h.create(t, s, 0)
	other := newSession("alice", start)
	h.create(t, other, 0)

	at := h.clock.Advance(10 * time.Minute)
	r := rotation(bytes.Clone(s.RefreshHash), at, 5)
	if err := h.s.Rotate(h.ctx, id, r, at); err != nil {
		t.Fatalf("Rotate with the current hash: %v", err)
	}
	want := *s
	want.ID = id
	want.RefreshHash, want.SecretHash = r.RefreshHash, r.SecretHash
	want.AccessExpiresAt, want.IdleUntil = r.AccessExpiresAt, r.IdleUntil
	want.FreshUntil = time.Time{}
	want.LastUsedAt, want.RotatedAt = at, at
	want.Spent = [][]byte{s.RefreshHash}
	sameSession(t, "Get after Rotate", h.get(t, id, at), &want)

	// JWT modes rotate without an access secret.
	at = h.clock.Advance(time.Minute)
	r2 := store.Rotation{Old: r.RefreshHash, RefreshHash: randomHash(), IdleUntil: at.Add(time.Hour), KeepSpent: 5}
	if err := h.s.Rotate(h.ctx, id, r2, at); err != nil {
		t.Fatalf("second Rotate: %v", err)
	}
	want.RefreshHash, want.SecretHash = r2.RefreshHash, nil
	want.AccessExpiresAt, want.IdleUntil = time.Time{}, r2.IdleUntil
	want.LastUsedAt, want.RotatedAt = at, at
	want.Spent = [][]byte{r.RefreshHash, s.RefreshHash}
	sameSession(t, "Get after a second Rotate without an access secret", h.get(t, id, at), &want)

	// The other session of the subject is untouched.
	got := h.get(t, other.ID, at)
	sameBytes(t, "another session's RefreshHash", got.RefreshHash, other.RefreshHash)
	if len(got.Spent) != 0 {
		t.Errorf("another session has %d spent hashes, want 0", len(got.Spent))
	}
}

func rotateConflict(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	id := h.create(t, s, 0)
	other := newSession("bob", start)
	h.create(t, other, 0)
	at := h.clock.Advance(time.Minute)
	r := rotation(s.RefreshHash, at, 5)
	if err := h.s.Rotate(h.ctx, id, r, at); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	after := h.get(t, id, at)

	at = h.clock.Advance(time.Minute)
	for _, c := range []struct {
		name string
		old  []byte
	}{
		{"a spent hash", s.RefreshHash},
		{"a random hash", randomHash()},
		{"another session's hash", other.RefreshHash},
		{"the access hash", r.SecretHash},
		{"an empty hash", nil},
		{"a prefix of the current hash", r.RefreshHash[:16]},
	} {
		if err := h.s.Rotate(h.ctx, id, rotation(c.old, at, 5), at); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Rotate with %s = %v, want store.ErrConflict", c.name, err)
		}
	}
	sameSession(t, "Get after refused Rotates", h.get(t, id, at), after)
}

// rotateRace: 64 goroutines refresh with the same token at once; exactly
// one may win, or a stolen refresh token could fork a session. Each round
// races on a session of its own, as many rounds as race rules run.
func rotateRace(t *testing.T, h *harness) {
	const racers = 64
	start := h.clock.Now()
	at := start.Add(time.Minute)
	rounds(t, 1, func(round int) bool {
		s := newSession("alice", start)
		id := h.create(t, s, 0)
		rs := make([]store.Rotation, racers)
		errs := make([]error, racers)
		stale := make([]bool, racers) // a loser read the hash it lost on still current
		spans := make([]span, racers)
		for i := range rs {
			rs[i] = rotation(bytes.Clone(s.RefreshHash), at, 5)
		}
		var wg sync.WaitGroup
		begin := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-begin
				spans[i] = timed(func() { errs[i] = h.s.Rotate(h.ctx, id, rs[i], at) })
				if errors.Is(errs[i], store.ErrConflict) {
					got, err := h.s.Get(h.ctx, id, at)
					stale[i] = err == nil && bytes.Equal(got.RefreshHash, s.RefreshHash)
				}
			})
		}
		close(begin)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: racers %d and %d both won the rotation from one refresh hash", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("round %d: racer %d: Rotate = %v, want nil or store.ErrConflict", round, i, err)
			case stale[i]:
				t.Errorf("round %d: racer %d got store.ErrConflict before the winning rotation could be read: Get still shows the hash it lost on", round, i)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no racer won the rotation", round)
		}
		got := h.get(t, id, at)
		sameBytes(t, "RefreshHash after the race", got.RefreshHash, rs[winner].RefreshHash)
		sameBytes(t, "SecretHash after the race", got.SecretHash, rs[winner].SecretHash)
		if len(got.Spent) != 1 || !bytes.Equal(got.Spent[0], s.RefreshHash) {
			t.Errorf("round %d: Spent after the race holds %d hashes, want exactly the one raced from", round, len(got.Spent))
		}
		return together(spans)
	})
}

func rotateSpentBounded(t *testing.T, h *harness) {
	for _, keep := range []int{3, 1, 0} {
		s := newSession("alice", h.clock.Now())
		id := h.create(t, s, 0)
		hashes := [][]byte{s.RefreshHash}
		for range 8 {
			at := h.clock.Advance(time.Second)
			r := rotation(hashes[len(hashes)-1], at, keep)
			if err := h.s.Rotate(h.ctx, id, r, at); err != nil {
				t.Fatalf("Rotate (KeepSpent %d): %v", keep, err)
			}
			hashes = append(hashes, r.RefreshHash)
		}
		got := h.get(t, id, h.clock.Now())
		sameBytes(t, "RefreshHash after 8 rotations", got.RefreshHash, hashes[8])
		if len(got.Spent) != keep {
			t.Errorf("KeepSpent %d: %d spent hashes after 8 rotations, want %d", keep, len(got.Spent), keep)
			continue
		}
		for i := range keep { // newest first
			if !bytes.Equal(got.Spent[i], hashes[7-i]) {
				t.Errorf("KeepSpent %d: Spent[%d] is not the hash spent %d rotation(s) ago", keep, i, i+1)
			}
		}
		if keep != 3 {
			continue
		}
		// A lower bound on the next rotation trims what is kept.
		at := h.clock.Advance(time.Second)
		if err := h.s.Rotate(h.ctx, id, rotation(hashes[8], at, 1), at); err != nil {
			t.Fatalf("Rotate with KeepSpent lowered to 1: %v", err)
		}
		got = h.get(t, id, at)
		if len(got.Spent) != 1 || !bytes.Equal(got.Spent[0], hashes[8]) {
			t.Errorf("KeepSpent lowered from 3 to 1: %d spent hashes, want only the one just spent", len(got.Spent))
		}
	}
}

func rotateAbsent(t *testing.T, h *harness) {
	now := h.clock.Now()
	for _, id := range []string{store.NewID(), "", "not an id"} {
		if err := h.s.Rotate(h.ctx, id, rotation(randomHash(), now, 5), now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Rotate(%q) of an absent session = %v, want store.ErrNotFound", id, err)
		}
	}
	s := newSession("alice", now)
	id := h.create(t, s, 0)
	if err := h.s.Revoke(h.ctx, "alice", id); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := h.s.Rotate(h.ctx, id, rotation(s.RefreshHash, now, 5), now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Rotate of a revoked session with its current hash = %v, want store.ErrNotFound", err)
	}
	h.absent(t, id, now, "a revoked session after Rotate")
}

// rotateKeepsLifetimes: what a login chose for itself outlives its
// refreshes. Rotate and Touch keep IdleTimeout, Actor, CreatedAt and
// ExpiresAt, and a Touch after a Rotate still honours IdleTimeout.
func rotateKeepsLifetimes(t *testing.T, h *harness) {
	start := h.clock.Now()
	s := newSession("alice", start)
	s.IdleTimeout = 10 * time.Minute
	s.IdleUntil = start.Add(10 * time.Minute)
	s.ExpiresAt = start.Add(2 * time.Hour)
	s.Actor = &store.Actor{Subject: "support:bob", SessionID: store.NewID()}
	id := h.create(t, s, 0)
	want := *s
	want.ID = id

	hash := s.RefreshHash
	for i := range 3 {
		at := h.clock.Advance(5 * time.Minute)
		r := rotation(hash, at, 5)
		r.IdleUntil = at.Add(s.IdleTimeout)
		if err := h.s.Rotate(h.ctx, id, r, at); err != nil {
			t.Fatalf("Rotate #%d: %v", i+1, err)
		}
		hash = r.RefreshHash
		at = h.clock.Advance(2 * time.Minute)
		if err := h.s.Touch(h.ctx, id, at, time.Hour, 0); err != nil {
			t.Fatalf("Touch after Rotate #%d: %v", i+1, err)
		}
		got := h.get(t, id, at)
		what := fmt.Sprintf("after Rotate #%d and a Touch", i+1)
		if got.IdleTimeout != want.IdleTimeout {
			t.Errorf("%s: IdleTimeout = %s, want %s", what, got.IdleTimeout, want.IdleTimeout)
		}
		sameActor(t, what, got.Actor, want.Actor)
		sameTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
		sameTime(t, what+": ExpiresAt", got.ExpiresAt, want.ExpiresAt)
		sameTime(t, what+": IdleUntil (a Touch of idle 1h under an IdleTimeout of 10m)", got.IdleUntil, at.Add(s.IdleTimeout))
	}
}
