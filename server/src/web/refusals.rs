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
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use identity::CertificateIdentity;
use serde_json::json;

use super::context::RequestContext;
use crate::audit::{AuditAction, AuditEvent, AuditLog, Outcome};

/// Identifiers kept per kind of refusal and interval: enough to see what was probed.
const MAX_IDENTIFIERS: usize = 10;
/// Kinds tallied at once; refusals of further kinds are counted in one overflow row.
const MAX_KINDS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Kind {
    card_number: Option<String>,
    public_key_sha256: String,
    address: IpAddr,
    route: &'static str,
    reason: String,
}

#[derive(Debug)]
struct Tally {
    certificate: CertificateIdentity,
    /// Refusals since the last row written for this kind.
    count: u64,
    identifiers: Vec<String>,
}

#[derive(Default)]
struct Pending {
    kinds: HashMap<Kind, Tally>,
    overflow: u64,
}

/// The server's refusals, tallied between flushes. Cheap to clone.
#[derive(Clone)]
pub struct RefusalLog {
    audit: AuditLog,
    pending: Arc<Mutex<Pending>>,
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
            let full = pending.kinds.len() >= MAX_KINDS;
            match pending.kinds.get_mut(&kind) {
                Some(tally) => {
                    tally.count += 1;
                    if let Some(id) = identifier
                        && tally.identifiers.len() < MAX_IDENTIFIERS
                        && !tally.identifiers.iter().any(|known| known == id)
                    {
                        tally.identifiers.push(id.to_owned());
                    }
                    false
                }
                None if full => {
                    pending.overflow += 1;
                    false
                }
                None => {
                    pending.kinds.insert(
                        kind.clone(),
                        Tally {
                            certificate: caller.client().identity().clone(),
                            count: 0,
                            identifiers: Vec::new(),
                        },
                    );
                    true
                }
            }
        };
        if first {
            let ids: Vec<&str> = identifier.into_iter().collect();
            self.write(&kind, caller.client().identity(), 1, &ids).await;
        }
    }

    /// Writes one row per kind refused since the last flush (with its count) and forgets the
    /// kinds that were quiet, so that their next refusal is written at once again.
    pub async fn flush(&self) {
        let (due, overflow) = {
            let Ok(mut pending) = self.pending.lock() else {
                return;
            };
            pending.kinds.retain(|_, tally| tally.count > 0);
            let due: Vec<(Kind, CertificateIdentity, u64, Vec<String>)> = pending
                .kinds
                .iter_mut()
                .map(|(kind, tally)| {
                    let count = std::mem::take(&mut tally.count);
                    let ids = std::mem::take(&mut tally.identifiers);
                    (kind.clone(), tally.certificate.clone(), count, ids)
                })
                .collect();
            (due, std::mem::take(&mut pending.overflow))
        };
        for (kind, certificate, count, ids) in due {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            self.write(&kind, &certificate, count, &ids).await;
        }
        if overflow > 0 {
            tracing::warn!(overflow, "refusals of more kinds than are tallied at once");
        }
    }

    /// Flushes every `interval` until the returned task is aborted.
    pub fn spawn_flushing(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let log = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                log.flush().await;
            }
        })
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

/// The audit row's reason column holds stable codes; the field of an `invalid:<field>` refusal
/// is in the details.
fn kind_reason(reason: &str) -> &'static str {
    if reason == "not_found" {
        "not_found"
    } else {
        "invalid"
    }
}
