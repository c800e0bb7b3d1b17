//! Reads of an archivist's material. Every function here takes a [`ControllerScope`], filters by
//! it, and runs in a transaction that PostgreSQL itself limits to the same controllers: the
//! application's role (`archivist_app`, without BYPASSRLS) with the scope in
//! `archivist.controllers`, which the row-level security policies read. A query that forgot its
//! filter would still see nothing of another controller.

pub mod deployment_test;
mod search;

pub use search::{
    Position, SearchFilter, SearchHit, SearchOrder, SortKey, StatusFilter, search_documents,
};

use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

use crate::{
    archive::DocumentOid,
    audit::{self, AuditFilter, AuditRow},
    auth::ControllerScope,
};

/// A transaction as the application's role, seeing only the scope's controllers.
pub struct ScopedTransaction {
    tx: Transaction<'static, Postgres>,
}

impl ScopedTransaction {
    pub async fn begin(pool: &PgPool, scope: &ControllerScope) -> Result<Self, sqlx::Error> {
        let mut tx = pool.begin().await?;
        // One round trip for all; `true` makes them local to the transaction, so a pooled
        // connection never carries a scope (or the role) into the next request. JIT is off:
        // these are short indexed reads whose estimated cost can pass `jit_above_cost`, and
        // compiling them would take longer (10 ms and more) than running them.
        sqlx::query(
            "SELECT set_config('role', 'archivist_app', true), \
                    set_config('archivist.controllers', $1, true), \
                    set_config('jit', 'off', true)",
        )
        .bind(scope.database_setting())
        .execute(&mut *tx)
        .await?;
        Ok(Self { tx })
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// An archivist's view of the audit log: the newest `limit` rows about the scope's controllers
/// that match `filter`, newest first. Filtered by the query and again by the log's row-level
/// security policy, which shows the application's role only rows about the scope.
pub async fn audit_rows(
    pool: &PgPool,
    scope: &ControllerScope,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut scoped = ScopedTransaction::begin(pool, scope).await?;
    let rows =
        audit::search_rows(&mut *scoped.tx, filter, Some(scope.controllers()), limit).await?;
    scoped.commit().await?;
    Ok(rows)
}

/// One controller of the scope, as the front page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerSummary {
    pub oid: String,
    pub name: String,
    pub last_archived_at: Option<OffsetDateTime>,
}

/// The scope's controllers that are in the archive, by name.
pub async fn controller_summaries(
    pool: &PgPool,
    scope: &ControllerScope,
) -> Result<Vec<ControllerSummary>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let oids = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let rows = sqlx::query_as!(
        ControllerSummary,
        r#"SELECT c.oid, c.name,
                  (SELECT max(s.archived_at) FROM archive_state s WHERE s.controller_oid = c.oid)
                      AS last_archived_at
           FROM controller c
           WHERE c.oid = ANY ($1)
           ORDER BY c.name, c.oid"#,
        &oids,
    )
    .fetch_all(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

/// Which stored bytes of a document version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredPart {
    /// The CDA exactly as received.
    Cda,
    /// The display rendition: the first XHTML body in document order.
    Display,
    /// The n-th PDF rendition in document order, from 1.
    Pdf(u16),
}

/// Stored bytes found within a scope: what to send in the headers, and where to read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredObject {
    pub controller_oid: String,
    pub media_type: String,
    pub size: i64,
    /// The SHA-256 recorded when the bytes were archived.
    pub sha256: Vec<u8>,
    /// Rendition position; `None` for the CDA in `stored_bytes`.
    position: Option<i16>,
}

/// The stored object, when the document is in the scope and has that part. A document of
/// another controller is `None`, exactly like one that does not exist.
pub async fn stored_object(
    pool: &PgPool,
    scope: &ControllerScope,
    document: &DocumentOid,
    part: StoredPart,
) -> Result<Option<StoredObject>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(None);
    }
    let controllers = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let object =
        match part {
            StoredPart::Cda => sqlx::query_as!(
                StoredObject,
                r#"SELECT controller_oid, media_type, size, sha256, NULL::smallint AS "position?"
                   FROM stored_bytes
                   WHERE controller_oid = ANY ($1) AND document_oid = $2 AND kind = 'cda'"#,
                &controllers,
                document.as_str(),
            )
            .fetch_optional(&mut *tx.tx)
            .await?,
            StoredPart::Display | StoredPart::Pdf(_) => {
                let (kind, nth) = match part {
                    StoredPart::Pdf(n) => ("pdf", i64::from(n.max(1)) - 1),
                    _ => ("xhtml", 0),
                };
                sqlx::query_as!(
                    StoredObject,
                    r#"SELECT controller_oid, media_type, size, sha256, position AS "position?"
                   FROM rendition
                   WHERE controller_oid = ANY ($1) AND document_oid = $2 AND kind = $3
                   ORDER BY position
                   OFFSET $4 LIMIT 1"#,
                    &controllers,
                    document.as_str(),
                    kind,
                    nth,
                )
                .fetch_optional(&mut *tx.tx)
                .await?
            }
        };
    tx.commit().await?;
    Ok(object)
}

/// `length` bytes of a stored object from `offset` (0-based): downloads are read in pieces, so
/// the server holds one piece at a time whatever the size.
pub async fn stored_chunk(
    pool: &PgPool,
    scope: &ControllerScope,
    document: &DocumentOid,
    object: &StoredObject,
    offset: i64,
    length: i64,
) -> Result<Vec<u8>, sqlx::Error> {
    // A bytea holds at most 1 GB, so positions fit PostgreSQL's int.
    let offset = i32::try_from(offset).unwrap_or(i32::MAX);
    let length = i32::try_from(length).unwrap_or(i32::MAX);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let bytes = match object.position {
        None => {
            sqlx::query_scalar!(
                r#"SELECT substring(bytes FROM $3::int + 1 FOR $4::int) AS "bytes!"
                   FROM stored_bytes
                   WHERE controller_oid = $1 AND document_oid = $2 AND kind = 'cda'"#,
                object.controller_oid,
                document.as_str(),
                offset,
                length,
            )
            .fetch_one(&mut *tx.tx)
            .await?
        }
        Some(position) => {
            sqlx::query_scalar!(
                r#"SELECT substring(bytes FROM $4::int + 1 FOR $5::int) AS "bytes!"
                   FROM rendition
                   WHERE controller_oid = $1 AND document_oid = $2 AND position = $3"#,
                object.controller_oid,
                document.as_str(),
                position,
                offset,
                length,
            )
            .fetch_one(&mut *tx.tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(bytes)
}

/// The first rendition of `kind` (`xhtml`, `json`) of a version in the scope, as the pages
/// read it whole: `None` when there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenditionRead {
    /// `None` when it is larger than the caller's limit (not read).
    pub bytes: Option<Vec<u8>>,
    /// The SHA-256 recorded when it was archived, to check the bytes against.
    pub sha256: Vec<u8>,
}

pub async fn rendition_bytes(
    pool: &PgPool,
    scope: &ControllerScope,
    document: &DocumentOid,
    kind: &str,
    max_size: i64,
) -> Result<Option<RenditionRead>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(None);
    }
    let controllers = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let read = sqlx::query_as!(
        RenditionRead,
        r#"SELECT CASE WHEN size <= $4 THEN bytes END AS bytes, sha256
           FROM rendition
           WHERE controller_oid = ANY ($1) AND document_oid = $2 AND kind = $3
           ORDER BY position
           LIMIT 1"#,
        &controllers,
        document.as_str(),
        kind,
        max_size,
    )
    .fetch_optional(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(read)
}

/// One document set of a client, by its current (or nullifying) version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSetRecord {
    pub set_oid: String,
    pub version_count: i32,
    pub case_oid: Option<String>,
    pub controller_oid: String,
    pub current: SearchRecord,
}

/// Up to `limit` document sets of the client within the scope, newest document time first.
pub async fn client_sets(
    pool: &PgPool,
    scope: &ControllerScope,
    client: &crate::archive::PersonalIdentityCode,
    limit: i64,
) -> Result<Vec<ClientSetRecord>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let controllers = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let rows = sqlx::query!(
        r#"SELECT d.set_oid, d.version_count, d.controller_oid, v.case_oid,
                  v.document_oid, v.version_number,
                  CASE WHEN d.status = 'nullified' THEN 'nullified' ELSE 'current' END AS "status!",
                  v.effective_time, v.specific_type_code, v.specific_type_system,
                  v.service_task_code, v.service_task_system, v.display_names,
                  v.client_id_value, v.client_family_name, v.client_given_names,
                  c.name AS controller_name
           FROM document_set d
           JOIN document_version v
             ON v.controller_oid = d.controller_oid AND v.document_oid = d.current_document_oid
           JOIN controller c ON c.oid = d.controller_oid
           WHERE d.controller_oid = ANY ($1) AND d.client_id_value = $2
           ORDER BY v.effective_time DESC, d.set_oid
           LIMIT $3"#,
        &controllers,
        client.as_str(),
        limit,
    )
    .fetch_all(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| ClientSetRecord {
            set_oid: r.set_oid,
            version_count: r.version_count,
            case_oid: r.case_oid,
            controller_oid: r.controller_oid,
            current: SearchRecord {
                document_oid: r.document_oid,
                version_number: r.version_number,
                status: r.status,
                effective_time: r.effective_time,
                specific_type_code: r.specific_type_code,
                specific_type_system: r.specific_type_system,
                service_task_code: r.service_task_code,
                service_task_system: r.service_task_system,
                display_names: r.display_names,
                client_id_value: r.client_id_value,
                client_family_name: r.client_family_name,
                client_given_names: r.client_given_names,
                controller_name: r.controller_name,
            },
        })
        .collect())
}

fn scope_oids(scope: &ControllerScope) -> Vec<String> {
    scope
        .controllers()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect()
}

/// Everything the document page shows of one version, as JSON built by the database (the
/// version row, its status, controller name, archive state and retention rule, signatures,
/// events, stored sizes and digests, and every version of its set), or `None` when the version
/// is not in the scope.
pub async fn document_version(
    pool: &PgPool,
    scope: &ControllerScope,
    document: &DocumentOid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(None);
    }
    let controllers = scope_oids(scope);
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let view = sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'version', to_jsonb(v),
               'status', vs.status,
               'controller_name', c.name,
               'archive', to_jsonb(s),
               'rule', to_jsonb(r),
               'signatures', (SELECT coalesce(jsonb_agg(to_jsonb(g) - 'certificate' ORDER BY g.position), '[]')
                              FROM signature g
                              WHERE g.controller_oid = v.controller_oid AND g.document_oid = v.document_oid),
               'events', (SELECT coalesce(jsonb_agg(to_jsonb(e) ORDER BY e.occurred_at, e.id), '[]')
                          FROM archive_event e
                          WHERE e.controller_oid = v.controller_oid AND e.document_oid = v.document_oid),
               'raw', (SELECT jsonb_build_object('size', b.size, 'sha256', encode(b.sha256, 'hex'))
                       FROM stored_bytes b
                       WHERE b.controller_oid = v.controller_oid AND b.document_oid = v.document_oid
                         AND b.kind = 'cda'),
               'renditions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                  'kind', n.kind, 'media_type', n.media_type, 'size', n.size,
                                  'sha256', encode(n.sha256, 'hex')) ORDER BY n.position), '[]')
                              FROM rendition n
                              WHERE n.controller_oid = v.controller_oid AND n.document_oid = v.document_oid),
               'versions', (SELECT jsonb_agg(jsonb_build_object(
                                'document_oid', w.document_oid, 'version_number', w.version_number,
                                'status', ws.status, 'archived_at', ss.archived_at,
                                'software_product', w.software_product,
                                'software_version', w.software_version,
                                'correction_reason_code', w.correction_reason_code,
                                'correction_reason_system', w.correction_reason_system,
                                'display_names', w.display_names)
                                ORDER BY w.version_number DESC)
                            FROM document_version w
                            JOIN document_version_status ws
                              ON ws.controller_oid = w.controller_oid AND ws.document_oid = w.document_oid
                            JOIN archive_state ss
                              ON ss.controller_oid = w.controller_oid AND ss.document_oid = w.document_oid
                            WHERE w.controller_oid = v.controller_oid AND w.set_oid = v.set_oid)
           ) AS "view!"
           FROM document_version v
           JOIN document_version_status vs
             ON vs.controller_oid = v.controller_oid AND vs.document_oid = v.document_oid
           JOIN archive_state s ON s.controller_oid = v.controller_oid AND s.document_oid = v.document_oid
           JOIN retention_rule r ON r.id = s.retention_rule_id
           JOIN controller c ON c.oid = v.controller_oid
           WHERE v.controller_oid = ANY ($1) AND v.document_oid = $2"#,
        &controllers,
        document.as_str(),
    )
    .fetch_optional(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// Display names in Finnish, Swedish and English of the given (code system, code) pairs that
/// the code lists know.
pub async fn code_names(
    pool: &PgPool,
    codes: &[(String, String)],
) -> Result<Vec<(String, String, [String; 3])>, sqlx::Error> {
    let (systems, values): (Vec<String>, Vec<String>) = codes.iter().cloned().unzip();
    let rows = sqlx::query!(
        r#"SELECT c.code_system_oid, c.code, c.display_fi, c.display_sv, c.display_en
           FROM code c
           JOIN unnest($1::text[], $2::text[]) AS wanted (system, code)
             ON wanted.system = c.code_system_oid AND wanted.code = c.code"#,
        &systems,
        &values,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.code_system_oid,
                r.code,
                [r.display_fi, r.display_sv, r.display_en],
            )
        })
        .collect())
}

/// Every code of the given code systems with its Finnish, Swedish and English names, by code
/// system and code: the choices of the search form (code lists, no client data).
pub async fn code_lists(
    pool: &PgPool,
    systems: &[&str],
) -> Result<Vec<(String, String, [String; 3])>, sqlx::Error> {
    let systems: Vec<String> = systems.iter().map(|s| (*s).to_owned()).collect();
    let rows = sqlx::query!(
        r#"SELECT code_system_oid, code, display_fi, display_sv, display_en
           FROM code WHERE code_system_oid = ANY ($1)
           ORDER BY code_system_oid, length(code), code"#,
        &systems,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.code_system_oid,
                r.code,
                [r.display_fi, r.display_sv, r.display_en],
            )
        })
        .collect())
}

/// One version as the document lists show it (search, a client's sets, a deployment test).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SearchRecord {
    pub document_oid: String,
    pub version_number: i32,
    pub status: String,
    pub effective_time: OffsetDateTime,
    pub specific_type_code: Option<String>,
    pub specific_type_system: Option<String>,
    pub service_task_code: Option<String>,
    pub service_task_system: Option<String>,
    pub display_names: serde_json::Value,
    pub client_id_value: String,
    pub client_family_name: Option<String>,
    pub client_given_names: Option<String>,
    pub controller_name: String,
}
