// Package mysql links the MySQL and MariaDB driver
// github.com/go-sql-driver/mysql into package sqlstore's Open, and
// registers the mysql:// URL scheme with store.Open. Import it for that
// side effect, as with database/sql drivers:
//
//	import _ "github.com/latchauth/latch/store/sqlstore/mysql"
//
// The URL is mysql://user:pass@host:3306/db?params, its query parameters
// go-sql-driver's (tls, timeout, …) with the latch_ parameters of
// sqlstore.Open. Unless it says otherwise, interpolateParams=true: the
// driver sends one round trip per query instead of three (prepare,
// execute, close), escaping the arguments itself for the connection's
// character set, and refusing the character sets where that is unsafe
// (BIG5, CP932, GB2312, GBK, SJIS). The store reads no DATETIME, so
// parseTime and loc do not matter to it. The pool holds at most 16
// connections unless latch_max_conns says otherwise, each replaced after
// 3 minutes, below the usual server and proxy idle timeouts, as the
// driver advises.
//
// An application that opens its own pool passes it to sqlstore.New with
// sqlstore.MySQL, and needs no driver package.
package mysql

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/latchauth/latch/store/sqlstore"
	"github.com/latchauth/latch/store/sqlstore/internal/sqldriver"
)

func init() {
	sqldriver.Register(sqldriver.Driver{Dialect: int(sqlstore.MySQL), Open: open}, sqlstore.Open, "mysql")
}

func open(u *url.URL, maxConns int) (*sql.DB, error) {
	cfg, err := config(u)
	if err != nil {
		return nil, err
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: mysql URL: %w", sqlstore.ErrInvalid, err)
	}
	db := sql.OpenDB(c)
	sqldriver.Bound(db, maxConns, 3*time.Minute)
	return db, nil
}

// config turns mysql://user:pass@host:port/db?params into a go-sql-driver
// configuration.
func config(u *url.URL) (*mysql.Config, error) {
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("%w: write mysql://user:password@host:port/database", sqlstore.ErrInvalid)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return nil, fmt.Errorf("%w: mysql URL must name one database: mysql://user:password@host:port/database", sqlstore.ErrInvalid)
	}
	cfg, err := mysql.ParseDSN("/?" + u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: mysql URL parameters: %w", sqlstore.ErrInvalid, err)
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = db
	if !u.Query().Has("interpolateParams") {
		cfg.InterpolateParams = true
	}
	return cfg, nil
}
