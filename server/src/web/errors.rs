//! The answers of the raw handlers (document bytes, the audit download, the card tool's
//! question, the connection and session guards) when they cannot serve: one body for each
//! status, so that every "not found" looks the same wherever it comes from, and a document of
//! another controller cannot be told from one that does not exist by its answer.

use super::notices::shown;
use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Seconds a client is asked to wait before trying again after a 503: the pages' and the
/// server functions' one figure.
pub use app::ssr::RETRY_AFTER_SECONDS;

/// 404: nothing here, or nothing this card may see.
pub fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(app::status_pages::not_found(&shown())),
    )
        .into_response()
}

/// 503: the database (which must record every access) is not there. The cause is logged by
/// the caller; the answer says only that nothing was lost and when to try again.
pub fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
        Html(app::status_pages::service_unavailable(&shown())),
    )
        .into_response()
}

/// 503 for a database error, logged here with what was being done.
pub fn database_failed(error: &sqlx::Error, doing: &'static str) -> Response {
    tracing::error!(%error, doing, "the database failed");
    unavailable()
}

/// 401: the connection has no verified client certificate: how to get the card's presented.
pub fn no_client_certificate() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Html(app::status_pages::no_client_certificate(&shown())),
    )
        .into_response()
}

/// 413: a request body over its limit, refused before it was read in full.
pub fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Html(app::status_pages::request_too_large(&shown())),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_has_its_one_body() {
        assert_eq!(not_found().status(), StatusCode::NOT_FOUND);
        let unavailable = unavailable();
        assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            unavailable.headers().get(header::RETRY_AFTER),
            Some(&header::HeaderValue::from_static(RETRY_AFTER_SECONDS))
        );
        assert_eq!(too_large().status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
