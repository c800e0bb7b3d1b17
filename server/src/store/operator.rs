//! Operators' lookups by document OID across controllers (`archivist show`, `archivist export`).
//! They run from a shell on the archive's own host; the archivists' reads go through the
//! controller scope instead.

use sqlx::PgPool;

use crate::archive::sha256;

/// The stored bytes of one version, re-checked against the digest taken when they arrived.
#[derive(Debug)]
pub struct StoredPart {
    pub controller_oid: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("document {0} is not in the archive")]
    NotFound(String),
    #[error("document {0} has no stored {1}")]
    NoPart(String, &'static str),
    #[error(
        "INTEGRITY ERROR: the stored {part} of document {document} no longer matches the \
         SHA-256 taken when it was archived"
    )]
    Integrity {
        document: String,
        part: &'static str,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The controller a document belongs to, if it is archived.
pub async fn controller_of(pool: &PgPool, document_oid: &str) -> Result<String, LookupError> {
    sqlx::query_scalar!(
        r#"SELECT controller_oid AS "controller_oid!" FROM document_version WHERE document_oid = $1"#,
        document_oid
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| LookupError::NotFound(document_oid.to_owned()))
}

/// The version's metadata, set, archive data, signatures, events and stored parts as JSON.
pub async fn document_report(
    pool: &PgPool,
    document_oid: &str,
) -> Result<serde_json::Value, LookupError> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'version', to_jsonb(v) || jsonb_build_object('status', vs.status),
               'set', to_jsonb(d),
               'archive', to_jsonb(s),
               'retention_rule', to_jsonb(r),
               'signatures', (SELECT coalesce(jsonb_agg(to_jsonb(g) - 'certificate' ORDER BY g.position), '[]')
                              FROM signature g
                              WHERE g.controller_oid = v.controller_oid AND g.document_oid = v.document_oid),
               'events', (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.occurred_at, e.id), '[]')
                          FROM archive_event e
                          WHERE e.controller_oid = v.controller_oid AND e.document_oid = v.document_oid),
               'stored_bytes', (SELECT jsonb_agg(jsonb_build_object(
                                    'kind', b.kind, 'media_type', b.media_type, 'size', b.size,
                                    'sha256', encode(b.sha256, 'hex'), 'stored_at', b.stored_at)
                                    ORDER BY b.kind)
                                FROM stored_bytes b
                                WHERE b.controller_oid = v.controller_oid AND b.document_oid = v.document_oid),
               'renditions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                  'position', n.position, 'kind', n.kind, 'media_type', n.media_type,
                                  'size', n.size, 'sha256', encode(n.sha256, 'hex'))
                                  ORDER BY n.position), '[]')
                              FROM rendition n
                              WHERE n.controller_oid = v.controller_oid AND n.document_oid = v.document_oid)
           ) AS "report!"
           FROM document_version v
           JOIN document_set d ON d.controller_oid = v.controller_oid AND d.set_oid = v.set_oid
           JOIN document_version_status vs
             ON vs.controller_oid = v.controller_oid AND vs.document_oid = v.document_oid
           JOIN archive_state s ON s.controller_oid = v.controller_oid AND s.document_oid = v.document_oid
           JOIN retention_rule r ON r.id = s.retention_rule_id
           WHERE v.document_oid = $1"#,
        document_oid
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| LookupError::NotFound(document_oid.to_owned()))
}

/// The stored CDA ("cda") or transfer frame ("frame"), after checking its SHA-256.
pub async fn stored_part(
    pool: &PgPool,
    document_oid: &str,
    part: &'static str,
) -> Result<StoredPart, LookupError> {
    let controller_oid = controller_of(pool, document_oid).await?;
    let row = sqlx::query!(
        "SELECT sha256, bytes FROM stored_bytes
         WHERE controller_oid = $1 AND document_oid = $2 AND kind = $3",
        controller_oid,
        document_oid,
        part
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| LookupError::NoPart(document_oid.to_owned(), part))?;
    if sha256(&row.bytes).as_slice() != row.sha256.as_slice() {
        tracing::error!(
            document = document_oid,
            part,
            "stored bytes fail their SHA-256 check"
        );
        return Err(LookupError::Integrity {
            document: document_oid.to_owned(),
            part,
        });
    }
    Ok(StoredPart {
        controller_oid,
        bytes: row.bytes,
    })
}
