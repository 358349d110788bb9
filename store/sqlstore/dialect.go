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
	insert, get, live, touch, freshen, rotate, revoke, revokeSubject, list string
	lock, deleteDead, others, deleteIDs                                    string
	addStrike, strike, strikes, clearStrikes                               string
	sweeps                                                                 []string // sweepIdle, sweepExpired, sweepStrikes
	// The change log (see poll.go): the newest row written before a
	// while ago by the server's clock, or before a time; the rows past a
	// seq; the rows of a list of seqs; the sweep of the rows below a seq.
	changesBefore, changesAnchor, changesAfter, changesIn, sweepChanges string
}

const columns = `id, subject, device_label, device_user_agent, device_ip,
	secret_hash, refresh_hash, spent, claims,
	created_at, last_used_at, rotated_at, fresh_until, access_expires_at, idle_until, expires_at,
	idle_timeout, actor_subject, actor_session_id`

func buildQueries(d Dialect, prefix string) queries {
	sessions, locks, strikes, changes := prefix+"sessions", prefix+"subject_locks", prefix+"strikes", prefix+"changes"
	least, greatest, div := "LEAST", "GREATEST", "/"
	prepend := "substr(CAST(? AS text) || spent, 1, ?)"
	upsert := "ON CONFLICT (bucket) DO UPDATE SET"
	// The server's time in Unix milliseconds, as the change log's
	// triggers write it.
	nowMS := "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
	switch d {
	case MySQL:
		prepend, div, upsert = "LEFT(CONCAT(?, spent), ?)", "DIV", "ON DUPLICATE KEY UPDATE"
		nowMS = "UNIX_TIMESTAMP() * 1000"
	case SQLite:
		least, greatest, prepend = "min", "max", "substr(? || spent, 1, ?)"
		nowMS = "CAST(strftime('%s', 'now') AS INTEGER) * 1000"
	}
	const live = "idle_until > ? AND expires_at > ?"
	// The existing strikes row: PostgreSQL's DO UPDATE names it by its
	// table; MySQL and SQLite read an unqualified column as its value.
	cur := ""
	if d == PostgreSQL {
		cur = strikes + "."
	}
	q := queries{
		insert: `INSERT INTO ` + sessions + ` (` + columns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		get:  `SELECT ` + columns + ` FROM ` + sessions + ` WHERE id = ? AND ` + live,
		live: `SELECT refresh_hash FROM ` + sessions + ` WHERE id = ? AND ` + live,
		// The session's own idle timeout applies when positive and below
		// the bound touchArgs passes (the idle given, made small enough
		// that the sum cannot overflow); the sub-millisecond part of now
		// joins it before the division, so the result is now+timeout
		// rounded down, as for every stored time.
		touch: `UPDATE ` + sessions + ` SET last_used_at = ?, idle_until = ` + least + `(
				CASE WHEN idle_timeout > 0 AND idle_timeout < ? THEN ? + (? + idle_timeout) ` + div + ` 1000000 ELSE ? END,
				expires_at)
			WHERE id = ? AND ` + live + ` AND last_used_at <= ?`,
		freshen: `UPDATE ` + sessions + ` SET fresh_until = ? WHERE id = ? AND ` + live,
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
		// One upsert. MySQL assigns left to right, each assignment seeing
		// the ones before: strike_count reads expires_at before it changes,
		// and expires_at reads last_strike after, which decides the same
		// (last_strike > now before exactly when after). See strikeArgs.
		addStrike: `INSERT INTO ` + strikes + ` (bucket, strike_count, last_strike, expires_at) VALUES (?, 1, ?, ?)
			` + upsert + `
			strike_count = CASE WHEN ` + cur + `expires_at <= ? THEN 1 ELSE ` + cur + `strike_count + 1 END,
			last_strike = ` + greatest + `(` + cur + `last_strike, ?),
			expires_at = CASE WHEN ` + cur + `last_strike <= ? THEN ?
				WHEN ` + cur + `last_strike > ? THEN ?
				ELSE ` + cur + `last_strike + ? END`,
		strike:       `SELECT strike_count, last_strike FROM ` + strikes + ` WHERE bucket = ?`,
		strikes:      `SELECT bucket, strike_count, last_strike FROM ` + strikes + ` WHERE bucket IN (?) AND expires_at > ?`,
		clearStrikes: `DELETE FROM ` + strikes + ` WHERE bucket IN (?)`,
		changesBefore: `SELECT seq FROM ` + changes + ` WHERE changed_at < ` + nowMS + ` - ?
			ORDER BY changed_at DESC, seq DESC LIMIT 1`,
		changesAnchor: `SELECT seq FROM ` + changes + ` WHERE changed_at <= ? ORDER BY changed_at DESC, seq DESC LIMIT 1`,
		changesAfter:  `SELECT seq, session_id FROM ` + changes + ` WHERE seq > ? ORDER BY seq LIMIT ?`,
		changesIn:     `SELECT seq, session_id FROM ` + changes + ` WHERE seq IN (?)`,
	}
	if d == PostgreSQL {
		q.addStrike += ` RETURNING strike_count, last_strike`
	}
	sweep := func(table, key, cond string) string {
		switch d {
		case PostgreSQL:
			// SKIP LOCKED: a sweeper never waits behind a row being used.
			return `DELETE FROM ` + table + ` WHERE ` + key + ` IN (SELECT ` + key + ` FROM ` + table + `
			WHERE ` + cond + ` LIMIT ? FOR UPDATE SKIP LOCKED)`
		case MySQL:
			return `DELETE FROM ` + table + ` WHERE ` + cond + ` LIMIT ?`
		}
		return `DELETE FROM ` + table + ` WHERE ` + key + ` IN (SELECT ` + key + ` FROM ` + table + `
			WHERE ` + cond + ` LIMIT ?)`
	}
	q.sweeps = []string{
		sweep(sessions, "id", "idle_until <= ?"),
		sweep(sessions, "id", "expires_at <= ?"),
		sweep(strikes, "bucket", "expires_at <= ?"),
	}
	q.sweepChanges = sweep(changes, "seq", "seq < ?")
	switch d {
	case PostgreSQL:
		// The upsert takes the row lock whether it inserts or updates.
		q.lock = `INSERT INTO ` + locks + ` (subject, logins) VALUES (?, 1)
			ON CONFLICT (subject) DO UPDATE SET logins = ` + locks + `.logins + 1`
	case MySQL:
		// The update always changes the row, so InnoDB takes an exclusive
		// lock on it whether the row was inserted or already there.
		q.lock = `INSERT INTO ` + locks + ` (subject, logins) VALUES (?, 1)
			ON DUPLICATE KEY UPDATE logins = logins + 1`
	}
	// SQLite has no lock table: the first write of a transaction takes
	// the database's single write lock.
	if d == PostgreSQL {
		for _, p := range []*string{&q.insert, &q.get, &q.live, &q.touch, &q.freshen, &q.rotate, &q.revoke,
			&q.revokeSubject, &q.list, &q.lock, &q.deleteDead, &q.others, &q.addStrike, &q.strike,
			&q.sweeps[0], &q.sweeps[1], &q.sweeps[2], &q.changesBefore, &q.changesAnchor, &q.changesAfter, &q.sweepChanges} {
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

// inBatch bounds the values of one IN list, well under every dialect's
// limit on bound parameters.
const inBatch = 500

// inBatches calls f with the distinct values of list, at most inBatch at
// a time, and stops at its first error.
func inBatches(list []string, f func(batch []any) error) error {
	seen := make(map[string]bool, len(list))
	batch := make([]any, 0, min(len(list), inBatch))
	for i, v := range list {
		if !seen[v] {
			seen[v] = true
			batch = append(batch, v)
		}
		if len(batch) == inBatch || (i == len(list)-1 && len(batch) > 0) {
			if err := f(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}
