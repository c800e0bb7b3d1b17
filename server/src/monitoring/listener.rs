//! The metrics listener (`metrics.listen`, plain HTTP, loopback by default): `GET /metrics` in
//! the Prometheus text format and nothing else. It is apart from the public HTTPS port so that
//! only the monitoring network reaches it, and it answers while the database is down (that is
//! when it matters).
//!
//! Two parts: the process's event metrics (requests, handshakes, audit writes), and this
//! server's state read at each scrape into a recorder of the scrape's own (database pool,
//! sessions, revocation): a CA whose CRL is fresh again simply drops out of the list.

use std::{future::Future, time::Duration};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use metrics::gauge;
use metrics_exporter_prometheus::PrometheusBuilder;
use sqlx::PgPool;
use tokio::{net::TcpListener, sync::watch};

use crate::{
    notices::board::{NoticeBoard, kind_index},
    tls::RevocationHealth,
    web::health::{NotReady, Readiness},
};

/// A scrape waits at most this long for each of its database questions (the session count,
/// readiness); the rest is in memory.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct MetricsState {
    pub pool: PgPool,
    pub revocation: watch::Receiver<RevocationHealth>,
    pub notices: NoticeBoard,
    /// What `/readyz` answers, shown as gauges so that an instance left out of the load
    /// balancer's rotation is noticed.
    pub readiness: Readiness,
}

pub fn router(state: MetricsState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: MetricsState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    // Histograms keep their samples until upkeep folds them in.
    let upkeep = tokio::spawn(async {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            if let Some(handle) = super::handle() {
                handle.run_upkeep();
            }
        }
    });
    if let Err(error) = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "the metrics listener stopped");
    }
    upkeep.abort();
}

async fn metrics(State(state): State<MetricsState>) -> Response {
    let Some(events) = super::handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are off\n").into_response();
    };
    let sessions = tokio::time::timeout(
        DATABASE_WAIT,
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM tower_sessions.session WHERE expiry_date > now()",
        )
        .fetch_one(&state.pool),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let now_utc = time::OffsetDateTime::now_utc();
    // A database that does not answer in time takes no writes either.
    let not_ready = tokio::time::timeout(DATABASE_WAIT, state.readiness.not_ready(now_utc))
        .await
        .unwrap_or_else(|_| vec![NotReady::NoWritableDatabase]);
    let health = state.revocation.borrow().clone();
    let board = state.notices.health(now_utc);

    let now = PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&now, || {
        describe_state();
        let pool = &state.pool;
        gauge!("archivist_db_pool_connections", "state" => "open").set(f64::from(pool.size()));
        gauge!("archivist_db_pool_connections", "state" => "idle").set(count(pool.num_idle()));
        gauge!("archivist_db_pool_max_connections")
            .set(f64::from(pool.options().get_max_connections()));
        // Unknown (the database does not answer): left out rather than shown as zero.
        if let Some(sessions) = sessions {
            gauge!("archivist_sessions_active").set(sessions as f64);
        }
        gauge!("archivist_ready").set(flag(not_ready.is_empty()));
        for reason in NotReady::ALL {
            gauge!("archivist_not_ready", "reason" => reason.code())
                .set(flag(not_ready.contains(&reason)));
        }
        gauge!("archivist_crl_stale_issuers").set(count(health.stale.len()));
        for issuer in &health.stale {
            gauge!("archivist_crl_stale", "issuer" => issuer.clone()).set(1.0);
        }
        gauge!("archivist_crl_rolled_back_issuers").set(count(health.rolled_back.len()));
        for issuer in &health.rolled_back {
            gauge!("archivist_crl_rolled_back", "issuer" => issuer.clone()).set(1.0);
        }
        if let Some(at) = health.next_stale_at {
            gauge!("archivist_crl_next_stale_timestamp_seconds").set(at.unix_timestamp() as f64);
        }
        gauge!("archivist_tls_reload_failing").set(flag(health.reload_failing));
        for kind in app::model::notices::NoticeKind::ALL {
            gauge!("archivist_notices_shown", "kind" => kind.code())
                .set(count(board.shown[kind_index(kind)]));
        }
        gauge!("archivist_maintenance_closed").set(flag(board.closed));
        gauge!("archivist_notices_read_failing").set(flag(board.database_failing));
        gauge!("archivist_notice_file_broken").set(flag(board.file_broken));
        if let Some(at) = health.certificate_not_after {
            gauge!("archivist_tls_certificate_expiry_timestamp_seconds")
                .set(at.unix_timestamp() as f64);
        }
    });
    let mut body = events.render();
    body.push_str(&now.handle().render());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

fn describe_state() {
    use metrics::describe_gauge;
    describe_gauge!(
        "archivist_db_pool_connections",
        "Database connections of this server's pool: open, and idle among them."
    );
    describe_gauge!(
        "archivist_db_pool_max_connections",
        "The pool's limit: open at the limit with none idle means requests wait."
    );
    describe_gauge!(
        "archivist_sessions_active",
        "Sessions not expired (all instances: they share the database)."
    );
    describe_gauge!(
        "archivist_ready",
        "1 when /readyz answers 200: the load balancer sends this instance new connections."
    );
    describe_gauge!(
        "archivist_not_ready",
        "1 for each reason /readyz answers 503: draining, no_writable_database, revocation_lists."
    );
    describe_gauge!(
        "archivist_crl_stale_issuers",
        "CAs whose CRL is stale: their cards are refused."
    );
    describe_gauge!("archivist_crl_stale", "1 for each CA whose CRL is stale.");
    describe_gauge!(
        "archivist_crl_rolled_back_issuers",
        "CAs whose CRL went back to an older CRLNumber: their cards are refused."
    );
    describe_gauge!(
        "archivist_crl_rolled_back",
        "1 for each CA whose CRL went back to an older CRLNumber."
    );
    describe_gauge!(
        "archivist_crl_next_stale_timestamp_seconds",
        "When the next CRL in use goes stale (Unix time)."
    );
    describe_gauge!(
        "archivist_tls_reload_failing",
        "1 when the last TLS configuration reload failed."
    );
    describe_gauge!(
        "archivist_notices_shown",
        "Notices in the banner now, by kind (disruption, maintenance, information)."
    );
    describe_gauge!(
        "archivist_maintenance_closed",
        "1 while a maintenance window closes the service to all but administrators."
    );
    describe_gauge!(
        "archivist_notices_read_failing",
        "1 when the last read of the stored notices failed (the last ones read stay up)."
    );
    describe_gauge!(
        "archivist_notice_file_broken",
        "1 when ops.notice_file cannot be used (its previous notice stays up)."
    );
    describe_gauge!(
        "archivist_tls_certificate_expiry_timestamp_seconds",
        "When the server's own certificate expires (Unix time)."
    );
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

fn count(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::from(u32::MAX), f64::from)
}
