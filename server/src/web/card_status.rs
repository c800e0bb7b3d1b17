//! `POST /api/card-status` for `archivist-card check --server`: the tool sends the certificate
//! it read from the card (DER, `application/pkix-cert`; never a key, never a PIN) and learns
//! what sign-in would make of it here: accepted or the refusal code and the card number the
//! configured rule gives (or the enrolled binding). No client data and no controller names.
//!
//! Certificates are public, so a question proves nothing about who asks. Asked without proof,
//! the answer leaves out how many controllers the card is linked to (that would tell anyone
//! holding a certificate whether its holder is an archivist, and where), and the audit row
//! names an unauthenticated client at its address, with the certificate asked about in the
//! details, never as the actor. Asked over a connection that presents that very card (the
//! holder proved the key in the TLS handshake), the answer has the count and the row is the
//! holder's. Each address may ask a few times a minute (`auth.card_status_per_minute`).
//!
//! It sits outside the session and CSRF layers: no cookie is read or set, and nothing changes.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    Json,
    body::to_bytes,
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use rustls::pki_types::{CertificateDer, UnixTime};
use serde::Serialize;
use sqlx::PgPool;
use tower_governor::{GovernorError, GovernorLayer, governor::GovernorConfigBuilder};

use identity::{HandshakeRefusal, VerifiedClient, certificate::read_identity};

use crate::{
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::{Authenticator, SignInError},
    store::cards,
    tls::{CurrentVerifier, presented::Presented},
};

use super::errors;

pub const PATH: &str = "/api/card-status";
/// A card certificate is about 1.5 KB; anything near this is not one.
const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct CardStatusState {
    pub verifier: CurrentVerifier,
    pub authenticator: Authenticator,
    /// Where the card's links are read from (`database.read_url`, else the primary).
    pub reads: PgPool,
    pub audit: AuditLog,
}

/// The answer (read by `archivist_card::server_query::CardStatus`).
#[derive(Debug, Serialize)]
pub struct CardStatus {
    pub accepted: bool,
    pub refusal: Option<&'static str>,
    pub card_number: Option<String>,
    /// Whether the question came over a connection presenting this card.
    pub proven: bool,
    /// Only when `proven`.
    pub linked_controllers: Option<u32>,
    /// The notices shown now (public: the same as the feeds'), so that the card tool can say
    /// that a disruption is on.
    pub notices: Vec<app::model::notices::NoticeView>,
}

impl CardStatus {
    fn refused(reason: &'static str, proven: bool) -> Self {
        Self {
            accepted: false,
            refusal: Some(reason),
            card_number: None,
            proven,
            linked_controllers: None,
            notices: Vec::new(),
        }
    }
}

/// The route with its per-address limit: `per_minute` questions a minute, as many at once.
pub fn limited<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    per_minute: u32,
) -> MethodRouter<S> {
    let per_minute = per_minute.max(1);
    let Some(config) = GovernorConfigBuilder::default()
        .period(Duration::from_secs(60) / per_minute)
        .burst_size(per_minute)
        .finish()
    else {
        // Only a zero period or burst, which `max(1)` rules out.
        tracing::error!(per_minute, "card status: no rate limit could be set up");
        return route;
    };
    let config = Arc::new(config);
    // The limiter keeps a state per address: forget the ones that have been quiet, for as long
    // as the route (and so the limiter) exists.
    crate::tls::admission::every_minute_while_alive(&config, |config| {
        config.limiter().retain_recent()
    });
    route.layer(GovernorLayer::new(config).error_handler(too_many))
}

fn too_many(error: GovernorError) -> Response {
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait_time.max(1).to_string())],
            format!("too many questions from this address: ask again in {wait_time} s\n"),
        )
            .into_response(),
        // No address to count by: a wiring mistake, not the caller's.
        _ => errors::unavailable(),
    }
}

pub async fn card_status(State(state): State<CardStatusState>, request: Request) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| {
            peer.ip()
        });
    let presenting = request.extensions().get::<VerifiedClient>().cloned();
    let is_certificate = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "application/pkix-cert");
    if !is_certificate {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the card's certificate as application/pkix-cert (DER)\n",
        )
            .into_response();
    }
    let Ok(der) = to_bytes(request.into_body(), MAX_CERTIFICATE_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            "a card certificate is not this large\n",
        )
            .into_response();
    };
    let leaf = CertificateDer::from(der.to_vec());
    let Ok(identity) = read_identity(&leaf) else {
        return (StatusCode::BAD_REQUEST, "this is not a DER certificate\n").into_response();
    };
    // The connection's own card is this one: its holder signed the handshake with the key.
    let proven = presenting
        .as_ref()
        .and_then(|client| client.chain().first())
        .is_some_and(|presented| presented.as_slice() == leaf.as_ref());
    let verifier = state.verifier.borrow().clone();
    let status = match verifier.verify_client_cert(&leaf, &[], UnixTime::now()) {
        Err(error) => {
            let refusal = HandshakeRefusal::from_tls_error(&error)
                .unwrap_or(HandshakeRefusal::BadCertificate);
            CardStatus::refused(refusal.code(), proven)
        }
        Ok(_) => match linked(&state, &leaf, identity.clone(), proven).await {
            Ok(answer) => answer,
            Err(SignInError::CardNumber(e)) => CardStatus::refused(e.reason_code(), proven),
            Err(SignInError::Database(error)) => {
                tracing::error!(%error, "card status: the card's links cannot be read");
                return errors::unavailable();
            }
        },
    };
    // Without proof whoever asked is not the holder: the row must not read as the holder's act.
    let (certificate, card_number, details) = if proven {
        (
            Some(&identity),
            status.card_number.as_deref(),
            serde_json::json!({
                "proof": "tls_client_certificate",
                "linked_controllers": status.linked_controllers,
            }),
        )
    } else {
        (
            None,
            None,
            serde_json::json!({
                "proof": "none",
                "asked_by": "unauthenticated",
                "asked_about": Presented::from_der(&leaf),
                "card_number": status.card_number,
            }),
        )
    };
    let event = AuditEvent {
        action: AuditAction::CardStatusChecked,
        outcome: status
            .refusal
            .map_or(Outcome::Success, |reason| Outcome::Refused { reason }),
        client_address: address,
        certificate,
        card_number,
        controller_oid: None,
        document_oid: None,
        details: Some(details),
    };
    if let Err(error) = state.audit.record(event).await {
        tracing::error!(%error, "card status: cannot write the audit row");
        return errors::unavailable();
    }
    let status = CardStatus {
        notices: super::notices::shown().to_vec(),
        ..status
    };
    Json(status).into_response()
}

async fn linked(
    state: &CardStatusState,
    leaf: &CertificateDer<'_>,
    identity: app::model::identity::CertificateIdentity,
    proven: bool,
) -> Result<CardStatus, SignInError> {
    let client = VerifiedClient::new(vec![leaf.to_vec()].into(), identity);
    let card = state.authenticator.card_key(&client).await?;
    let linked_controllers = if proven {
        let controllers = cards::controllers_in_force(&state.reads, &card).await?;
        Some(u32::try_from(controllers.len()).unwrap_or(u32::MAX))
    } else {
        None
    };
    Ok(CardStatus {
        accepted: true,
        refusal: None,
        card_number: Some(card.card_number.to_string()),
        proven,
        linked_controllers,
        notices: Vec::new(),
    })
}
