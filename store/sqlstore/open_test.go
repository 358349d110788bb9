package sqlstore

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/latchauth/latch/store"
)

func TestSchemesRegistered(t *testing.T) {
	for _, s := range []string{"sqlite", "postgres", "postgresql", "mysql"} {
		if !slices.Contains(store.Schemes(), s) {
			t.Errorf("scheme %s is not registered (have %v)", s, store.Schemes())
		}
	}
}

func TestSQLiteDSN(t *testing.T) {
	for _, c := range []struct {
		url, dsn string
		memory   bool
	}{
		{"sqlite:latch.db", "latch.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite:data/latch.db", "data/latch.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite:///var/lib/latch.db", "/var/lib/latch.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite:my%20file.db", "my file.db?_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
		{"sqlite::memory:", ":memory:?_pragma=busy_timeout%285000%29", true},
		// The URL's own settings win over the defaults.
		{"sqlite:x.db?_pragma=busy_timeout(100)&_pragma=journal_mode(DELETE)", "x.db?_pragma=busy_timeout%28100%29&_pragma=journal_mode%28DELETE%29", false},
		{"sqlite:x.db?_pragma=foreign_keys(1)", "x.db?_pragma=foreign_keys%281%29&_pragma=busy_timeout%285000%29&_pragma=journal_mode%28WAL%29", false},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		dsn, memory, err := sqliteDSN(u)
		if err != nil || dsn != c.dsn || memory != c.memory {
			t.Errorf("sqliteDSN(%s) = %q, %v, %v; want %q, %v", c.url, dsn, memory, err, c.dsn, c.memory)
		}
	}
	for _, bad := range []string{"sqlite:", "sqlite://host/x.db", "sqlite:x%3F.db", "sqlite:x%00.db", "sqlite:%zz"} {
		u, err := url.Parse(bad)
		if err != nil {
			continue
		}
		if _, _, err := sqliteDSN(u); !errors.Is(err, ErrInvalid) {
			t.Errorf("sqliteDSN(%s) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestMySQLConfig(t *testing.T) {
	u, _ := url.Parse("mysql://app:p%40ss%3Aw0rd@db.example:3307/latch?tls=skip-verify&timeout=5s&parseTime=true")
	cfg, err := mysqlConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "app" || cfg.Passwd != "p@ss:w0rd" || cfg.Net != "tcp" || cfg.Addr != "db.example:3307" ||
		cfg.DBName != "latch" || cfg.Timeout != 5*time.Second || cfg.TLSConfig != "skip-verify" {
		t.Errorf("mysqlConfig = %+v", cfg)
	}
	u, _ = url.Parse("mysql://root@[::1]/latch")
	if cfg, err := mysqlConfig(u); err != nil || cfg.Addr != "[::1]:3306" || cfg.Passwd != "" {
		t.Errorf("mysqlConfig without port = %+v, %v; want [::1]:3306", cfg, err)
	}
	for _, bad := range []string{"mysql://root@host", "mysql://root@host/", "mysql://root@host/a/b", "mysql:root@host/db", "mysql://root@host/db?timeout=soon"} {
		u, _ := url.Parse(bad)
		if _, err := mysqlConfig(u); !errors.Is(err, ErrInvalid) {
			t.Errorf("mysqlConfig(%s) = %v, want ErrInvalid", bad, err)
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
	// use opens raw, checks that the store works and that Close closes the
	// database it opened.
	use := func(t *testing.T, raw string) {
		t.Helper()
		s, err := store.Open(ctx, raw)
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		x := s.(*Store)
		if !x.owned {
			t.Error("an opened store does not own its database")
		}
		now := time.Now()
		sess := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(ctx, sess, 2); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if _, err := s.Get(ctx, sess.ID, now); err != nil {
			t.Fatalf("Get: %v", err)
		}
		dropTables(t, x.db, x.prefix)
		if err := x.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err = s.Get(ctx, sess.ID, now)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after Close = %v, want a closed-database error", err)
		}
	}
	withPrefix := func(u *url.URL) string {
		q := u.Query()
		q.Set("latch_table_prefix", randomPrefix())
		q.Set("latch_sweep_interval", "0")
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
			use(t, withPrefix(u))
			u.Scheme = "postgresql"
			use(t, withPrefix(u))
		case "mysql":
			use(t, withPrefix(mysqlURL(t, b.dsn(t))))
		case "sqlite":
			use(t, "sqlite:"+filepath.ToSlash(filepath.Join(t.TempDir(), "a.db")))
			use(t, "sqlite://"+filepath.ToSlash(filepath.Join(t.TempDir(), "b.db")))
			use(t, "sqlite::memory:?latch_sweep_interval=1m")
		}
	})
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
