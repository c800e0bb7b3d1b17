-- The serving process's own role: it owns nothing, adds to the audit log but never changes or
-- removes a row of it, and reaches client data only by SET LOCAL ROLE archivist_app, where the
-- controller scope's row-level security applies. Migrations and the operator commands keep
-- using the owner. A login for `archivist serve` is made a member of it:
--     CREATE ROLE archivist_web LOGIN PASSWORD '…' IN ROLE archivist_server;
--
-- NOINHERIT: a member of archivist_server does not hold archivist_app's grants by default, so
-- client data is never read outside a scoped transaction. The roles are cluster-wide, and
-- parallel test databases may race to create them.
DO $$
BEGIN
    CREATE ROLE archivist_server NOLOGIN NOINHERIT;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

DO $$
BEGIN
    IF NOT pg_has_role('archivist_server', 'archivist_app', 'MEMBER') THEN
        GRANT archivist_app TO archivist_server;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- Whether the schema is current (`serve` checks and does not migrate when it is).
GRANT SELECT ON _sqlx_migrations TO archivist_server;

-- The audit log and its seal: read (the administrators' view, the sealer) and added to; no
-- UPDATE, DELETE or TRUNCATE is granted, and disabling the triggers takes the owner.
GRANT SELECT, INSERT ON audit_log, audit_chain, audit_tree, audit_checkpoint TO archivist_server;
CREATE POLICY server_reads ON audit_log FOR SELECT TO archivist_server USING (true);
CREATE POLICY server_adds ON audit_log FOR INSERT TO archivist_server WITH CHECK (true);

-- Sessions (the store creates, renews and deletes them).
GRANT USAGE ON SCHEMA tower_sessions TO archivist_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON tower_sessions.session TO archivist_server;

-- Sign-in: links, administrator rights, enrolled certificates, and what administrators change
-- on their pages (links, rights, controllers, deployment test cases, notices).
GRANT SELECT, INSERT, UPDATE ON card_link, administrator, controller, notice, deployment_test
    TO archivist_server;
GRANT SELECT ON card_enrolment TO archivist_server;
-- The code lists (names of codes, the search form's choices): no client data.
GRANT SELECT ON code_system, code TO archivist_server;
GRANT SELECT, INSERT ON deployment_test_document, deployment_test_client TO archivist_server;
-- A merger moves the active controller of the predecessor's documents: that one column.
GRANT SELECT (active_controller_oid), UPDATE (active_controller_oid) ON archive_state
    TO archivist_server;

-- The tables above that have row-level security for archivists: administrators' changes span
-- controllers, so the server's own statements on them are not scoped (the grants limit them).
CREATE POLICY server_administers ON controller TO archivist_server USING (true) WITH CHECK (true);
CREATE POLICY server_administers ON deployment_test TO archivist_server
    USING (true) WITH CHECK (true);
CREATE POLICY server_administers ON deployment_test_document TO archivist_server
    USING (true) WITH CHECK (true);
CREATE POLICY server_administers ON deployment_test_client TO archivist_server
    USING (true) WITH CHECK (true);
CREATE POLICY server_moves_mergers ON archive_state TO archivist_server
    USING (true) WITH CHECK (true);
