-- The enrolled binding (auth.card_number_rule kind = "enrolled"): for card certificates that do
-- not carry the printed card number, an administrator imports which certificate belongs to which
-- card number. A certificate is named by its issuer and serial number, and its public key's
-- SHA-256 must match as well, so that a certificate re-issued under the same serial with
-- another key does not inherit the binding.
CREATE TABLE card_enrolment (
    issuer             text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 1024),
    -- Upper-case hex with colons, as the identity page shows it.
    certificate_serial text NOT NULL CHECK (certificate_serial ~ '^[0-9A-F]{2}(:[0-9A-F]{2})*$'),
    public_key_sha256  text NOT NULL CHECK (public_key_sha256 ~ '^[0-9a-f]{64}$'),
    card_number        text NOT NULL CHECK (card_number ~ '^[0-9A-Z._@:-]{1,128}$'),
    enrolled_at        timestamptz NOT NULL DEFAULT now(),
    enrolled_by        text NOT NULL,
    PRIMARY KEY (issuer, certificate_serial)
);

-- Bindings are facts about issued certificates: they are added, never rewritten or deleted.
CREATE FUNCTION card_enrolment_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'card_enrolment rows are never changed or deleted';
END;
$$;
CREATE TRIGGER card_enrolment_append_only BEFORE UPDATE OR DELETE ON card_enrolment
    FOR EACH ROW EXECUTE FUNCTION card_enrolment_is_append_only();

GRANT SELECT ON card_enrolment TO archivist_app;
