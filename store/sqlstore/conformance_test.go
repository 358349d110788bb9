package sqlstore

import (
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/latchauth/latch/conformance"
	"github.com/latchauth/latch/store"
)

func TestConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		db := openDB(t, b)
		var mu sync.Mutex
		dbOf := map[store.Store]*testDB{}
		conformance.Run(t, func(t *testing.T) store.Store {
			mu.Lock()
			defer mu.Unlock()
			if b.name == "sqlite" {
				db = openDB(t, b) // a file of its own per rule
			}
			s := newStore(t, db)
			dbOf[s] = db
			return s
		},
			conformance.WithTwin(func(t *testing.T, s store.Store) store.Store {
				mu.Lock()
				defer mu.Unlock()
				return dbOf[s].twin(t, s.(*Store))
			}),
			conformance.WithBroken(func(t *testing.T) store.Store { return brokenStore(t, b) }),
			// The rules run one at a time: the pool's writes are the store's.
			conformance.WithWrites(func(store.Store) int64 { return db.writes.Load() }),
		)
	})
	// A mysql:// URL has the driver interpolate arguments client-side (one
	// round trip per query instead of three): the hashes then travel as
	// escaped literals, so the suite runs in that mode too.
	// Likewise a postgres:// URL sends arguments with binary_parameters=yes.
	// A PostgreSQL pool passed to New polls the change log, as MySQL and
	// SQLite do, instead of listening.
	for _, v := range []struct {
		name, param string
		b           backend
		polled      bool
	}{
		{"mysql-interpolated", "interpolateParams=true", backends[1], false},
		{"postgres-binary-parameters", "binary_parameters=yes", backends[0], false},
		{"postgres-polled", "", backends[0], true},
	} {
		t.Run(v.name, func(t *testing.T) {
			dsn := v.b.dsn(t)
			if v.param != "" {
				dsn = withParam(dsn, v.param)
			}
			db := openDSN(t, v.b, dsn)
			db.polled = v.polled
			conformance.Run(t, func(t *testing.T) store.Store { return newStore(t, db) },
				conformance.WithTwin(func(t *testing.T, s store.Store) store.Store { return db.twin(t, s.(*Store)) }),
				conformance.WithBroken(func(t *testing.T) store.Store { return brokenStore(t, v.b) }),
				conformance.WithWrites(func(store.Store) int64 { return db.writes.Load() }),
			)
		})
	}
}

// withParam adds a query parameter to a URL or go-sql-driver DSN.
func withParam(dsn, param string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + param
	}
	return dsn + "?" + param
}

// brokenStore returns a Store on a database that cannot be reached.
func brokenStore(t *testing.T, b backend) *Store {
	t.Helper()
	db, err := sql.Open(b.driver, b.dead(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, b.d, WithSweepInterval(0))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}
