package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one versioned step of the schema of one dialect.
type migration struct {
	version int64
	name    string
	stmts   []string
}

// migrations returns d's embedded migrations in version order, with
// prefix substituted for {prefix}.
func migrations(d Dialect, prefix string) ([]migration, error) {
	return migrationsIn(migrationFS, d, prefix)
}

// migrationsIn reads d's migrations from fsys. Files are named
// NNNN_name.sql; statements end with a semicolon at the end of a line.
func migrationsIn(fsys fs.FS, d Dialect, prefix string) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("sqlstore: migration file %s is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migrations: %w", err)
		}
		out = append(out, migration{version: v, name: name, stmts: splitStatements(string(b), prefix)})
	}
	slices.SortFunc(out, func(a, b migration) int { return int(a.version - b.version) })
	return out, nil
}

// splitStatements splits a migration file into its statements, with
// prefix substituted for {prefix}. A statement ends with a line whose last
// character other than white space is a semicolon, which is dropped;
// comment lines (--) and blank lines are left out. Line ends may be \n or
// \r\n (a checkout that converted the files), and the last line needs no
// line end.
func splitStatements(text, prefix string) []string {
	var out, lines []string
	flush := func() {
		if len(lines) > 0 {
			out = append(out, strings.ReplaceAll(strings.Join(lines, "\n"), "{prefix}", prefix))
			lines = lines[:0]
		}
	}
	for l := range strings.Lines(text) {
		l = strings.TrimRight(l, " \t\r\n")
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		end := strings.HasSuffix(l, ";")
		if l = strings.TrimSuffix(l, ";"); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
		if end {
			flush()
		}
	}
	flush()
	return out
}

// execer is what migrations run on: a *sql.Tx or a *sql.Conn.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Migrate creates or upgrades the Store's tables to the schema this
// version of the package embeds. Each migration is recorded by version in
// <prefix>schema_migrations and applied once; running Migrate again is a
// no-op, and versions recorded by a newer release are left alone.
//
// Two processes may migrate at once: they take turns under a lock held
// for the whole run. PostgreSQL: a transaction-scoped advisory lock, and
// the migrations run inside that transaction (DDL is transactional there,
// so a failed run leaves nothing behind). MySQL/MariaDB: GET_LOCK on one
// connection, since DDL commits implicitly; every statement is idempotent
// (CREATE TABLE IF NOT EXISTS with its indexes inline), so a run cut short
// is completed by the next. SQLite: one BEGIN IMMEDIATE transaction,
// which holds the database's write lock.
//
// New never migrates; Open does.
func (s *Store) Migrate(ctx context.Context) error {
	const op = "migrate"
	if err := s.gate.Enter(ctx, op); err != nil {
		return err
	}
	steps, err := migrations(s.d, s.prefix)
	if err != nil {
		return err
	}
	return s.wrap(ctx, op, s.migrate(ctx, steps))
}

// migrate applies those of steps not yet recorded, under the dialect's
// migration lock.
func (s *Store) migrate(ctx context.Context, steps []migration) (err error) {
	switch s.d {
	case PostgreSQL:
		err = s.migratePostgres(ctx, steps)
	case MySQL:
		err = s.migrateMySQL(ctx, steps)
	default:
		// A connection opening while another switches the file to WAL, or
		// one that finds the database busy outside busy_timeout's reach,
		// fails at once with SQLITE_BUSY: start the whole migration over.
		err = s.retry(ctx, func() error { return s.migrateSQLite(ctx, steps) })
	}
	return err
}

func (s *Store) migrationsTable() string {
	return `CREATE TABLE IF NOT EXISTS ` + s.prefix + `schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	name       VARCHAR(255) NOT NULL,
	applied_at BIGINT NOT NULL
)`
}

// apply records and runs the migrations missing from e. The caller holds
// the migration lock.
func (s *Store) apply(ctx context.Context, e execer, steps []migration) error {
	if _, err := e.ExecContext(ctx, s.migrationsTable()); err != nil {
		return err
	}
	rows, err := e.QueryContext(ctx, `SELECT version FROM `+s.prefix+`schema_migrations`)
	if err != nil {
		return err
	}
	done := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	record := s.d.rebind(`INSERT INTO ` + s.prefix + `schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
	for _, m := range steps {
		if done[m.version] {
			continue
		}
		for _, st := range m.stmts {
			if _, err := e.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := e.ExecContext(ctx, record, m.version, m.name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// lockKey derives the advisory lock key of a prefix's migrations.
func (s *Store) lockKey() int64 {
	h := sha256.Sum256([]byte("latch/sqlstore/migrate/" + s.prefix))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

func (s *Store) migratePostgres(ctx context.Context, steps []migration) error {
	// READ COMMITTED: statements after the lock see what a migrator that
	// held it before committed.
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey()); err != nil {
		return err
	}
	if err := s.apply(ctx, tx, steps); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) migrateMySQL(ctx context.Context, steps []migration) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The lock name is per database and prefix, hashed to fit GET_LOCK's
	// 64 characters.
	var name string
	if err := conn.QueryRowContext(ctx,
		`SELECT CONCAT('latch:', LEFT(SHA2(CONCAT(IFNULL(DATABASE(), ''), '/', ?), 256), 48))`,
		s.prefix).Scan(&name); err != nil {
		return err
	}
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, 2)`, name).Scan(&got); err != nil {
			return err
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if !got.Valid {
			return errors.New("GET_LOCK failed")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	defer s.undo(ctx, conn, "releasing the migration lock", `DO RELEASE_LOCK(?)`, name)
	return s.apply(ctx, conn, steps)
}

// undo runs query on conn, even when ctx is done, to release what a
// migration holds on it (a lock, a transaction). When that fails, the
// connection is discarded rather than handed back to the pool, which
// releases it too, and the failure goes to the error hook.
func (s *Store) undo(ctx context.Context, conn *sql.Conn, what, query string, args ...any) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(rctx, query, args...); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
		s.kit.Report(s.wrap(rctx, "migrate: "+what, err))
	}
}

func (s *Store) migrateSQLite(ctx context.Context, steps []migration) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// BEGIN IMMEDIATE takes the write lock at once: a deferred transaction
	// that read first could not upgrade while another migrator wrote.
	// busy_timeout makes it wait; without one, retry a while.
	err = s.retry(ctx, func() error {
		_, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
		return err
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.undo(ctx, conn, "rolling back the migration", `ROLLBACK`)
		}
	}()
	if err = s.apply(ctx, conn, steps); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}
