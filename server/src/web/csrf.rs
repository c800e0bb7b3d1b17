//! Cross-site request forgery: every request that may change something (any method but GET,
//! HEAD and OPTIONS) must come from one of our own pages, shown in this session.
//!
//! Two independent checks, since either alone has had holes in some browser or proxy:
//! - the `Origin` header must be one of the site's own origins (the `origins` setting, or the
//!   server certificate's names with the port listened on; never the request's own `Host`), and
//!   `Sec-Fetch-Site`, where the browser sends it, must say `same-origin`;
//! - the session's token must come along, in the `x-csrf-token` header or as the `csrf_token`
//!   field of a form (every state-changing server function takes it as its first argument, so
//!   Leptos' forms send it with or without WebAssembly).
//!
//! Reading server functions are GET requests and change nothing; the cookie's `SameSite=Strict`
//! is a third line of defence, not counted on.

use std::{
    net::{IpAddr, SocketAddr},
    path::Path,
    sync::Arc,
};

use axum::{
    body::{Body, to_bytes},
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use identity::VerifiedClient;
use subtle::ConstantTimeEq;
use tower_sessions::Session;
use x509_parser::extensions::GeneralName;

use crate::audit::{AuditAction, AuditEvent, AuditLog, Outcome};

use super::{context::RequestContext, errors, session};

/// The form field and header that carry the token.
pub const TOKEN_FIELD: &str = "csrf_token";
pub const TOKEN_HEADER: &str = "x-csrf-token";

/// The largest body a state-changing request may have: forms of a few fields. Larger bodies are
/// refused before they are read in full.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfRefusal {
    OriginMissing,
    OriginMismatch,
    CrossSite,
    TokenMissing,
    TokenMismatch,
}

impl CsrfRefusal {
    /// The reason code in the audit log and on the error page.
    pub fn code(self) -> &'static str {
        match self {
            Self::OriginMissing => "origin_missing",
            Self::OriginMismatch => "origin_mismatch",
            Self::CrossSite => "cross_site",
            Self::TokenMissing => "token_missing",
            Self::TokenMismatch => "token_mismatch",
        }
    }
}

/// The site's own origins, as browsers write them in `Origin` (`https://host[:port]`).
#[derive(Clone, Debug)]
pub struct SiteOrigins(Arc<[String]>);

impl SiteOrigins {
    pub fn new(origins: impl IntoIterator<Item = String>) -> Self {
        Self(origins.into_iter().collect())
    }

    /// Every DNS name and address of the server certificate (the first in `certificate`), at
    /// `port`; browsers leave out the default port 443.
    pub fn of_certificate(certificate: &Path, port: u16) -> Result<Self, String> {
        let chain = identity::files::certificates("tls.certificate", certificate)
            .map_err(|e| e.to_string())?;
        let leaf = chain
            .first()
            .ok_or_else(|| format!("{} holds no certificate", certificate.display()))?;
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
            .map_err(|e| format!("tls.certificate: {e}"))?;
        let port = if port == 443 {
            String::new()
        } else {
            format!(":{port}")
        };
        let mut origins = Vec::new();
        if let Ok(Some(names)) = parsed.subject_alternative_name() {
            for name in &names.value.general_names {
                let host = match name {
                    GeneralName::DNSName(name) => name.to_ascii_lowercase(),
                    GeneralName::IPAddress(bytes) => match bytes.len() {
                        4 => ip_host(<[u8; 4]>::try_from(*bytes).map(IpAddr::from)),
                        16 => ip_host(<[u8; 16]>::try_from(*bytes).map(IpAddr::from)),
                        _ => continue,
                    },
                    _ => continue,
                };
                if !host.is_empty() {
                    origins.push(format!("https://{host}{port}"));
                }
            }
        }
        if origins.is_empty() {
            return Err(
                "the server certificate names no DNS name or address: set `origins`".to_owned(),
            );
        }
        Ok(Self::new(origins))
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|own| own.eq_ignore_ascii_case(origin))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// An address as a URL host: IPv6 in brackets.
fn ip_host(address: Result<IpAddr, std::array::TryFromSliceError>) -> String {
    match address {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        Err(_) => String::new(),
    }
}

/// The origin check: `Origin` is one of the site's own origins.
pub fn check_origin(headers: &HeaderMap, origins: &SiteOrigins) -> Result<(), CsrfRefusal> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() != b"same-origin")
    {
        return Err(CsrfRefusal::CrossSite);
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .ok_or(CsrfRefusal::OriginMissing)?;
    if origins.allows(origin) {
        Ok(())
    } else {
        Err(CsrfRefusal::OriginMismatch)
    }
}

/// Constant-time comparison, so that the time taken says nothing about how much of a guess was
/// right.
fn tokens_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

fn form_token(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(name, _)| name == TOKEN_FIELD)
        .map(|(_, value)| value.into_owned())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// What [`protect`] needs besides the request.
#[derive(Clone)]
pub struct CsrfState {
    pub audit: AuditLog,
    pub origins: SiteOrigins,
}

/// Middleware (inside [`session::establish`]): refuses state-changing requests that fail either
/// check, with a 403 page and an audit row.
pub async fn protect(State(state): State<CsrfState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return errors::too_large(),
    };
    let verdict = match check_origin(&parts.headers, &state.origins) {
        Err(refusal) => Err(TokenCheck::Refused(refusal)),
        Ok(()) => check_token(&parts, &body).await,
    };
    match verdict {
        Ok(()) => next.run(Request::from_parts(parts, Body::from(body))).await,
        Err(TokenCheck::Refused(refusal)) => refused(&state.audit, &parts, refusal).await,
        Err(TokenCheck::Unavailable) => errors::unavailable(),
    }
}

enum TokenCheck {
    Refused(CsrfRefusal),
    /// The session store could not be read.
    Unavailable,
}

async fn check_token(parts: &axum::http::request::Parts, body: &[u8]) -> Result<(), TokenCheck> {
    let given = match parts
        .headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        Some(token) => Some(token.to_owned()),
        None if is_form(&parts.headers) => form_token(body),
        None => None,
    }
    .ok_or(TokenCheck::Refused(CsrfRefusal::TokenMissing))?;
    let Some(session) = parts.extensions.get::<Session>() else {
        return Err(TokenCheck::Refused(CsrfRefusal::TokenMismatch));
    };
    let expected = match session::signed_in(session).await {
        Ok(Some(signed_in)) => signed_in.csrf_token().to_owned(),
        Ok(None) => return Err(TokenCheck::Refused(CsrfRefusal::TokenMismatch)),
        Err(error) => {
            tracing::error!(%error, "cannot read the session for the CSRF check");
            return Err(TokenCheck::Unavailable);
        }
    };
    if tokens_match(&expected, &given) {
        Ok(())
    } else {
        Err(TokenCheck::Refused(CsrfRefusal::TokenMismatch))
    }
}

async fn refused(
    audit: &AuditLog,
    parts: &axum::http::request::Parts,
    refusal: CsrfRefusal,
) -> Response {
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let client = parts.extensions.get::<VerifiedClient>();
    let caller = parts.extensions.get::<RequestContext>();
    let card_number = match caller {
        Some(caller) => caller.card_number().await,
        None => None,
    };
    tracing::warn!(
        ?address,
        path = parts.uri.path(),
        reason = refusal.code(),
        "request refused: CSRF check"
    );
    if let Some(address) = address {
        let event = AuditEvent {
            action: AuditAction::CsrfRefused,
            outcome: Outcome::Refused {
                reason: refusal.code(),
            },
            client_address: address,
            certificate: client.map(VerifiedClient::identity),
            card_number: card_number.map(|n| n.as_str()),
            controller_oid: None,
            document_oid: None,
            // The path without its query: state-changing requests are server functions and
            // forms, whose paths hold no identifiers.
            details: Some(serde_json::json!({ "path": parts.uri.path() })),
        };
        if let Err(error) = audit.record(event).await {
            tracing::error!(%error, "cannot write a CSRF refusal to the audit log");
            return errors::unavailable();
        }
    }
    (
        StatusCode::FORBIDDEN,
        Html(app::status_pages::request_refused(
            refusal.code(),
            &super::notices::shown(),
        )),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_origin_must_be_one_of_the_sites_own() {
        let origins = SiteOrigins::new(["https://archive.example:3443".to_owned()]);
        let ok = headers(&[("origin", "https://archive.example:3443")]);
        assert_eq!(check_origin(&ok, &origins), Ok(()));
        let same = headers(&[
            ("origin", "https://ARCHIVE.example:3443"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(check_origin(&same, &origins), Ok(()));
        for (h, refusal) in [
            (headers(&[]), CsrfRefusal::OriginMissing),
            (
                headers(&[("origin", "https://evil.example")]),
                CsrfRefusal::OriginMismatch,
            ),
            (
                headers(&[("origin", "http://archive.example:3443")]),
                CsrfRefusal::OriginMismatch,
            ),
            (
                headers(&[("origin", "https://archive.example:3443.evil.example")]),
                CsrfRefusal::OriginMismatch,
            ),
            (
                headers(&[("origin", "https://archive.example")]),
                CsrfRefusal::OriginMismatch,
            ),
            (headers(&[("origin", "null")]), CsrfRefusal::OriginMismatch),
            (
                headers(&[
                    ("origin", "https://archive.example:3443"),
                    ("sec-fetch-site", "same-site"),
                ]),
                CsrfRefusal::CrossSite,
            ),
        ] {
            assert_eq!(check_origin(&h, &origins), Err(refusal), "{h:?}");
        }
        // The request's own Host plays no part.
        let forged = headers(&[("origin", "https://evil.example"), ("host", "evil.example")]);
        assert_eq!(
            check_origin(&forged, &origins),
            Err(CsrfRefusal::OriginMismatch)
        );
    }

    #[test]
    fn the_origins_of_a_certificate_are_its_names_and_addresses_at_the_port() {
        let dir = tempfile::tempdir().expect("dir");
        identity::demo::DemoCa::new()
            .expect("demo CA")
            .write_to(dir.path())
            .expect("write");
        let server = dir.path().join("server.pem");
        let origins = SiteOrigins::of_certificate(&server, 3443).expect("origins");
        assert_eq!(
            origins.as_slice(),
            [
                "https://localhost:3443",
                "https://127.0.0.1:3443",
                "https://[::1]:3443"
            ]
        );
        let default_port = SiteOrigins::of_certificate(&server, 443).expect("origins");
        assert!(default_port.allows("https://localhost"));
        assert!(SiteOrigins::of_certificate(&dir.path().join("none.pem"), 443).is_err());
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(
            form_token(b"controller=1.2.3&csrf_token=abc%20d"),
            Some("abc d".to_owned())
        );
        assert_eq!(form_token(b"controller=1.2.3"), None);
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
        assert!(!tokens_match("abc", "abcd"));
        assert!(!tokens_match("abc", ""));
    }
}
