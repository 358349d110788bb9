package sqlstore

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestRotateRaceStrictIsolation: on a server whose default isolation is
// SERIALIZABLE, PostgreSQL fails the losers of a concurrent UPDATE with
// 40001 rather than re-checking their condition; they must still read as
// store.ErrConflict, and one racer must win. (The conformance suite runs
// the same race at the default READ COMMITTED.)
func TestRotateRaceStrictIsolation(t *testing.T) {
	for _, level := range []string{"serializable", "repeatable read"} {
		t.Run(level, func(t *testing.T) {
			b := backends[0] // postgres
			u, err := url.Parse(b.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("default_transaction_isolation", level)
			u.RawQuery = q.Encode()
			s := newStore(t, openDSN(t, b, u.String()))
			rotationRace(t, s)
		})
	}
}

func rotationRace(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now().Truncate(time.Millisecond)
	x := &store.Session{Subject: "alice", RefreshHash: []byte("old"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
	if err := s.Create(ctx, x, 0); err != nil {
		t.Fatal(err)
	}
	const racers = 64
	errs := make([]error, racers)
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range racers {
		wg.Go(func() {
			<-begin
			r := store.Rotation{Old: []byte("old"), RefreshHash: []byte{byte(i)}, IdleUntil: now.Add(time.Hour), KeepSpent: 2}
			errs[i] = s.Rotate(ctx, x.ID, r, now)
		})
	}
	close(begin)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racer %d: %v, want nil or store.ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d racers won, want exactly 1", won)
	}
}
