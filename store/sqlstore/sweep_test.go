package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/internal/lifecycle"
)

// seedSweep creates, at base, live sessions and sessions that are dead at
// base+2h (idle-expired, and past an absolute expiry earlier than their
// idle expiry), and returns their counts; and strike records, one live at
// base+2h and strikes of them expired by then.
func seedSweep(t *testing.T, s *Store, base time.Time) (live, dead, strikes int) {
	t.Helper()
	ctx := context.Background()
	add := func(idle, exp time.Duration) {
		x := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: base, IdleUntil: base.Add(idle), ExpiresAt: base.Add(exp)}
		if err := s.Create(ctx, x, 0); err != nil {
			t.Fatal(err)
		}
	}
	for range 7 {
		add(time.Hour, 24*time.Hour) // idle-expired
	}
	for range 3 {
		add(3*time.Hour, time.Hour) // expired, idle later
	}
	for range 4 {
		add(3*time.Hour, 24*time.Hour) // live
	}
	for i, ttl := range []time.Duration{time.Hour, time.Hour, 90 * time.Minute, 3 * time.Hour} {
		if _, err := s.AddStrike(ctx, fmt.Sprint("k", i), base, ttl); err != nil {
			t.Fatal(err)
		}
	}
	return 4, 10, 3
}

func TestSweep(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		ctx := context.Background()

		t.Run("deletes-dead-rows-in-batches", func(t *testing.T) {
			s := newStore(t, db)
			s.batch = 3 // several batches of each kind
			base := time.Now().Truncate(time.Millisecond)
			live, dead, strikes := seedSweep(t, s, base)
			n, err := s.Sweep(ctx, base.Add(2*time.Hour))
			if err != nil || n != dead+strikes {
				t.Fatalf("Sweep = %d, %v; want %d, nil", n, err, dead+strikes)
			}
			if got := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); got != live {
				t.Errorf("%d rows after Sweep, want %d", got, live)
			}
			if got := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"strikes"); got != 1 {
				t.Errorf("%d strike records after Sweep, want the live one", got)
			}
			if n, err := s.Sweep(ctx, base.Add(2*time.Hour)); err != nil || n != 0 {
				t.Errorf("second Sweep = %d, %v; want 0, nil", n, err)
			}
		})

		// A node whose clock runs ahead must not delete sessions that the
		// others still consider live: rows go only once dead for longer
		// than the grace.
		t.Run("grace", func(t *testing.T) {
			base := time.Now().Truncate(time.Millisecond)
			add := func(s *Store, idle time.Duration) *store.Session {
				x := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: base.Add(-time.Hour), IdleUntil: base.Add(idle), ExpiresAt: base.Add(time.Hour)}
				if err := s.Create(ctx, x, 0); err != nil {
					t.Fatal(err)
				}
				return x
			}
			s := newStore(t, db)
			justDead := add(s, -time.Minute) // dead a minute ago
			add(s, -DefaultSweepGrace-time.Millisecond)
			if n, err := s.Sweep(ctx, base); err != nil || n != 1 {
				t.Fatalf("Sweep = %d, %v; want only the session dead for longer than the grace", n, err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions WHERE id = ?", justDead.ID); n != 1 {
				t.Error("Sweep deleted a session dead for less than the grace")
			}
			// Still dead to readers meanwhile.
			if _, err := s.Get(ctx, justDead.ID, base); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get of a dead session awaiting the sweep = %v", err)
			}
			if n, err := s.Sweep(ctx, base.Add(DefaultSweepGrace-time.Minute+time.Millisecond)); err != nil || n != 1 {
				t.Errorf("Sweep once past the grace = %d, %v; want 1", n, err)
			}

			// Strike records too.
			for key, at := range map[string]time.Time{"just": base.Add(-time.Minute), "long": base.Add(-DefaultSweepGrace - time.Millisecond)} {
				if _, err := s.AddStrike(ctx, key, at.Add(-time.Hour), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.Sweep(ctx, base); err != nil || n != 1 {
				t.Fatalf("Sweep = %d, %v; want only the strike record expired for longer than the grace", n, err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"strikes WHERE bucket = ?", "just"); n != 1 {
				t.Error("Sweep deleted a strike record expired for less than the grace")
			}

			s = newStore(t, db, WithSweepGrace(0))
			add(s, -time.Millisecond)
			add(s, 0) // dead at base exactly
			add(s, time.Millisecond)
			if n, err := s.Sweep(ctx, base); err != nil || n != 2 {
				t.Errorf("Sweep without grace = %d, %v; want 2", n, err)
			}
		})

		t.Run("sweeper-runs-and-close-stops-it", func(t *testing.T) {
			base := time.Now().Truncate(time.Millisecond)
			m := newStore(t, db) // migrated, no sweeper
			live, _, _ := seedSweep(t, m, base)
			s, err := db.New(WithTablePrefix(m.prefix), WithSweepInterval(5*time.Millisecond),
				WithClock(func() time.Time { return base.Add(2 * time.Hour) }),
				WithErrorHook(func(err error) { t.Errorf("sweeper error: %v", err) }))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			deadline := time.Now().Add(20 * time.Second)
			for count(t, db, "SELECT COUNT(*) FROM "+m.prefix+"sessions") != live ||
				count(t, db, "SELECT COUNT(*) FROM "+m.prefix+"strikes") != 1 {
				if time.Now().After(deadline) {
					t.Fatal("the sweeper did not delete the dead sessions and expired strikes")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			// The pool passed to New stays open.
			if err := db.PingContext(ctx); err != nil {
				t.Errorf("the db after Close: %v", err)
			}
		})

		t.Run("errors-go-to-the-hook", func(t *testing.T) {
			// Not migrated: every sweep fails on the missing table.
			lifecycle.SweeperReports(t, func(every time.Duration, hook func(error)) (io.Closer, error) {
				return db.New(WithTablePrefix(randomPrefix()), WithSweepInterval(every), WithErrorHook(hook))
			})
		})

		t.Run("interval-0-starts-nothing", func(t *testing.T) {
			s := newStore(t, db, WithSweepInterval(0), WithErrorHook(func(err error) { t.Errorf("hook: %v", err) }))
			if s.sweeper != nil {
				t.Fatal("a sweeper started with interval 0")
			}
			base := time.Now().Add(-3 * time.Hour).Truncate(time.Millisecond)
			live, dead, strikes := seedSweep(t, s, base)
			time.Sleep(30 * time.Millisecond)
			if got := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); got != live+dead {
				t.Errorf("%d rows, want all %d: something swept", got, live+dead)
			}
			if got := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"strikes"); got != strikes+1 {
				t.Errorf("%d strike records, want all %d: something swept", got, strikes+1)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})

		t.Run("done-context", func(t *testing.T) {
			s := newStore(t, db)
			c, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := s.Sweep(c, time.Now()); !isCanceled(err) {
				t.Errorf("Sweep with a canceled context = %v", err)
			}
		})
	})
}
