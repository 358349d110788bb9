package sqlstore

import (
	"context"
	"fmt"

	"github.com/latchauth/latch/store/sqlstore/internal/sqldriver"
	"github.com/latchauth/latch/store/storekit"
)

// The latch_ parameters of a URL.
const (
	paramTablePrefix = "latch_table_prefix"
	paramMaxConns    = "latch_max_conns"
	paramPoll        = "latch_poll_interval"
)

var urls = &storekit.URLSpec{
	Store:   "sqlstore",
	Schemes: []string{"sqlite", "postgres", "postgresql", "mysql"},
	Params:  []string{paramTablePrefix, paramMaxConns, paramPoll, storekit.ParamSweepInterval, storekit.ParamSweepGrace},
	Invalid: ErrInvalid,
}

// driverPackage names the package that links the driver of each scheme.
var driverPackage = map[string]string{
	"sqlite":     "github.com/latchauth/latch/store/sqlstore/sqlite",
	"postgres":   "github.com/latchauth/latch/store/sqlstore/postgres",
	"postgresql": "github.com/latchauth/latch/store/sqlstore/postgres",
	"mysql":      "github.com/latchauth/latch/store/sqlstore/mysql",
}

// Open opens the database rawURL names, migrates it, and returns a Store
// that owns the connection pool: its Close also closes the pool. Opening
// is meant for configuration strings (LATCH_STORE); applications that
// hold a *sql.DB use New. opts apply after the URL's parameters, and win
// over them.
//
// Package sqlstore links no database driver. Each scheme needs the
// package that links its driver, which registers the scheme with
// store.Open, so that store.Open runs this Open, and with Open itself
// (without it, Open says which package to import):
//
//	import _ "github.com/latchauth/latch/store/sqlstore/postgres" // postgres://, postgresql://: lib/pq
//	import _ "github.com/latchauth/latch/store/sqlstore/mysql"    // mysql://: go-sql-driver/mysql
//	import _ "github.com/latchauth/latch/store/sqlstore/sqlite"   // sqlite:: modernc.org/sqlite
//
// The URLs:
//
//	sqlite:path/to/file.db       relative to the working directory
//	sqlite:///abs/path/file.db   absolute
//	sqlite::memory:              one private in-memory database (one connection)
//	postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://), as lib/pq takes it
//	mysql://user:pass@host:3306/db?tls=true             query parameters as go-sql-driver/mysql takes them
//
// Query parameters starting with latch_ (in any case) are this package's,
// checked before anything is opened and removed before the rest reaches
// the driver (any other latch_ parameter, or a query that does not parse,
// is ErrInvalid):
//
//	latch_table_prefix=app_      WithTablePrefix (not empty)
//	latch_sweep_interval=10m     WithSweepInterval, a time.ParseDuration string; 0 turns the sweeper off
//	latch_sweep_grace=5m         WithSweepGrace, a time.ParseDuration string
//	latch_max_conns=16           the pool's maximum of open connections, a positive integer
//	latch_poll_interval=50ms     WithPollInterval, a time.ParseDuration string (not for PostgreSQL, which listens)
//
// Otherwise the defaults hold: tables prefixed "latch_", a sweep every 10
// minutes with a 5-minute grace, the change log polled every 50 ms,
// sweeper errors discarded. Migrating on open is safe: Migrate is
// idempotent and serializes concurrent migrators.
//
// The pool is bounded: at most 16 open connections for PostgreSQL and
// MySQL unless latch_max_conns says otherwise, 8 of them kept idle, and
// each connection replaced after 30 minutes (PostgreSQL) or 3 minutes
// (MySQL, below the usual server and proxy idle timeouts). A burst of
// capped logins of one subject holds one connection each while waiting on
// the subject's lock row, so an unbounded pool could exhaust the server's
// max_connections; with the bound, the burst queues in the pool instead.
// Size latch_max_conns to the server's max_connections divided by the
// number of processes sharing it, less what other clients need. See the
// driver packages for what each sets by default.
//
// Errors name the scheme and host alone: never the URL or its password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	c := defaults()
	maxConns := 0
	u, err := storekit.Configure(urls, rawURL, &c, func(u *storekit.URL) (err error) {
		if u.Has(paramTablePrefix) {
			if err := WithTablePrefix(u.Value(paramTablePrefix))(&c); err != nil {
				return err
			}
		}
		poll, ok, err := u.Duration(paramPoll)
		if err != nil {
			return err
		}
		if ok {
			if err := WithPollInterval(poll)(&c); err != nil {
				return fmt.Errorf("%s: %w", paramPoll, err)
			}
		}
		maxConns, _, err = u.Int(paramMaxConns)
		return err
	}, opts...)
	if err != nil {
		return nil, err
	}
	drv, ok := sqldriver.Lookup(u.Scheme)
	if !ok {
		return nil, u.OpenError(fmt.Errorf("%s URLs need their driver's package: import _ %q", u.Scheme, driverPackage[u.Scheme]))
	}
	db, err := drv.Open(u.Rest, maxConns)
	if err != nil {
		return nil, u.OpenError(err)
	}
	s, err := fromConfig(db, Dialect(drv.Dialect), c)
	if err == nil {
		// lib/pq reads a silent server's handshake whatever ctx says.
		err = storekit.Await(ctx, s.Migrate)
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		db.Close()
		return nil, u.OpenError(err)
	}
	s.owned = true
	if drv.Listen != nil {
		s.listen = func(ctx context.Context, channel string, ready func(), fn func(string)) error {
			return drv.Listen(ctx, u.Rest, channel, ready, fn)
		}
	}
	return s, nil
}
