package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
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
func (s *Store) Bounded() bool { return s.d == mysqlDialect }

// Store is a store.Store in a PostgreSQL, MySQL/MariaDB or SQLite
// database, safe for concurrent use by many goroutines and many processes
// sharing the database. Create one with New (or Open), and call Migrate
// once before use.
type Store struct {
	db      *sqlx.DB
	d       dialect
	prefix  string
	q       queries
	owned   bool // Close also closes db (stores from Open)
	clock   func() time.Time
	hook    func(error)
	every   time.Duration
	grace   time.Duration // Sweep deletes rows dead at now - grace
	retries int
	batch   int // rows per DELETE of Sweep
	writes  atomic.Int64

	closed    atomic.Bool
	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Option configures a Store.
type Option func(*config) error

type config struct {
	prefix string
	every  time.Duration
	grace  time.Duration
	hook   func(error)
	clock  func() time.Time
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
			return fmt.Errorf("%w: empty table prefix: its schema_migrations table would clash with other migration tools'", ErrInvalid)
		}
		if len(p) > maxPrefixLen || !prefixRE.MatchString(p) {
			return fmt.Errorf("%w: table prefix must match [a-z_][a-z0-9_]* and be at most %d characters", ErrInvalid, maxPrefixLen)
		}
		c.prefix = p
		return nil
	}
}

// WithSweepInterval sets how often a background goroutine deletes dead
// sessions (default 10 minutes); 0 turns it off, for applications that
// call Sweep themselves (from a cron job, say). Dead sessions read as
// absent either way: the sweeper only frees space. Without any sweeping
// the table grows by one row per login that is never revoked.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: negative sweep interval", ErrInvalid)
		}
		c.every = d
		return nil
	}
}

// WithSweepGrace sets how long after its death a session's row is kept
// (default 5 minutes): Sweep(ctx, now), and so the sweeper, deletes only
// the sessions already dead at now - d. Nodes' clocks disagree a little,
// and a node whose clock runs ahead would otherwise delete sessions the
// others still consider live. Dead sessions read as absent whatever the
// grace (liveness is judged with the caller's now), so it only delays
// freeing their space. 0 sweeps at now exactly; a negative d is ErrInvalid.
func WithSweepGrace(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: negative sweep grace", ErrInvalid)
		}
		c.grace = d
		return nil
	}
}

// WithErrorHook sets the function the sweeper reports its errors to (an
// unreachable database, a missing table before Migrate). It is called from
// the sweeper's goroutine, one call at a time. The default discards them:
// nothing is ever written to the standard logger.
func WithErrorHook(f func(error)) Option {
	return func(c *config) error {
		c.hook = f
		return nil
	}
}

// WithClock sets the sweeper's clock (default time.Now). It decides
// nothing else: every method of store.Store takes its now from the caller.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now != nil {
			c.clock = now
		}
		return nil
	}
}

// New returns a Store that keeps sessions in db, whose dialect it takes
// from db.DriverName(): "postgres" or "pgx" for PostgreSQL, "mysql" for
// MySQL and MariaDB, "sqlite" (modernc.org/sqlite) or "sqlite3" for
// SQLite; any other driver is ErrUnsupportedDriver.
//
// New runs no query: it neither connects nor migrates. Call Migrate
// before the first use (it is idempotent, so calling it at every start is
// fine). The Store never closes db; Close stops its sweeper only. Unless
// WithSweepInterval(0) is given, New starts the sweeper goroutine, so call
// Close when done with the Store.
func New(db *sqlx.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *sqlx.DB", ErrInvalid)
	}
	d, err := dialectOf(db.DriverName())
	if err != nil {
		return nil, err
	}
	c := config{prefix: DefaultTablePrefix, every: DefaultSweepInterval, grace: DefaultSweepGrace, clock: time.Now}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	s := &Store{
		db:      db,
		d:       d,
		prefix:  c.prefix,
		q:       buildQueries(d, c.prefix),
		clock:   c.clock,
		hook:    c.hook,
		every:   c.every,
		grace:   c.grace,
		retries: 20,
		batch:   sweepBatch,
	}
	s.startSweeper()
	return s, nil
}

// Close makes every later call of a method fail with ErrClosed (an
// outage, never store.ErrNotFound), stops the sweeper and waits for it to
// return. It closes the database only when the Store came from Open; a
// *sqlx.DB passed to New belongs to the caller and stays open. Calls
// already running when Close is called finish (on a Store from Open, they
// may fail as the pool closes under them). Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stop != nil {
			s.stop()
			<-s.done
		}
		if s.owned {
			s.closeErr = s.db.Close()
		}
	})
	return s.closeErr
}

// usable returns the error a call must fail with before any query: a done
// ctx, or a closed Store.
func (s *Store) usable(ctx context.Context, op string) error {
	if err := ctxErr(ctx, op); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// row is a sessions row as scanned.
type row struct {
	ID              string `db:"id"`
	Subject         string `db:"subject"`
	DeviceLabel     string `db:"device_label"`
	DeviceUserAgent string `db:"device_user_agent"`
	DeviceIP        string `db:"device_ip"`
	SecretHash      []byte `db:"secret_hash"`
	RefreshHash     []byte `db:"refresh_hash"`
	Spent           string `db:"spent"`
	Claims          []byte `db:"claims"`
	CreatedAt       int64  `db:"created_at"`
	LastUsedAt      int64  `db:"last_used_at"`
	RotatedAt       int64  `db:"rotated_at"`
	FreshUntil      int64  `db:"fresh_until"`
	AccessExpiresAt int64  `db:"access_expires_at"`
	IdleUntil       int64  `db:"idle_until"`
	ExpiresAt       int64  `db:"expires_at"`
}

func (r *row) session() (store.Session, error) {
	spent, err := decodeSpent(r.Spent)
	if err != nil {
		return store.Session{}, err
	}
	s := store.Session{
		ID:      r.ID,
		Subject: r.Subject,
		Device: store.Device{
			Label:     r.DeviceLabel,
			UserAgent: r.DeviceUserAgent,
			IP:        r.DeviceIP,
		},
		SecretHash:      r.SecretHash,
		RefreshHash:     r.RefreshHash,
		Spent:           spent,
		CreatedAt:       fromMS(r.CreatedAt),
		LastUsedAt:      fromMS(r.LastUsedAt),
		RotatedAt:       fromMS(r.RotatedAt),
		FreshUntil:      fromMS(r.FreshUntil),
		AccessExpiresAt: fromMS(r.AccessExpiresAt),
		IdleUntil:       fromMS(r.IdleUntil),
		ExpiresAt:       fromMS(r.ExpiresAt),
	}
	if r.Claims != nil {
		if err := json.Unmarshal(r.Claims, &s.Claims); err != nil {
			return store.Session{}, fmt.Errorf("sqlstore: corrupt claims column: %w", err)
		}
	}
	return s, nil
}

// device binds a device field: BYTEA on PostgreSQL (kept byte for byte
// even when not UTF-8), a string elsewhere. lib/pq would send a []byte as
// bytea text, so the choice must match the column.
func (s *Store) device(v string) any {
	if s.d == postgres {
		return []byte(v)
	}
	return v
}

// Create implements store.Store. IDs come from store.NewID. With max > 0
// it runs one transaction: lock the subject, insert the session, delete
// the subject's other sessions that are dead at s.CreatedAt, then its
// live others beyond the newest max-1 (List order). The lock is a row of
// <prefix>subject_locks taken by an upsert on PostgreSQL and MySQL, and
// SQLite's database write lock (taken by the insert) on SQLite; the
// transaction is retried on deadlocks and busy errors. With max <= 0 it is
// a single INSERT. A value beyond the limits of package store, or a time
// beyond int64 Unix milliseconds, is ErrInvalid, before any query.
func (s *Store) Create(ctx context.Context, sess *store.Session, max int) error {
	const op = "create"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if sess == nil {
		return fmt.Errorf("%w: nil session", ErrInvalid)
	}
	if err := checkSession(sess); err != nil {
		return err
	}
	var ts [7]int64
	for i, t := range [...]struct {
		name string
		at   time.Time
	}{
		{"CreatedAt", sess.CreatedAt}, {"LastUsedAt", sess.LastUsedAt}, {"RotatedAt", sess.RotatedAt},
		{"FreshUntil", sess.FreshUntil}, {"AccessExpiresAt", sess.AccessExpiresAt},
		{"IdleUntil", sess.IdleUntil}, {"ExpiresAt", sess.ExpiresAt},
	} {
		var err error
		if ts[i], err = storedMS(t.name, t.at); err != nil {
			return err
		}
	}
	spent, err := encodeSpent(sess.Spent)
	if err != nil {
		return err
	}
	claims, err := encodeClaims(sess.Claims)
	if err != nil {
		return err
	}
	id := store.NewID()
	args := []any{
		id, sess.Subject,
		s.device(sess.Device.Label), s.device(sess.Device.UserAgent), s.device(sess.Device.IP),
		orNil(sess.SecretHash), notNil(sess.RefreshHash), spent, claims,
		ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6],
	}
	if max <= 0 {
		if _, err := s.exec(ctx, s.q.insert, args...); err != nil {
			return wrap(ctx, op, err)
		}
	} else {
		at := ts[0]
		err := s.retry(ctx, func() error { return s.createCapped(ctx, id, sess.Subject, at, args, max) })
		if err != nil {
			return wrap(ctx, op, err)
		}
	}
	s.writes.Add(1)
	sess.ID = id
	return nil
}

// createCapped is Create's transaction under a cap.
func (s *Store) createCapped(ctx context.Context, id, subject string, at int64, args []any, max int) error {
	var opts *sql.TxOptions
	if s.d != sqlite {
		// Each statement sees what the previous holder of the subject
		// lock committed, whatever the server's default isolation.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTxx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a no-op
	if s.q.lock != "" {
		if _, err := tx.ExecContext(ctx, s.q.lock, subject); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, s.q.insert, args...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.q.deleteDead, subject, id, at, at); err != nil {
		return err
	}
	var others []string
	if err := tx.SelectContext(ctx, &others, s.q.others, subject, id, at, at); err != nil {
		return err
	}
	for evict := others[min(len(others), max-1):]; len(evict) > 0; {
		n := min(len(evict), 500)
		a := make([]any, 0, n+1)
		a = append(a, subject)
		for _, x := range evict[:n] {
			a = append(a, x)
		}
		if _, err := tx.ExecContext(ctx, s.d.inList(s.q.deleteIDs, n), a...); err != nil {
			return err
		}
		evict = evict[n:]
	}
	return tx.Commit()
}

// retry runs f until it succeeds, fails with an error that is not a
// transient conflict, the context ends, or s.retries attempts are spent.
func (s *Store) retry(ctx context.Context, f func() error) error {
	var err error
	for i := range s.retries {
		if err = f(); err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		// Jittered, growing pause, at most ~64ms.
		d := storekit.Jitter(time.Millisecond << min(i, 6))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}

// exec runs one autocommitted write, rerunning it after a transient
// conflict: a serialization failure (a server whose default isolation is
// REPEATABLE READ or SERIALIZABLE fails the loser of a concurrent UPDATE
// instead of re-checking its condition) or a busy SQLite database. The
// failed attempt wrote nothing, so rerunning is safe; a Rotate rerun after
// losing finds the hash changed and reports store.ErrConflict.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.retry(ctx, func() (err error) {
		res, err = s.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// Get implements store.Store with one primary-key query.
func (s *Store) Get(ctx context.Context, id string, now time.Time) (*store.Session, error) {
	const op = "get"
	if err := s.usable(ctx, op); err != nil {
		return nil, err
	}
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var r row
	t := ms(now)
	if err := s.db.QueryRowxContext(ctx, s.q.get, id, t, t).StructScan(&r); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, wrap(ctx, op, err)
	}
	x, err := r.session()
	if err != nil {
		return nil, err
	}
	return &x, nil
}

// Touch implements store.Store with one conditional UPDATE; only when it
// changes no row does a second query tell a throttled touch (nil) from a
// session that is not live (store.ErrNotFound). A now beyond int64 Unix
// milliseconds is ErrInvalid.
func (s *Store) Touch(ctx context.Context, id string, now time.Time, idle, every time.Duration) error {
	const op = "touch"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	t, err := storedMS("now", now)
	if err != nil {
		return err
	}
	// now+idle goes through LEAST(…, expires_at), so clamping it to the
	// int64 range changes nothing.
	res, err := s.exec(ctx, s.q.touch, t, ms(now.Add(idle)), id, t, t, ms(now.Add(-every)))
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(ctx, op, err)
	} else if n > 0 {
		s.writes.Add(1)
		return nil
	}
	_, err = s.liveHash(ctx, op, id, t)
	return err
}

// liveHash returns the refresh hash of the session id if it is live at t
// (milliseconds), or store.ErrNotFound.
func (s *Store) liveHash(ctx context.Context, op, id string, t int64) ([]byte, error) {
	var h []byte
	if err := s.db.QueryRowxContext(ctx, s.q.live, id, t, t).Scan(&h); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, store.ErrNotFound
		}
		return nil, wrap(ctx, op, err)
	}
	return h, nil
}

// Rotate implements store.Store as one conditional UPDATE (WHERE id,
// refresh_hash and liveness match): the database applies it to the row
// under its row lock (SQLite: its write lock) and re-checks the condition
// against the latest committed row, so of concurrent callers exactly one
// changes it. Only when no row changed does a second query tell
// store.ErrConflict from store.ErrNotFound.
//
// IdleUntil is capped at the session's ExpiresAt, and KeepSpent <= 0 keeps
// no spent hash. A new hash longer than store.HashLen, or a time of r or a
// now beyond int64 Unix milliseconds, is ErrInvalid.
func (s *Store) Rotate(ctx context.Context, id string, r store.Rotation, now time.Time) error {
	const op = "rotate"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return store.ErrNotFound
	}
	if len(r.RefreshHash) > store.HashLen || len(r.SecretHash) > store.HashLen {
		return fmt.Errorf("%w: hash longer than %d bytes", ErrInvalid, store.HashLen)
	}
	t, err := storedMS("now", now)
	if err != nil {
		return err
	}
	access, err := storedMS("AccessExpiresAt", r.AccessExpiresAt)
	if err != nil {
		return err
	}
	idle, err := storedMS("IdleUntil", r.IdleUntil)
	if err != nil {
		return err
	}
	fresh, err := storedMS("FreshUntil", r.FreshUntil)
	if err != nil {
		return err
	}
	// An Old longer than any stored hash cannot match: skip the UPDATE.
	if len(r.Old) <= store.HashLen {
		res, err := s.exec(ctx, s.q.rotate,
			notNil(r.RefreshHash), orNil(r.SecretHash), access,
			idle, fresh, t, t,
			spentEntry(r.Old), spentChars(r.KeepSpent),
			id, notNil(r.Old), t, t)
		if err != nil {
			return wrap(ctx, op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return wrap(ctx, op, err)
		}
		if n > 0 {
			s.writes.Add(1)
			return nil
		}
	}
	h, err := s.liveHash(ctx, op, id, t)
	if err != nil {
		return err
	}
	// MySQL counts changed rows, not matched ones: an UPDATE that matched
	// but wrote the very values already stored reports 0. Then the row
	// already is what a successful Rotate leaves. On the other databases 0
	// means the condition did not hold, so someone else won.
	if s.d == mysqlDialect && subtle.ConstantTimeCompare(h, r.Old) == 1 {
		return nil
	}
	return store.ErrConflict
}

// Revoke implements store.Store with one DELETE scoped by id and subject.
func (s *Store) Revoke(ctx context.Context, subject, id string) error {
	const op = "revoke"
	if err := s.usable(ctx, op); err != nil {
		return err
	}
	if !store.ValidID(id) || !validSubject(subject) {
		return nil
	}
	res, err := s.exec(ctx, s.q.revoke, id, subject)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.writes.Add(1)
	}
	return nil
}

// RevokeSubject implements store.Store with one DELETE. The count includes
// dead sessions the sweeper had not yet removed.
func (s *Store) RevokeSubject(ctx context.Context, subject, keep string) (int, error) {
	const op = "revoke subject"
	if err := s.usable(ctx, op); err != nil {
		return 0, err
	}
	if !validSubject(subject) {
		return 0, nil
	}
	res, err := s.exec(ctx, s.q.revokeSubject, subject, keep)
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	if n > 0 {
		s.writes.Add(1)
	}
	return int(n), nil
}

// List implements store.Store. It returns a non-nil empty slice when the
// subject has no live session.
func (s *Store) List(ctx context.Context, subject string, now time.Time) ([]store.Session, error) {
	const op = "list"
	if err := s.usable(ctx, op); err != nil {
		return nil, err
	}
	out := []store.Session{}
	if !validSubject(subject) {
		return out, nil
	}
	t := ms(now)
	rows, err := s.db.QueryxContext(ctx, s.q.list, subject, t, t)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.StructScan(&r); err != nil {
			return nil, wrap(ctx, op, err)
		}
		x, err := r.session()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	return out, nil
}
