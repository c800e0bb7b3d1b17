-- The audit log: who did what, when, from where, and how it ended. Rows are only ever added:
-- the triggers below refuse UPDATE, DELETE and TRUNCATE for every role that does not first
-- disable them (which takes table ownership and leaves a trace in the server log).
CREATE TABLE audit_log (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    -- What happened, as a stable dotted code: 'tls.client_authenticated', 'tls.certificate_refused'.
    action              text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    outcome             text NOT NULL CHECK (outcome IN ('success', 'refused', 'failure')),
    -- Why it was refused or failed, as a stable code ('certificate_revoked', ...).
    reason              text,
    client_address      inet NOT NULL,
    -- The certificate that authenticated the connection, when there was one.
    certificate_subject text,
    certificate_issuer  text,
    certificate_serial  text,
    public_key_sha256   text CHECK (public_key_sha256 ~ '^[0-9a-f]{64}$'),
    satu                text,
    CHECK ((outcome = 'success') = (reason IS NULL))
);

CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at);
CREATE INDEX audit_log_public_key ON audit_log (public_key_sha256, occurred_at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
