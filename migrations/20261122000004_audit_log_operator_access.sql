-- Operator commands (`archivist show`, `archivist export`, `archivist import`) read and add
-- client data from a shell, not over TLS: their rows name the operating-system user instead of
-- a client address and certificate, and every row can name the controller and document it
-- concerns.
ALTER TABLE audit_log ALTER COLUMN client_address DROP NOT NULL;
ALTER TABLE audit_log ADD COLUMN operator text;
ALTER TABLE audit_log ADD COLUMN controller_oid text;
ALTER TABLE audit_log ADD COLUMN document_oid text;
ALTER TABLE audit_log ADD COLUMN details jsonb;
-- Every row says where it came from: a network address or an operator account.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_has_origin
    CHECK (client_address IS NOT NULL OR operator IS NOT NULL);
CREATE INDEX audit_log_document ON audit_log (document_oid, occurred_at) WHERE document_oid IS NOT NULL;
