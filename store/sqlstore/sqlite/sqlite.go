// Package sqlite links the SQLite driver modernc.org/sqlite (pure Go, no
// cgo) into package sqlstore's Open, and registers the sqlite: URL scheme
// with store.Open. Import it for that side effect, as with database/sql
// drivers:
//
//	import _ "github.com/latchauth/latch/store/sqlstore/sqlite"
//
// The URLs:
//
//	sqlite:path/to/file.db       relative to the working directory
//	sqlite:///abs/path/file.db   absolute
//	sqlite::memory:              one private in-memory database (one connection)
//
// with modernc.org/sqlite's query parameters and the latch_ parameters of
// sqlstore.Open. Unless the URL says otherwise, every connection of the
// pool gets busy_timeout (5s) and, for files, WAL journaling, through
// modernc.org/sqlite's _pragma parameters: without a busy timeout,
// concurrent writers fail with "database is locked" at once. The pool
// holds at most 8 connections unless latch_max_conns says otherwise: one
// writer at a time anyway, and readers beside it. A sqlite::memory:
// database exists per connection, so its pool keeps exactly one, and
// latch_max_conns other than 1 is sqlstore.ErrInvalid there.
//
// An application that opens its own pool (with modernc.org/sqlite or
// mattn/go-sqlite3) passes it to sqlstore.New with sqlstore.SQLite, and
// needs no driver package.
package sqlite

import (
	"cmp"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/latchauth/latch/store/sqlstore"
	"github.com/latchauth/latch/store/sqlstore/internal/sqldriver"
)

func init() {
	sqldriver.Register(sqldriver.Driver{Dialect: int(sqlstore.SQLite), Open: open}, sqlstore.Open, "sqlite")
}

func open(u *url.URL, maxConns int) (*sql.DB, error) {
	dsn, memory, err := dsn(u)
	if err != nil {
		return nil, err
	}
	if memory && maxConns > 1 {
		return nil, fmt.Errorf("%w: sqlite::memory: exists per connection: latch_max_conns must be 1", sqlstore.ErrInvalid)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if memory {
		// Every connection would open its own empty database: keep one,
		// forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	} else {
		n := cmp.Or(maxConns, 8)
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	return db, nil
}

// dsn turns a sqlite: URL into a modernc.org/sqlite DSN, and reports
// whether it names an in-memory database.
func dsn(u *url.URL) (dsn string, memory bool, err error) {
	if u.Host != "" {
		return "", false, fmt.Errorf("%w: a sqlite URL has no host: write sqlite:relative/path.db or sqlite:///absolute/path.db", sqlstore.ErrInvalid)
	}
	p := u.Path
	if u.Opaque != "" {
		if p, err = url.PathUnescape(u.Opaque); err != nil {
			return "", false, fmt.Errorf("%w: sqlite URL path is not valid percent-encoding", sqlstore.ErrInvalid)
		}
	}
	switch {
	case p == "":
		return "", false, fmt.Errorf("%w: sqlite URL names no file (sqlite:path/to/file.db)", sqlstore.ErrInvalid)
	case strings.ContainsAny(p, "?#\x00"):
		return "", false, fmt.Errorf("%w: sqlite path holds '?', '#' or NUL", sqlstore.ErrInvalid)
	}
	memory = p == ":memory:"
	q := u.Query()
	has := map[string]bool{}
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
