-- Per-login idle timeout and delegation (store.Session.IdleTimeout and
-- Actor), and the records of store.Throttle. Runs in the migration's
-- transaction.
-- idle_timeout: nanoseconds (a time.Duration), 0 for none. actor_subject
-- is NULL for the subject's own login; both actor columns are NULL or set.
ALTER TABLE {prefix}sessions
	ADD COLUMN IF NOT EXISTS idle_timeout     BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS actor_subject    TEXT COLLATE "C",
	ADD COLUMN IF NOT EXISTS actor_session_id TEXT COLLATE "C";
-- One row per throttling bucket: failures since the record started, the
-- latest failure and when the record expires (Unix milliseconds).
CREATE TABLE IF NOT EXISTS {prefix}strikes (
	bucket       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	strike_count BIGINT NOT NULL,
	last_strike  BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}strikes_expires_idx ON {prefix}strikes (expires_at);
