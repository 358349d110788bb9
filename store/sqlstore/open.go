package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/latchauth/latch/store"
)

func init() {
	store.Register("sqlite", openStore)
	store.Register("postgres", openStore)
	store.Register("postgresql", openStore)
	store.Register("mysql", openStore)
}

// openStore is Open for store.Open, until Open takes the string itself.
func openStore(ctx context.Context, rawURL string) (store.Store, error) {
	u, err := url.Parse(rawURL) // store.Open parsed it already
	if err != nil {
		return nil, err
	}
	s, err := Open(ctx, u)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Open opens the database u names, migrates it, and returns a Store that
// owns the connection pool: its Close also closes the pool. Opening is
// meant for configuration strings (LATCH_STORE); applications that hold a
// *sqlx.DB use New. The schemes:
//
//	sqlite:path/to/file.db       relative to the working directory
//	sqlite:///abs/path/file.db   absolute
//	sqlite::memory:              one private in-memory database (one connection)
//	postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://), as lib/pq takes it
//	mysql://user:pass@host:3306/db?tls=true             query parameters as go-sql-driver/mysql takes them
//
// Query parameters starting with latch_ are this package's, checked
// before anything is opened and removed before the rest reaches the
// driver (any other latch_ parameter is ErrInvalid):
//
//	latch_table_prefix=app_      WithTablePrefix (not empty)
//	latch_sweep_interval=10m     WithSweepInterval, a time.ParseDuration string; 0 turns the sweeper off
//	latch_sweep_grace=5m         WithSweepGrace, a time.ParseDuration string
//	latch_max_conns=16           the pool's maximum of open connections, a positive integer
//
// Otherwise the defaults hold: tables prefixed "latch_", a sweep every 10
// minutes with a 5-minute grace, sweeper errors discarded. Migrating on
// open is safe: Migrate is idempotent and serializes concurrent migrators.
//
// The pool is bounded: at most 16 open connections for PostgreSQL and
// MySQL unless latch_max_conns says otherwise, 8 of them kept idle, and
// each connection replaced after 30 minutes (PostgreSQL) or 3 minutes
// (MySQL, below the usual server and proxy idle timeouts). A burst of
// capped logins of one subject holds one connection each while waiting on
// the subject's lock row, so an unbounded pool could exhaust the server's
// max_connections; with the bound, the burst queues in the pool instead.
// Size latch_max_conns to the server's max_connections divided by the
// number of processes sharing it, less what other clients need.
//
// For SQLite, Open sets busy_timeout (5s) and, for files, WAL journaling
// through modernc.org/sqlite's _pragma parameters, so they apply to every
// connection of the pool; query parameters of the URL are passed on and
// win over these defaults. Its pool holds at most 8 connections unless
// latch_max_conns says otherwise. A sqlite::memory: store is limited to
// one connection, since each connection would otherwise get its own
// database, so latch_max_conns other than 1 is ErrInvalid there.
//
// Errors never contain the URL or its password.
func Open(ctx context.Context, u *url.URL) (*Store, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil URL", ErrInvalid)
	}
	pass, _ := u.User.Password()
	secrets := []string{pass, url.QueryEscape(pass), url.PathEscape(pass), u.String()}
	p, u, err := urlOptions(u)
	if err != nil {
		return nil, redact(err, secrets...)
	}
	opts := p.opts
	var db *sqlx.DB
	switch strings.ToLower(u.Scheme) {
	case "sqlite":
		db, err = openSQLite(u, p.maxConns)
	case "postgres", "postgresql":
		db, err = openPostgres(u, p.maxConns)
	case "mysql":
		db, err = openMySQL(u, p.maxConns)
	default:
		err = fmt.Errorf("%w: scheme %q is not sqlite, postgres, postgresql or mysql", ErrInvalid, u.Scheme)
	}
	if err != nil {
		return nil, redact(err, secrets...)
	}
	s, err := New(db, opts...)
	if err == nil {
		err = s.Migrate(ctx)
	}
	if err != nil {
		if s != nil {
			s.Close()
		}
		db.Close()
		return nil, redact(err, secrets...)
	}
	s.owned = true
	return s, nil
}

// defaultMaxConns bounds the pool of a PostgreSQL or MySQL store from
// Open, unless latch_max_conns says otherwise.
const defaultMaxConns = 16

// urlParams are the latch_ parameters of a URL.
type urlParams struct {
	opts     []Option
	maxConns int // 0: the dialect's default
}

// urlOptions takes the latch_ parameters out of u's query, checks them,
// and returns them with a copy of u without them.
func urlOptions(u *url.URL) (urlParams, *url.URL, error) {
	q := u.Query()
	var p urlParams
	fail := func(err error) (urlParams, *url.URL, error) { return urlParams{}, nil, err }
	for k, v := range q {
		if !strings.HasPrefix(k, "latch_") {
			continue
		}
		if len(v) != 1 {
			return fail(fmt.Errorf("%w: URL parameter %s given %d times", ErrInvalid, k, len(v)))
		}
		switch k {
		case "latch_table_prefix":
			p.opts = append(p.opts, WithTablePrefix(v[0]))
		case "latch_sweep_interval", "latch_sweep_grace":
			d, err := time.ParseDuration(v[0])
			if err != nil {
				return fail(fmt.Errorf("%w: %s is not a duration such as 10m", ErrInvalid, k))
			}
			if k == "latch_sweep_interval" {
				p.opts = append(p.opts, WithSweepInterval(d))
			} else {
				p.opts = append(p.opts, WithSweepGrace(d))
			}
		case "latch_max_conns":
			n, err := strconv.Atoi(v[0])
			if err != nil || n <= 0 {
				return fail(fmt.Errorf("%w: latch_max_conns is not a positive integer", ErrInvalid))
			}
			p.maxConns = n
		default:
			return fail(fmt.Errorf("%w: unknown URL parameter %s (want latch_table_prefix, latch_sweep_interval, latch_sweep_grace or latch_max_conns)", ErrInvalid, k))
		}
		q.Del(k)
	}
	// Check the options now, before any connection is opened.
	var c config
	for _, o := range p.opts {
		if err := o(&c); err != nil {
			return fail(err)
		}
	}
	cu := *u
	if len(q) != len(u.Query()) {
		cu.RawQuery = q.Encode()
	}
	return p, &cu, nil
}

// sqliteDSN turns a sqlite: URL into a modernc.org/sqlite DSN, and
// reports whether it names an in-memory database.
func sqliteDSN(u *url.URL) (dsn string, memory bool, err error) {
	if u.Host != "" {
		return "", false, fmt.Errorf("%w: a sqlite URL has no host: write sqlite:relative/path.db or sqlite:///absolute/path.db", ErrInvalid)
	}
	p := u.Path
	if u.Opaque != "" {
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return "", false, fmt.Errorf("%w: sqlite URL path is not valid percent-encoding", ErrInvalid)
		}
	}
	switch {
	case p == "":
		return "", false, fmt.Errorf("%w: sqlite URL names no file (sqlite:path/to/file.db)", ErrInvalid)
	case strings.ContainsAny(p, "?#\x00"):
		return "", false, fmt.Errorf("%w: sqlite path holds '?', '#' or NUL", ErrInvalid)
	}
	memory = p == ":memory:"
	q := u.Query()
	var has = map[string]bool{}
	for _, v := range q["_pragma"] {
		name, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(v)), "(")
		name, _, _ = strings.Cut(name, "=")
		has[strings.TrimSpace(name)] = true
	}
	if !has["busy_timeout"] && q.Get("_busy_timeout") == "" && q.Get("_timeout") == "" {
		q.Add("_pragma", "busy_timeout(5000)")
	}
	if !memory && !has["journal_mode"] && q.Get("_journal_mode") == "" && q.Get("_journal") == "" {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	return p + "?" + q.Encode(), memory, nil
}

func openSQLite(u *url.URL, maxConns int) (*sqlx.DB, error) {
	dsn, memory, err := sqliteDSN(u)
	if err != nil {
		return nil, err
	}
	if memory && maxConns > 1 {
		return nil, fmt.Errorf("%w: sqlite::memory: exists per connection: latch_max_conns must be 1", ErrInvalid)
	}
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sqlite: %w", err)
	}
	if memory {
		// Every connection would open its own empty database: keep one,
		// forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	} else {
		// One writer at a time anyway; a few connections let readers run
		// beside it (WAL) without a storm of busy waits.
		n := cmp.Or(maxConns, 8)
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	return db, nil
}

// boundPool sets the limits of a PostgreSQL or MySQL pool from Open.
func boundPool(db *sqlx.DB, maxConns int, lifetime time.Duration) {
	n := cmp.Or(maxConns, defaultMaxConns)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(min(n, 8))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(lifetime)
}

func openPostgres(u *url.URL, maxConns int) (*sqlx.DB, error) {
	c, err := pq.NewConnector(postgresURL(u))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: postgres URL: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "postgres")
	// Replaced now and then, so a pool follows a failover or a DNS change.
	boundPool(db, maxConns, 30*time.Minute)
	return db, nil
}

// postgresURL returns the URL lib/pq opens. Unless the URL says
// otherwise it sets binary_parameters=yes: lib/pq then sends a query and
// its arguments in one round trip instead of two (parse, then bind), and
// the hashes, which are BYTEA, travel as bytes. An explicit
// binary_parameters in the URL wins.
func postgresURL(u *url.URL) string {
	q := u.Query()
	if q.Has("binary_parameters") {
		return u.String()
	}
	q.Set("binary_parameters", "yes")
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}

// mysqlConfig turns mysql://user:pass@host:port/db?params into a
// go-sql-driver configuration. The store reads no DATETIME, so parseTime
// and loc do not matter to it.
func mysqlConfig(u *url.URL) (*mysql.Config, error) {
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("%w: write mysql://user:password@host:port/database", ErrInvalid)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("%w: mysql URL must name one database: mysql://user:password@host:port/database", ErrInvalid)
	}
	cfg, err := mysql.ParseDSN("/?" + u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: mysql URL parameters: %w", ErrInvalid, err)
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = db
	// One round trip per query instead of three (prepare, execute, close):
	// the driver interpolates the arguments itself, escaping them for the
	// connection's character set, and refuses the character sets where
	// that is unsafe (BIG5, CP932, GB2312, GBK, SJIS). An explicit
	// interpolateParams in the URL wins.
	if !u.Query().Has("interpolateParams") {
		cfg.InterpolateParams = true
	}
	return cfg, nil
}

func openMySQL(u *url.URL, maxConns int) (*sqlx.DB, error) {
	cfg, err := mysqlConfig(u)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mysql URL: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "mysql")
	// Below the usual server and proxy idle timeouts, as the driver advises.
	boundPool(db, maxConns, 3*time.Minute)
	return db, nil
}
