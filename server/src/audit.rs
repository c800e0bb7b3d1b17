//! The audit log: every authenticated connection, every refused card certificate or card
//! number, and every change of who may see what.
//! Writing it is part of serving: a connection whose sign-in cannot be recorded is not served.
//!
//! The log proves its own integrity: [`seal`] chains and tree-hashes the rows behind the
//! requests and signs checkpoints, [`verify`] recomputes all of it, [`proof`] cuts proofs that
//! an auditor checks offline.

pub mod canonical;
pub mod checkpoint;
pub mod merkle;
pub mod proof;
pub mod seal;
pub mod spool;
pub mod stored_tree;
pub mod verify;

use std::net::IpAddr;

use app::model::identity::CertificateIdentity;
use futures::TryStreamExt;
use sqlx::PgPool;

use crate::archive::ControllerOid;
use spool::{Spool, SpooledRow};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// What happened. The codes are stored, so they never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// A TLS connection was authenticated with a verified card certificate.
    ClientAuthenticated,
    /// A card certificate was refused during the TLS handshake.
    CertificateRefused,
    /// An operator printed a document's metadata and archive data (`archivist show`).
    OperatorShowedDocument,
    /// An operator wrote a document's stored bytes out (`archivist export`).
    OperatorExportedDocument,
    /// An operator imported documents (`archivist import`); details hold the counts.
    OperatorImported,
    /// A verified certificate gave no card number under the configured rule.
    CardNumberRefused,
    /// A card number was linked to a controller; details hold the card and validity.
    CardLinked,
    /// A card number's link to a controller was ended.
    CardUnlinked,
    /// A card was made an administrator.
    AdministratorGranted,
    /// A card's administrator right was ended.
    AdministratorRevoked,
    /// A controller was created ahead of its first document.
    ControllerCreated,
    /// A controller was renamed; details hold the old and new name.
    ControllerRenamed,
    /// A controller was merged into a successor.
    ControllerMerged,
    /// An operator exported rows of the audit log; details hold the filter.
    OperatorExportedAudit,
    /// A card signed in: a new session began.
    SessionStarted,
    /// The archivist signed out.
    SessionSignedOut,
    /// A session's cookie came with another card's certificate; the session was destroyed.
    SessionCertificateChanged,
    /// A session reached its absolute timeout and was ended.
    SessionExpired,
    /// A state-changing request failed the CSRF checks; the reason says which.
    CsrfRefused,
    /// Requests refused as not there (another controller's material looks the same), not
    /// allowed or malformed; details hold the route, the count and the first identifiers.
    RequestRefused,
    /// Someone searched the audit log on its page; details hold the filter.
    AuditSearched,
    /// Bindings of certificates to card numbers were imported; details hold the counts.
    EnrolmentImported,
    /// An administrator downloaded the audit log as CSV; details hold the filter.
    AuditExported,
    /// `archivist-card check --server` asked what sign-in makes of a card's certificate.
    CardStatusChecked,
    /// An archivist read a document version's stored CDA (`/api/documents/{oid}/raw`).
    DocumentRawRead,
    /// An archivist read a version's display rendition.
    DocumentRenditionRead,
    /// An archivist read one of a version's PDF renditions; details hold which.
    DocumentPdfRead,
    /// An archivist searched documents; details hold the filter and the number of rows.
    DocumentsSearched,
    /// An archivist opened a document version's page (metadata, archive data, versions).
    DocumentViewed,
    /// An archivist opened a client's document sets; details hold the client and the count.
    ClientViewed,
    /// An archivist compared two versions of a set; details hold the other version.
    DocumentsCompared,
    /// Stored bytes no longer matched the SHA-256 recorded when they were archived.
    DocumentIntegrityFailed,
    /// An administrator defined or extended a controller's deployment test case.
    DeploymentTestDefined,
    /// An administrator reset a deployment test; details hold the reason and the new round.
    DeploymentTestReset,
    /// An archivist opened the deployment test page; details hold the controllers.
    DeploymentTestViewed,
    /// An archivist marked a test document as checked against the source system.
    DeploymentTestDocumentChecked,
    /// An archivist confirmed a deployment test (or was refused: the outcome says why).
    DeploymentTestConfirmed,
    /// A notice to the archivists was created; details hold its id, kind and times.
    NoticeCreated,
    /// A notice was changed; details hold its id and what it was and became.
    NoticeChanged,
    /// A notice was ended ahead of its planned end.
    NoticeEnded,
    /// An unplanned maintenance break closed the service; details hold the reason and end.
    MaintenanceStarted,
    /// The maintenance break that closed the service was ended; the service is open again.
    MaintenanceEnded,
    /// An operator verified the audit log's integrity; details hold the result.
    OperatorVerifiedAudit,
    /// An operator made an inclusion proof of one audit row; details hold its seq.
    OperatorProvedAuditRow,
}

impl AuditAction {
    /// Whether a row of this action may wait in the spool while no primary takes it: what was
    /// read or refused, which happened whatever the database's state. A change is not spooled:
    /// it needs a primary itself, and its row must not claim one that did not commit.
    pub fn may_be_spooled(self) -> bool {
        matches!(
            self,
            Self::ClientAuthenticated
                | Self::CertificateRefused
                | Self::CardNumberRefused
                | Self::CsrfRefused
                | Self::RequestRefused
                | Self::AuditSearched
                | Self::AuditExported
                | Self::CardStatusChecked
                | Self::DocumentRawRead
                | Self::DocumentRenditionRead
                | Self::DocumentPdfRead
                | Self::DocumentsSearched
                | Self::DocumentViewed
                | Self::ClientViewed
                | Self::DocumentsCompared
                | Self::DocumentIntegrityFailed
                | Self::DeploymentTestViewed
        )
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::ClientAuthenticated => "tls.client_authenticated",
            Self::CertificateRefused => "tls.certificate_refused",
            Self::OperatorShowedDocument => "operator.document_shown",
            Self::OperatorExportedDocument => "operator.document_exported",
            Self::OperatorImported => "operator.documents_imported",
            Self::CardNumberRefused => "auth.card_number_refused",
            Self::CardLinked => "admin.card_linked",
            Self::CardUnlinked => "admin.card_unlinked",
            Self::AdministratorGranted => "admin.administrator_granted",
            Self::AdministratorRevoked => "admin.administrator_revoked",
            Self::ControllerCreated => "admin.controller_created",
            Self::ControllerRenamed => "admin.controller_renamed",
            Self::ControllerMerged => "admin.controller_merged",
            Self::OperatorExportedAudit => "operator.audit_exported",
            Self::SessionStarted => "session.started",
            Self::SessionSignedOut => "session.signed_out",
            Self::SessionCertificateChanged => "session.certificate_changed",
            Self::SessionExpired => "session.expired",
            Self::CsrfRefused => "request.csrf_refused",
            Self::RequestRefused => "request.refused",
            Self::AuditSearched => "audit.searched",
            Self::EnrolmentImported => "admin.enrolment_imported",
            Self::AuditExported => "audit.exported",
            Self::CardStatusChecked => "card.status_checked",
            Self::DocumentsSearched => "document.searched",
            Self::DocumentViewed => "document.viewed",
            Self::DocumentsCompared => "document.compared",
            Self::ClientViewed => "client.viewed",
            Self::DocumentRawRead => "document.raw_read",
            Self::DocumentRenditionRead => "document.rendition_read",
            Self::DocumentPdfRead => "document.pdf_read",
            Self::DocumentIntegrityFailed => "document.integrity_failed",
            Self::DeploymentTestDefined => "admin.deployment_test_defined",
            Self::DeploymentTestReset => "admin.deployment_test_reset",
            Self::DeploymentTestViewed => "deployment_test.viewed",
            Self::DeploymentTestDocumentChecked => "deployment_test.document_checked",
            Self::DeploymentTestConfirmed => "deployment_test.confirmed",
            Self::NoticeCreated => "admin.notice_created",
            Self::NoticeChanged => "admin.notice_changed",
            Self::NoticeEnded => "admin.notice_ended",
            Self::MaintenanceStarted => "admin.maintenance_started",
            Self::MaintenanceEnded => "admin.maintenance_ended",
            Self::OperatorVerifiedAudit => "operator.audit_verified",
            Self::OperatorProvedAuditRow => "operator.audit_row_proved",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Refused { reason: &'static str },
}

impl Outcome {
    /// The row's `outcome` and `reason` columns.
    pub fn columns(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Success => ("success", None),
            Self::Refused { reason } => ("refused", Some(reason)),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AuditEvent<'a> {
    pub action: AuditAction,
    pub outcome: Outcome,
    pub client_address: IpAddr,
    pub certificate: Option<&'a CertificateIdentity>,
    /// The card number the configured rule read, once it has been read.
    pub card_number: Option<&'a str>,
    /// The controller whose material or settings the action concerned.
    pub controller_oid: Option<&'a str>,
    /// The document version the action read.
    pub document_oid: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

/// Something an operator did from a shell on the archive's host.
#[derive(Clone, Debug)]
pub struct OperatorEvent<'a> {
    pub action: AuditAction,
    pub outcome: Outcome,
    pub controller_oid: Option<&'a str>,
    pub document_oid: Option<&'a str>,
    pub details: Option<serde_json::Value>,
}

/// The operating-system account running the command (through sudo, the one who ran sudo).
pub fn operator_account() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[derive(Clone, Debug)]
pub struct AuditLog {
    pool: PgPool,
    spool: Option<Spool>,
}

impl AuditLog {
    pub fn new(pool: PgPool) -> Self {
        Self { pool, spool: None }
    }

    /// Rows that no primary takes go to `spool` (when there is one) instead of failing.
    pub fn with_spool(self, spool: Option<Spool>) -> Self {
        Self { spool, ..self }
    }

    /// Writes `event`'s row; while no database primary takes it (a failover, a standby left
    /// behind), into the spool, which adds it to the log later. An error means the row is
    /// nowhere and what it audits must not be served.
    pub async fn record(&self, event: AuditEvent<'_>) -> Result<(), sqlx::Error> {
        let error = match record_in(&self.pool, &event).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        let spoolable = event.action.may_be_spooled() && no_primary(&error);
        let Some(spool) = self.spool.as_ref().filter(|_| spoolable) else {
            return Err(error);
        };
        match spool.append(&SpooledRow::of(&event)).await {
            Ok(()) => {
                tracing::warn!(action = event.action.code(), %error, "no database primary takes the audit row: spooled");
                Ok(())
            }
            Err(spool_error) => {
                tracing::error!(action = event.action.code(), %error, %spool_error, "the audit row is neither in the database nor in the spool");
                Err(error)
            }
        }
    }

    pub async fn record_operator(&self, event: OperatorEvent<'_>) -> Result<(), sqlx::Error> {
        record_operator_in(&self.pool, event).await
    }
}

/// Writes an audit row through `executor`: a transaction's connection, so that a change and
/// its row commit together or not at all.
pub async fn record_in<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    event: &AuditEvent<'_>,
) -> Result<(), sqlx::Error> {
    let started = std::time::Instant::now();
    let written = insert(executor, event).await;
    crate::monitoring::audit_write(written.is_ok(), started);
    written
}

/// Whether `error` says the database takes no writes now but may again after a failover: the
/// connection is gone or refused, the server is shutting down or starting, or it is a standby.
/// Any other error (a constraint, a bug) would fail the same way when shipped, so it is not
/// spooled.
fn no_primary(error: &sqlx::Error) -> bool {
    match error {
        // Protocol: the connection ended mid-conversation (a primary that went away answers a
        // new connection's TLS request with nothing).
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 25006 read_only_sql_transaction, 57P01-57P03 shutdown and start-up, class 08
            // connection exceptions.
            matches!(code.as_ref(), "25006" | "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }),
        _ => false,
    }
}

async fn insert<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    event: &AuditEvent<'_>,
) -> Result<(), sqlx::Error> {
    let (outcome, reason) = event.outcome.columns();
    let cert = event.certificate;
    sqlx::query!(
        r#"INSERT INTO audit_log
                   (action, outcome, reason, client_address,
                    certificate_subject, certificate_issuer, certificate_serial,
                    public_key_sha256, satu, card_number, controller_oid, document_oid, details)
               VALUES ($1, $2, $3, $4::text::inet, $5, $6, $7, $8, $9, $10, $11, $12, $13)"#,
        event.action.code(),
        outcome,
        reason,
        event.client_address.to_string(),
        cert.map(|c| c.subject.as_str()),
        cert.map(|c| c.issuer.as_str()),
        cert.map(|c| c.serial.as_str()),
        cert.map(|c| c.public_key_sha256.as_str()),
        cert.and_then(|c| c.satu.as_deref()),
        event.card_number,
        event.controller_oid,
        event.document_oid,
        event.details.as_ref(),
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// [`record_in`] for an operator's action.
pub async fn record_operator_in<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    event: OperatorEvent<'_>,
) -> Result<(), sqlx::Error> {
    let (outcome, reason) = event.outcome.columns();
    sqlx::query!(
        r#"INSERT INTO audit_log
                   (action, outcome, reason, operator, controller_oid, document_oid, details)
               VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
        event.action.code(),
        outcome,
        reason,
        operator_account(),
        event.controller_oid,
        event.document_oid,
        event.details,
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Which rows of the audit log to export; every part is optional and they all apply.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct AuditFilter {
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
    /// An action code or a prefix of one (`admin.` for every administrative change).
    pub action: Option<String>,
    /// Rows of this card's own actions, and administrators' changes concerning it.
    pub card_number: Option<String>,
    pub controller_oid: Option<String>,
}

/// One row of the audit log as the export and the audit pages read it.
#[derive(Clone, Debug)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub client_address: Option<String>,
    pub operator: Option<String>,
    pub card_number: Option<String>,
    pub satu: Option<String>,
    pub certificate_subject: Option<String>,
    pub certificate_issuer: Option<String>,
    pub certificate_serial: Option<String>,
    pub public_key_sha256: Option<String>,
    pub controller_oid: Option<String>,
    pub document_oid: Option<String>,
    pub details: Option<String>,
}

const CSV_HEADER: [&str; 16] = [
    "id",
    "occurred_at",
    "action",
    "outcome",
    "reason",
    "client_address",
    "operator",
    "card_number",
    "satu",
    "certificate_subject",
    "certificate_issuer",
    "certificate_serial",
    "public_key_sha256",
    "controller_oid",
    "document_oid",
    "details",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the CSV: {0}")]
    Write(#[from] csv::Error),
    #[error("cannot write the CSV: {0}")]
    Output(#[from] std::io::Error),
    #[error("the download was abandoned")]
    Abandoned,
}

/// How much CSV an export hands on at a time.
pub const EXPORT_CHUNK_BYTES: usize = 64 * 1024;

/// One CSV record with RFC 4180 quoting, as bytes.
fn csv_line<I, T>(fields: I) -> Result<Vec<u8>, csv::Error>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(fields)?;
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// The newest `limit` rows that match, newest first; with `controllers`, only rows about
/// one of those controllers (an archivist's view of their own controllers' material). A row
/// is about a controller when it names it, or when it was a lookup (a search, a client's
/// documents) made in a scope that held it (`details.controllers`). Runs on `executor`: the
/// pool for the whole log, or a scoped transaction where the log's row-level security policy
/// applies the same rule again.
pub async fn search_rows<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    filter: &AuditFilter,
    controllers: Option<&[ControllerOid]>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let controllers: Option<Vec<String>> =
        controllers.map(|c| c.iter().map(|oid| oid.as_str().to_owned()).collect());
    sqlx::query_as!(
        AuditRow,
        r#"SELECT id, occurred_at, action, outcome, reason, host(client_address) AS client_address,
                      operator, card_number, satu, certificate_subject, certificate_issuer,
                      certificate_serial, public_key_sha256, controller_oid, document_oid,
                      details::text AS details
               FROM audit_log
               WHERE ($1::timestamptz IS NULL OR occurred_at >= $1)
                 AND ($2::timestamptz IS NULL OR occurred_at < $2)
                 AND ($3::text IS NULL OR starts_with(action, $3))
                 AND ($4::text IS NULL OR card_number = $4 OR details->>'card_number' = $4)
                 AND ($5::text IS NULL OR controller_oid = $5 OR details->'controllers' ? $5)
                 AND ($6::text[] IS NULL OR controller_oid = ANY ($6)
                      OR details->'controllers' ?| $6)
               ORDER BY occurred_at DESC, id DESC
               LIMIT $7"#,
        filter.since,
        filter.until,
        filter.action,
        filter.card_number,
        filter.controller_oid,
        controllers.as_deref(),
        limit,
    )
    .fetch_all(executor)
    .await
}

impl AuditLog {
    /// The whole log's newest `limit` rows that match, newest first: the administrators' view.
    /// An archivist's view of their own controllers is [`crate::store::scoped::audit_rows`],
    /// which row-level security limits a second time.
    pub async fn search(
        &self,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRow>, sqlx::Error> {
        search_rows(&self.pool, filter, None, limit).await
    }

    /// The rows that match, oldest first, as CSV with a header line, handed to `sink` in chunks
    /// of about [`EXPORT_CHUNK_BYTES`]. Rows are streamed from the database, so the export's
    /// memory does not grow with the log (the command line writes the chunks to standard output,
    /// the audit page's download sends them as the response body). Returns the number of rows.
    pub async fn export_csv<F, Fut>(
        &self,
        filter: &AuditFilter,
        mut sink: F,
    ) -> Result<u64, ExportError>
    where
        F: FnMut(Vec<u8>) -> Fut,
        Fut: std::future::Future<Output = Result<(), ExportError>>,
    {
        let mut chunk = csv_line(CSV_HEADER)?;
        // The whole log may take longer to stream than the serving pool lets a statement run:
        // this one read is exempt, in a transaction of its own.
        let mut tx = self.pool.begin().await?;
        sqlx::query!("SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await?;
        let mut rows = sqlx::query_as!(
            AuditRow,
            r#"SELECT id, occurred_at, action, outcome, reason, host(client_address) AS client_address,
                      operator, card_number, satu, certificate_subject, certificate_issuer,
                      certificate_serial, public_key_sha256, controller_oid, document_oid,
                      details::text AS details
               FROM audit_log
               WHERE ($1::timestamptz IS NULL OR occurred_at >= $1)
                 AND ($2::timestamptz IS NULL OR occurred_at < $2)
                 AND ($3::text IS NULL OR starts_with(action, $3))
                 AND ($4::text IS NULL OR card_number = $4 OR details->>'card_number' = $4)
                 AND ($5::text IS NULL OR controller_oid = $5 OR details->'controllers' ? $5)
               ORDER BY occurred_at, id"#,
            filter.since,
            filter.until,
            filter.action,
            filter.card_number,
            filter.controller_oid,
        )
        .fetch(&mut *tx);
        let mut count = 0;
        while let Some(row) = rows.try_next().await? {
            let at = row.occurred_at.format(&Rfc3339).unwrap_or_default();
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            chunk.extend(csv_line([
                row.id.to_string(),
                at,
                row.action,
                row.outcome,
                text(&row.reason),
                text(&row.client_address),
                text(&row.operator),
                text(&row.card_number),
                text(&row.satu),
                text(&row.certificate_subject),
                text(&row.certificate_issuer),
                text(&row.certificate_serial),
                text(&row.public_key_sha256),
                text(&row.controller_oid),
                text(&row.document_oid),
                text(&row.details),
            ])?);
            count += 1;
            if chunk.len() >= EXPORT_CHUNK_BYTES {
                sink(std::mem::take(&mut chunk)).await?;
            }
        }
        drop(rows);
        tx.commit().await?;
        if !chunk.is_empty() {
            sink(chunk).await?;
        }
        Ok(count)
    }
}
