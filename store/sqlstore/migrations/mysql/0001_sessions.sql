-- latch sessions, MySQL 5.7+ and MariaDB 10.3+ (InnoDB). {prefix} is the
-- validated table prefix. Each statement is idempotent on its own, since
-- DDL is not transactional here.
-- id: ascii_bin, case-sensitive. subject and device fields: VARBINARY,
-- compared byte for byte (no case folding, no PAD SPACE), and the
-- (subject, created_at, id) index key stays at 1024 + 8 + 22 bytes, far
-- under InnoDB's 3072. Times are BIGINT Unix milliseconds, 0 for the zero
-- time.
CREATE TABLE IF NOT EXISTS {prefix}sessions (
	id                CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	subject           VARBINARY(1024) NOT NULL,
	device_label      VARBINARY(1024) NOT NULL,
	device_user_agent VARBINARY(1024) NOT NULL,
	device_ip         VARBINARY(1024) NOT NULL,
	secret_hash       VARBINARY(32) NULL,
	refresh_hash      VARBINARY(32) NOT NULL,
	spent             MEDIUMTEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	claims            LONGBLOB NULL,
	created_at        BIGINT NOT NULL,
	last_used_at      BIGINT NOT NULL,
	rotated_at        BIGINT NOT NULL,
	fresh_until       BIGINT NOT NULL,
	access_expires_at BIGINT NOT NULL,
	idle_until        BIGINT NOT NULL,
	expires_at        BIGINT NOT NULL,
	PRIMARY KEY (id),
	KEY {prefix}sessions_subject_idx (subject, created_at, id),
	KEY {prefix}sessions_idle_idx (idle_until),
	KEY {prefix}sessions_expires_idx (expires_at)
) ENGINE=InnoDB;
-- One row per subject that logged in under a session cap: Create locks it
-- to serialize capped logins of one subject.
CREATE TABLE IF NOT EXISTS {prefix}subject_locks (
	subject VARBINARY(1024) NOT NULL,
	logins  BIGINT NOT NULL,
	PRIMARY KEY (subject)
) ENGINE=InnoDB;
