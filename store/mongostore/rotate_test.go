package mongostore

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestRotateCanceledMidFlight: rotations racing from one refresh hash
// while their contexts are canceled at random moments. At most one wins;
// a canceled one either wrote nothing or finished, so when none won the
// refresh hash still rotates afterwards: no claim is stranded.
func TestRotateCanceledMidFlight(t *testing.T) {
	s := newStore(t)
	const rounds, racers = 20, 16
	for round := range rounds {
		now := time.Now().Truncate(time.Millisecond)
		x := session("alice", now)
		if err := s.Create(context.Background(), x, 0); err != nil {
			t.Fatal(err)
		}
		rs := make([]store.Rotation, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			rs[i] = store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 2}
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(3000))*time.Microsecond)
			wg.Go(func() {
				defer cancel()
				errs[i] = s.Rotate(ctx, x.ID, rs[i], now)
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: racers %d and %d both won", round, winner, i)
			case err == nil:
				winner = i
			case errors.Is(err, store.ErrConflict), errors.Is(err, context.DeadlineExceeded):
			default:
				t.Fatalf("round %d: racer %d: %v", round, i, err)
			}
		}
		got, err := s.Get(context.Background(), x.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if winner >= 0 {
			if !bytes.Equal(got.RefreshHash, rs[winner].RefreshHash) {
				t.Fatalf("round %d: the winner's hash is not current", round)
			}
			continue
		}
		if !bytes.Equal(got.RefreshHash, x.RefreshHash) {
			t.Fatalf("round %d: no racer won, yet the refresh hash changed", round)
		}
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: hash(), IdleUntil: now.Add(time.Hour), KeepSpent: 2}
		if err := s.Rotate(context.Background(), x.ID, r, now); err != nil {
			t.Fatalf("round %d: no racer won, and rotating afterwards = %v: a claim was stranded", round, err)
		}
	}
}
