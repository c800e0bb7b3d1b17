//! Refused handshakes on the audit log (`tls.certificate_refused`), without a database write per
//! handshake: anyone can make certificates that are refused (self-made, expired, revoked) as
//! fast as they can handshake, and a row each would turn that into a flood of writes. The first
//! refusal of a kind (the address and the reason) is written at once with what was presented;
//! the ones that follow are counted and written as one row an interval
//! (`audit.refusal_interval_secs`) with the count and the first certificates' hashes. A flood
//! from more addresses than are tallied at once (400) adds one row an interval with the count
//! of the rest (reason `other_addresses`, address 0.0.0.0).

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
};

use serde_json::json;

use super::tally::{Flush, Tallies};
use crate::{
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    tls::presented::Presented,
};

type Kind = (IpAddr, &'static str);

/// The reason of the row that counts refused handshakes from more addresses than are tallied
/// (its address is 0.0.0.0).
pub const OVERFLOW_REASON: &str = "other_addresses";

/// The server's refused handshakes, tallied between flushes. Cheap to clone.
#[derive(Clone)]
pub struct HandshakeRefusals {
    audit: AuditLog,
    pending: Arc<Mutex<Tallies<Kind, Option<Presented>>>>,
}

impl HandshakeRefusals {
    pub fn new(audit: AuditLog) -> Self {
        Self {
            audit,
            pending: Arc::default(),
        }
    }

    /// Notes one refused handshake: written at once when it is the first of its kind since
    /// that kind was last quiet, counted otherwise. A failure to write is logged.
    pub async fn record(
        &self,
        address: IpAddr,
        reason: &'static str,
        presented: Option<Presented>,
    ) {
        let kind = (address, reason);
        let sample = presented
            .as_ref()
            .map(|presented| presented.certificate_sha256.clone());
        let first = {
            let Ok(mut pending) = self.pending.lock() else {
                tracing::error!(
                    "the handshake refusal tally is poisoned; a refusal goes unrecorded"
                );
                return;
            };
            pending.note(&kind, || presented.clone(), sample.as_deref())
        };
        if first {
            let samples: Vec<String> = sample.into_iter().collect();
            self.write(kind, presented.as_ref(), 1, &samples).await;
        }
    }

    async fn write(
        &self,
        (address, reason): Kind,
        presented: Option<&Presented>,
        count: u64,
        certificates: &[String],
    ) {
        let event = AuditEvent {
            action: AuditAction::CertificateRefused,
            outcome: Outcome::Refused { reason },
            client_address: address,
            // What the client claimed is in the details, never in the holder's columns.
            certificate: None,
            card_number: None,
            controller_oid: None,
            document_oid: None,
            details: Some(json!({
                "count": count,
                "presented": presented,
                "certificates": certificates,
            })),
        };
        if let Err(error) = self.audit.record(event).await {
            tracing::error!(%address, %error, reason, "cannot write a refused certificate to the audit log");
        }
    }
}

impl Flush for HandshakeRefusals {
    /// Writes one row per kind refused since its last row, with the count.
    async fn flush(&self) {
        let (due, overflow) = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.due()
        };
        for due in due {
            self.write(due.kind, due.first.as_ref(), due.count, &due.samples)
                .await;
        }
        if overflow > 0 {
            // A flood from more addresses than are tallied: the rest is one row with the count,
            // so that the log still says how many were refused.
            tracing::warn!(
                overflow,
                "refused handshakes of more kinds than are tallied at once"
            );
            let event = AuditEvent {
                action: AuditAction::CertificateRefused,
                outcome: Outcome::Refused {
                    reason: OVERFLOW_REASON,
                },
                client_address: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                certificate: None,
                card_number: None,
                controller_oid: None,
                document_oid: None,
                details: Some(json!({ "count": overflow })),
            };
            if let Err(error) = self.audit.record(event).await {
                tracing::error!(%error, "cannot write the refused handshakes' overflow to the audit log");
            }
        }
    }
}
