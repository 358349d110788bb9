// Package sqldriver lets the packages that link a database driver
// (sqlstore/postgres, sqlstore/mysql, sqlstore/sqlite) tell package
// sqlstore, which links none, how to open a pool for their URL schemes.
package sqldriver

import (
	"cmp"
	"context"
	"database/sql"
	"net/url"
	"sync"
	"time"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

// Driver opens pools for the URLs of some schemes.
type Driver struct {
	// Dialect is the sqlstore.Dialect of the databases it opens.
	Dialect int
	// Open opens a pool for u (its latch_ parameters taken out) with at
	// most maxConns connections (0: the driver's default). It does no I/O.
	// A URL it cannot take is sqlstore.ErrInvalid.
	Open func(u *url.URL, maxConns int) (*sql.DB, error)
	// Listen, for a driver that can, subscribes to the notifications of
	// channel on a connection of its own to u: it calls ready once the
	// subscription stands, then fn with each notification's payload, one
	// at a time, until ctx is done or the connection fails, and returns
	// why it ended. Nil: the dialect has no notifications.
	Listen func(ctx context.Context, u *url.URL, channel string, ready func(), fn func(payload string)) error
}

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register makes d the driver of each scheme, and open (sqlstore.Open)
// their opener for store.Open. It panics if a scheme has either already.
func Register[S store.Store, O any](d Driver, open func(context.Context, string, ...O) (S, error), schemes ...string) {
	mu.Lock()
	for _, scheme := range schemes {
		if _, dup := drivers[scheme]; dup {
			mu.Unlock()
			panic("sqldriver: Register called twice for scheme " + scheme)
		}
		drivers[scheme] = d
	}
	mu.Unlock()
	storekit.Register(open, schemes...)
}

// Lookup returns the driver of scheme, if its package is linked.
func Lookup(scheme string) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[scheme]
	return d, ok
}

// DefaultMaxConns bounds the pool of a PostgreSQL or MySQL store opened
// by URL, unless latch_max_conns says otherwise.
const DefaultMaxConns = 16

// Bound sets the limits of a PostgreSQL or MySQL pool opened by URL: at
// most maxConns connections (DefaultMaxConns for 0), 8 of them kept idle,
// each idle one closed after 5 minutes and each replaced after lifetime.
// A burst of capped logins of one subject holds one connection each while
// waiting on the subject's lock row, so an unbounded pool could exhaust
// the server's max_connections; with the bound, the burst queues in the
// pool instead.
func Bound(db *sql.DB, maxConns int, lifetime time.Duration) {
	n := cmp.Or(maxConns, DefaultMaxConns)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(min(n, 8))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(lifetime)
}
