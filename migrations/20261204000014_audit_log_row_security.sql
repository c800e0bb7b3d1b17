-- The archivists' audit page reads the log as the application's role within the card's scope,
-- so that row-level security hides other controllers' rows a second time (the query filters
-- them too). A row is about a controller when it names it, or when it records a lookup made in a
-- scope that held it (details.controllers). The administrators' view of the whole log and every
-- write stay with the owner, which the policy does not bind; the role gets no INSERT, UPDATE or
-- DELETE on the log.
GRANT SELECT ON audit_log TO archivist_app;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY controller_scope ON audit_log FOR SELECT TO archivist_app
    USING (controller_oid = ANY (archivist_scope())
           OR coalesce(details->'controllers' ?| archivist_scope(), false));
