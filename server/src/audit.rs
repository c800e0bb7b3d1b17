//! The audit log: every authenticated connection and every refused card certificate.
//! Writing it is part of serving: a connection whose sign-in cannot be recorded is not served.

use std::net::IpAddr;

use app::identity::CertificateIdentity;
use sqlx::PgPool;

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
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            Self::ClientAuthenticated => "tls.client_authenticated",
            Self::CertificateRefused => "tls.certificate_refused",
            Self::OperatorShowedDocument => "operator.document_shown",
            Self::OperatorExportedDocument => "operator.document_exported",
            Self::OperatorImported => "operator.documents_imported",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Refused { reason: &'static str },
}

#[derive(Clone, Debug)]
pub struct AuditEvent<'a> {
    pub action: AuditAction,
    pub outcome: Outcome,
    pub client_address: IpAddr,
    pub certificate: Option<&'a CertificateIdentity>,
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
}

impl AuditLog {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn record(&self, event: AuditEvent<'_>) -> Result<(), sqlx::Error> {
        let (outcome, reason) = match event.outcome {
            Outcome::Success => ("success", None),
            Outcome::Refused { reason } => ("refused", Some(reason)),
        };
        let cert = event.certificate;
        sqlx::query!(
            r#"INSERT INTO audit_log
                   (action, outcome, reason, client_address,
                    certificate_subject, certificate_issuer, certificate_serial,
                    public_key_sha256, satu)
               VALUES ($1, $2, $3, $4::text::inet, $5, $6, $7, $8, $9)"#,
            event.action.code(),
            outcome,
            reason,
            event.client_address.to_string(),
            cert.map(|c| c.subject.as_str()),
            cert.map(|c| c.issuer.as_str()),
            cert.map(|c| c.serial.as_str()),
            cert.map(|c| c.public_key_sha256.as_str()),
            cert.and_then(|c| c.satu.as_deref()),
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn record_operator(&self, event: OperatorEvent<'_>) -> Result<(), sqlx::Error> {
        let (outcome, reason) = match event.outcome {
            Outcome::Success => ("success", None),
            Outcome::Refused { reason } => ("refused", Some(reason)),
        };
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
