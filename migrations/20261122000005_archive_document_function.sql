-- Storing one document is one call of archive_document(): the duplicate check, the version
-- checks, every insert and the set's status in a single statement, hence a single transaction
-- and a single round trip. The importer computes everything else (parsing, digests, signature
-- verification, retention) before calling it.
--
-- The hot parent rows (the retention rule, the controller as active controller) are not
-- foreign keys of archive_state: every document would lock the same row, and concurrent
-- imports would queue on it. The rule comes from the rules the store loaded from this table;
-- the active controller is looked up here.
ALTER TABLE archive_state DROP CONSTRAINT archive_state_retention_rule_id_fkey;
ALTER TABLE archive_state DROP CONSTRAINT archive_state_active_controller_oid_fkey;

-- Outcome codes: 'stored', 'already_archived', 'different_content', 'other_controller',
-- 'unknown_replaced', 'replaced_in_other_set:<set>', 'version_taken'.
CREATE FUNCTION archive_document(
    p_version jsonb,
    p_references jsonb,
    p_raw_kinds text[],
    p_raw_sha256 bytea[],
    p_raw_bytes bytea[],
    p_rendition_kinds text[],
    p_rendition_media_types text[],
    p_rendition_sha256 bytea[],
    p_rendition_bytes bytea[],
    p_signatures jsonb,
    p_state jsonb,
    p_event_details jsonb
) RETURNS text
LANGUAGE plpgsql
-- Plans inside the function are cached for the session. Made while the tables are still small
-- (a fresh archive being filled), they would scan whole tables ever after; every statement here
-- looks rows up by key, so an index is always the right plan.
SET enable_seqscan = off
AS $$
DECLARE
    v document_version;
    s archive_state;
    existing_controller text;
    existing_sha256 bytea;
    parent_set text;
    set_created boolean;
    head_oid text;
    head_version integer;
    head_nullified boolean;
    versions_in_set integer;
BEGIN
    v := jsonb_populate_record(NULL::document_version, p_version);
    s := jsonb_populate_record(NULL::archive_state, p_state);

    -- Two importers with the same document wait for each other here, so it is stored once.
    PERFORM pg_advisory_xact_lock(hashtextextended(v.document_oid, 0));

    SELECT dv.controller_oid, b.sha256 INTO existing_controller, existing_sha256
    FROM document_version dv
    LEFT JOIN stored_bytes b
      ON b.controller_oid = dv.controller_oid AND b.document_oid = dv.document_oid AND b.kind = 'cda'
    WHERE dv.document_oid = v.document_oid;
    IF FOUND THEN
        IF existing_controller <> v.controller_oid THEN
            RETURN 'other_controller';
        ELSIF existing_sha256 = p_raw_sha256[1] THEN
            RETURN 'already_archived';
        ELSE
            RETURN 'different_content';
        END IF;
    END IF;

    IF v.replaces_document_oid IS NOT NULL THEN
        SELECT dv.set_oid INTO parent_set
        FROM document_version dv
        WHERE dv.controller_oid = v.controller_oid AND dv.document_oid = v.replaces_document_oid;
        IF NOT FOUND THEN
            RETURN 'unknown_replaced';
        ELSIF parent_set <> v.set_oid THEN
            RETURN 'replaced_in_other_set:' || parent_set;
        END IF;
    END IF;

    PERFORM 1 FROM document_version dv
    WHERE dv.controller_oid = v.controller_oid AND dv.set_oid = v.set_oid
      AND dv.version_number = v.version_number;
    IF FOUND THEN
        RETURN 'version_taken';
    END IF;

    -- The rows a document names, created the first time. One statement: every part runs
    -- before the foreign keys are checked at its end.
    WITH new_controller AS (
        INSERT INTO controller (oid, name)
        VALUES (v.controller_oid, coalesce(v.custodian_name, v.controller_oid))
        ON CONFLICT (oid) DO NOTHING
    ), new_register AS (
        INSERT INTO register (controller_oid, registry_type)
        SELECT v.controller_oid, p_references->>'registry_type'
        WHERE p_references->>'registry_type' IS NOT NULL
        ON CONFLICT DO NOTHING
    ), new_unit AS (
        INSERT INTO service_unit (controller_oid, oid, name)
        SELECT v.controller_oid, v.service_unit_oid, v.service_unit_name
        WHERE v.service_unit_oid IS NOT NULL
        ON CONFLICT DO NOTHING
    ), new_client AS (
        INSERT INTO client (controller_oid, id_system, id_value, is_test)
        VALUES (v.controller_oid, v.client_id_system, v.client_id_value,
                (p_references->>'client_is_test')::boolean)
        ON CONFLICT DO NOTHING
    ), new_case AS (
        INSERT INTO client_case (controller_oid, oid, client_id_system, client_id_value, service_task)
        SELECT v.controller_oid, v.case_oid, v.client_id_system, v.client_id_value, v.service_task_code
        WHERE v.case_oid IS NOT NULL
        ON CONFLICT DO NOTHING
    )
    INSERT INTO client_relationship (controller_oid, oid, client_id_system, client_id_value, service_task)
    SELECT v.controller_oid, v.client_relationship_oid, v.client_id_system, v.client_id_value,
           v.service_task_code
    WHERE v.client_relationship_oid IS NOT NULL
    ON CONFLICT DO NOTHING;

    -- Locks an existing set's row until commit, so versions of one set are stored one at a time.
    INSERT INTO document_set AS d
        (controller_oid, set_oid, client_id_system, client_id_value, status,
         current_document_oid, current_version, version_count, first_archived_at, last_archived_at)
    VALUES (v.controller_oid, v.set_oid, v.client_id_system, v.client_id_value, 'current',
            v.document_oid, v.version_number, 1, s.archived_at, s.archived_at)
    ON CONFLICT (controller_oid, set_oid) DO UPDATE
        SET last_archived_at = greatest(d.last_archived_at, EXCLUDED.last_archived_at)
    RETURNING (d.xmax = 0) INTO set_created;

    -- The version, its bytes, renditions, signature results, archive state and first event.
    v.status := 'current';
    WITH new_version AS (
        INSERT INTO document_version SELECT v.*
    ), raw AS (
        INSERT INTO stored_bytes (controller_oid, document_oid, kind, media_type, size, sha256, bytes)
        SELECT v.controller_oid, v.document_oid, r.kind, 'application/xml', octet_length(r.bytes),
               r.sha256, r.bytes
        FROM unnest(p_raw_kinds, p_raw_sha256, p_raw_bytes) AS r (kind, sha256, bytes)
    ), decoded AS (
        INSERT INTO rendition (controller_oid, document_oid, position, kind, media_type, size, sha256, bytes)
        SELECT v.controller_oid, v.document_oid, (r.n - 1)::smallint, r.kind, r.media_type,
               octet_length(r.bytes), r.sha256, r.bytes
        FROM unnest(p_rendition_kinds, p_rendition_media_types, p_rendition_sha256, p_rendition_bytes)
             WITH ORDINALITY AS r (kind, media_type, sha256, bytes, n)
    ), checked AS (
        INSERT INTO signature
        SELECT * FROM jsonb_populate_recordset(NULL::signature, p_signatures)
    ), state AS (
        INSERT INTO archive_state (
            controller_oid, document_oid, archive_id, archived_at, storage_code, completion_code,
            retention_rule_id, retention_end, active_controller_oid, message_id,
            service_request_code, use_situation_code)
        VALUES (s.controller_oid, s.document_oid, s.archive_id, s.archived_at, s.storage_code,
                s.completion_code, s.retention_rule_id, s.retention_end,
                coalesce((SELECT c.successor_oid FROM controller c WHERE c.oid = v.controller_oid),
                         v.controller_oid),
                s.message_id, s.service_request_code, s.use_situation_code)
    )
    INSERT INTO archive_event (controller_oid, document_oid, occurred_at, event, details)
    VALUES (v.controller_oid, v.document_oid, s.archived_at, 'archived', p_event_details);

    -- A new set's only version is current as inserted, unless it is a nullification. Otherwise
    -- the set follows its highest version, whatever order the versions arrived in.
    IF set_created AND s.completion_code <> 'NU' THEN
        RETURN 'stored';
    END IF;
    SELECT dv.document_oid, dv.version_number INTO head_oid, head_version
    FROM document_version dv
    WHERE dv.controller_oid = v.controller_oid AND dv.set_oid = v.set_oid
    ORDER BY dv.version_number DESC
    LIMIT 1;
    SELECT st.completion_code = 'NU' INTO head_nullified
    FROM archive_state st
    WHERE st.controller_oid = v.controller_oid AND st.document_oid = head_oid;
    SELECT count(*) INTO versions_in_set
    FROM document_version dv
    WHERE dv.controller_oid = v.controller_oid AND dv.set_oid = v.set_oid;

    UPDATE document_set d
    SET status = CASE WHEN head_nullified THEN 'nullified' ELSE 'current' END,
        current_document_oid = head_oid,
        current_version = head_version,
        version_count = versions_in_set
    WHERE d.controller_oid = v.controller_oid AND d.set_oid = v.set_oid;

    WITH changed AS (
        UPDATE document_version dv
        SET status = CASE WHEN head_nullified THEN 'nullified'
                          WHEN dv.version_number = head_version THEN 'current'
                          ELSE 'replaced' END
        WHERE dv.controller_oid = v.controller_oid AND dv.set_oid = v.set_oid
          AND dv.status <> CASE WHEN head_nullified THEN 'nullified'
                                WHEN dv.version_number = head_version THEN 'current'
                                ELSE 'replaced' END
        RETURNING dv.document_oid, dv.status
    )
    INSERT INTO archive_event (controller_oid, document_oid, event, details)
    SELECT v.controller_oid, changed.document_oid,
           CASE changed.status WHEN 'current' THEN 'reinstated' ELSE changed.status END,
           jsonb_build_object('by', head_oid)
    FROM changed;
    RETURN 'stored';
END;
$$;

GRANT EXECUTE ON FUNCTION archive_document TO archivist_app;
