package mongostore

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/internal/lifecycle"
)

// seedSweep creates, at base, sessions that expire at base+1h with their
// activity and claims, and live ones, and returns how many documents each
// group holds.
func seedSweep(t *testing.T, s *Store, base time.Time) (live, dead int) {
	t.Helper()
	ctx := context.Background()
	add := func(exp time.Duration) int {
		x := session("alice", base)
		x.ExpiresAt = base.Add(exp)
		if err := s.Create(ctx, x, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Touch(ctx, x.ID, base.Add(time.Second), time.Minute, 0); err != nil {
			t.Fatal(err)
		}
		r := store.Rotation{Old: x.RefreshHash, RefreshHash: make([]byte, 32), IdleUntil: base.Add(time.Minute), KeepSpent: 1}
		if err := s.Rotate(ctx, x.ID, r, base.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		return 3 // session, activity, claim
	}
	for range 4 {
		dead += add(time.Hour)
	}
	for range 3 {
		live += add(24 * time.Hour)
	}
	// A revoked session's leftover activity (a Touch that raced the
	// revocation) expires with the session.
	insertRaw(t, s, doc{ID: activityID(store.NewID()), Kind: kindActivity, Subject: "bob", ExpireAt: date(base.Add(time.Hour))})
	// The rotations' reports expire by the clock, not by base:
	// TestWatchReportsCleaned sweeps them.
	if _, err := s.changes.DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	return live, dead + 1
}

func TestSweep(t *testing.T) {
	ctx := context.Background()

	t.Run("deletes-expired-documents", func(t *testing.T) {
		s := newStore(t)
		base := time.Now().Truncate(time.Millisecond)
		live, dead := seedSweep(t, s, base)
		n, err := s.Sweep(ctx, base.Add(2*time.Hour))
		if err != nil || n != dead {
			t.Fatalf("Sweep = %d, %v; want %d, nil", n, err, dead)
		}
		if got := count(t, s.c, bson.D{}); got != live {
			t.Errorf("%d documents after Sweep, want %d", got, live)
		}
		if n, err := s.Sweep(ctx, base.Add(2*time.Hour)); err != nil || n != 0 {
			t.Errorf("second Sweep = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("grace", func(t *testing.T) {
		s := newStore(t)
		base := time.Now().Truncate(time.Millisecond)
		_, dead := seedSweep(t, s, base)
		// Expired a minute ago: within the grace.
		if n, err := s.Sweep(ctx, base.Add(time.Hour+time.Minute)); err != nil || n != 0 {
			t.Errorf("Sweep inside the grace = %d, %v; want 0", n, err)
		}
		if n, err := s.Sweep(ctx, base.Add(time.Hour+DefaultSweepGrace+time.Millisecond)); err != nil || n != dead {
			t.Errorf("Sweep past the grace = %d, %v; want %d", n, err, dead)
		}
	})

	t.Run("sweeper-runs-and-close-stops-it", func(t *testing.T) {
		m := newStore(t)
		base := time.Now().Truncate(time.Millisecond)
		live, _ := seedSweep(t, m, base)
		s, err := New(m.db, WithCollectionPrefix(m.prefix), WithSweepInterval(5*time.Millisecond),
			WithClock(func() time.Time { return base.Add(2 * time.Hour) }),
			WithErrorHook(func(err error) { t.Errorf("sweeper error: %v", err) }))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		deadline := time.Now().Add(20 * time.Second)
		for count(t, m.c, bson.D{}) != live {
			if time.Now().After(deadline) {
				t.Fatal("the sweeper did not delete the expired documents")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// The database passed to New stays usable.
		if err := m.db.Client().Ping(ctx, nil); err != nil {
			t.Errorf("the client after Close: %v", err)
		}
	})

	t.Run("errors-go-to-the-hook", func(t *testing.T) {
		lifecycle.SweeperReports(t, func(every time.Duration, hook func(error)) (io.Closer, error) {
			return New(brokenStore(t).db, WithSweepInterval(every), WithErrorHook(hook))
		})
	})

	t.Run("off-by-default", func(t *testing.T) {
		s := newStore(t)
		if s.sweeper != nil {
			t.Fatal("a sweeper started without WithSweepInterval")
		}
	})

	t.Run("done-context", func(t *testing.T) {
		s := newStore(t)
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Sweep(c, time.Now()); !errors.Is(err, context.Canceled) {
			t.Errorf("Sweep with a canceled context = %v", err)
		}
	})
}
