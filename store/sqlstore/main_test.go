package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/latchauth/latch/internal/testenv"
	"github.com/latchauth/latch/store/sqlstore/internal/pglisten"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// backend is one database the tests run against.
type backend struct {
	name   string // the subtest name: postgres, mysql, sqlite
	driver string // the database/sql driver's name
	d      Dialect
	// dsn returns the data source of a database for t: a server from
	// testenv (shared, hence the table prefixes), or a file of its own.
	dsn func(t testing.TB) string
	// dead returns a data source that cannot be reached.
	dead func(t testing.TB) string
}

var backends = []backend{
	{
		name: "postgres", driver: "postgres", d: PostgreSQL,
		dsn:  func(t testing.TB) string { return testenv.PostgresDSN(t) },
		dead: func(testing.TB) string { return "postgres://latch@127.0.0.1:1/none?sslmode=disable&connect_timeout=2" },
	},
	{
		name: "mysql", driver: "mysql", d: MySQL,
		dsn:  func(t testing.TB) string { return testenv.MySQLDSN(t) },
		dead: func(testing.TB) string { return "latch@tcp(127.0.0.1:1)/none?timeout=2s" },
	},
	{
		name: "sqlite", driver: "sqlite", d: SQLite,
		dsn: func(t testing.TB) string {
			return filepath.Join(t.TempDir(), "latch.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
		},
		dead: func(t testing.TB) string {
			return filepath.Join(t.TempDir(), "no", "such", "dir", "latch.db")
		},
	},
}

// eachBackend runs f as one subtest per backend, named after it.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// testDB is a pool on one of the backends, its writes counted.
type testDB struct {
	*sqlx.DB // for the tests' own queries
	d        Dialect
	writes   *atomic.Int64 // statements that changed rows: see countWrites
	b        backend
	dsn      string
	polled   bool // Stores poll the change log on PostgreSQL too
}

// New is New on the pool. On PostgreSQL, unless db.polled, the Store
// listens for its change reports as one from Open does (sqlstore/postgres,
// which this package's tests cannot import, registers the same
// pglisten.Listen).
func (db *testDB) New(opts ...Option) (*Store, error) {
	s, err := New(db.DB.DB, db.d, opts...)
	if err == nil && db.d == PostgreSQL && !db.polled {
		u, perr := url.Parse(db.dsn)
		if perr != nil {
			return nil, perr
		}
		s.listen = func(ctx context.Context, channel string, ready func(), fn func(string)) error {
			return pglisten.Listen(ctx, u, channel, ready, fn)
		}
	}
	return s, err
}

// openDB opens a pool on b, closed when t ends.
func openDB(t testing.TB, b backend) *testDB {
	t.Helper()
	return openDSN(t, b, b.dsn(t))
}

// openDSN opens a pool on dsn of b's driver, its writes counted, closed
// when t ends.
func openDSN(t testing.TB, b backend, dsn string) *testDB {
	t.Helper()
	db, n, err := countWrites(b.driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", b.name, err)
	}
	// The servers are shared with other test packages: stay well under
	// their connection limits.
	db.SetMaxOpenConns(16)
	t.Cleanup(func() { db.Close() })
	return &testDB{DB: sqlx.NewDb(db, b.driver), d: b.d, writes: n, b: b, dsn: dsn}
}

// twin returns a second Store on s's tables in db's database, through a
// pool of its own, as a second process would open it; closed when t ends.
func (db *testDB) twin(t testing.TB, s *Store) *Store {
	t.Helper()
	db2 := openDSN(t, db.b, db.dsn)
	db2.polled = db.polled
	s2, err := db2.New(WithTablePrefix(s.prefix), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// randomPrefix returns a table prefix no other test uses.
func randomPrefix() string {
	var b [4]byte
	rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + "_"
}

// newStore returns a migrated Store on db with a fresh table prefix; when
// t ends it is closed and its tables are dropped.
func newStore(t testing.TB, db *testDB, opts ...Option) *Store {
	t.Helper()
	prefix := randomPrefix()
	opts = append([]Option{WithTablePrefix(prefix), WithSweepInterval(0)}, opts...)
	s, err := db.New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { dropTables(t, db, prefix) })
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// dropTables drops the tables of prefix, and nothing else.
func dropTables(t testing.TB, db *testDB, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, table := range []string{"sessions", "subject_locks", "strikes", "changes", "schema_migrations"} {
		if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+prefix+table); err != nil {
			t.Errorf("drop %s%s: %v", prefix, table, err)
		}
	}
	if db.d == PostgreSQL {
		if _, err := db.ExecContext(ctx, "DROP FUNCTION IF EXISTS "+prefix+"report_change()"); err != nil {
			t.Errorf("drop %sreport_change: %v", prefix, err)
		}
	}
}

// count returns how many rows the query counts.
func count(t *testing.T, db *testDB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowx(db.Rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
