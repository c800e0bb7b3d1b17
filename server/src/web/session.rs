//! Signed-in sessions: one per sign-in with a card, kept in PostgreSQL (so either of the two
//! instances serves any request) and bound to the card's public key.
//!
//! The card authenticates every TLS connection; the session adds what a connection cannot
//! carry: one sign-in on the audit log instead of one per connection, the CSRF token, the
//! archivist's choice of active controller, and timeouts after which the browser must present the
//! card again to get a new session.
//!
//! Rules, in the order [`establish`] applies them to every request that needs a session:
//! - a session whose card key differs from this connection's certificate is destroyed (a cookie
//!   taken to another card is worthless) and recorded;
//! - a session older than the absolute timeout is ended and recorded; the idle timeout is the
//!   store's expiry, renewed at most once a minute so that a busy page does not write the
//!   session on every request;
//! - otherwise a new session is started, always under a new id from the store (a planted or
//!   stale cookie's id is never adopted), and the sign-in is recorded.

use std::time::Duration;

use axum::{
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::Response,
};
use serde::{Deserialize, Serialize};
use settings::SessionSettings;
use sqlx::PgPool;
use time::OffsetDateTime;
use tower_sessions::{
    Expiry, Session, SessionManagerLayer, cookie::SameSite, session::Error as SessionError,
};
use tower_sessions_sqlx_store::PostgresStore;

use crate::{
    archive::ControllerOid,
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
};

use super::{context::RequestContext, errors, session_store::SplitStore};

/// `__Host-` makes browsers refuse the cookie unless it is `Secure`, has `Path=/` and no
/// `Domain`, so no sibling host can set or read it.
pub const SESSION_COOKIE: &str = "__Host-archivist-session";

/// The one key under which a session's data is kept.
const SIGNED_IN: &str = "signed_in";

/// How often a session's idle expiry is pushed forward at most.
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// How often expired sessions are deleted from the store (loading one is refused anyway).
pub const DELETE_EXPIRED_EVERY: Duration = Duration::from_secs(10 * 60);

/// Paths that never start a session: public assets, the health check and the page that says a
/// session has just ended (visiting it must not sign the card straight back in).
pub fn needs_session(path: &str) -> bool {
    !(super::is_public(path) || path == SIGNED_OUT_PATH)
}

use app::SIGNED_OUT_PATH;

/// What a session holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// SHA-256 of the card certificate's public key (hex): the binding every request is checked
    /// against. The key, not the certificate, so that a renewed certificate on the same card
    /// would still match but another card never does.
    public_key_sha256: String,
    /// Unix seconds.
    signed_in_at: i64,
    /// Unix seconds of the last request that renewed the idle expiry.
    last_seen: i64,
    csrf_token: String,
    /// The controller the archivist chose to work in; `None` for all linked controllers.
    active_controller: Option<String>,
}

impl SignedIn {
    fn new(public_key_sha256: String, now: i64) -> Result<Self, ring::error::Unspecified> {
        Ok(Self {
            public_key_sha256,
            signed_in_at: now,
            last_seen: now,
            csrf_token: random_token()?,
            active_controller: None,
        })
    }

    pub fn csrf_token(&self) -> &str {
        &self.csrf_token
    }

    /// The chosen controller, if one was chosen and it still reads as an OID.
    pub fn active_controller(&self) -> Option<ControllerOid> {
        self.active_controller
            .as_deref()
            .and_then(|oid| ControllerOid::parse(oid).ok())
    }
}

/// 256 bits from the system's generator, hex.
fn random_token() -> Result<String, ring::error::Unspecified> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// The session layer: cookie attributes and idle expiry. The store's table comes from our
/// migrations; sessions are written to `pool` and read from `reads`.
pub fn layer(
    pool: PgPool,
    reads: PgPool,
    settings: &SessionSettings,
) -> SessionManagerLayer<SplitStore> {
    let idle = time::Duration::try_from(settings.idle_timeout()).unwrap_or(time::Duration::MAX);
    SessionManagerLayer::new(SplitStore::new(pool, reads))
        .with_name(SESSION_COOKIE)
        .with_secure(true)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Deletes expired sessions every [`DELETE_EXPIRED_EVERY`] until the server stops.
pub async fn delete_expired(pool: PgPool) {
    use tower_sessions::ExpiredDeletion;
    if let Err(error) = PostgresStore::new(pool)
        .continuously_delete_expired(DELETE_EXPIRED_EVERY)
        .await
    {
        tracing::error!(%error, "deleting expired sessions stopped");
    }
}

/// What [`establish`] needs besides the request.
#[derive(Clone)]
pub struct SessionGuard {
    pub audit: AuditLog,
    pub absolute_timeout: Duration,
    /// Asked before a renewal is written: whether a primary takes it.
    pub pool: PgPool,
}

/// Middleware (inside the session layer): makes sure every request that needs a session has a
/// valid one for this connection's card before the page or server function runs.
pub async fn establish(
    State(guard): State<SessionGuard>,
    request: Request,
    next: Next,
) -> Response {
    let Some(caller) = request.extensions().get::<RequestContext>().cloned() else {
        return next.run(request).await;
    };
    if !needs_session(request.uri().path()) {
        return next.run(request).await;
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match guard.check(&caller, now).await {
        Ok(()) => next.run(request).await,
        Err(error) => {
            let address = caller.address();
            tracing::error!(%address, %error, "cannot keep the session; refusing the request");
            errors::unavailable()
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum GuardError {
    #[error("session store: {0}")]
    Store(#[from] SessionError),
    #[error("audit log: {0}")]
    Audit(#[from] sqlx::Error),
    #[error("no random bytes for the CSRF token")]
    Random,
}

impl SessionGuard {
    async fn check(&self, caller: &RequestContext, now: i64) -> Result<(), GuardError> {
        let session = caller.session();
        let address = caller.address();
        let identity = caller.client().identity();
        let card_number = caller.card_number().await;
        let event = |action, outcome, details| AuditEvent {
            action,
            outcome,
            client_address: address,
            certificate: Some(identity),
            card_number: card_number.map(|n| n.as_str()),
            controller_oid: None,
            document_oid: None,
            details,
        };
        if let Some(mut current) = session.get::<SignedIn>(SIGNED_IN).await? {
            match verdict(
                &current,
                &identity.public_key_sha256,
                now,
                self.absolute_timeout,
            ) {
                Verdict::Keep { touch: false } => return Ok(()),
                Verdict::Keep { touch: true } => {
                    // The store writes the renewal after the page has been made, and a write
                    // no primary takes (a failover) would turn the page into an error. The
                    // session keeps its expiry meanwhile; the next request renews it.
                    if !crate::db::accepts_writes(&self.pool).await {
                        tracing::info!(%address, "no database primary: the session's renewal waits");
                        return Ok(());
                    }
                    current.last_seen = now;
                    session.insert(SIGNED_IN, current).await?;
                    return Ok(());
                }
                Verdict::End(ending) => {
                    let (action, reason) = ending.audit();
                    // Whose session was presented: its card's key, which the sign-in rows of
                    // that card carry too.
                    let details = serde_json::json!({
                        "session_public_key_sha256": current.public_key_sha256,
                        "session_signed_in_at": current.signed_in_at,
                    });
                    // Recorded before the session goes, so the row exists whatever follows.
                    self.audit
                        .record(event(action, Outcome::Refused { reason }, Some(details)))
                        .await?;
                    tracing::warn!(%address, reason, "session ended");
                    session.flush().await?;
                    // flush() keeps the record's id, and the store would create the next
                    // session under it again: the new session must not have the old id.
                    session.cycle_id().await?;
                }
            }
        }
        // A new session: a record the store did not load gets a fresh random id when it is first
        // saved, whatever id the request's cookie named.
        let signed_in = SignedIn::new(identity.public_key_sha256.clone(), now)
            .map_err(|_| GuardError::Random)?;
        self.audit
            .record(event(AuditAction::SessionStarted, Outcome::Success, None))
            .await?;
        session.insert(SIGNED_IN, signed_in).await?;
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// The session stays; `touch`: push its idle expiry forward.
    Keep {
        touch: bool,
    },
    End(Ending),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    CertificateChanged,
    AbsoluteTimeout,
}

impl Ending {
    fn audit(self) -> (AuditAction, &'static str) {
        match self {
            Self::CertificateChanged => (
                AuditAction::SessionCertificateChanged,
                "certificate_changed",
            ),
            Self::AbsoluteTimeout => (AuditAction::SessionExpired, "absolute_timeout"),
        }
    }
}

/// What becomes of a stored session on a request whose card key hash is `public_key_sha256`.
fn verdict(
    current: &SignedIn,
    public_key_sha256: &str,
    now: i64,
    absolute_timeout: Duration,
) -> Verdict {
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    if current.public_key_sha256 != public_key_sha256 {
        Verdict::End(Ending::CertificateChanged)
    } else if now.saturating_sub(current.signed_in_at) >= secs(absolute_timeout) {
        Verdict::End(Ending::AbsoluteTimeout)
    } else {
        Verdict::Keep {
            touch: now.saturating_sub(current.last_seen) >= secs(TOUCH_INTERVAL),
        }
    }
}

/// The session as [`establish`] left it for this request.
pub async fn signed_in(session: &Session) -> Result<Option<SignedIn>, SessionError> {
    session.get::<SignedIn>(SIGNED_IN).await
}

/// Keeps the archivist's choice of controller (`None`: all linked controllers).
pub async fn choose_controller(
    session: &Session,
    controller: Option<&ControllerOid>,
) -> Result<(), SessionError> {
    if let Some(mut current) = signed_in(session).await? {
        current.active_controller = controller.map(|oid| oid.as_str().to_owned());
        session.insert(SIGNED_IN, current).await?;
    }
    Ok(())
}

/// Ends the session: its row is deleted and the browser is told to drop the cookie.
pub async fn end(session: &Session) -> Result<(), SessionError> {
    session.flush().await
}

/// Outside the session layer, two corrections to what it answers:
/// - when the layer itself cannot save a session it answers an empty 500; the archivist gets the
///   same "temporarily unavailable" page as for any other database failure instead;
/// - the cookie that removes the session cookie (at sign-out) lacks `Secure`, and browsers
///   ignore a `__Host-` cookie without it, so the ended session's id would stay in the browser.
pub async fn repair_layer_response(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        tracing::error!("the session could not be saved; answered 503");
        return errors::unavailable();
    }
    let cookies: Vec<header::HeaderValue> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    response.headers_mut().remove(header::SET_COOKIE);
    for value in cookies {
        response
            .headers_mut()
            .append(header::SET_COOKIE, with_secure(value));
    }
    response
}

/// Our session cookie, always with `Secure`.
fn with_secure(value: header::HeaderValue) -> header::HeaderValue {
    let Ok(text) = value.to_str() else {
        return value;
    };
    let ours = text.starts_with(&format!("{SESSION_COOKIE}="));
    let secure = text
        .split(';')
        .any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"));
    if ours && !secure {
        header::HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(value)
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_always_secure() {
        let fixed = with_secure(header::HeaderValue::from_static(
            "__Host-archivist-session=; Path=/; Max-Age=0",
        ));
        assert_eq!(
            fixed.to_str().ok(),
            Some("__Host-archivist-session=; Path=/; Max-Age=0; Secure")
        );
        let already =
            header::HeaderValue::from_static("__Host-archivist-session=x; Secure; Path=/");
        assert_eq!(with_secure(already.clone()), already);
        let other = header::HeaderValue::from_static("other=1");
        assert_eq!(with_secure(other.clone()), other);
    }

    #[test]
    fn tokens_are_random_and_long() {
        let a = random_token().expect("random");
        let b = random_token().expect("random");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn assets_and_the_signed_out_page_start_no_session() {
        for path in ["/pkg/archivist.wasm", "/healthz", SIGNED_OUT_PATH] {
            assert!(!needs_session(path), "{path}");
        }
        for path in ["/", "/api/access", "/signed-out/x"] {
            assert!(needs_session(path), "{path}");
        }
    }

    #[test]
    fn a_session_ends_with_another_key_or_after_the_absolute_timeout() {
        let ten_hours = Duration::from_secs(36_000);
        let mut s = SignedIn::new("aa".to_owned(), 1_000).expect("random");
        assert_eq!(
            verdict(&s, "aa", 1_030, ten_hours),
            Verdict::Keep { touch: false },
            "no write within a minute of the last one"
        );
        assert_eq!(
            verdict(&s, "aa", 1_060, ten_hours),
            Verdict::Keep { touch: true }
        );
        assert_eq!(
            verdict(&s, "bb", 1_001, ten_hours),
            Verdict::End(Ending::CertificateChanged)
        );
        s.last_seen = 36_990;
        assert_eq!(
            verdict(&s, "aa", 36_999, ten_hours),
            Verdict::Keep { touch: false }
        );
        assert_eq!(
            verdict(&s, "aa", 37_000, ten_hours),
            Verdict::End(Ending::AbsoluteTimeout),
            "however active the session is"
        );
        assert_eq!(
            verdict(&s, "bb", 37_000, ten_hours),
            Verdict::End(Ending::CertificateChanged),
            "another card is the first reason"
        );
    }

    #[test]
    fn an_unreadable_active_controller_counts_as_none() {
        let mut s = SignedIn::new("ab".to_owned(), 0).expect("random");
        assert_eq!(s.active_controller(), None);
        s.active_controller = Some("1.2.246.10.1".to_owned());
        assert_eq!(
            s.active_controller().map(|o| o.as_str().to_owned()),
            Some("1.2.246.10.1".to_owned())
        );
        s.active_controller = Some("not an oid".to_owned());
        assert_eq!(s.active_controller(), None);
    }
}
