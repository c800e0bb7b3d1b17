-- The archive store (archive-model.md §7). Raw bytes are the record; every other table is an
-- index derived from them and can be rebuilt. Every row that holds client data carries its
-- controller (rekisterinpitäjä), and the controller leads the primary and foreign keys of those
-- tables, so the schema can be distributed or partitioned by controller without redesign and
-- an archivist's scope is always one predicate.

-- An OID in dotted form. Identifier columns that other rows refer to are checked with it, so
-- no table holds a malformed identifier.
CREATE FUNCTION is_oid(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN value ~ '^[0-2](\.(0|[1-9][0-9]*))+$' AND length(value) <= 256;

-- The application's role. It may read and add archive rows, update only the derived status
-- columns, and never change or remove stored bytes. Created once per cluster (roles are
-- cluster-wide; parallel test databases may race to create it).
DO $$
BEGIN
    CREATE ROLE archivist_app NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- Rekisterinpitäjä. `successor_oid` points to the controller that took over after a merger
-- (the "active controller" of its documents).
CREATE TABLE controller (
    oid             text PRIMARY KEY CHECK (is_oid(oid)),
    name            text NOT NULL CHECK (name <> ''),
    business_id     text,
    successor_oid   text REFERENCES controller (oid),
    -- Set when the controller's deployment test is confirmed; NULL while in deployment.
    production_since timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (successor_oid IS DISTINCT FROM oid)
);

-- The controller's registers (1.2.246.537.6.1264: 1 = sosiaalihuollon asiakasrekisteri, …).
CREATE TABLE register (
    controller_oid  text NOT NULL REFERENCES controller (oid),
    registry_type   text NOT NULL,
    PRIMARY KEY (controller_oid, registry_type)
);

-- Service units (palveluyksikkö) from the SOTE organisation register, as named by documents.
CREATE TABLE service_unit (
    controller_oid  text NOT NULL REFERENCES controller (oid),
    oid             text NOT NULL,
    name            text,
    PRIMARY KEY (controller_oid, oid)
);

-- A client as identified by the documents: a personal identity code (system 1.2.246.21) or a
-- temporary identifier from the organisation's arc. Names are kept per version, not here.
CREATE TABLE client (
    controller_oid  text NOT NULL REFERENCES controller (oid),
    id_system       text NOT NULL,
    id_value        text NOT NULL CHECK (id_value <> ''),
    -- A test identity (personal identity code individual number 900–999).
    is_test         boolean NOT NULL,
    PRIMARY KEY (controller_oid, id_system, id_value)
);

-- Asia: the case a document belongs to (componentOf/encompassingEncounter/id).
CREATE TABLE client_case (
    controller_oid  text NOT NULL,
    oid             text NOT NULL,
    client_id_system text NOT NULL,
    client_id_value text NOT NULL,
    service_task    text,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (controller_oid, oid),
    CHECK (is_oid(oid)),
    FOREIGN KEY (controller_oid, client_id_system, client_id_value)
        REFERENCES client (controller_oid, id_system, id_value)
);
CREATE INDEX client_case_client ON client_case (controller_oid, client_id_system, client_id_value);

-- Asiakkuus: the client relationship (hl7fi:encompassingClientRelationship).
CREATE TABLE client_relationship (
    controller_oid  text NOT NULL,
    oid             text NOT NULL,
    client_id_system text NOT NULL,
    client_id_value text NOT NULL,
    service_task    text,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (controller_oid, oid),
    FOREIGN KEY (controller_oid, client_id_system, client_id_value)
        REFERENCES client (controller_oid, id_system, id_value)
);
CREATE INDEX client_relationship_client
    ON client_relationship (controller_oid, client_id_system, client_id_value);

-- One logical document: all versions sharing a setId. Its status follows its highest version.
CREATE TABLE document_set (
    controller_oid  text NOT NULL,
    set_oid         text NOT NULL,
    client_id_system text NOT NULL,
    client_id_value text NOT NULL,
    status          text NOT NULL CHECK (status IN ('current', 'nullified')),
    current_document_oid text NOT NULL,
    current_version integer NOT NULL CHECK (current_version >= 1),
    version_count   integer NOT NULL CHECK (version_count >= 1),
    first_archived_at timestamptz NOT NULL,
    last_archived_at timestamptz NOT NULL,
    PRIMARY KEY (controller_oid, set_oid),
    FOREIGN KEY (controller_oid, client_id_system, client_id_value)
        REFERENCES client (controller_oid, id_system, id_value)
);
CREATE INDEX document_set_client ON document_set (controller_oid, client_id_system, client_id_value);

-- One version of a document: every header field of archive-model.md §1.2, typed. A coded field
-- keeps its code and code system (base OID with the year suffix, as sent); display names in the
-- user's language come from `code`, and the sender's own display names are kept in
-- `display_names` for codes the code lists do not have. `unknown_header` holds
-- localSocialHeader elements this version of the reader does not know, so nothing is lost.
CREATE TABLE document_version (
    controller_oid  text NOT NULL,
    document_oid    text NOT NULL,
    set_oid         text NOT NULL,
    version_number  integer NOT NULL CHECK (version_number >= 1),
    replaces_document_oid text,
    -- current: the set's highest version; replaced: a higher version exists; nullified: the
    -- set ends in a nullification (this version or a later one).
    status          text NOT NULL CHECK (status IN ('current', 'replaced', 'nullified')),

    effective_time  timestamptz NOT NULL,
    creation_time   timestamptz,
    general_type_code text,
    general_type_system text,
    specific_type_code text,
    specific_type_system text,
    document_group_code text,
    document_group_system text,
    service_task_code text,
    service_task_system text,
    service_process_code text,
    service_process_system text,
    confidentiality_code text,
    confidentiality_system text,
    language_code   text,
    record_status_code text,
    record_status_system text,
    registry_type_code text,
    registry_type_system text,
    retention_class_code text,
    retention_class_system text,
    special_content_code text,
    special_content_system text,
    consent_code    text,
    consent_system  text,
    restriction_code text,
    restriction_system text,
    restriction_text text,
    inaccessible_code text,
    inaccessible_system text,
    inaccessible_text text,
    correction_reason_code text,
    correction_reason_system text,
    file_format_code text,
    file_format_system text,
    structured_format_code text,
    structured_format_system text,
    content_specification_id text,

    client_id_system text NOT NULL,
    client_id_value text NOT NULL,
    client_family_name text,
    client_given_names text,
    client_gender_code text,
    client_birth_time text,

    author_id_system text,
    author_id_value text,
    author_name     text,
    custodian_name  text,
    case_oid        text,
    client_relationship_oid text,
    service_unit_oid text,
    service_unit_name text,
    responsible_organisation_oid text,
    responsible_organisation_name text,
    organiser_oid   text,
    organiser_name  text,
    software_moderator text,
    software_product text,
    software_version text,
    signer_id       text,
    signer_name     text,
    signer_authentication_code text,
    signed_time     text,

    display_names   jsonb NOT NULL,
    unknown_header  jsonb NOT NULL,

    PRIMARY KEY (controller_oid, document_oid),
    UNIQUE (controller_oid, set_oid, version_number),
    CHECK (is_oid(document_oid) AND is_oid(set_oid)),
    CHECK (is_oid(case_oid) AND is_oid(client_relationship_oid) AND is_oid(replaces_document_oid)),
    FOREIGN KEY (controller_oid, set_oid) REFERENCES document_set (controller_oid, set_oid),
    FOREIGN KEY (controller_oid, client_id_system, client_id_value)
        REFERENCES client (controller_oid, id_system, id_value),
    FOREIGN KEY (controller_oid, case_oid) REFERENCES client_case (controller_oid, oid),
    FOREIGN KEY (controller_oid, client_relationship_oid)
        REFERENCES client_relationship (controller_oid, oid),
    FOREIGN KEY (controller_oid, replaces_document_oid)
        REFERENCES document_version (controller_oid, document_oid)
);
CREATE INDEX document_version_client
    ON document_version (controller_oid, client_id_system, client_id_value, effective_time DESC);
CREATE INDEX document_version_case ON document_version (controller_oid, case_oid);
CREATE INDEX document_version_type
    ON document_version (controller_oid, specific_type_code, effective_time DESC);
CREATE INDEX document_version_general_type
    ON document_version (controller_oid, general_type_code, effective_time DESC);
CREATE INDEX document_version_service_task
    ON document_version (controller_oid, service_task_code, effective_time DESC);
CREATE INDEX document_version_time ON document_version (controller_oid, effective_time DESC);
CREATE INDEX document_version_current
    ON document_version (controller_oid, effective_time DESC) WHERE status = 'current';
-- Direct lookup by OID without knowing the controller (operators' `archivist show`).
CREATE INDEX document_version_oid ON document_version (document_oid);

-- The bytes as received: the CDA ('cda') and, when it came with one, the transfer frame
-- ('frame'). This is the record; nothing ever rewrites it (triggers below, and no UPDATE or
-- DELETE privilege for the application's role).
CREATE TABLE stored_bytes (
    controller_oid  text NOT NULL,
    document_oid    text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('cda', 'frame')),
    media_type      text NOT NULL,
    size            bigint NOT NULL CHECK (size = octet_length(bytes)),
    sha256          bytea NOT NULL CHECK (length(sha256) = 32),
    bytes           bytea COMPRESSION lz4 NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (controller_oid, document_oid, kind),
    FOREIGN KEY (controller_oid, document_oid)
        REFERENCES document_version (controller_oid, document_oid)
);

-- The decoded renditions of the nonXMLBody, in document order: the display form (XHTML or
-- PDF), the structured JSON and anything else. Derived from the CDA, kept so that they can be
-- served and streamed without re-parsing; as immutable as the CDA itself.
CREATE TABLE rendition (
    controller_oid  text NOT NULL,
    document_oid    text NOT NULL,
    position        smallint NOT NULL CHECK (position >= 0),
    kind            text NOT NULL CHECK (kind IN ('xhtml', 'pdf', 'json', 'other')),
    media_type      text NOT NULL,
    size            bigint NOT NULL CHECK (size = octet_length(bytes)),
    sha256          bytea NOT NULL CHECK (length(sha256) = 32),
    bytes           bytea COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (controller_oid, document_oid, position),
    FOREIGN KEY (controller_oid, document_oid)
        REFERENCES document_version (controller_oid, document_oid)
);

CREATE FUNCTION refuse_change_of_stored_bytes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER stored_bytes_immutable BEFORE UPDATE OR DELETE ON stored_bytes
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_stored_bytes();
CREATE TRIGGER stored_bytes_no_truncate BEFORE TRUNCATE ON stored_bytes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_stored_bytes();
CREATE TRIGGER rendition_immutable BEFORE UPDATE OR DELETE ON rendition
    FOR EACH ROW EXECUTE FUNCTION refuse_change_of_stored_bytes();
CREATE TRIGGER rendition_no_truncate BEFORE TRUNCATE ON rendition
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_stored_bytes();

-- The archive's verification of each XMLDSig signature. Integrity (the digests and the
-- signature value check out) and trust (the signer's certificate comes from a trusted issuer)
-- are separate results: a document can be intact and signed by an issuer we do not know.
CREATE TABLE signature (
    controller_oid  text NOT NULL,
    document_oid    text NOT NULL,
    position        smallint NOT NULL CHECK (position >= 0),
    signature_id    text,
    description_code text,
    description_system text,
    signature_timestamp text,
    integrity       text NOT NULL CHECK (integrity IN
                        ('valid', 'valid_ignoring_whitespace', 'invalid', 'not_verifiable')),
    integrity_detail text,
    trust           text NOT NULL CHECK (trust IN ('trusted', 'unknown', 'untrusted')),
    trust_detail    text,
    signer_subject  text,
    signer_issuer   text,
    signer_serial   text,
    signer_not_before timestamptz,
    signer_not_after timestamptz,
    certificate     bytea,
    verified_at     timestamptz NOT NULL,
    verifier        text NOT NULL,
    PRIMARY KEY (controller_oid, document_oid, position),
    FOREIGN KEY (controller_oid, document_oid)
        REFERENCES document_version (controller_oid, document_oid)
);

-- Retention rules (Kansallisarkisto's definition under Act 703/2023, archive-model.md §2.1).
-- A rule matches a document group or a service task; the anchor says from which event the
-- years count. When the anchor event (death, case closure, birth) is not yet known, the
-- retention end is open.
CREATE TABLE retention_rule (
    id              text PRIMARY KEY,
    description_fi  text NOT NULL,
    description_sv  text NOT NULL,
    description_en  text NOT NULL,
    document_group_code text,
    service_task_code text,
    anchor          text NOT NULL CHECK (anchor IN
                        ('permanent', 'client_death', 'case_closed', 'child_birth', 'document_time')),
    years           integer CHECK (years > 0),
    -- Lower numbers are tried first.
    precedence      integer NOT NULL,
    source          text NOT NULL,
    CHECK ((anchor = 'permanent') = (years IS NULL))
);

-- The archive's own data per version, computed on storage (arkiston lisäämät tiedot).
CREATE TABLE archive_state (
    controller_oid  text NOT NULL,
    document_oid    text NOT NULL,
    archive_id      uuid NOT NULL UNIQUE,
    archived_at     timestamptz NOT NULL,
    -- HL7 DocumentStorage (1.2.246.537.5.40116): AC, AA, AR, PU.
    storage_code    text NOT NULL CHECK (storage_code IN ('AC', 'AA', 'AR', 'PU')),
    -- HL7 DocumentCompletion (1.2.246.537.5.40115): from the frame, else LA; NU = nullification.
    completion_code text NOT NULL,
    retention_rule_id text NOT NULL REFERENCES retention_rule (id),
    -- NULL while the rule's anchor event is not known, and for permanent retention.
    retention_end   date,
    active_controller_oid text NOT NULL REFERENCES controller (oid),
    message_id      text,
    service_request_code text,
    use_situation_code text,
    PRIMARY KEY (controller_oid, document_oid),
    FOREIGN KEY (controller_oid, document_oid)
        REFERENCES document_version (controller_oid, document_oid)
);
CREATE INDEX archive_state_archived_at ON archive_state (controller_oid, archived_at DESC);
CREATE INDEX archive_state_retention_end ON archive_state (retention_end) WHERE retention_end IS NOT NULL;

-- What happened to each version in the archive (käsittelyhistoria). Append-only.
CREATE TABLE archive_event (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    controller_oid  text NOT NULL,
    document_oid    text NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    event           text NOT NULL CHECK (event IN
                        ('archived', 'replaced', 'nullified', 'reinstated', 'retention_extended',
                         'purged')),
    details         jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (controller_oid, id),
    FOREIGN KEY (controller_oid, document_oid)
        REFERENCES document_version (controller_oid, document_oid)
);
CREATE INDEX archive_event_document ON archive_event (controller_oid, document_oid, occurred_at);

CREATE FUNCTION archive_event_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'archive_event is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER archive_event_no_update_or_delete BEFORE UPDATE OR DELETE ON archive_event
    FOR EACH ROW EXECUTE FUNCTION archive_event_is_append_only();
CREATE TRIGGER archive_event_no_truncate BEFORE TRUNCATE ON archive_event
    FOR EACH STATEMENT EXECUTE FUNCTION archive_event_is_append_only();

-- Code systems by base OID (without the year suffix) and their codes with display names.
CREATE TABLE code_system (
    oid             text PRIMARY KEY CHECK (is_oid(oid)),
    name_fi         text NOT NULL,
    name_sv         text NOT NULL,
    name_en         text NOT NULL
);

CREATE TABLE code (
    code_system_oid text NOT NULL REFERENCES code_system (oid),
    code            text NOT NULL,
    display_fi      text NOT NULL,
    display_sv      text NOT NULL,
    display_en      text NOT NULL,
    -- 'public_sample': seen in Kanta's public test messages or HL7 code lists;
    -- 'provisional': not yet checked against the national code server export.
    source          text NOT NULL CHECK (source IN ('public_sample', 'hl7', 'provisional')),
    PRIMARY KEY (code_system_oid, code)
);

-- The deployment test (käyttöönottokoe) of a controller: the documents of its test case, the
-- archivist's checks and the confirmation that moves the controller to production.
CREATE TABLE deployment_test (
    controller_oid  text PRIMARY KEY REFERENCES controller (oid),
    state           text NOT NULL CHECK (state IN ('in_progress', 'confirmed')),
    defined_by      text NOT NULL,
    defined_at      timestamptz NOT NULL DEFAULT now(),
    confirmed_by_satu text,
    confirmed_by_name text,
    confirmed_certificate_sha256 text,
    confirmed_at    timestamptz,
    CHECK ((state = 'confirmed') = (confirmed_at IS NOT NULL))
);

CREATE TABLE deployment_test_document (
    controller_oid  text NOT NULL REFERENCES deployment_test (controller_oid),
    document_oid    text NOT NULL,
    checked_by_satu text,
    checked_at      timestamptz,
    PRIMARY KEY (controller_oid, document_oid)
);

GRANT SELECT, INSERT ON controller, register, service_unit, client, client_case,
    client_relationship, document_set, document_version, stored_bytes, rendition, signature,
    retention_rule, archive_state, archive_event, code_system, code, deployment_test,
    deployment_test_document, audit_log
    TO archivist_app;
-- Only derived status and the workflow tables change after insertion.
GRANT UPDATE ON document_set, document_version, archive_state, controller, deployment_test,
    deployment_test_document TO archivist_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO archivist_app;
