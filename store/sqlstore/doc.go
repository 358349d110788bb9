// Package sqlstore is a store.Store in PostgreSQL, MySQL/MariaDB or
// SQLite, on database/sql.
//
// Package sqlstore links no database driver. A program names the drivers
// it links by importing the packages beneath it, each for its side effect:
//
//	import _ "github.com/latchauth/latch/store/sqlstore/postgres" // lib/pq: postgres://, postgresql://
//	import _ "github.com/latchauth/latch/store/sqlstore/mysql"    // go-sql-driver/mysql: mysql://
//	import _ "github.com/latchauth/latch/store/sqlstore/sqlite"   // modernc.org/sqlite (pure Go): sqlite:
//
// A program that uses only PostgreSQL then links neither the MySQL driver
// nor SQLite.
//
// # Use
//
// An application that owns a *sql.DB calls New with it and its dialect,
// then Migrate once at start-up:
//
//	s, err := sqlstore.New(db, sqlstore.PostgreSQL, sqlstore.WithErrorHook(report))
//	…
//	defer s.Close() // stops the sweeper; db stays open
//	err = s.Migrate(ctx)
//
// Any driver of the dialect will do (pgx as well as lib/pq, say), and no
// driver package is needed then. New runs no query and never migrates;
// the Store never closes db. The driver packages register their URL
// schemes with store.Open (LATCH_STORE=sqlite:latch.db, say), which runs
// this package's Open: see Open. A store opened by URL migrates on open
// and owns, and closes, its pool, which is bounded (16 connections for
// PostgreSQL and MySQL, or latch_max_conns).
//
// After Close every method fails with ErrClosed, an outage that is neither
// store.ErrNotFound nor store.ErrConflict, as after memstore's Close.
//
// # Schema
//
// <prefix>sessions (prefix "latch_" by default, see WithTablePrefix; never
// empty, or the migrations table would be the schema_migrations of
// golang-migrate, Rails and others), keyed by the session id; on
// PostgreSQL and MySQL <prefix>subject_locks, with one row per subject
// that logged in under a session cap; <prefix>strikes, the records of
// store.Throttle, one row per key; <prefix>changes, the change log (see
// Change reports); and <prefix>schema_migrations. docs/stores.md in the repository gives the
// columns per dialect. Choices that matter:
//
//   - ids are compared case-sensitively and ordered byte-wise (PostgreSQL
//     COLLATE "C", MySQL ascii_bin, SQLite BINARY): two base62 ids may
//     differ only in case.
//   - subjects are compared byte for byte: a case-insensitive or PAD SPACE
//     collation would let "Alice", "alice" and "alice " share sessions.
//     MySQL keeps them (and the device fields) as VARBINARY(1024), which
//     also keeps the (subject, created_at, id) index key at 1054 bytes,
//     under InnoDB's 3072 even for 1 KiB subjects; a utf8mb4 VARCHAR(1024)
//     would need 4096. PostgreSQL keeps device fields as BYTEA, so a user
//     agent that is not UTF-8 is stored as sent rather than failing the
//     login.
//   - times are BIGINT Unix milliseconds, the zero time.Time as 0 (so an
//     instant exactly at the Unix epoch reads back as the zero time).
//     Times before 1970 are stored as they are; a time to be written
//     beyond what int64 milliseconds hold (about 292 million years either
//     side of 1970) is ErrInvalid rather than wrapped, and a now beyond it
//     is compared as the nearest end of the range, which decides the same.
//     Every driver reads an integer the same way whatever the DSN says
//     (parseTime, loc, _time_format), and liveness checks are integer
//     comparisons on indexed columns. now is rounded down to the
//     millisecond, which gives the same decisions as comparing exact
//     instants, since stored times are whole milliseconds.
//   - spent refresh hashes are one ASCII column of fixed-width hex entries,
//     newest first, so Rotate prepends and truncates inside its single
//     UPDATE (SQLite's || concatenates BLOBs as text, hence hex).
//   - claims are JSON text; hashes are bytes, at most store.HashLen.
//   - IdleTimeout is BIGINT nanoseconds; Actor is two nullable columns,
//     both NULL for the subject's own login, so nil and an empty Actor
//     read back as they were written.
//
// Values beyond package store's limits (a subject that is not UTF-8 or
// longer than 1 KiB, a time beyond the int64 range, say) are refused with
// ErrInvalid before any query, so no database truncates or rejects them
// halfway.
//
// # Atomic steps
//
// Every method is one statement, except where noted, and each statement
// uses the caller's context.
//
//   - Get is one primary-key SELECT with the liveness condition.
//   - Touch is one conditional UPDATE (id, live, last use at least every
//     ago), which slides idle_until by the session's own idle_timeout
//     instead of idle when that is positive and shorter; only if it
//     changes nothing does a SELECT tell a throttled
//     touch (nil) from a dead session (store.ErrNotFound). The core calls
//     Touch only when the LastUsedAt of the session it just read is at
//     least the touch interval old (latch.Config.TouchInterval), so the
//     UPDATE usually changes the row and the follow-up SELECT is rare: it
//     takes a concurrent touch of the same session by another request, or
//     a session that died in between.
//   - Freshen is one conditional UPDATE of fresh_until (id, live), with
//     the same follow-up SELECT as Touch when it changes nothing.
//   - Rotate is one conditional UPDATE … WHERE id = ? AND refresh_hash = ?
//     AND live. PostgreSQL (READ COMMITTED) and InnoDB lock the row and
//     re-evaluate the condition against the latest committed version
//     before writing, and SQLite runs writers one at a time, so of
//     concurrent rotations from one hash exactly one changes the row and
//     the rest see a hash that no longer matches. Only then does a SELECT
//     tell store.ErrConflict from store.ErrNotFound. (MySQL reports changed
//     rows, not matched ones; the follow-up treats "live and still equal to
//     Old" as the success of an UPDATE that rewrote identical values.)
//   - Create with max > 0 is one transaction: lock the subject, insert,
//     delete the subject's other sessions dead at CreatedAt, read the live
//     others newest first and delete those beyond max-1. The lock
//     serializes capped logins of one subject, and readers see the
//     insertion and the evictions together at commit, so no interleaving
//     ever shows more than max. PostgreSQL: INSERT … ON CONFLICT DO UPDATE
//     on <prefix>subject_locks, which leaves the row locked whether it
//     inserted or updated, in a READ COMMITTED transaction so later
//     statements see what the previous holder committed. MySQL: INSERT …
//     ON DUPLICATE KEY UPDATE logins = logins + 1 (a real change, hence an
//     exclusive row lock), READ COMMITTED. The lock is taken by that one
//     statement, so a lock row deleted by hand at any moment cannot let two
//     logins in together. SQLite: the insert is the transaction's first
//     statement and takes the database's write lock. Deadlocks and
//     serialization failures (PostgreSQL 40001/40P01, MySQL 1213, SQLite
//     BUSY/LOCKED) rerun the transaction, up to 20 times with jittered
//     back-off. With max <= 0, Create is one INSERT. Each waiting login
//     holds a pool connection, which is why Open bounds its pool.
//   - Revoke is DELETE … WHERE id = ? AND subject = ?; RevokeSubject is
//     one DELETE … WHERE subject = ? AND id <> ?, its RowsAffected the
//     count; List is one SELECT ordered by created_at DESC, id ASC.
//   - AddStrike is one upsert of the key's row (PostgreSQL and SQLite
//     INSERT … ON CONFLICT DO UPDATE, MySQL INSERT … ON DUPLICATE KEY
//     UPDATE), which the database applies under the row's lock (SQLite:
//     its write lock): a CASE restarts an expired record at 1, Last keeps
//     the later time, so concurrent strikes each count once. PostgreSQL
//     returns the row (RETURNING); MySQL and SQLite read it back in the
//     upsert's transaction. Strikes is one SELECT … IN (…), ClearStrikes
//     one DELETE … IN (…), per 500 keys.
//
// # Migrations
//
// Migrate applies the versioned SQL files embedded per dialect
// (migrations/<dialect>/NNNN_name.sql, table prefix substituted), records
// each in <prefix>schema_migrations, and skips those recorded: it is
// idempotent. Concurrent migrators (two processes starting at once) take
// turns: PostgreSQL under pg_advisory_xact_lock inside one READ COMMITTED
// transaction that also holds the DDL (transactional there); MySQL under
// GET_LOCK on one connection (DDL commits implicitly there, so every
// statement is idempotent on its own and a run cut short is finished by
// the next); SQLite in one BEGIN IMMEDIATE transaction. The files may have
// \n or \r\n line ends (the repository's .gitattributes keeps them \n).
//
// # Sweeper
//
// Dead sessions and expired strikes read as absent at once; deleting
// their rows only frees space. Unless WithSweepInterval(0), New starts a
// goroutine that calls Sweep every interval (10 minutes by default) with
// the time from WithClock, deleting at most 1000 rows per statement, so
// the strikes table holds only the failures of the last ttl or so. Sweep
// deletes only the sessions dead, and the strikes expired, at now minus a
// grace (5 minutes by default, see WithSweepGrace), so a node whose clock
// runs ahead of the others' does not delete rows they still consider
// live; the grace only delays freeing space. Its errors go to
// WithErrorHook, never to the standard logger. Close stops it and waits.
// The first sweep runs one interval after New, so migrate before then.
// <prefix>subject_locks is not swept: it holds one small row per subject
// that ever logged in under a cap, like a users table; deleting rows of
// subjects without sessions by hand is
// safe at any time.
//
// # Change reports
//
// Store implements store.Watcher (latch's Config.SessionCache) on every
// dialect once Migrate has run. Triggers on <prefix>sessions log each
// session deleted, or whose hashes or freshness change, in
// <prefix>changes (seq, session_id, changed_at), in the transaction that
// makes the change; Touch logs nothing. A PostgreSQL Store from Open
// also gets a NOTIFY at commit, and listens on a connection of its own.
// Every other Store (MySQL, MariaDB, SQLite, a PostgreSQL pool passed to
// New) polls the log through its pool every 50 ms (WithPollInterval): one
// query for the rows past the last seq read. Seqs may commit out of
// order (an earlier one later), so a seq missing below one already read
// is read again at every poll for a minute; a change whose transaction
// commits more than a minute after writing its row may go unreported.
// Such a Store's Beat writes nothing: it goes to the Store's own Watches,
// after their next poll. Sweep deletes the log's rows older than 5
// minutes past the grace, but the newest. Creating the MySQL triggers
// with binary logging on needs SUPER or log_bin_trust_function_creators
// (docs/stores.md).
//
// # SQLite
//
// SQLite has one writer at a time. Writers on other connections must wait
// for it, which needs busy_timeout on every connection of the pool: pass
// _pragma=busy_timeout(5000) in the modernc.org/sqlite DSN (and
// _pragma=journal_mode(WAL) so readers do not block the writer), or limit
// the pool to one connection. Without a busy timeout, concurrent writes
// fail with "database is locked" (Create retries a few times; the other
// methods return the error). Open sets both pragmas. A ":memory:"
// database exists per connection, so use it only with one connection
// (Open's sqlite::memory: does that).
//
// # MySQL binary logging
//
// Capped Create runs READ COMMITTED transactions, which InnoDB can log to
// the binary log only row by row, and Sweep deletes with DELETE … LIMIT,
// which statement-based replication cannot replay safely. A server with
// binary logging on needs binlog_format=ROW (the default since MySQL 5.7.7)
// or MIXED (MariaDB's default). With STATEMENT, capped Create fails with
// error 1665 (its message then names binlog_format; so does every write's
// if the server's default isolation is READ COMMITTED), and the sweeper's
// deletes are logged as unsafe for replication.
package sqlstore
