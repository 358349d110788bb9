-- latch sessions, SQLite 3.8+. {prefix} is the validated table prefix.
-- TEXT columns use the default BINARY collation: compared and ordered
-- byte-wise. Times are INTEGER Unix milliseconds, 0 for the zero time.
CREATE TABLE IF NOT EXISTS {prefix}sessions (
	id                TEXT NOT NULL PRIMARY KEY,
	subject           TEXT NOT NULL,
	device_label      TEXT NOT NULL,
	device_user_agent TEXT NOT NULL,
	device_ip         TEXT NOT NULL,
	secret_hash       BLOB,
	refresh_hash      BLOB NOT NULL,
	spent             TEXT NOT NULL,
	claims            TEXT,
	created_at        INTEGER NOT NULL,
	last_used_at      INTEGER NOT NULL,
	rotated_at        INTEGER NOT NULL,
	fresh_until       INTEGER NOT NULL,
	access_expires_at INTEGER NOT NULL,
	idle_until        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS {prefix}sessions_subject_idx ON {prefix}sessions (subject, created_at, id);
CREATE INDEX IF NOT EXISTS {prefix}sessions_idle_idx ON {prefix}sessions (idle_until);
CREATE INDEX IF NOT EXISTS {prefix}sessions_expires_idx ON {prefix}sessions (expires_at);
