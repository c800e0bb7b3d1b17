-- The active controller of a newly archived document follows the whole chain of mergers
-- (A merged into B, B later into C: a late document of A belongs to C), not just one step.
-- archive_document() looks up one step; this trigger completes the chain for every writer. In
-- the usual case (no successor) it costs one primary-key lookup.

CREATE FUNCTION active_controller_of(p_controller text) RETURNS text
LANGUAGE sql STABLE
AS $$
    WITH RECURSIVE chain (oid, successor_oid, depth) AS (
        SELECT oid, successor_oid, 0 FROM controller WHERE oid = p_controller
        UNION ALL
        SELECT c.oid, c.successor_oid, chain.depth + 1
        FROM controller c JOIN chain ON c.oid = chain.successor_oid
        WHERE chain.depth < 100
    )
    SELECT oid FROM chain ORDER BY depth DESC LIMIT 1
$$;

CREATE FUNCTION archive_state_active_controller() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM controller
               WHERE oid = NEW.controller_oid AND successor_oid IS NOT NULL) THEN
        NEW.active_controller_oid := active_controller_of(NEW.controller_oid);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER archive_state_active_controller BEFORE INSERT ON archive_state
    FOR EACH ROW EXECUTE FUNCTION archive_state_active_controller();
