//! Every answered request counted and timed for monitoring, labelled by the route template that
//! matched (`/documents/{oid}/cda`), never by the path, which holds OIDs and identity codes.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};

use crate::monitoring;

/// Middleware, on every route (added last, so it runs after routing and sees the template).
pub async fn track(request: Request, next: Next) -> Response {
    // Unmatched: the site's files and paths nothing serves, which share the fallback.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    monitoring::http_request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The standard methods by name; anything else one label, so a client cannot mint labels.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_up_method_is_one_label() {
        let made_up = Method::from_bytes(b"PROBE123").expect("method");
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
