//! The load balancer's two questions, both public, both behind load shedding (an instance over
//! its bound answers 503), and neither revealing anything of the archive:
//!
//! - `GET /healthz`, is this instance alive: 200 when it can serve (the database it reads from,
//!   `database.read_url` or else the primary, answers). Through a failover it still can.
//! - `GET /readyz`, should it be sent new connections: 200 when it is not draining for a stop
//!   (`ops.drain_delay_secs`), its database takes writes (the audit log needs them; a standby
//!   left behind by a failover does not), and its revocation lists are in use (none stale or
//!   rolled back, which would refuse that CA's cards here while the other instance may be fine).
//!   Otherwise 503 with each reason on a line of its own.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use axum::{extract::State, http::StatusCode};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::tls::RevocationHealth;

/// The pool `/healthz` asks: the one archivists' reads use.
#[derive(Clone)]
pub struct Alive(pub PgPool);

pub async fn healthz(State(Alive(reads)): State<Alive>) -> (StatusCode, &'static str) {
    if crate::db::is_healthy(&reads).await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

pub async fn readyz(State(readiness): State<Readiness>) -> (StatusCode, String) {
    let reasons = readiness.not_ready(OffsetDateTime::now_utc()).await;
    if reasons.is_empty() {
        return (StatusCode::OK, "ready\n".to_owned());
    }
    let lines: String = reasons
        .iter()
        .map(|reason| format!("{}\n", reason.line()))
        .collect();
    (StatusCode::SERVICE_UNAVAILABLE, lines)
}

/// What readiness is decided from. Cheap to clone.
#[derive(Clone)]
pub struct Readiness {
    pool: PgPool,
    revocation: watch::Receiver<RevocationHealth>,
    draining: Draining,
}

impl Readiness {
    pub fn new(
        pool: PgPool,
        revocation: watch::Receiver<RevocationHealth>,
        draining: Draining,
    ) -> Self {
        Self {
            pool,
            revocation,
            draining,
        }
    }

    /// Why this instance should not be sent new connections now; empty when it should.
    pub async fn not_ready(&self, now: OffsetDateTime) -> Vec<NotReady> {
        let mut reasons = Vec::new();
        if self.draining.is_on() {
            reasons.push(NotReady::Draining);
        }
        let revocation_in_use = {
            let health = self.revocation.borrow();
            health.stale.is_empty()
                && health.rolled_back.is_empty()
                // Gone stale since the reloader last looked: its next round refuses the CA.
                && health.next_stale_at.is_none_or(|at| at > now)
        };
        if !revocation_in_use {
            reasons.push(NotReady::RevocationLists);
        }
        if !crate::db::accepts_writes(&self.pool).await {
            reasons.push(NotReady::NoWritableDatabase);
        }
        reasons
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    Draining,
    NoWritableDatabase,
    RevocationLists,
}

impl NotReady {
    pub const ALL: [Self; 3] = [
        Self::Draining,
        Self::NoWritableDatabase,
        Self::RevocationLists,
    ];

    /// The reason's label on the metrics listener (`archivist_not_ready{reason}`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Draining => "draining",
            Self::NoWritableDatabase => "no_writable_database",
            Self::RevocationLists => "revocation_lists",
        }
    }

    /// The line `/readyz` answers, for the operator reading the load balancer's log.
    fn line(self) -> &'static str {
        match self {
            Self::Draining => "draining for a stop",
            Self::NoWritableDatabase => "no database that takes writes",
            Self::RevocationLists => "a revocation list is stale or rolled back",
        }
    }
}

/// Set once the stop signal has come: readiness is then false for good.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
