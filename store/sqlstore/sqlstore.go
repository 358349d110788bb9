package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var _ store.Bounded = (*Store)(nil)

// Bounded reports whether every call ends when its context is done (see
// store.Bounded): true for MySQL and MariaDB, whose driver closes the
// connection then. lib/pq keeps reading a connection whose server went
// silent, and SQLite's busy wait is not known to stop, so PostgreSQL and
// SQLite calls get a goroutine each from latch.
func (s *Store) Bounded() bool { return s.d == MySQL }

// Store is a store.Store in a PostgreSQL, MySQL/MariaDB or SQLite
// database, safe for concurrent use by many goroutines and many processes
// sharing the database. Create one with New (or Open), and call Migrate
// once before use.
type Store struct {
	db      *sqlx.DB
	d       Dialect
	prefix  string
	q       queries
	owned   bool // Close also closes db (stores from Open)
	kit     storekit.Options
	retries int
	batch   int // rows per DELETE of Sweep
	gate    storekit.Gate
	stmts   prepared // see prepared.go
	sweeper *storekit.Sweeper
	// listen subscribes to a notification channel (see Watch); nil for
	// a store that polls its change log instead.
	listen func(ctx context.Context, channel string, ready func(), fn func(payload string)) error
	poll   time.Duration // how often Watch polls the change log
	polls  polls         // the polling Watches running, for Beat
}

// Option configures a Store, in the style of every store of latch.
type Option func(*config) error

type config struct {
	storekit.Options
	prefix string
	poll   time.Duration
}

// defaults is the configuration of a Store without options.
func defaults() config {
	return config{
		Options: storekit.Options{SweepInterval: DefaultSweepInterval, SweepGrace: DefaultSweepGrace},
		prefix:  DefaultTablePrefix,
		poll:    DefaultPollInterval,
	}
}

// DefaultTablePrefix prefixes every table a Store creates unless
// WithTablePrefix says otherwise.
const DefaultTablePrefix = "latch_"

// DefaultSweepInterval is how often the sweeper runs unless
// WithSweepInterval says otherwise.
const DefaultSweepInterval = 10 * time.Minute

// DefaultSweepGrace is how long past its death a session survives Sweep
// unless WithSweepGrace says otherwise.
const DefaultSweepGrace = 5 * time.Minute

// maxPrefixLen keeps the longest name the schema derives from the prefix
// (<prefix>sessions_expires_idx) within PostgreSQL's 63 and MySQL's 64
// characters.
const maxPrefixLen = 40

var prefixRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// WithTablePrefix sets the prefix of every table and index name (default
// "latch_"): one to 40 lower-case ASCII letters, digits and underscores,
// not starting with a digit. The empty prefix is refused: its migrations
// table would be schema_migrations, the name golang-migrate, Rails and
// other tools use for their own. Two Stores with different prefixes share
// nothing, so one database can hold several. The prefix is the only thing
// formatted into SQL, which is why it is validated rather than quoted.
func WithTablePrefix(p string) Option {
	return func(c *config) error {
		if p == "" {
			return errors.New("empty table prefix: its schema_migrations table would clash with other migration tools'")
		}
		if len(p) > maxPrefixLen || !prefixRE.MatchString(p) {
			return fmt.Errorf("table prefix must match [a-z_][a-z0-9_]* and be at most %d characters", maxPrefixLen)
		}
		c.prefix = p
		return nil
	}
}

// WithSweepInterval sets how often a background goroutine deletes dead
// sessions (default 10 minutes); 0 turns it off, for applications that
// call Sweep themselves (from a cron job, say). Dead sessions read as
// absent either way: the sweeper only frees space. Without any sweeping
// the table grows by one row per login that is never revoked. A negative
// d is ErrInvalid.
func WithSweepInterval(d time.Duration) Option { return storekit.WithSweepInterval[*config](d) }

// WithSweepGrace sets how long after its death a session's row is kept
// (default 5 minutes): Sweep(ctx, now), and so the sweeper, deletes only
// the sessions already dead at now - d. Nodes' clocks disagree a little,
// and a node whose clock runs ahead would otherwise delete sessions the
// others still consider live. Dead sessions read as absent whatever the
// grace (liveness is judged with the caller's now), so it only delays
// freeing their space. 0 sweeps at now exactly; a negative d is ErrInvalid.
func WithSweepGrace(d time.Duration) Option { return storekit.WithSweepGrace[*config](d) }

// DefaultPollInterval is how often Watch polls the change log unless
// WithPollInterval says otherwise.
const DefaultPollInterval = 50 * time.Millisecond

// maxPollInterval bounds WithPollInterval well under how long a gap in
// the change log stays open (see poll.go).
const maxPollInterval = 10 * time.Second

// WithPollInterval sets how often Watch reads the change log (default
// 50 ms) on a store that polls it: MySQL, MariaDB, SQLite, and PostgreSQL
// pools passed to New (a PostgreSQL store from Open listens instead). A
// report reaches another process within about one interval, and a Beat
// comes back within two. Each Watch runs one indexed query per interval
// (two while a gap in the log is open). d must be positive and at most
// 10 seconds; otherwise ErrInvalid.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > maxPollInterval {
			return fmt.Errorf("poll interval must be positive and at most %s", maxPollInterval)
		}
		c.poll = d
		return nil
	}
}

// WithErrorHook sets the function the errors the Store would otherwise
// drop go to: the sweeper's (an unreachable database, a missing table
// before Migrate), and a migration lock or transaction that could not be
// released cleanly (the connection is then discarded, which releases it).
// It may be called from several goroutines at once; no error it gets
// holds a token or a hash. The default discards them: nothing is ever
// written to a logger.
func WithErrorHook(f func(error)) Option { return storekit.WithErrorHook[*config](f) }

// WithClock sets the sweeper's clock (default time.Now). It decides
// nothing else: every method of store.Store takes its now from the caller.
func WithClock(now func() time.Time) Option { return storekit.WithClock[*config](now) }

// New returns a Store that keeps sessions in db, a pool of a database of
// dialect d (PostgreSQL, MySQL or SQLite), whatever driver opened it:
// lib/pq or pgx for PostgreSQL, go-sql-driver/mysql for MySQL and
// MariaDB, modernc.org/sqlite or mattn/go-sqlite3 for SQLite. Package
// sqlstore links none of them.
//
// New runs no query: it neither connects nor migrates. Call Migrate
// before the first use (it is idempotent, so calling it at every start is
// fine). The Store never closes db; Close stops its sweeper only. Unless
// WithSweepInterval(0) is given, New starts the sweeper goroutine, so call
// Close when done with the Store.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *sql.DB", ErrInvalid)
	}
	c := defaults()
	if err := storekit.Apply(&c, ErrInvalid, opts...); err != nil {
		return nil, err
	}
	return fromConfig(db, d, c)
}

// fromConfig is New once the options are applied.
func fromConfig(db *sql.DB, d Dialect, c config) (*Store, error) {
	if !d.valid() {
		return nil, fmt.Errorf("%w: dialect %d: want PostgreSQL, MySQL or SQLite", ErrInvalid, d)
	}
	s := &Store{
		db:      sqlx.NewDb(db, d.String()),
		d:       d,
		prefix:  c.prefix,
		q:       buildQueries(d, c.prefix),
		kit:     c.Options,
		retries: 20,
		batch:   sweepBatch,
		poll:    c.poll,
		gate:    storekit.Gate{Store: "sqlstore", ErrClosed: ErrClosed, ErrInvalid: ErrInvalid},
	}
	s.sweeper = storekit.StartSweeper(c.SweepInterval, s.sweep, s.kit.Report)
	return s, nil
}

// Close makes every later call of a method fail with ErrClosed (an
// outage, never store.ErrNotFound), stops the sweeper and waits for it to
// return. It closes the database only when the Store came from Open; a
// *sql.DB passed to New belongs to the caller and stays open. Calls
// already running when Close is called finish (on a Store from Open, they
// may fail as the pool closes under them). Close is idempotent.
func (s *Store) Close() error {
	s.sweeper.Stop() // first: a sweep it interrupts is not an error to report
	return s.gate.Close(func() error {
		s.closeStmts()
		if s.owned {
			return s.db.Close()
		}
		return nil
	})
}
