//! Security headers on every response. Pages rendered by Leptos carry a Content-Security-Policy
//! with this response's script nonce (set in `app::shell`); every other response gets the
//! strictest policy, since none of them needs to run anything. Nothing but the site's own
//! assets may be kept in a browser's cache: pages and server functions carry client data, and
//! archivists share workstations.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// For responses that are not application pages: the 401 and 503 pages, JSON, assets.
const STRICT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                          frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const FIXED: [(HeaderName, &str); 6] = [
    // One year; the service is HTTPS-only on its own host name.
    (header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    // Addresses (which hold OIDs and identity codes) never leave for another site. Not
    // `no-referrer`: with it browsers send `Origin: null` on the pages' own form posts, and
    // the CSRF check refuses the forms of a page whose WebAssembly has not loaded yet.
    (header::REFERRER_POLICY, "same-origin"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// The site's own files (style sheet, scripts, icon) and the public notice feeds (which set
/// their own short lifetime): the same for every reader, no client data.
fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == app::FAVICON_PATH
        || path == "/robots.txt"
        || path == super::notices::JSON_FEED
        || path == super::notices::ATOM_FEED
}

pub async fn add_security_headers(request: Request, next: Next) -> Response {
    let asset = is_asset(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    for (name, value) in FIXED {
        // The display rendition endpoint may be framed by this site's own pages.
        if name == header::X_FRAME_OPTIONS {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        } else {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(STRICT_CSP));
    response
}

#[cfg(test)]
mod tests {
    use super::is_asset;

    #[test]
    fn only_the_sites_own_files_may_be_cached() {
        for path in ["/pkg/archivist.css", "/pkg/archivist.wasm", "/favicon.svg"] {
            assert!(is_asset(path), "{path}");
        }
        for path in [
            "/",
            "/search",
            "/documents/1.2.3",
            "/api/search",
            "/audit.csv",
            "/pkg",
        ] {
            assert!(!is_asset(path), "{path}");
        }
    }
}
