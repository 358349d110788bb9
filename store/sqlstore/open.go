package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
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

func openStore(ctx context.Context, u *url.URL) (store.Store, error) {
	return Open(ctx, u)
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
// Two query parameters set options and are removed before the rest reaches
// the driver: latch_table_prefix (WithTablePrefix) and
// latch_sweep_interval (WithSweepInterval, a time.ParseDuration string; 0
// turns the sweeper off). Otherwise the defaults hold: tables prefixed
// "latch_", a sweep every 10 minutes, sweeper errors discarded. Migrating
// on open is safe: Migrate is idempotent and serializes concurrent
// migrators.
//
// For SQLite, Open sets busy_timeout (5s) and, for files, WAL journaling
// through modernc.org/sqlite's _pragma parameters, so they apply to every
// connection of the pool; query parameters of the URL are passed on and
// win over these defaults. A sqlite::memory: store is limited to one
// connection, since each connection would otherwise get its own database.
//
// Errors never contain the URL or its password.
func Open(ctx context.Context, u *url.URL) (*Store, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil URL", ErrInvalid)
	}
	pass, _ := u.User.Password()
	secrets := []string{pass, url.QueryEscape(pass), url.PathEscape(pass), u.String()}
	opts, u, err := urlOptions(u)
	if err != nil {
		return nil, redact(err, secrets...)
	}
	var db *sqlx.DB
	switch strings.ToLower(u.Scheme) {
	case "sqlite":
		db, err = openSQLite(u)
	case "postgres", "postgresql":
		db, err = openPostgres(u)
	case "mysql":
		db, err = openMySQL(u)
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

// urlOptions takes the latch_ parameters out of u's query and returns
// them as options, with a copy of u without them.
func urlOptions(u *url.URL) ([]Option, *url.URL, error) {
	q := u.Query()
	var opts []Option
	for k, v := range q {
		if !strings.HasPrefix(k, "latch_") {
			continue
		}
		if len(v) != 1 {
			return nil, nil, fmt.Errorf("%w: URL parameter %s given %d times", ErrInvalid, k, len(v))
		}
		switch k {
		case "latch_table_prefix":
			opts = append(opts, WithTablePrefix(v[0]))
		case "latch_sweep_interval":
			d, err := time.ParseDuration(v[0])
			if err != nil {
				return nil, nil, fmt.Errorf("%w: latch_sweep_interval is not a duration such as 10m", ErrInvalid)
			}
			opts = append(opts, WithSweepInterval(d))
		default:
			return nil, nil, fmt.Errorf("%w: unknown URL parameter %s (want latch_table_prefix or latch_sweep_interval)", ErrInvalid, k)
		}
		q.Del(k)
	}
	c := *u
	if len(opts) > 0 {
		c.RawQuery = q.Encode()
	}
	return opts, &c, nil
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

func openSQLite(u *url.URL) (*sqlx.DB, error) {
	dsn, memory, err := sqliteDSN(u)
	if err != nil {
		return nil, err
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
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	return db, nil
}

func openPostgres(u *url.URL) (*sqlx.DB, error) {
	c, err := pq.NewConnector(u.String())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: postgres URL: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "postgres")
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
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
	return cfg, nil
}

func openMySQL(u *url.URL) (*sqlx.DB, error) {
	cfg, err := mysqlConfig(u)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: mysql URL: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "mysql")
	db.SetMaxIdleConns(8)
	// Below the usual server and proxy idle timeouts, as the driver advises.
	db.SetConnMaxLifetime(3 * time.Minute)
	return db, nil
}
