//! The administrators' routes (the administration page, `/audit.csv`, the `/api/admin/…`
//! functions) do not exist for anyone else: a card without the administrator right gets
//! exactly what an unknown path answers (the application's not-found page, the same bytes), not
//! a not-found of the route's own kind, so that probing cannot tell that administration is
//! here. The refusal is still noted in the refusal log.

use app::api::admin::{
    AdminOverview, CardLinks, CreateController, DefineDeploymentTest, LinkCard, MergeController,
    RenameController, ResetDeploymentTest, UnlinkCard,
};
use axum::{
    body::Body,
    extract::{Request, State},
    http::Uri,
    middleware::Next,
    response::Response,
};

use app::api::notices::{AdminNotices, EndNotice, SaveNotice};
use leptos::server_fn::ServerFn;

use super::{AppState, context::RequestContext, errors, refusals::RefusalLog};

/// A path no route matches: the request is answered as if it had asked for it.
const UNKNOWN_PATH: &str = "/.not-found";

/// The administrators' functions by the name their refusals are noted under (the same names
/// as when an administrator's input is refused, `web::access`).
fn functions() -> [(&'static str, &'static str); 12] {
    [
        (AdminOverview::PATH, "admin_overview"),
        (CardLinks::PATH, "card_links"),
        (LinkCard::PATH, "link_card"),
        (UnlinkCard::PATH, "unlink_card"),
        (CreateController::PATH, "change_controller"),
        (RenameController::PATH, "change_controller"),
        (MergeController::PATH, "change_controller"),
        (DefineDeploymentTest::PATH, "change_deployment_test"),
        (ResetDeploymentTest::PATH, "change_deployment_test"),
        (AdminNotices::PATH, "admin_notices"),
        (SaveNotice::PATH, "save_notice"),
        (EndNotice::PATH, "end_notice"),
    ]
}

/// The routes only administrators see, by the name their refusals are noted under.
pub fn administrators_only(path: &str) -> Option<&'static str> {
    if path == "/admin" || path.starts_with("/admin/") {
        Some("admin_page")
    } else if path == "/audit.csv" {
        Some("audit_csv")
    } else if path.starts_with("/api/admin/") {
        let known = functions().into_iter().find(|(known, _)| *known == path);
        Some(known.map_or("admin_function", |(_, route)| route))
    } else {
        None
    }
}

#[derive(Clone)]
pub struct AdminRoutes {
    pub state: AppState,
    pub refusals: RefusalLog,
}

/// Middleware (inside the request context and the CSRF check, so that a forged request is
/// refused the same way on every path).
pub async fn hide_from_others(
    State(routes): State<AdminRoutes>,
    request: Request,
    next: Next,
) -> Response {
    let Some(route) = administrators_only(request.uri().path()) else {
        return next.run(request).await;
    };
    // Without a context (no card, no session) the routes' own answers apply; they refuse.
    let Some(caller) = request.extensions().get::<RequestContext>().cloned() else {
        return next.run(request).await;
    };
    match caller.is_administrator().await {
        Ok(true) => next.run(request).await,
        Ok(false) => {
            routes
                .refusals
                .record(&caller, route, "not_found", None)
                .await;
            unknown_path(routes.state, request).await
        }
        Err(error) => errors::database_failed(&error, "checking the administrator right"),
    }
}

/// What the router's fallback answers for a path that nothing serves.
async fn unknown_path(state: AppState, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let mut uri = Uri::builder().path_and_query(UNKNOWN_PATH);
    if let Some(authority) = parts.uri.authority() {
        uri = uri.authority(authority.clone());
    }
    if let Some(scheme) = parts.uri.scheme() {
        uri = uri.scheme(scheme.clone());
    }
    let Ok(uri) = uri.build() else {
        return errors::not_found();
    };
    parts.uri = uri.clone();
    let request = Request::from_parts(parts, Body::new(body));
    super::fallback()(uri, State(state), request).await
}

#[cfg(test)]
mod tests {
    use super::{administrators_only, functions};

    #[test]
    fn every_administrators_function_is_under_one_prefix() {
        for (path, _) in functions() {
            assert!(path.starts_with("/api/admin/"), "{path}");
        }
        assert_eq!(
            administrators_only("/api/admin/overview"),
            Some("admin_overview")
        );
        assert_eq!(
            administrators_only("/api/admin/no-such"),
            Some("admin_function")
        );
    }

    #[test]
    fn the_administrators_routes() {
        for path in [
            "/admin",
            "/admin/",
            "/audit.csv",
            "/api/admin/overview",
            "/api/admin/no-such",
        ] {
            assert!(administrators_only(path).is_some(), "{path}");
        }
        for path in [
            "/",
            "/administration",
            "/audit",
            "/api/audit",
            "/api/admins",
            "/api/documents/1.2/cda",
        ] {
            assert!(administrators_only(path).is_none(), "{path}");
        }
    }
}
