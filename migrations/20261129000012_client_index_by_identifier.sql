-- Archivists search and sort by the client's identifier alone (a personal identity code, or a
-- temporary identifier of the same shape), never by its identifier system. With the system
-- leading the index, a search by identifier read every entry of the controller; now it reads
-- the client's entries, newest first, and the client order is the index's order.
DROP INDEX document_version_client;
CREATE INDEX document_version_client
    ON document_version (controller_oid, client_id_value, effective_time DESC);
