-- Who may see what: card numbers linked to controllers, administrators, and row-level security
-- that enforces an archivist's controller scope inside the database as well as in the
-- application.

-- A card number under one issuing CA linked to one controller. Rows are never deleted: an
-- unlink stamps the row, so the history of who could see what, and who decided it, stays.
CREATE TABLE card_link (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer          text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 1024),
    card_number     text NOT NULL CHECK (card_number ~ '^[0-9A-Z._@:-]{1,128}$'),
    controller_oid  text NOT NULL REFERENCES controller (oid),
    valid_from      timestamptz,
    valid_until     timestamptz,
    linked_at       timestamptz NOT NULL DEFAULT now(),
    linked_by       text NOT NULL,
    unlinked_at     timestamptz,
    unlinked_by     text,
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until),
    CHECK ((unlinked_at IS NULL) = (unlinked_by IS NULL))
);
-- One live link per card and controller; the sign-in lookup reads this index.
CREATE UNIQUE INDEX card_link_live ON card_link (issuer, card_number, controller_oid)
    WHERE unlinked_at IS NULL;
CREATE INDEX card_link_controller ON card_link (controller_oid);

-- Administrators, identified by card like archivists. Same never-delete rule.
CREATE TABLE administrator (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    issuer          text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 1024),
    card_number     text NOT NULL CHECK (card_number ~ '^[0-9A-Z._@:-]{1,128}$'),
    granted_at      timestamptz NOT NULL DEFAULT now(),
    granted_by      text NOT NULL,
    revoked_at      timestamptz,
    revoked_by      text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX administrator_live ON administrator (issuer, card_number)
    WHERE revoked_at IS NULL;

-- Only the stamp columns may change after a row is written.
CREATE FUNCTION refuse_history_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% keeps its history: rows are ended, not deleted', TG_TABLE_NAME;
    END IF;
    -- Two separate tests: PL/pgSQL resolves every field an expression names, so one record's
    -- columns cannot be named in an expression that may run for the other table.
    IF TG_TABLE_NAME = 'card_link' THEN
        IF (NEW.issuer, NEW.card_number, NEW.controller_oid, NEW.valid_from, NEW.valid_until,
            NEW.linked_at, NEW.linked_by)
           IS DISTINCT FROM
           (OLD.issuer, OLD.card_number, OLD.controller_oid, OLD.valid_from, OLD.valid_until,
            OLD.linked_at, OLD.linked_by)
           OR OLD.unlinked_at IS NOT NULL THEN
            RAISE EXCEPTION 'card_link keeps its history: only the ending of a live link may be recorded';
        END IF;
    ELSIF (NEW.issuer, NEW.card_number, NEW.granted_at, NEW.granted_by)
          IS DISTINCT FROM (OLD.issuer, OLD.card_number, OLD.granted_at, OLD.granted_by)
          OR OLD.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'administrator keeps its history: only the ending of a live right may be recorded';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER card_link_history BEFORE UPDATE OR DELETE ON card_link
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER administrator_history BEFORE UPDATE OR DELETE ON administrator
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();

GRANT SELECT ON card_link, administrator TO archivist_app;

-- The controllers of the transaction's scope, which the application sets with
-- set_config('archivist.controllers', '<oid>,<oid>', true) after SET LOCAL ROLE archivist_app.
-- Unset or empty means no controller: every policy below then shows nothing (fail closed).
CREATE FUNCTION archivist_scope() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE
RETURN string_to_array(nullif(current_setting('archivist.controllers', true), ''), ',');

-- Every table holding client data or a controller's material answers the application's role
-- only within the scope. The owner (migrations, the importer and operators' commands on the
-- archive host) is not subject to them.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['register', 'service_unit', 'client', 'client_case',
        'client_relationship', 'document_set', 'document_version', 'stored_bytes', 'rendition',
        'signature', 'archive_state', 'archive_event', 'deployment_test',
        'deployment_test_document']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY controller_scope ON %I TO archivist_app
                 USING (controller_oid = ANY (archivist_scope()))
                 WITH CHECK (controller_oid = ANY (archivist_scope()))', t);
    END LOOP;
END
$$;

ALTER TABLE controller ENABLE ROW LEVEL SECURITY;
CREATE POLICY controller_scope ON controller TO archivist_app
    USING (oid = ANY (archivist_scope()))
    WITH CHECK (oid = ANY (archivist_scope()));

-- Version statuses are derived, so nothing the application does rewrites a version.
REVOKE UPDATE ON document_version FROM archivist_app;

-- The card number the configured rule read, on the rows of the person it concerns.
ALTER TABLE audit_log ADD COLUMN card_number text;
