//! Refused requests on the audit log, so that someone enumerating identifiers or probing the
//! administration is seen: another controller's document (the same 404 as a missing one, to the
//! requester), an administrative function asked for by a card without the right, malformed
//! input.
//!
//! A flood must not become a row per request: the first refusal of a kind (the card, the
//! address, the route and the reason) is written at once, and the ones that follow within
//! [`RefusalLog::flush`]'s interval are counted and written as one `request.refused` row with
//! the count and the first identifiers asked for. The requester's answer is the same either
//! way.

use std::{
    net::IpAddr,
    sync::{Arc, Mutex},
};

use identity::CertificateIdentity;
use serde_json::json;

use super::{
    context::RequestContext,
    tally::{Flush, Tallies},
};
use crate::audit::{AuditAction, AuditEvent, AuditLog, Outcome};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Kind {
    card_number: Option<String>,
    public_key_sha256: String,
    address: IpAddr,
    route: &'static str,
    reason: String,
}

/// The server's refusals, tallied between flushes. Cheap to clone.
#[derive(Clone)]
pub struct RefusalLog {
    audit: AuditLog,
    pending: Arc<Mutex<Tallies<Kind, CertificateIdentity>>>,
}

impl RefusalLog {
    pub fn new(audit: AuditLog) -> Self {
        Self {
            audit,
            pending: Arc::default(),
        }
    }

    /// Notes one refused request: written at once when it is the first of its kind since the
    /// last flush, counted otherwise. A failure to write is logged; the refusal stands.
    pub async fn record(
        &self,
        caller: &RequestContext,
        route: &'static str,
        reason: &str,
        identifier: Option<&str>,
    ) {
        let kind = Kind {
            card_number: caller.card_number().await.map(|n| n.as_str().to_owned()),
            public_key_sha256: caller.client().identity().public_key_sha256.clone(),
            address: caller.address(),
            route,
            reason: reason.to_owned(),
        };
        let first = {
            let Ok(mut pending) = self.pending.lock() else {
                tracing::error!("the refusal tally is poisoned; a refusal goes unrecorded");
                return;
            };
            pending.note(&kind, || caller.client().identity().clone(), identifier)
        };
        if first {
            let ids: Vec<&str> = identifier.into_iter().collect();
            self.write(&kind, caller.client().identity(), 1, &ids).await;
        }
    }

    async fn write(
        &self,
        kind: &Kind,
        certificate: &CertificateIdentity,
        count: u64,
        identifiers: &[&str],
    ) {
        let event = AuditEvent {
            action: AuditAction::RequestRefused,
            outcome: Outcome::Refused {
                reason: kind_reason(&kind.reason),
            },
            client_address: kind.address,
            certificate: Some(certificate),
            card_number: kind.card_number.as_deref(),
            controller_oid: None,
            document_oid: None,
            details: Some(json!({
                "route": kind.route,
                "reason": kind.reason,
                "count": count,
                "identifiers": identifiers,
            })),
        };
        if let Err(error) = self.audit.record(event).await {
            tracing::error!(%error, route = kind.route, "cannot write a refused request to the audit log");
        }
    }
}

impl Flush for RefusalLog {
    /// Writes one row per kind refused since the last flush (with its count) and forgets the
    /// kinds that were quiet, so that their next refusal is written at once again.
    async fn flush(&self) {
        let (due, overflow) = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.due()
        };
        for due in due {
            let ids: Vec<&str> = due.samples.iter().map(String::as_str).collect();
            self.write(&due.kind, &due.first, due.count, &ids).await;
        }
        if overflow > 0 {
            tracing::warn!(overflow, "refusals of more kinds than are tallied at once");
        }
    }
}

/// The audit row's reason column holds stable codes; the field of an `invalid:<field>` refusal
/// is in the details.
fn kind_reason(reason: &str) -> &'static str {
    match reason {
        "not_found" => "not_found",
        super::card_limit::REASON => super::card_limit::REASON,
        super::download_slots::REASON => super::download_slots::REASON,
        _ => "invalid",
    }
}
