package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/internal/lifecycle"
)

// TestClose: after Close every method fails with ErrClosed, an outage that
// is neither store.ErrNotFound nor store.ErrConflict, as memstore does;
// Close stops the sweeper (it would report its failures), and the db
// passed to New stays open.
func TestClose(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		m := newStore(t, db) // migrated, no sweeper
		s, err := db.New(WithTablePrefix(m.prefix), WithSweepInterval(time.Millisecond),
			WithErrorHook(func(err error) { t.Errorf("sweeper: %v", err) }))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		x := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: now, LastUsedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(ctx, x, 2); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // let the sweeper run a few times
		closed := lifecycle.Closed(t, s, x, ErrClosed, func(id string) (*store.Session, error) { return m.Get(ctx, id, now) })
		_, err = s.Sweep(ctx, now.Add(24*time.Hour))
		closed("Sweep", err)
		closed("Migrate", s.Migrate(ctx))
		closed("Freshen", s.Freshen(ctx, x.ID, now, now))
		_, err = s.AddStrike(ctx, "k", now, time.Minute)
		closed("AddStrike", err)
		_, err = s.Strikes(ctx, []string{"k"}, now)
		closed("Strikes", err)
		closed("ClearStrikes", s.ClearStrikes(ctx, []string{"k"}))
		if err := db.PingContext(ctx); err != nil {
			t.Errorf("the db passed to New after Close: %v", err)
		}
	})
}
