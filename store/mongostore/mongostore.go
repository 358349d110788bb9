package mongostore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/storekit"
)

var _ store.Bounded = (*Store)(nil)

// Bounded reports true: the driver ends a call, network reads included,
// when its context is done (see store.Bounded).
func (*Store) Bounded() bool { return true }

// Store is a store.Store in a MongoDB database (or a server speaking its
// wire protocol, such as FerretDB), safe for concurrent use by many
// goroutines and many processes sharing the database. Create one with New
// (or Open), and call Migrate once before use.
type Store struct {
	db      *mongo.Database
	c       *mongo.Collection // sessions
	strikes *mongo.Collection // see strikes.go
	changes *mongo.Collection // the change log: see watch.go
	prefix  string
	owned   bool // Close also disconnects the client (stores from Open)
	kit     storekit.Options
	gate    storekit.Gate
	sweeper *storekit.Sweeper

	ttlReported atomic.Bool   // the TTL index's refusal went to the hook
	afterRead   func()        // tests: called by Rotate after its read
	oneQuery    atomic.Bool   // Migrate found MongoDB: read both documents with one $in
	lease       time.Duration // how long a turn may stay unfinished: see lock.go

	// The change log (watch.go): WithWatchInterval, WithWatchMargin, and
	// for tests how long reports are kept and how often Watch prunes them.
	interval, margin, keep, pruneEvery time.Duration
}

// Option configures a Store, in the style of every store of latch.
type Option func(*config) error

type config struct {
	storekit.Options
	prefix        string
	watchInterval time.Duration
	watchMargin   time.Duration
}

// defaults is the configuration of a Store without options.
func defaults() config {
	return config{
		Options:       storekit.Options{SweepGrace: DefaultSweepGrace},
		prefix:        DefaultCollectionPrefix,
		watchInterval: DefaultWatchInterval,
		watchMargin:   DefaultWatchMargin,
	}
}

// DefaultCollectionPrefix prefixes the collections a Store uses unless
// WithCollectionPrefix says otherwise: <prefix>sessions,
// <prefix>strikes and <prefix>changes.
const DefaultCollectionPrefix = "latch_"

// DefaultSweepGrace is how long past its expiry a document survives Sweep
// unless WithSweepGrace says otherwise.
const DefaultSweepGrace = 5 * time.Minute

// followUpTimeout bounds the steps that finish a Rotate once its read is
// done, even after the caller's context is done: see Rotate. (A capped
// Create has turnBudget and endBudget: see lock.go.)
const followUpTimeout = 2 * time.Second

var prefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WithCollectionPrefix sets the prefix of the collections' names
// (default "latch_"): one to 40 ASCII letters, digits and underscores, not
// starting with a digit. Two Stores with different prefixes share
// nothing, so one database can hold several.
func WithCollectionPrefix(p string) Option {
	return func(c *config) error {
		if len(p) > 40 || !prefixRE.MatchString(p) {
			return errors.New("collection prefix must match [A-Za-z_][A-Za-z0-9_]* and be 1 to 40 characters")
		}
		c.prefix = p
		return nil
	}
}

// WithSweepInterval starts a goroutine that calls Sweep every d with the
// time from WithClock (default 0: no sweeper). On MongoDB the TTL index
// that Migrate creates deletes expired documents already, so the sweeper
// only duplicates its work; turn it on where the server has no TTL
// indexes (FerretDB: Migrate then reports so to the error hook). Expired
// sessions read as absent either way: clean-up only frees space, and
// without any the collection grows by a few documents per login that is
// never revoked. A negative d is ErrInvalid.
func WithSweepInterval(d time.Duration) Option { return storekit.WithSweepInterval[*config](d) }

// WithSweepGrace sets how long after its expiry a document is kept
// (default 5 minutes): Sweep(ctx, now) deletes only what expired before
// now - d, so a node whose clock runs ahead of the others' does not delete
// sessions they still consider live. A negative d is ErrInvalid.
func WithSweepGrace(d time.Duration) Option { return storekit.WithSweepGrace[*config](d) }

// WithErrorHook sets the function that background work and best-effort
// steps report their errors to: the sweeper's failures, a server that
// refuses the TTL index (reported once per Store), clean-up after a
// Rotate or a capped Create. It may be called from several goroutines at
// once (the sweeper's, and those of calls whose clean-up step failed), so
// it must be safe for concurrent use; no error it gets holds a token or a
// hash. The default discards them: nothing is written to a logger.
func WithErrorHook(f func(error)) Option { return storekit.WithErrorHook[*config](f) }

// WithClock sets the sweeper's clock (default time.Now). It decides
// nothing else: every method of store.Store takes its now from the caller.
func WithClock(now func() time.Time) Option { return storekit.WithClock[*config](now) }

// New returns a Store that keeps sessions in db's collection
// <prefix>sessions. New does no I/O; call Migrate once before the first use
// (it is idempotent, so calling it at every start is fine). The Store
// never disconnects db's client; Close stops its sweeper only.
func New(db *mongo.Database, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *mongo.Database", ErrInvalid)
	}
	c := defaults()
	if err := storekit.Apply(&c, ErrInvalid, opts...); err != nil {
		return nil, err
	}
	return fromConfig(db, c), nil
}

// fromConfig is New once the options are applied.
func fromConfig(db *mongo.Database, c config) *Store {
	s := &Store{
		db:         db,
		c:          db.Collection(c.prefix + "sessions"),
		strikes:    db.Collection(c.prefix + "strikes"),
		changes:    db.Collection(c.prefix + "changes"),
		prefix:     c.prefix,
		kit:        c.Options,
		gate:       storekit.Gate{Store: "mongostore", ErrClosed: ErrClosed, ErrInvalid: ErrInvalid},
		lease:      lockLease,
		interval:   c.watchInterval,
		margin:     c.watchMargin,
		keep:       reportKeep,
		pruneEvery: pruneEvery,
	}
	s.sweeper = storekit.StartSweeper(c.SweepInterval, s.sweep, s.kit.Report)
	return s
}

// Collection returns the collection the Store keeps its sessions in.
func (s *Store) Collection() *mongo.Collection { return s.c }

// Close makes every later call of a method fail with ErrClosed (an
// outage, never store.ErrNotFound), stops the sweeper and waits for it to
// return. It disconnects the client only when the Store came from Open;
// a *mongo.Database passed to New belongs to the caller. Close is
// idempotent.
func (s *Store) Close() error {
	s.sweeper.Stop() // first: a sweep it interrupts is not an error to report
	return s.gate.Close(func() error {
		if !s.owned {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.gate.Wrap(ctx, "disconnect", s.db.Client().Disconnect(ctx))
	})
}

var errNoTTL = errors.New("mongostore: the server refused the TTL index on x (expireAfterSeconds): expired documents are deleted only by Sweep; turn the sweeper on with WithSweepInterval")
