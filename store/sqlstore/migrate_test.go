package sqlstore

import (
	"context"
	"io/fs"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/latchauth/latch/store"
)

func TestMigrate(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		want, err := migrations(b.d, "x_")
		if err != nil || len(want) == 0 {
			t.Fatalf("embedded migrations: %d, %v", len(want), err)
		}

		t.Run("records-versions-and-is-idempotent", func(t *testing.T) {
			db := openDB(t, b)
			s := newStore(t, db) // migrated once
			ctx := context.Background()
			for range 2 {
				if err := s.Migrate(ctx); err != nil {
					t.Fatalf("Migrate again: %v", err)
				}
			}
			var versions []int64
			if err := db.Select(&versions, "SELECT version FROM "+s.prefix+"schema_migrations ORDER BY version"); err != nil {
				t.Fatal(err)
			}
			if len(versions) != len(want) || versions[len(versions)-1] != want[len(want)-1].version {
				t.Errorf("schema_migrations holds %v, want versions 1..%d", versions, want[len(want)-1].version)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"sessions"); n != 0 {
				t.Errorf("a new sessions table holds %d rows", n)
			}
		})

		t.Run("newer-versions-left-alone", func(t *testing.T) {
			db := openDB(t, b)
			s := newStore(t, db)
			db.MustExec(db.Rebind("INSERT INTO "+s.prefix+"schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), 9999, "from_the_future", 0)
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatalf("Migrate with a newer version recorded: %v", err)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM "+s.prefix+"schema_migrations"); n != len(want)+1 {
				t.Errorf("schema_migrations holds %d rows, want %d", n, len(want)+1)
			}
		})

		// Two processes starting at once: two pools, four migrators each.
		t.Run("concurrent-migrators", func(t *testing.T) {
			dsn := b.dsn(t)
			pools := []*Store{}
			prefix := randomPrefix()
			for range 2 {
				db := openDSN(t, b, dsn)
				t.Cleanup(func() { dropTables(t, db, prefix) })
				for range 4 {
					s, err := db.New(WithTablePrefix(prefix), WithSweepInterval(0))
					if err != nil {
						t.Fatal(err)
					}
					pools = append(pools, s)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			errs := make([]error, len(pools))
			var wg sync.WaitGroup
			begin := make(chan struct{})
			for i, s := range pools {
				wg.Go(func() {
					<-begin
					errs[i] = s.Migrate(ctx)
				})
			}
			close(begin)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("migrator %d: %v", i, err)
				}
			}
			db := &testDB{DB: pools[0].db, d: b.d}
			if n := count(t, db, "SELECT COUNT(*) FROM "+prefix+"schema_migrations"); n != len(want) {
				t.Errorf("schema_migrations holds %d rows after concurrent migrations, want %d", n, len(want))
			}
			// The schema works from both pools.
			now := time.Now()
			sess := &store.Session{Subject: "alice", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}
			if err := pools[0].Create(ctx, sess, 1); err != nil {
				t.Fatalf("Create after concurrent migrations: %v", err)
			}
			if _, err := pools[len(pools)-1].Get(ctx, sess.ID, now); err != nil {
				t.Fatalf("Get from the other pool: %v", err)
			}
		})

		t.Run("done-context", func(t *testing.T) {
			s, err := openDB(t, b).New(WithTablePrefix(randomPrefix()), WithSweepInterval(0))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := s.Migrate(ctx); !isCanceled(err) {
				t.Errorf("Migrate with a canceled context = %v, want context.Canceled", err)
			}
		})
	})
}

// TestMigrationsCRLF: a checkout that converted the .sql files to CRLF
// line ends (git's autocrlf) must give the very same statements.
func TestMigrationsCRLF(t *testing.T) {
	for _, d := range []Dialect{PostgreSQL, MySQL, SQLite} {
		crlf := fstest.MapFS{}
		err := fs.WalkDir(migrationFS, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			b, err := migrationFS.ReadFile(p)
			crlf[p] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want, err := migrations(d, "p_")
		if err != nil {
			t.Fatal(err)
		}
		got, err := migrationsIn(crlf, d, "p_")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: CRLF files give\n%+v\nwant\n%+v", d, got, want)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"CREATE a;\nCREATE b;\n", "CREATE a|CREATE b"},
		{"CREATE a;\r\nCREATE b;\r\n", "CREATE a|CREATE b"},
		{"-- comment; with a semicolon\r\nCREATE a (\r\n\tx INT\r\n);  \r\n\r\nCREATE b;", "CREATE a (\n\tx INT\n)|CREATE b"},
		{"CREATE {prefix}a;\rCREATE b", "CREATE p_a;\rCREATE b"}, // a lone CR ends no line
		{"CREATE a\n;\nCREATE b", "CREATE a|CREATE b"},
		{"", ""},
	} {
		if got := strings.Join(splitStatements(c.text, "p_"), "|"); got != c.want {
			t.Errorf("splitStatements(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestMigrationFiles(t *testing.T) {
	for _, d := range []Dialect{PostgreSQL, MySQL, SQLite} {
		ms, err := migrations(d, "p_")
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		for i, m := range ms {
			if m.version != int64(i+1) {
				t.Errorf("%s: migration %d has version %d: versions must run 1, 2, 3…", d, i, m.version)
			}
			if len(m.stmts) == 0 {
				t.Errorf("%s: migration %d has no statement", d, m.version)
			}
			for _, st := range m.stmts {
				// A semicolon may only end a statement of a function's
				// body, which is dollar-quoted and on the statement's one
				// line, or of a trigger's BEGIN … END body, on the one
				// line of its CREATE TRIGGER.
				outside := st
				if before, body, ok := strings.Cut(st, "$$"); ok {
					if _, after, ok := strings.Cut(body, "$$"); ok && !contains(body, "\n") {
						outside = before + after
					}
				}
				if before, _, ok := strings.Cut(st, " BEGIN "); ok && strings.HasPrefix(st, "CREATE TRIGGER ") &&
					strings.HasSuffix(st, " END") && !contains(st, "\n") {
					outside = before
				}
				for _, bad := range []string{"{prefix}", ";"} {
					if contains(st, bad) && (bad != ";" || contains(outside, bad)) {
						t.Errorf("%s: migration %d statement holds %q:\n%s", d, m.version, bad, st)
					}
				}
			}
		}
	}
}

// TestMigrateFrom0001: a database created by the first release (schema
// version 1) with a live session migrates forward, and the session still
// reads, as a login of its own with no idle timeout, and takes Touch and
// Freshen. On PostgreSQL and MySQL a run of 0002 cut short before it was
// recorded (MySQL's DDL commits statement by statement) is finished by
// the next.
func TestMigrateFrom0001(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := openDB(t, b)
		prefix := randomPrefix()
		t.Cleanup(func() { dropTables(t, db, prefix) })
		s, err := db.New(WithTablePrefix(prefix), WithSweepInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		steps, err := migrations(b.d, prefix)
		if err != nil || len(steps) < 2 || steps[1].version != 2 {
			t.Fatalf("embedded migrations: %d, %v", len(steps), err)
		}
		if err := s.migrate(ctx, steps[:1]); err != nil {
			t.Fatalf("migrating to version 1: %v", err)
		}
		now := time.Now().Truncate(time.Millisecond)
		id := store.NewID()
		db.MustExec(db.Rebind(`INSERT INTO `+prefix+`sessions (id, subject, device_label, device_user_agent, device_ip,
			secret_hash, refresh_hash, spent, claims,
			created_at, last_used_at, rotated_at, fresh_until, access_expires_at, idle_until, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			id, "alice", s.device("laptop"), s.device("ua"), s.device("203.0.113.9"),
			nil, []byte("r"), spentEntry([]byte("old")), `{"role":"admin"}`,
			now.UnixMilli(), now.UnixMilli(), 0, 0, 0, now.Add(time.Hour).UnixMilli(), now.Add(2*time.Hour).UnixMilli())

		if b.d != SQLite {
			// 0002 applied but not recorded.
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range steps[1].stmts {
				if _, err := conn.ExecContext(ctx, st); err != nil {
					t.Fatalf("0002 by hand: %v\n%s", err, st)
				}
			}
			conn.Close()
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate from version 1: %v", err)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM "+prefix+"schema_migrations"); n != len(steps) {
			t.Errorf("%d versions recorded, want %d", n, len(steps))
		}

		got, err := s.Get(ctx, id, now)
		if err != nil {
			t.Fatalf("Get of the session from version 1: %v", err)
		}
		if got.Subject != "alice" || got.Device.Label != "laptop" || got.Claims["role"] != "admin" || len(got.Spent) != 1 ||
			got.Actor != nil || got.IdleTimeout != 0 || !got.IdleUntil.Equal(now.Add(time.Hour)) {
			t.Errorf("the session from version 1 reads as %+v", got)
		}
		if err := s.Touch(ctx, id, now.Add(time.Minute), time.Hour, 0); err != nil {
			t.Errorf("Touch: %v", err)
		}
		if err := s.Freshen(ctx, id, now.Add(5*time.Minute), now); err != nil {
			t.Errorf("Freshen: %v", err)
		}
		if got, err := s.Get(ctx, id, now); err != nil || !got.IdleUntil.Equal(now.Add(61*time.Minute)) || !got.FreshUntil.Equal(now.Add(5*time.Minute)) {
			t.Errorf("after Touch and Freshen: %+v, %v", got, err)
		}
		// The new schema takes the new fields.
		x := &store.Session{Subject: "bob", RefreshHash: []byte("r"), CreatedAt: now, IdleUntil: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour),
			IdleTimeout: time.Minute, Actor: &store.Actor{Subject: "alice", SessionID: id}}
		if err := s.Create(ctx, x, 1); err != nil {
			t.Fatalf("Create after migrating: %v", err)
		}
		if _, err := s.AddStrike(ctx, "k", now, time.Minute); err != nil {
			t.Errorf("AddStrike after migrating: %v", err)
		}
	})
}
