-- Fills a benchmark archive to size: every archived version of controller :'controller' is
-- copied :copies times, with new OIDs, new clients, cases and sets, and document and archiving
-- times spread over ten and five years, so that the search's tables and indexes have the size,
-- depth and spread of a large archive.
--
-- Copied: clients, cases, client relationships, document sets, versions and archive state:
-- everything the search page and the document page's lookups read. Not copied: stored bytes,
-- renditions, signatures and events; the benchmark opens only imported documents, whose rows
-- are complete. The copies' clients have identifiers that are not personal identity codes
-- (`100477-955B/17`), so a search by identity code finds only imported documents, as many per
-- client as a real client has.
--
-- Run by server/benches/pages.sh as the database owner, per controller, before the secondary
-- indexes are rebuilt:
--   psql -v controller=1.2.246.10.12345671.10.0 -v copies=99 -f pages_fill.sql
\set ON_ERROR_STOP on

-- Loading, not archiving: the archive's triggers and foreign-key checks are for the importer's
-- one document at a time, and the copies are consistent by construction.
SET session_replication_role = replica;

CREATE OR REPLACE FUNCTION pg_temp.copy_rows(p_table text, p_copies int, p_overrides jsonb)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    columns text;
    expressions text;
    copied bigint;
BEGIN
    SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position),
           string_agg(coalesce(replace(p_overrides ->> column_name, 'COPIES', p_copies::text),
                               't.' || quote_ident(column_name)),
                      ', ' ORDER BY ordinal_position)
      INTO columns, expressions
      FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = p_table;
    EXECUTE format(
        'INSERT INTO %I (%s) SELECT %s FROM %I t CROSS JOIN generate_series(1, %s) AS k '
        'WHERE t.controller_oid = %L',
        p_table, columns, expressions, p_table, p_copies, current_setting('bench.controller'));
    GET DIAGNOSTICS copied = ROW_COUNT;
    RETURN copied;
END;
$$;

SELECT set_config('bench.controller', :'controller', false);

-- Each copy k gets the arc .(k+100) on its OIDs (still valid OIDs) and /k on client ids;
-- COPIES in an expression is the number of copies.
SELECT pg_temp.copy_rows('client', :copies, jsonb_build_object(
    'id_value', $$t.id_value || '/' || k$$)) AS clients;
SELECT pg_temp.copy_rows('client_case', :copies, jsonb_build_object(
    'oid', $$t.oid || '.' || (k + 100)$$,
    'client_id_value', $$t.client_id_value || '/' || k$$)) AS cases;
SELECT pg_temp.copy_rows('client_relationship', :copies, jsonb_build_object(
    'oid', $$t.oid || '.' || (k + 100)$$,
    'client_id_value', $$t.client_id_value || '/' || k$$)) AS relationships;
SELECT pg_temp.copy_rows('document_set', :copies, jsonb_build_object(
    'set_oid', $$t.set_oid || '.' || (k + 100)$$,
    'client_id_value', $$t.client_id_value || '/' || k$$,
    'current_document_oid', $$t.current_document_oid || '.' || (k + 100)$$,
    'first_archived_at', $$t.first_archived_at - make_interval(secs => k * 157680000.0 / COPIES)$$,
    'last_archived_at', $$t.last_archived_at - make_interval(secs => k * 157680000.0 / COPIES)$$))
    AS sets;
SELECT pg_temp.copy_rows('document_version', :copies, jsonb_build_object(
    'document_oid', $$t.document_oid || '.' || (k + 100)$$,
    'set_oid', $$t.set_oid || '.' || (k + 100)$$,
    'replaces_document_oid', $$t.replaces_document_oid || '.' || (k + 100)$$,
    'case_oid', $$t.case_oid || '.' || (k + 100)$$,
    'client_relationship_oid', $$t.client_relationship_oid || '.' || (k + 100)$$,
    'client_id_value', $$t.client_id_value || '/' || k$$,
    'effective_time', $$t.effective_time - make_interval(secs => k * 315360000.0 / COPIES)$$))
    AS versions;
SELECT pg_temp.copy_rows('archive_state', :copies, jsonb_build_object(
    'document_oid', $$t.document_oid || '.' || (k + 100)$$,
    'archive_id', 'gen_random_uuid()',
    'archived_at', $$t.archived_at - make_interval(secs => k * 157680000.0 / COPIES)$$))
    AS archive_states;
