//! What the on-call team watches: Prometheus metrics recorded with the `metrics` facade and
//! rendered by `metrics-exporter-prometheus` on a listener of their own ([`listener`]), never on
//! the public HTTPS port.
//!
//! Labels are fixed vocabularies (route templates, methods, status codes, outcomes, refusal
//! codes, CA names): never a raw path, an OID, a card number or an identity code, so that the
//! metrics hold no client data and their cardinality stays bounded.

pub mod import_run;
pub mod listener;

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const HTTP_REQUESTS: &str = "archivist_http_requests_total";
pub const HTTP_DURATION: &str = "archivist_http_request_duration_seconds";
pub const HANDSHAKES: &str = "archivist_tls_handshakes_total";
pub const HANDSHAKES_IN_PROGRESS: &str = "archivist_tls_handshakes_in_progress";
pub const CONNECTIONS_OPEN: &str = "archivist_connections_open";
pub const AUDIT_WRITES: &str = "archivist_audit_writes_total";
pub const AUDIT_WRITE_DURATION: &str = "archivist_audit_write_duration_seconds";
pub const CONNECTIONS_REFUSED: &str = "archivist_connections_refused_total";
pub const CARD_RATE_LIMITED: &str = "archivist_card_rate_limited_total";
pub const AUDIT_ROWS_SEALED: &str = "archivist_audit_rows_sealed_total";
pub const AUDIT_CHAIN_LENGTH: &str = "archivist_audit_chain_length";
pub const AUDIT_CHECKPOINTS: &str = "archivist_audit_checkpoints_total";
pub const AUDIT_SEAL_FAILURES: &str = "archivist_audit_seal_failures_total";
pub const REQUESTS_SHED: &str = "archivist_requests_shed_total";
pub const IDLE_CONNECTIONS_CLOSED: &str = "archivist_idle_connections_closed_total";
pub const CARD_DOWNLOADS_REFUSED: &str = "archivist_card_downloads_refused_total";
pub const PROXY_HEADERS_REFUSED: &str = "archivist_proxy_headers_refused_total";
pub const AUDIT_SPOOL_BYTES: &str = "archivist_audit_spool_bytes";
pub const AUDIT_SPOOLED: &str = "archivist_audit_spooled_total";
pub const AUDIT_SPOOL_SHIPPED: &str = "archivist_audit_spool_shipped_total";

/// Latency buckets in seconds: a page is expected in tens of milliseconds, a download in seconds.
const BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use (one per process: the facade is global, and
/// the integration tests run many servers in one process).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(error) => {
                    tracing::error!(%error, "cannot install the metrics recorder; metrics are off");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to the response's head, by route template and method."
    );
    describe_counter!(
        HANDSHAKES,
        "TLS handshakes by outcome (card, anonymous, refused, failed, timed_out) and refusal code."
    );
    describe_gauge!(HANDSHAKES_IN_PROGRESS, "TLS handshakes under way.");
    describe_gauge!(CONNECTIONS_OPEN, "TCP connections open on the HTTPS port.");
    describe_counter!(
        AUDIT_WRITES,
        "Audit log writes by outcome (written, failed)."
    );
    describe_histogram!(
        AUDIT_WRITE_DURATION,
        metrics::Unit::Seconds,
        "Time to write one audit row."
    );
    describe_counter!(
        CONNECTIONS_REFUSED,
        "Connections closed at accept time, before TLS, by reason (address_rate, network_rate, address_open, network_open, total_open)."
    );
    describe_gauge!(
        AUDIT_SPOOL_BYTES,
        "Bytes of audit rows in this instance's spool, waiting for a database primary."
    );
    describe_counter!(
        AUDIT_SPOOLED,
        "Audit rows no primary took, by outcome (spooled; refused: the spool was full or failed)."
    );
    describe_counter!(
        AUDIT_SPOOL_SHIPPED,
        "Spooled audit rows shipped, by outcome (added; already_there: shipped before; rejected: damaged, kept aside and NOT in the log)."
    );
    describe_counter!(
        CARD_RATE_LIMITED,
        "Requests refused with 429 because one card sent more than auth.card_requests_per_second."
    );
    describe_counter!(
        AUDIT_ROWS_SEALED,
        "Audit rows this instance added to the hash chain."
    );
    describe_gauge!(
        AUDIT_CHAIN_LENGTH,
        "Rows in the audit log's hash chain, as this instance last sealed or saw it."
    );
    describe_counter!(
        AUDIT_CHECKPOINTS,
        "Signed audit checkpoints by outcome (signed; sink_failed: stored in the database but not written to the checkpoint directory)."
    );
    describe_counter!(
        AUDIT_SEAL_FAILURES,
        "Sealing rounds that failed (the database, a damaged stored tree); rows wait for the next round."
    );
    describe_counter!(
        CARD_DOWNLOADS_REFUSED,
        "Downloads refused with 429 because their card had auth.card_downloads_at_once under way."
    );
    describe_counter!(
        IDLE_CONNECTIONS_CLOSED,
        "Idle connections closed to make room for a new one at connections.max_open."
    );
    describe_counter!(
        PROXY_HEADERS_REFUSED,
        "Connections closed for their PROXY protocol header, by reason (not_from_balancer, timed_out, truncated, no_signature, too_long, malformed, unsupported)."
    );
    describe_counter!(
        REQUESTS_SHED,
        "Requests answered 503 at once because connections.max_requests_in_flight were being worked on."
    );
}

/// A sealing round's result: rows chained, the chain's length after it.
pub fn audit_sealed(rows: u64, chain_length: u64) {
    counter!(AUDIT_ROWS_SEALED).increment(rows);
    gauge!(AUDIT_CHAIN_LENGTH).set(chain_length as f64);
}

/// A checkpoint signed; `in_sink` false when the checkpoint directory could not take it.
pub fn audit_checkpoint(in_sink: bool) {
    let outcome = if in_sink { "signed" } else { "sink_failed" };
    counter!(AUDIT_CHECKPOINTS, "outcome" => outcome).increment(1);
}

pub fn connection_refused(reason: &'static str) {
    counter!(CONNECTIONS_REFUSED, "reason" => reason).increment(1);
}

pub fn card_rate_limited() {
    counter!(CARD_RATE_LIMITED).increment(1);
}

pub fn card_download_refused() {
    counter!(CARD_DOWNLOADS_REFUSED).increment(1);
}

pub fn idle_connection_closed() {
    counter!(IDLE_CONNECTIONS_CLOSED).increment(1);
}

pub fn proxy_header_refused(reason: &'static str) {
    counter!(PROXY_HEADERS_REFUSED, "reason" => reason).increment(1);
}

pub fn request_shed() {
    counter!(REQUESTS_SHED).increment(1);
}

pub fn audit_seal_failed() {
    counter!(AUDIT_SEAL_FAILURES).increment(1);
}

/// One answered request. `route` is the route template (`/documents/{oid}`), never the path.
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    let (route, method) = (route.to_owned(), method.to_owned());
    counter!(
        HTTP_REQUESTS,
        "route" => route.clone(),
        "method" => method.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(HTTP_DURATION, "route" => route, "method" => method).record(elapsed.as_secs_f64());
}

/// How a handshake ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// With a verified card certificate.
    Card,
    /// Without a client certificate (the guidance page and public assets).
    Anonymous,
    /// The client's certificate was refused, for the given reason code.
    Refused(&'static str),
    /// Anything else (not TLS, a protocol error, the client went away).
    Failed,
    TimedOut,
}

pub fn handshake(outcome: Handshake) {
    let (outcome, reason) = match outcome {
        Handshake::Card => ("card", ""),
        Handshake::Anonymous => ("anonymous", ""),
        Handshake::Refused(reason) => ("refused", reason),
        Handshake::Failed => ("failed", ""),
        Handshake::TimedOut => ("timed_out", ""),
    };
    counter!(HANDSHAKES, "outcome" => outcome, "reason" => reason).increment(1);
}

/// Counts one of a gauge's things for as long as it lives.
#[must_use = "the gauge goes down again when this is dropped"]
pub struct InGauge(&'static str);

impl InGauge {
    pub fn enter(name: &'static str) -> Self {
        gauge!(name).increment(1.0);
        Self(name)
    }
}

impl Drop for InGauge {
    fn drop(&mut self) {
        gauge!(self.0).decrement(1.0);
    }
}

/// An audit row that no primary took, spooled or not, and what the spool now holds.
pub fn audit_spool(held_bytes: u64, spooled: bool) {
    let outcome = if spooled { "spooled" } else { "refused" };
    counter!(AUDIT_SPOOLED, "outcome" => outcome).increment(1);
    gauge!(AUDIT_SPOOL_BYTES).set(held_bytes as f64);
}

/// A shipping round of the audit spool.
pub fn audit_spool_shipped(held_bytes: u64, shipped: &crate::audit::spool::Shipped) {
    for (outcome, rows) in [
        ("added", shipped.added),
        ("already_there", shipped.already_there),
        ("rejected", shipped.rejected),
    ] {
        counter!(AUDIT_SPOOL_SHIPPED, "outcome" => outcome).increment(rows);
    }
    gauge!(AUDIT_SPOOL_BYTES).set(held_bytes as f64);
}

/// One audit row written, or not, and how long it took.
pub fn audit_write(written: bool, started: Instant) {
    let outcome = if written { "written" } else { "failed" };
    counter!(AUDIT_WRITES, "outcome" => outcome).increment(1);
    histogram!(AUDIT_WRITE_DURATION).record(started.elapsed().as_secs_f64());
}
