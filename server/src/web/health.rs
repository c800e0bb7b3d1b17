//! `GET /healthz` for load balancers and the duplexed pair's monitoring: 200 when this instance
//! can serve (the database answers), 503 when it cannot. Reveals nothing else.

use axum::{extract::State, http::StatusCode};
use sqlx::PgPool;

pub async fn healthz(State(pool): State<PgPool>) -> (StatusCode, &'static str) {
    if crate::db::is_healthy(&pool).await {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}
