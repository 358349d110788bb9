-- Per-login idle timeout and delegation (store.Session.IdleTimeout and
-- Actor), and the records of store.Throttle. Runs in the migration's
-- transaction.
-- idle_timeout: nanoseconds (a time.Duration), 0 for none. actor_subject
-- is NULL for the subject's own login; both actor columns are NULL or set.
ALTER TABLE {prefix}sessions ADD COLUMN idle_timeout INTEGER NOT NULL DEFAULT 0;
ALTER TABLE {prefix}sessions ADD COLUMN actor_subject TEXT;
ALTER TABLE {prefix}sessions ADD COLUMN actor_session_id TEXT;
-- One row per throttling bucket: failures since the record started, the
-- latest failure and when the record expires (Unix milliseconds).
CREATE TABLE IF NOT EXISTS {prefix}strikes (
	bucket       TEXT NOT NULL PRIMARY KEY,
	strike_count INTEGER NOT NULL,
	last_strike  INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}strikes_expires_idx ON {prefix}strikes (expires_at);
