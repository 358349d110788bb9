package sqlstore

import (
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Dialect is the SQL of one database family. Pass it to New with the
// pool of a database of that family.
type Dialect int

// The dialects.
const (
	PostgreSQL Dialect = iota + 1 // through lib/pq or pgx
	MySQL                         // MySQL and MariaDB, through go-sql-driver/mysql
	SQLite                        // through modernc.org/sqlite or mattn/go-sqlite3
)

// String names the dialect: postgres, mysql or sqlite.
func (d Dialect) String() string {
	switch d {
	case PostgreSQL:
		return "postgres"
	case MySQL:
		return "mysql"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

func (d Dialect) valid() bool { return d >= PostgreSQL && d <= SQLite }

// queries holds every statement a Store runs, built once in New with the
// table names (from the validated prefix) and the dialect's placeholders.
// Nothing else is ever formatted into SQL.
type queries struct {
	insert, get, live, touch, rotate, revoke, revokeSubject, list string
	lock, deleteDead, others, deleteIDs                           string
	sweepIdle, sweepExpired                                       string
}

const columns = `id, subject, device_label, device_user_agent, device_ip,
	secret_hash, refresh_hash, spent, claims,
	created_at, last_used_at, rotated_at, fresh_until, access_expires_at, idle_until, expires_at`

func buildQueries(d Dialect, prefix string) queries {
	sessions, locks := prefix+"sessions", prefix+"subject_locks"
	least, prepend := "LEAST", "substr(CAST(? AS text) || spent, 1, ?)"
	switch d {
	case MySQL:
		prepend = "LEFT(CONCAT(?, spent), ?)"
	case SQLite:
		least, prepend = "min", "substr(? || spent, 1, ?)"
	}
	const live = "idle_until > ? AND expires_at > ?"
	q := queries{
		insert: `INSERT INTO ` + sessions + ` (` + columns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		get:  `SELECT ` + columns + ` FROM ` + sessions + ` WHERE id = ? AND ` + live,
		live: `SELECT refresh_hash FROM ` + sessions + ` WHERE id = ? AND ` + live,
		touch: `UPDATE ` + sessions + ` SET last_used_at = ?, idle_until = ` + least + `(?, expires_at)
			WHERE id = ? AND ` + live + ` AND last_used_at <= ?`,
		rotate: `UPDATE ` + sessions + ` SET refresh_hash = ?, secret_hash = ?, access_expires_at = ?,
			idle_until = ` + least + `(?, expires_at), fresh_until = ?, last_used_at = ?, rotated_at = ?,
			spent = ` + prepend + `
			WHERE id = ? AND refresh_hash = ? AND ` + live,
		revoke:        `DELETE FROM ` + sessions + ` WHERE id = ? AND subject = ?`,
		revokeSubject: `DELETE FROM ` + sessions + ` WHERE subject = ? AND id <> ?`,
		list: `SELECT ` + columns + ` FROM ` + sessions + ` WHERE subject = ? AND ` + live + `
			ORDER BY created_at DESC, id ASC`,
		deleteDead: `DELETE FROM ` + sessions + ` WHERE subject = ? AND id <> ? AND (idle_until <= ? OR expires_at <= ?)`,
		others: `SELECT id FROM ` + sessions + ` WHERE subject = ? AND id <> ? AND ` + live + `
			ORDER BY created_at DESC, id ASC`,
		deleteIDs: `DELETE FROM ` + sessions + ` WHERE subject = ? AND id IN (?)`,
	}
	switch d {
	case PostgreSQL:
		// The upsert takes the row lock whether it inserts or updates.
		q.lock = `INSERT INTO ` + locks + ` (subject, logins) VALUES (?, 1)
			ON CONFLICT (subject) DO UPDATE SET logins = ` + locks + `.logins + 1`
		// SKIP LOCKED: a sweeper never waits behind a session being used.
		q.sweepIdle = `DELETE FROM ` + sessions + ` WHERE id IN (SELECT id FROM ` + sessions + `
			WHERE idle_until <= ? LIMIT ? FOR UPDATE SKIP LOCKED)`
		q.sweepExpired = `DELETE FROM ` + sessions + ` WHERE id IN (SELECT id FROM ` + sessions + `
			WHERE expires_at <= ? LIMIT ? FOR UPDATE SKIP LOCKED)`
	case MySQL:
		// The update always changes the row, so InnoDB takes an exclusive
		// lock on it whether the row was inserted or already there.
		q.lock = `INSERT INTO ` + locks + ` (subject, logins) VALUES (?, 1)
			ON DUPLICATE KEY UPDATE logins = logins + 1`
		q.sweepIdle = `DELETE FROM ` + sessions + ` WHERE idle_until <= ? LIMIT ?`
		q.sweepExpired = `DELETE FROM ` + sessions + ` WHERE expires_at <= ? LIMIT ?`
	case SQLite:
		// No lock table: the first write of a transaction takes the
		// database's single write lock.
		q.sweepIdle = `DELETE FROM ` + sessions + ` WHERE id IN (SELECT id FROM ` + sessions + `
			WHERE idle_until <= ? LIMIT ?)`
		q.sweepExpired = `DELETE FROM ` + sessions + ` WHERE id IN (SELECT id FROM ` + sessions + `
			WHERE expires_at <= ? LIMIT ?)`
	}
	if d == PostgreSQL {
		for _, p := range []*string{&q.insert, &q.get, &q.live, &q.touch, &q.rotate, &q.revoke,
			&q.revokeSubject, &q.list, &q.lock, &q.deleteDead, &q.others, &q.sweepIdle, &q.sweepExpired} {
			*p = sqlx.Rebind(sqlx.DOLLAR, *p)
		}
	}
	return q
}

// rebind converts ? placeholders for d.
func (d Dialect) rebind(q string) string {
	if d == PostgreSQL {
		return sqlx.Rebind(sqlx.DOLLAR, q)
	}
	return q
}

// inList expands the single "IN (?)" of q for n ids and rebinds it.
func (d Dialect) inList(q string, n int) string {
	marks := strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	return d.rebind(strings.Replace(q, "IN (?)", "IN ("+marks+")", 1))
}
