-- An access's audit row that no primary took (a failover) is kept in the instance's local spool
-- and added when a primary is back, with the id the instance gave it there. The unique index
-- makes adding it again a no-op, so a spool file shipped twice (the instance died between the
-- commit and removing the file) adds each row once. Rows written directly have no spool id.
-- The id is not part of the row's canonical encoding: it says how the row arrived, not what
-- happened.
ALTER TABLE audit_log ADD COLUMN spool_id uuid;
CREATE UNIQUE INDEX audit_log_spool_id ON audit_log (spool_id) WHERE spool_id IS NOT NULL;
