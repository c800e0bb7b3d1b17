-- A version's status (current / replaced / nullified) is derived from its set instead of being
-- stored on the version. Storing it meant that every new version rewrote its predecessor's row,
-- and because `status` was indexed (document_version_current) that rewrite could not be a HOT
-- update: the whole wide row and all ten of its index entries were written again for about two
-- thirds of the documents imported. The set row already holds the one fact the statuses follow
-- (its current version and whether it ends in a nullification), so that is now the only place.
--
-- Searches for current documents go through document_set (current_document_oid), which is what
-- the partial index served.

DROP INDEX document_version_current;
ALTER TABLE document_version DROP COLUMN status;

CREATE INDEX document_set_current ON document_set (controller_oid, current_document_oid);

-- The status rule in one place. security_invoker: the caller's privileges (and, later, its
-- row-level security policies) apply to the tables underneath, not the view owner's.
CREATE VIEW document_version_status WITH (security_invoker = true) AS
SELECT v.controller_oid,
       v.document_oid,
       v.set_oid,
       v.version_number,
       CASE WHEN d.status = 'nullified' THEN 'nullified'
            WHEN d.current_document_oid = v.document_oid THEN 'current'
            ELSE 'replaced' END AS status
FROM document_version v
JOIN document_set d ON d.controller_oid = v.controller_oid AND d.set_oid = v.set_oid;

GRANT SELECT ON document_version_status TO archivist_app;

-- archive_document() as before (see 20261122000005), except for the end: the set row is the only
-- thing updated, and the events for versions whose status changed are computed from the set's
-- state before and after this version.
CREATE OR REPLACE FUNCTION archive_document(
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
SET enable_seqscan = off
AS $$
DECLARE
    v document_version;
    s archive_state;
    existing_controller text;
    existing_sha256 bytea;
    parent_set text;
    set_created boolean;
    was_nullified boolean;
    was_current text;
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
    -- The conflict update touches only last_archived_at, so RETURNING gives the set's state
    -- before this version.
    INSERT INTO document_set AS d
        (controller_oid, set_oid, client_id_system, client_id_value, status,
         current_document_oid, current_version, version_count, first_archived_at, last_archived_at)
    VALUES (v.controller_oid, v.set_oid, v.client_id_system, v.client_id_value, 'current',
            v.document_oid, v.version_number, 1, s.archived_at, s.archived_at)
    ON CONFLICT (controller_oid, set_oid) DO UPDATE
        SET last_archived_at = greatest(d.last_archived_at, EXCLUDED.last_archived_at)
    RETURNING (d.xmax = 0), d.status = 'nullified', d.current_document_oid
        INTO set_created, was_nullified, was_current;

    -- The version, its bytes, renditions, signature results, archive state and first event.
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

    -- One event for each version whose status changed. The new version counts as having
    -- arrived current.
    INSERT INTO archive_event (controller_oid, document_oid, event, details)
    SELECT v.controller_oid, t.document_oid,
           CASE t.after WHEN 'current' THEN 'reinstated' ELSE t.after END,
           jsonb_build_object('by', head_oid)
    FROM (
        SELECT dv.document_oid,
               CASE WHEN dv.document_oid = v.document_oid THEN 'current'
                    WHEN was_nullified THEN 'nullified'
                    WHEN dv.document_oid = was_current THEN 'current'
                    ELSE 'replaced' END AS before,
               CASE WHEN head_nullified THEN 'nullified'
                    WHEN dv.document_oid = head_oid THEN 'current'
                    ELSE 'replaced' END AS after
        FROM document_version dv
        WHERE dv.controller_oid = v.controller_oid AND dv.set_oid = v.set_oid
    ) t
    WHERE t.before <> t.after;
    RETURN 'stored';
END;
$$;
