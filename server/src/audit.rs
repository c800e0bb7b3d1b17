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
}

impl AuditAction {
    pub fn code(self) -> &'static str {
        match self {
            Self::ClientAuthenticated => "tls.client_authenticated",
            Self::CertificateRefused => "tls.certificate_refused",
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
}
