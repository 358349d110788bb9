package sqlstore

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/latchauth/latch/store"
	"github.com/latchauth/latch/store/sqlstore/internal/sqldriver"
)

func TestSchemesRegistered(t *testing.T) {
	for _, s := range []string{"sqlite", "postgres", "postgresql", "mysql"} {
		if !slices.Contains(store.Schemes(), s) {
			t.Errorf("scheme %s is not registered (have %v)", s, store.Schemes())
		}
	}
}

// mysqlURL turns a go-sql-driver DSN into a mysql:// URL.
func mysqlURL(t *testing.T, dsn string) *url.URL {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u := &url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + cfg.DBName, User: url.User(cfg.User)}
	if cfg.Passwd != "" {
		u.User = url.UserPassword(cfg.User, cfg.Passwd)
	}
	return u
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	// use opens raw, checks that the store works, that its pool is
	// bounded by maxConns, and that Close closes the database it opened.
	use := func(t *testing.T, raw string, maxConns int) {
		t.Helper()
		s, err := store.Open(ctx, raw)
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		x := s.(*Store)
		if !x.owned {
			t.Error("an opened store does not own its database")
		}
		if got := x.db.Stats().MaxOpenConnections; got != maxConns {
			t.Errorf("the pool holds at most %d connections, want %d", got, maxConns)
		}
		now := time.Now()
		sess := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(ctx, sess, 2); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if _, err := s.Get(ctx, sess.ID, now); err != nil {
			t.Fatalf("Get: %v", err)
		}
		dropTables(t, &testDB{DB: x.db, d: x.d}, x.prefix)
		if err := x.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err = s.Get(ctx, sess.ID, now)
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Close = %v, want ErrClosed", err)
		}
		if err := x.db.PingContext(ctx); err == nil {
			t.Error("Close left the opened database open")
		}
	}
	// withPrefix adds latch_ parameters, and any given in pairs.
	withPrefix := func(u *url.URL, kv ...string) string {
		q := u.Query()
		q.Set("latch_table_prefix", randomPrefix())
		q.Set("latch_sweep_interval", "0")
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	eachBackend(t, func(t *testing.T, b backend) {
		switch b.name {
		case "postgres":
			u, err := url.Parse(b.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			use(t, withPrefix(u), sqldriver.DefaultMaxConns)
			u.Scheme = "postgresql"
			// The driver never sees latch_ parameters (PostgreSQL would
			// refuse them as unknown settings).
			use(t, withPrefix(u, "latch_max_conns", "3", "latch_sweep_grace", "1m"), 3)
		case "mysql":
			use(t, withPrefix(mysqlURL(t, b.dsn(t))), sqldriver.DefaultMaxConns)
			use(t, withPrefix(mysqlURL(t, b.dsn(t)), "latch_max_conns", "5", "latch_poll_interval", "20ms"), 5)
		case "sqlite":
			use(t, "sqlite:"+filepath.ToSlash(filepath.Join(t.TempDir(), "a.db")), 8)
			use(t, "sqlite://"+filepath.ToSlash(filepath.Join(t.TempDir(), "b.db"))+"?latch_max_conns=2", 2)
			use(t, "sqlite::memory:?latch_sweep_interval=1m", 1)
			use(t, "sqlite::memory:?latch_max_conns=1", 1)
		}
	})
}

// TestOpenParams: bad latch_ parameters are ErrInvalid before anything is
// opened, and the others are removed from what the driver sees.
func TestOpenParams(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, q := range []string{
		"latch_table_prefix=", // schema_migrations would clash with other tools'
		"latch_table_prefix=Bad",
		"latch_max_conns=0", "latch_max_conns=-1", "latch_max_conns=", "latch_max_conns=1.5", "latch_max_conns=x",
		"latch_max_conns=99999999999999999999",
		"latch_sweep_grace=-1s", "latch_sweep_grace=soon", "latch_sweep_interval=-1s",
		"latch_poll_interval=0", "latch_poll_interval=-1ms", "latch_poll_interval=11s", "latch_poll_interval=soon",
		"latch_max_conns=1&latch_max_conns=2",
		"latch_nonsense=1",
	} {
		file := filepath.Join(dir, "x.db")
		_, err := store.Open(ctx, "sqlite:"+filepath.ToSlash(file)+"?"+q)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Open with %s = %v, want ErrInvalid", q, err)
		}
		if _, err := os.Stat(file); err == nil {
			t.Fatalf("Open with %s created the database before refusing", q)
		}
	}
	if _, err := store.Open(ctx, "sqlite::memory:?latch_max_conns=2"); !errors.Is(err, ErrInvalid) {
		t.Errorf("sqlite::memory: with 2 connections = %v, want ErrInvalid", err)
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	const pw = "s3cr3t-Pw"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, raw := range []string{
		"postgres://latch:" + pw + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgresql://latch:" + pw + "@127.0.0.1:1/db?sslmode=nonsense",
		"postgres://latch:" + pw + "@127.0.0.1:1/db?latch_table_prefix=Bad",
		"postgres://latch:" + pw + "@127.0.0.1:1/db?latch_sweep_interval=" + pw,
		"postgres://latch:" + pw + "@127.0.0.1:1/db?latch_nonsense=" + pw,
		"postgres://latch:" + pw + "@127.0.0.1:1/db?latch_max_conns=" + pw,
		"postgres://latch:" + pw + "@127.0.0.1:1/db?latch_sweep_grace=" + pw,
		"mysql://latch:" + pw + "@127.0.0.1:1/db?latch_poll_interval=" + pw,
		"postgres://latch:" + pw + "@127.0.0.1:1/db?latch_table_prefix=",
		"mysql://latch:" + pw + "@127.0.0.1:1/db?timeout=2s",
		"mysql://latch:" + pw + "@127.0.0.1:1/db?timeout=" + pw,
		"mysql://latch:" + pw + "@127.0.0.1:1",
		"mysql://latch:" + url.PathEscape(pw+"@/:") + "@127.0.0.1:1/db?timeout=2s",
		"sqlite://latch:" + pw + "@host/x.db",
	} {
		_, err := store.Open(ctx, raw)
		if err == nil {
			t.Errorf("Open succeeded on a dead or invalid URL")
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), url.QueryEscape(pw)) {
			t.Errorf("Open error holds the password: %v", err)
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("Open error is a store sentinel: %v", err)
		}
	}
}
