-- latch sessions, PostgreSQL. {prefix} is the validated table prefix.
-- ids and subjects use the "C" collation: compared and ordered byte-wise.
-- Device fields are BYTEA: kept byte for byte, even when not UTF-8.
-- Times are BIGINT Unix milliseconds, 0 for the zero time.
CREATE TABLE IF NOT EXISTS {prefix}sessions (
	id                VARCHAR(22) COLLATE "C" NOT NULL PRIMARY KEY,
	subject           TEXT COLLATE "C" NOT NULL,
	device_label      BYTEA NOT NULL,
	device_user_agent BYTEA NOT NULL,
	device_ip         BYTEA NOT NULL,
	secret_hash       BYTEA,
	refresh_hash      BYTEA NOT NULL,
	spent             TEXT COLLATE "C" NOT NULL,
	claims            TEXT,
	created_at        BIGINT NOT NULL,
	last_used_at      BIGINT NOT NULL,
	rotated_at        BIGINT NOT NULL,
	fresh_until       BIGINT NOT NULL,
	access_expires_at BIGINT NOT NULL,
	idle_until        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}sessions_subject_idx ON {prefix}sessions (subject, created_at, id);
CREATE INDEX IF NOT EXISTS {prefix}sessions_idle_idx ON {prefix}sessions (idle_until);
CREATE INDEX IF NOT EXISTS {prefix}sessions_expires_idx ON {prefix}sessions (expires_at);
-- One row per subject that logged in under a session cap: Create locks it
-- to serialize capped logins of one subject.
CREATE TABLE IF NOT EXISTS {prefix}subject_locks (
	subject TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	logins  BIGINT NOT NULL
);
