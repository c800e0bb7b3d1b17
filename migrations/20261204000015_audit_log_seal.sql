-- The audit log's seal: a gapless hash chain over the rows, the Merkle tree that inclusion and
-- consistency proofs are cut from, and signed checkpoints of the tree head. The hashing is done
-- by the server (src/audit/seal.rs), which defines the rows' canonical encoding; these tables
-- only keep what it computed. Every table here is insert-only like the log itself, and
-- `archivist audit verify` recomputes all of it from the rows.

-- One total order across instances without a global lock per request: every statement that
-- inserts into the log first takes a SHARED advisory lock for its transaction (shared locks never
-- wait for each other), and the sealer takes the same lock EXCLUSIVELY for a moment once per
-- round. While it holds it, no transaction that inserted a row is still open, so every id up to
-- the largest one it then sees is final: the sealer seals rows in id order up to that id and
-- never meets a smaller id later. Inserting transactions wait only for that moment.
CREATE FUNCTION audit_log_seal_barrier() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7349812001);
    RETURN NULL;
END;
$$;

CREATE TRIGGER audit_log_seal_barrier
    BEFORE INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_seal_barrier();

-- The chain, one row per sealed audit row: seq counts from 1 without gaps, chain_hash is
-- SHA-256(previous chain_hash || encoding), leaf_hash is the row's RFC 9162 leaf hash. No foreign
-- key to audit_log: a deleted row must leave its link behind for verify to name, not be refused
-- by a constraint that a superuser would drop anyway.
CREATE TABLE audit_chain (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    audit_id   bigint NOT NULL UNIQUE,
    leaf_hash  bytea NOT NULL CHECK (length(leaf_hash) = 32),
    chain_hash bytea NOT NULL CHECK (length(chain_hash) = 32)
);

-- The Merkle tree's perfect subtrees of 16 leaves and more (level >= 4), so that a proof reads
-- about log2(n) of them; smaller ones are hashed from audit_chain.leaf_hash when needed.
CREATE TABLE audit_tree (
    level smallint NOT NULL CHECK (level BETWEEN 4 AND 63),
    index bigint NOT NULL CHECK (index >= 0),
    hash  bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, index)
);

-- Signed tree heads. The same JSON is written once to the operator's checkpoint directory.
CREATE TABLE audit_checkpoint (
    tree_size  bigint PRIMARY KEY CHECK (tree_size >= 1),
    root_hash  text NOT NULL CHECK (root_hash ~ '^[0-9a-f]{64}$'),
    chain_hash text NOT NULL CHECK (chain_hash ~ '^[0-9a-f]{64}$'),
    signed_at  timestamptz NOT NULL,
    key_id     text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    signature  text NOT NULL CHECK (signature ~ '^[0-9a-f]{128}$')
);

CREATE FUNCTION audit_seal_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['audit_chain', 'audit_tree', 'audit_checkpoint'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I
                        FOR EACH ROW EXECUTE FUNCTION audit_seal_is_append_only()',
                       t || '_no_update_or_delete', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I
                        FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_is_append_only()',
                       t || '_no_truncate', t);
    END LOOP;
END;
$$;
