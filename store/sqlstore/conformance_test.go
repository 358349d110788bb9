package sqlstore

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
)

func TestConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		conformance.Run(t, func(t *testing.T) store.Store {
			if b.name == "sqlite" {
				db = openDB(t, b) // a file of its own per rule
			}
			return newStore(t, db)
		},
			conformance.WithBroken(func(t *testing.T) store.Store { return brokenStore(t, b) }),
			conformance.WithWrites(func(s store.Store) int64 { return s.(*Store).writes.Load() }),
		)
	})
}

// brokenStore returns a Store on a database that cannot be reached.
func brokenStore(t *testing.T, b backend) *Store {
	t.Helper()
	db, err := sqlx.Open(b.driver, b.dead(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, WithSweepInterval(0))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}
