-- The deployment test (käyttöönottokoe) as a workflow. An administrator defines the test case
-- (documents by OID, and test clients whose documents belong to it whenever they arrive); the
-- archivist checks each of its documents against the source system and confirms the test,
-- which moves the controller to production; an administrator can reset the test with a
-- reason, which starts a new round. Nothing is deleted: every round's checks stay.

-- The round the test is in: a reset starts the next one, with no checks.
ALTER TABLE deployment_test
    ADD COLUMN round integer NOT NULL DEFAULT 1 CHECK (round >= 1),
    ADD COLUMN confirmed_by_card text,
    ADD COLUMN reset_at timestamptz,
    ADD COLUMN reset_by text,
    ADD COLUMN reset_reason text,
    ADD CONSTRAINT deployment_test_confirmation_complete CHECK (
        state <> 'confirmed'
        OR (confirmed_by_satu IS NOT NULL AND confirmed_by_card IS NOT NULL
            AND confirmed_certificate_sha256 IS NOT NULL)),
    ADD CONSTRAINT deployment_test_reset_has_reason CHECK (
        (reset_at IS NULL) = (reset_reason IS NULL));

-- The named documents are the test case's definition; checks are recorded per round below.
ALTER TABLE deployment_test_document
    DROP COLUMN checked_by_satu,
    DROP COLUMN checked_at,
    ADD CONSTRAINT deployment_test_document_oid CHECK (is_oid(document_oid));

-- Test clients by identifier value (a test personal identity code, or the organisation's own
-- temporary identifier): their documents in the controller are part of the test case.
CREATE TABLE deployment_test_client (
    controller_oid  text NOT NULL REFERENCES deployment_test (controller_oid),
    client_id_value text NOT NULL CHECK (client_id_value <> ''),
    PRIMARY KEY (controller_oid, client_id_value)
);

-- One archivist's check of one test document against the source system, in one round.
CREATE TABLE deployment_test_check (
    controller_oid  text NOT NULL REFERENCES deployment_test (controller_oid),
    round           integer NOT NULL,
    document_oid    text NOT NULL CHECK (is_oid(document_oid)),
    checked_by_card text NOT NULL,
    checked_by_satu text,
    checked_by_name text NOT NULL,
    checked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (controller_oid, round, document_oid)
);

-- The archivist's side works through the application's role within its scope: it reads the
-- test, adds checks and confirms. Definitions and resets are administrators' changes.
GRANT SELECT ON deployment_test_client TO archivist_app;
GRANT SELECT, INSERT ON deployment_test_check TO archivist_app;

ALTER TABLE deployment_test_client ENABLE ROW LEVEL SECURITY;
CREATE POLICY controller_scope ON deployment_test_client TO archivist_app
    USING (controller_oid = ANY (archivist_scope()));
ALTER TABLE deployment_test_check ENABLE ROW LEVEL SECURITY;
CREATE POLICY controller_scope ON deployment_test_check TO archivist_app
    USING (controller_oid = ANY (archivist_scope()))
    WITH CHECK (controller_oid = ANY (archivist_scope()));

-- A check is a record: never changed, never removed (not even by the owner's role).
CREATE FUNCTION refuse_check_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deployment_test_check keeps its history: checks are never changed or removed';
END;
$$;
CREATE TRIGGER deployment_test_check_is_history
    BEFORE UPDATE OR DELETE ON deployment_test_check
    FOR EACH ROW EXECUTE FUNCTION refuse_check_rewrite();
