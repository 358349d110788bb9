-- Change log for store.Watcher (latch's session cache): every session
-- deleted, or whose hashes or freshness change, gets a row, inserted by a
-- trigger in the transaction that makes the change, whichever client made
-- it (a DELETE by hand included); Watch polls the rows past the last it
-- read. Touch, which sets last_used_at and idle_until alone, logs nothing.
-- seq is in commit order only roughly: an earlier seq may commit later.
-- changed_at: Unix milliseconds of the server's clock (whole seconds),
-- for the sweeper. Each statement is idempotent on its own (a trigger is
-- dropped and created again), since DDL is not transactional here.
-- Creating a trigger with binary logging on needs SUPER, or
-- log_bin_trust_function_creators=1 (see docs/stores.md).
CREATE TABLE IF NOT EXISTS {prefix}changes (
	seq        BIGINT NOT NULL AUTO_INCREMENT,
	session_id CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
	changed_at BIGINT NOT NULL,
	PRIMARY KEY (seq),
	KEY {prefix}changes_at_idx (changed_at, seq)
) ENGINE=InnoDB;
DROP TRIGGER IF EXISTS {prefix}sessions_deleted;
CREATE TRIGGER {prefix}sessions_deleted AFTER DELETE ON {prefix}sessions FOR EACH ROW INSERT INTO {prefix}changes (session_id, changed_at) VALUES (OLD.id, UNIX_TIMESTAMP() * 1000);
DROP TRIGGER IF EXISTS {prefix}sessions_changed;
CREATE TRIGGER {prefix}sessions_changed AFTER UPDATE ON {prefix}sessions FOR EACH ROW INSERT INTO {prefix}changes (session_id, changed_at) SELECT OLD.id, UNIX_TIMESTAMP() * 1000 FROM DUAL WHERE NOT (OLD.secret_hash <=> NEW.secret_hash AND OLD.refresh_hash <=> NEW.refresh_hash AND OLD.spent <=> NEW.spent AND OLD.fresh_until <=> NEW.fresh_until);
