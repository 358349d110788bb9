// Package postgres links the PostgreSQL driver github.com/lib/pq into
// package sqlstore's Open, and registers the postgres:// and
// postgresql:// URL schemes with store.Open. Import it for that side
// effect, as with database/sql drivers:
//
//	import _ "github.com/latchauth/latch/store/sqlstore/postgres"
//
// A program that imports no other sqlstore driver package links neither
// the MySQL driver nor SQLite.
//
// The URL is lib/pq's (postgres://user:pass@host:5432/db?sslmode=verify-full),
// with the latch_ parameters of sqlstore.Open. Unless it says otherwise,
// binary_parameters=yes: lib/pq then sends a query and its arguments in
// one round trip instead of two (parse, then bind), and the hashes, which
// are BYTEA, travel as bytes. The pool holds at most 16 connections
// unless latch_max_conns says otherwise, each replaced after 30 minutes,
// so that a pool follows a failover or a DNS change.
//
// An application that opens its own pool (with lib/pq or pgx) needs no
// driver package: it passes the pool to sqlstore.New with
// sqlstore.PostgreSQL.
package postgres

import (
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/lib/pq"

	"github.com/latchauth/latch/store/sqlstore"
	"github.com/latchauth/latch/store/sqlstore/internal/pglisten"
	"github.com/latchauth/latch/store/sqlstore/internal/sqldriver"
)

func init() {
	sqldriver.Register(sqldriver.Driver{Dialect: int(sqlstore.PostgreSQL), Open: open, Listen: pglisten.Listen}, sqlstore.Open, "postgres", "postgresql")
}

func open(u *url.URL, maxConns int) (*sql.DB, error) {
	c, err := pq.NewConnector(dsn(u))
	if err != nil {
		return nil, fmt.Errorf("%w: postgres URL: %w", sqlstore.ErrInvalid, err)
	}
	db := sql.OpenDB(c)
	sqldriver.Bound(db, maxConns, 30*time.Minute)
	return db, nil
}

// dsn returns the URL lib/pq opens: u with binary_parameters=yes unless u
// sets binary_parameters.
func dsn(u *url.URL) string {
	q := u.Query()
	if q.Has("binary_parameters") {
		return u.String()
	}
	q.Set("binary_parameters", "yes")
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}
