-- Change reports for store.Watcher (latch's session cache): every session
-- deleted, or whose hashes or freshness change, is reported as a
-- notification 's:<id>' on the channel <prefix>changes, sent when its
-- transaction commits, whichever client made the change (a DELETE by hand
-- included). Touch, which sets last_used_at and idle_until alone, fires
-- nothing. Runs in the migration's transaction.
CREATE OR REPLACE FUNCTION {prefix}report_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{prefix}changes', 's:' || OLD.id); RETURN NULL; END $$;
DROP TRIGGER IF EXISTS {prefix}sessions_report ON {prefix}sessions;
CREATE TRIGGER {prefix}sessions_report AFTER DELETE OR UPDATE OF secret_hash, refresh_hash, spent, fresh_until ON {prefix}sessions FOR EACH ROW EXECUTE FUNCTION {prefix}report_change();
