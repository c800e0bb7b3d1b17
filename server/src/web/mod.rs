//! The HTTP side: the Leptos application and its server functions, static assets, the health
//! check, and the rule that only a verified card reaches anything but public assets.

mod access;
mod admin;
mod admin_notices;
mod admin_routes;
mod audit_export;
mod card_limit;
mod card_status;
mod client;
mod compare;
mod connections;
pub mod context;
pub mod csrf;
mod days;
mod deployment_test;
mod document;
mod document_bytes;
mod download_slots;
mod errors;
pub mod handshake_refusals;
pub mod health;
mod load_shed;
pub mod notices;
pub mod refusals;
mod request_metrics;
mod search;
mod security_headers;
pub mod session;
pub mod session_store;
mod stored_cda;
mod structured;
pub mod tally;

use std::sync::{Arc, OnceLock};

use crate::{
    audit::AuditLog,
    notices::board::NoticeBoard,
    tls::{self, forwarded::ForwardedCertificates},
};
use app::{App, shell};
use axum::{
    Router,
    extract::{FromRef, Request},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use identity::VerifiedClient;
use leptos::config::LeptosOptions;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use settings::Settings;
use sqlx::PgPool;

pub use access::ServerServices;
pub use connections::Connections;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    /// Archivists' reads: `database.read_url`, else the same as `pool`. Not an extractor of
    /// its own: a handler that takes `State<PgPool>` gets the primary.
    #[from_ref(skip)]
    pub reads: PgPool,
    /// What the pages' server functions call, bound to each request by [`context::attach`].
    pub services: Arc<ServerServices>,
    /// The notices shown and published, and the maintenance window closing the service.
    pub notices: NoticeBoard,
    /// What `/readyz` answers from.
    pub readiness: health::Readiness,
}

/// The pages' routes, generated once per process. Generating them renders the app with resource
/// loading switched off by a process-wide flag (leptos_server's `SuppressResourceLoad`); a
/// resource first polled meanwhile, by another server of the same process (the integration
/// tests run many), would wait forever and its page never answer (leptos-rs/leptos#4773).
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The router every authenticated or anonymous connection is served by.
///
/// Layers from the outside in: security headers on every response; a card certificate forwarded
/// by a trusted load balancer verified (RFC 9440 headers removed from anyone else); no card, no
/// page (except public assets); the session layer and its failure page; the request context
/// (who is asking, resolved once); the per-card request limit; the session check (key binding, timeouts, sign-in); the CSRF
/// checks on state-changing requests; the pages, server functions and byte endpoints.
pub fn router(
    state: AppState,
    guard: session::SessionGuard,
    origins: csrf::SiteOrigins,
    settings: &Settings,
    forwarded: ForwardedCertificates,
) -> Router {
    let routes = page_routes();
    let options = state.leptos_options.clone();
    let audit: AuditLog = guard.audit.clone();
    let download = audit_export::AuditDownload {
        pool: state.pool.clone(),
        refusals: state.services.refusals.clone(),
    };
    let documents = document_bytes::DocumentBytes {
        reads: state.reads.clone(),
        audit: audit.clone(),
        refusals: state.services.refusals.clone(),
        slots: download_slots::DownloadSlots::new(settings.auth.card_downloads_at_once),
    };
    let admin_routes = admin_routes::AdminRoutes {
        state: state.clone(),
        refusals: state.services.refusals.clone(),
    };
    let context = context::ContextState {
        services: state.services.clone(),
    };
    let card_status = card_status::CardStatusState {
        verifier: forwarded.verifier(),
        authenticator: state.services.authenticator.clone(),
        reads: state.reads.clone(),
        audit: audit.clone(),
    };
    Router::new()
        .route(
            "/audit.csv",
            get(audit_export::audit_csv).with_state(download),
        )
        .route(
            "/api/documents/{document}/{part}",
            get(document_bytes::stored).with_state(documents.clone()),
        )
        .route(
            "/api/documents/{document}/pdf/{n}",
            get(document_bytes::pdf).with_state(documents),
        )
        .route(
            "/healthz",
            get(health::healthz).with_state(health::Alive(state.reads.clone())),
        )
        .route("/readyz", get(health::readyz))
        .route(
            notices::JSON_FEED,
            get(notices::json_feed).with_state(state.notices.clone()),
        )
        .route(
            notices::ATOM_FEED,
            get(notices::atom_feed).with_state(state.notices.clone()),
        )
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(fallback())
        .layer(middleware::from_fn_with_state(
            admin_routes,
            admin_routes::hide_from_others,
        ))
        .layer(middleware::from_fn_with_state(
            csrf::CsrfState { audit, origins },
            csrf::protect,
        ))
        .layer(middleware::from_fn_with_state(guard, session::establish))
        .layer(middleware::from_fn_with_state(
            state.notices.clone(),
            notices::close_for_maintenance,
        ))
        // Inside `attach` (it needs the verified card), before the session is read.
        .layer(middleware::from_fn_with_state(
            card_limit::CardLimit::new(
                settings.auth.card_requests_per_second,
                settings.auth.card_request_burst,
                state.services.refusals.clone(),
            ),
            card_limit::limit,
        ))
        .layer(middleware::from_fn_with_state(context, context::attach))
        .layer(session::layer(
            state.pool.clone(),
            state.reads.clone(),
            &settings.session,
        ))
        .layer(middleware::from_fn(session::repair_layer_response))
        // Outside the session and CSRF layers: no cookie, no state change (see the module).
        .route(
            card_status::PATH,
            card_status::limited(
                post(card_status::card_status).with_state(card_status),
                settings.auth.card_status_per_minute,
            ),
        )
        .layer(middleware::from_fn(require_client_certificate))
        .layer(middleware::from_fn_with_state(
            forwarded,
            tls::forwarded::from_proxy,
        ))
        .layer(middleware::from_fn(security_headers::add_security_headers))
        .layer(middleware::from_fn_with_state(
            state.notices.clone(),
            notices::attach,
        ))
        // Outside everything that may wait for the database; inside the metrics, which count
        // the 503s it answers.
        .layer(load_shed::layer(
            settings.connections.max_requests_in_flight,
        ))
        // Last, so that it covers every route and sees the template that matched.
        .layer(middleware::from_fn(request_metrics::track))
        .with_state(state)
}

/// What a path that nothing serves answers: a file of the site, else the application's
/// not-found page.
fn fallback() -> impl Fn(
    axum::http::Uri,
    axum::extract::State<AppState>,
    Request,
) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send + 'static>>
+ Clone
+ Send
+ 'static {
    leptos_axum::file_and_error_handler::<AppState, _>(shell)
}

/// Paths that a browser without a card may load: the style sheet and scripts the guidance page
/// needs, the load balancer's health and readiness checks, the card tool's status question and the notice
/// feeds. None of them holds client data. A maintenance window does not close them either. `/metrics` moved to the metrics listener: a scraper still pointed here gets
/// a plain 404, not the guidance page.
pub(crate) fn is_public(path: &str) -> bool {
    path.starts_with("/pkg/")
        || matches!(
            path,
            "/healthz"
                | "/readyz"
                | "/metrics"
                | "/favicon.ico"
                | "/robots.txt"
                | card_status::PATH
                | notices::JSON_FEED
                | notices::ATOM_FEED
        )
        || path == app::FAVICON_PATH
}

async fn require_client_certificate(request: Request, next: Next) -> Response {
    if request.extensions().get::<VerifiedClient>().is_some() || is_public(request.uri().path()) {
        next.run(request).await
    } else {
        errors::no_client_certificate()
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_assets_and_health_are_public() {
        for path in [
            "/pkg/archivist.css",
            "/pkg/archivist.wasm",
            "/healthz",
            "/readyz",
            "/favicon.ico",
            "/favicon.svg",
            "/notices.json",
            "/notices.atom",
        ] {
            assert!(is_public(path), "{path}");
        }
        for path in [
            "/",
            "/api/identity",
            "/pkg",
            "/healthz/x",
            "/documents/1.2.3",
        ] {
            assert!(!is_public(path), "{path}");
        }
    }
}
