package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/latchauth/latch/store"
)

// netCounter counts a client's network round trips on the connections
// it dials: each time a connection is read after it was written to (a
// request went out, and the client waits for its answer). Writes that
// expect no answer (MySQL's COM_STMT_CLOSE) join the next request, and an
// answer read in several pieces counts once.
type netCounter struct{ n atomic.Int64 }

func (c *netCounter) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &tripConn{Conn: conn, n: &c.n}, nil
}

// Dial and DialTimeout make netCounter a pq.Dialer.
func (c *netCounter) Dial(network, addr string) (net.Conn, error) {
	return c.DialContext(context.Background(), network, addr)
}

func (c *netCounter) DialTimeout(network, addr string, d time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return c.DialContext(ctx, network, addr)
}

// tripConn is a connection whose round trips are counted.
type tripConn struct {
	net.Conn
	n    *atomic.Int64
	mu   sync.Mutex
	sent bool // written since the last read
}

func (c *tripConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.sent = true
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *tripConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.sent {
		c.sent = false
		c.n.Add(1)
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// counted is a pool of one connection whose statements (see countingConn)
// and, on a server, network round trips are counted.
type counted struct {
	db           *sql.DB
	stmts, trips *atomic.Int64
}

// openCounted opens dsn of b's driver as a counted pool, closed when t
// ends. The connection is dialled through a netCounter: lib/pq's Dialer,
// go-sql-driver's DialFunc; SQLite dials nothing.
func openCounted(t *testing.T, b backend, dsn string) counted {
	t.Helper()
	nc := &netCounter{}
	var c driver.Connector
	var err error
	switch b.d {
	case PostgreSQL:
		var pc *pq.Connector
		if pc, err = pq.NewConnector(dsn); err == nil {
			pc.Dialer(nc)
			c = pc
		}
	case MySQL:
		var cfg *mysql.Config
		if cfg, err = mysql.ParseDSN(dsn); err == nil {
			cfg.DialFunc = nc.DialContext
			c, err = mysql.NewConnector(cfg)
		}
	default:
		c, err = connector(b.driver, dsn)
	}
	if err != nil {
		t.Fatalf("open %s: %v", b.name, err)
	}
	cc := &countingConnector{Connector: c, n: new(atomic.Int64), stmts: new(atomic.Int64)}
	db := sql.OpenDB(cc)
	db.SetMaxOpenConns(1) // one connection, dialled once
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	t.Cleanup(func() { db.Close() })
	return counted{db: db, stmts: cc.stmts, trips: &nc.n}
}

// cost is what one store call sends: its statements on PostgreSQL, MySQL
// and SQLite, and its round trips to PostgreSQL and MySQL, each with the
// driver's defaults and as sqlstore's Open sets the driver up
// (binary_parameters=yes, interpolateParams=true).
type cost struct {
	pgStmts, myStmts, liteStmts int64
	pg, pgOpen, my, myOpen      int64
}

// TestRoundTrips: the statements and round trips of each operation on
// every dialect (docs/stores.md quotes these), counted on the real
// drivers and servers.
func TestRoundTrips(t *testing.T) {
	modes := []struct {
		name  string
		b     backend
		param string // added to the DSN
		want  func(cost) (stmts, trips int64)
	}{
		{"postgres", backends[0], "", func(c cost) (int64, int64) { return c.pgStmts, c.pg }},
		{"postgres-binary-parameters", backends[0], "binary_parameters=yes", func(c cost) (int64, int64) { return c.pgStmts, c.pgOpen }},
		{"mysql", backends[1], "", func(c cost) (int64, int64) { return c.myStmts, c.my }},
		{"mysql-interpolated", backends[1], "interpolateParams=true", func(c cost) (int64, int64) { return c.myStmts, c.myOpen }},
		{"sqlite", backends[2], "", func(c cost) (int64, int64) { return c.liteStmts, 0 }},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dsn := m.b.dsn(t)
			if m.param != "" {
				dsn = withParam(dsn, m.param)
			}
			c := openCounted(t, m.b, dsn)
			db := &testDB{DB: sqlx.NewDb(c.db, m.b.driver), d: m.b.d, b: m.b, dsn: dsn}
			s := newStore(t, db)
			ctx := context.Background()
			now := time.Now().Truncate(time.Millisecond)
			newSession := func(subject string) *store.Session {
				return &store.Session{
					Subject:     subject,
					Device:      store.Device{Label: "laptop", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "192.0.2.7"},
					SecretHash:  randomHash(),
					RefreshHash: randomHash(),
					Claims:      map[string]any{"role": "reader"},
					CreatedAt:   now, LastUsedAt: now, AccessExpiresAt: now.Add(15 * time.Minute),
					IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour),
				}
			}
			// Warm up: the connection is open, and each query has run once.
			x := newSession("alice")
			if err := s.Create(ctx, x, 3); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, x.ID, now); err != nil {
				t.Fatal(err)
			}
			rotation := func(old []byte) store.Rotation {
				return store.Rotation{Old: old, RefreshHash: randomHash(), IdleUntil: now.Add(time.Hour), KeepSpent: 3}
			}
			for _, op := range []struct {
				name string
				want cost // statements on PostgreSQL, MySQL, SQLite; round trips (see cost)
				op   func() error
			}{
				{"login (Create)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { return s.Create(ctx, newSession("alice"), 0) }},
				{"login under a cap, nothing evicted (Create)", cost{6, 6, 5, 10, 6, 11, 7}, func() error { return s.Create(ctx, newSession("bob"), 10) }},
				{"login under a cap, evicting (Create)", cost{7, 7, 6, 12, 7, 13, 8}, func() error { return s.Create(ctx, newSession("bob"), 1) }},
				{"validate (Get)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { _, err := s.Get(ctx, x.ID, now); return err }},
				{"touch (Touch)", cost{1, 1, 1, 2, 1, 2, 1}, func() error {
					return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute)
				}},
				{"throttled touch (Touch)", cost{2, 2, 2, 4, 2, 4, 2}, func() error {
					return s.Touch(ctx, x.ID, now.Add(time.Minute), time.Hour, time.Minute)
				}},
				{"step-up (Freshen)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { return s.Freshen(ctx, x.ID, now.Add(5*time.Minute), now) }},
				{"refresh (Rotate)", cost{1, 1, 1, 2, 1, 2, 1}, func() error {
					r := rotation(x.RefreshHash)
					x.RefreshHash = r.RefreshHash
					return s.Rotate(ctx, x.ID, r, now)
				}},
				{"refresh with a spent token (Rotate: ErrConflict)", cost{2, 2, 2, 4, 2, 4, 2}, func() error {
					if err := s.Rotate(ctx, x.ID, rotation(randomHash()), now); err != store.ErrConflict {
						return fmt.Errorf("Rotate: %v, want ErrConflict", err)
					}
					return nil
				}},
				{"list devices (List)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { _, err := s.List(ctx, "alice", now); return err }},
				{"revoke (Revoke)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { return s.Revoke(ctx, "alice", x.ID) }},
				{"revoke all (RevokeSubject)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { _, err := s.RevokeSubject(ctx, "alice", ""); return err }},
				{"failed login (AddStrike)", cost{1, 4, 4, 2, 1, 6, 4}, func() error { _, err := s.AddStrike(ctx, "login:alice", now, time.Hour); return err }},
				{"throttling check (Strikes)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { _, err := s.Strikes(ctx, []string{"login:alice", "ip:192.0.2.7"}, now); return err }},
				{"throttling reset (ClearStrikes)", cost{1, 1, 1, 2, 1, 2, 1}, func() error { return s.ClearStrikes(ctx, []string{"login:alice", "ip:192.0.2.7"}) }},
			} {
				stmts, trips := c.stmts.Load(), c.trips.Load()
				if err := op.op(); err != nil {
					t.Fatalf("%s: %v", op.name, err)
				}
				gotStmts, gotTrips := c.stmts.Load()-stmts, c.trips.Load()-trips
				t.Logf("%-50s %d statements, %d round trips", op.name, gotStmts, gotTrips)
				wantStmts, wantTrips := m.want(op.want)
				if gotStmts != wantStmts {
					t.Errorf("%s: %d statements, want %d", op.name, gotStmts, wantStmts)
				}
				if gotTrips != wantTrips {
					t.Errorf("%s: %d round trips, want %d", op.name, gotTrips, wantTrips)
				}
			}
		})
	}
}

func randomHash() []byte {
	h := make([]byte, store.HashLen)
	rand.Read(h)
	return h
}
