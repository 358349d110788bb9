package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchauth/latch/store"
)

// TestClose: after Close every method fails with ErrClosed, an outage that
// is neither store.ErrNotFound nor store.ErrConflict, as memstore does;
// the db passed to New stays open.
func TestClose(t *testing.T) {
	if errors.Is(ErrClosed, store.ErrNotFound) || errors.Is(ErrClosed, store.ErrConflict) || errors.Is(ErrClosed, ErrInvalid) {
		t.Fatal("ErrClosed reads as another error")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		// With a sweeper running, to check that Close still stops it.
		m := newStore(t, db) // migrated, no sweeper
		s, err := db.New(WithTablePrefix(m.prefix), WithSweepInterval(time.Millisecond),
			WithErrorHook(func(err error) { t.Errorf("sweeper: %v", err) }))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		x := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(ctx, x, 2); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // let the sweeper run a few times
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		closed := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, ErrClosed) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
				t.Errorf("%s after Close = %v, want ErrClosed", what, err)
			}
		}
		got, err := s.Get(ctx, x.ID, now)
		closed("Get", err)
		if got != nil {
			t.Errorf("Get after Close returned a session")
		}
		closed("Create", s.Create(ctx, &store.Session{Subject: "bob", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}, 0))
		closed("capped Create", s.Create(ctx, &store.Session{Subject: "bob", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}, 1))
		closed("Touch", s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, 0))
		closed("Rotate", s.Rotate(ctx, x.ID, store.Rotation{Old: []byte("r"), RefreshHash: []byte("n")}, now))
		closed("Revoke", s.Revoke(ctx, "alice", x.ID))
		n, err := s.RevokeSubject(ctx, "alice", "")
		closed("RevokeSubject", err)
		if n != 0 {
			t.Errorf("RevokeSubject after Close = %d", n)
		}
		l, err := s.List(ctx, "alice", now)
		closed("List", err)
		if l != nil {
			t.Errorf("List after Close = %v", l)
		}
		_, err = s.Sweep(ctx, now.Add(24*time.Hour))
		closed("Sweep", err)
		closed("Migrate", s.Migrate(ctx))
		// Nothing was written, and the db passed to New stays open.
		if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); n != 1 {
			t.Errorf("%d sessions after Close, want the 1 created before", n)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// A done context still wins, as before Close.
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Get(c, x.ID, now); !isCanceled(err) {
			t.Errorf("Get with a canceled context after Close = %v", err)
		}
	})
}
