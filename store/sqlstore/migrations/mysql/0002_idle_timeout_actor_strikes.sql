-- Per-login idle timeout and delegation (store.Session.IdleTimeout and
-- Actor), and the records of store.Throttle. Each statement is
-- idempotent on its own, since DDL is not transactional here.
-- One row per throttling bucket: failures since the record started, the
-- latest failure and when the record expires (Unix milliseconds). bucket
-- is VARBINARY: compared byte for byte, no PAD SPACE.
CREATE TABLE IF NOT EXISTS {prefix}strikes (
	bucket       VARBINARY(64) NOT NULL,
	strike_count BIGINT NOT NULL,
	last_strike  BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	PRIMARY KEY (bucket),
	KEY {prefix}strikes_expires_idx (expires_at)
) ENGINE=InnoDB;
-- MySQL has no ADD COLUMN IF NOT EXISTS: the ALTER (one statement, so all
-- three columns or none) runs only if idle_timeout is missing, which
-- these statements decide on the migration's one connection.
-- idle_timeout: nanoseconds (a time.Duration), 0 for none. actor_subject
-- is NULL for the subject's own login; both actor columns are NULL or set.
SET @latch_migrate = (SELECT IF(COUNT(*) = 0,
	'ALTER TABLE {prefix}sessions
		ADD COLUMN idle_timeout     BIGINT NOT NULL DEFAULT 0,
		ADD COLUMN actor_subject    VARBINARY(1024) NULL,
		ADD COLUMN actor_session_id VARBINARY(22) NULL',
	'DO 0')
	FROM information_schema.columns
	WHERE table_schema = DATABASE() AND table_name = '{prefix}sessions' AND column_name = 'idle_timeout');
PREPARE latch_migrate FROM @latch_migrate;
EXECUTE latch_migrate;
DEALLOCATE PREPARE latch_migrate;
