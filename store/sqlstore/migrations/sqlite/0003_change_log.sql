-- Change log for store.Watcher (latch's session cache): every session
-- deleted, or whose hashes or freshness change, gets a row, inserted by a
-- trigger in the transaction that makes the change, whichever client made
-- it (a DELETE by hand included); Watch polls the rows past the last it
-- read. Touch, which sets last_used_at and idle_until alone, logs nothing.
-- AUTOINCREMENT: a seq is never used twice, even once the sweeper has
-- deleted every row. changed_at: Unix milliseconds (whole seconds), for
-- the sweeper. Runs in the migration's transaction.
CREATE TABLE IF NOT EXISTS {prefix}changes (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id TEXT NOT NULL,
	changed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}changes_at_idx ON {prefix}changes (changed_at, seq);
CREATE TRIGGER IF NOT EXISTS {prefix}sessions_deleted AFTER DELETE ON {prefix}sessions BEGIN INSERT INTO {prefix}changes (session_id, changed_at) VALUES (OLD.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000); END;
CREATE TRIGGER IF NOT EXISTS {prefix}sessions_changed AFTER UPDATE OF secret_hash, refresh_hash, spent, fresh_until ON {prefix}sessions WHEN OLD.secret_hash IS NOT NEW.secret_hash OR OLD.refresh_hash IS NOT NEW.refresh_hash OR OLD.spent IS NOT NEW.spent OR OLD.fresh_until IS NOT NEW.fresh_until BEGIN INSERT INTO {prefix}changes (session_id, changed_at) VALUES (OLD.id, CAST(strftime('%s', 'now') AS INTEGER) * 1000); END;
