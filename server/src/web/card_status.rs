//! `POST /api/card-status` for `archivist-card check --server`: the tool sends the certificate
//! it read from the card (DER, `application/pkix-cert`; never a key, never a PIN) and learns
//! what sign-in would make of it here: accepted or the refusal code, the card number the
//! configured rule gives (or the enrolled binding), and how many controllers the card is linked
//! to now. No client data and no controller names.
//!
//! It is reachable without a card certificate (the tool cannot sign with the card without a
//! PIN), so it tells anyone holding a certificate whether its holder is an archivist; that is
//! why every question is on the audit log. It sits outside the session and CSRF layers: no
//! cookie is read or set, and nothing changes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    Json,
    body::to_bytes,
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use rustls::pki_types::{CertificateDer, UnixTime};
use serde::Serialize;
use sqlx::PgPool;

use identity::{HandshakeRefusal, certificate::read_identity};

use crate::{
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::{Authenticator, SignInError},
    store::cards,
    tls::CurrentVerifier,
};

use super::errors;

pub const PATH: &str = "/api/card-status";
/// A card certificate is about 1.5 KB; anything near this is not one.
const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct CardStatusState {
    pub verifier: CurrentVerifier,
    pub authenticator: Authenticator,
    pub pool: PgPool,
    pub audit: AuditLog,
}

/// The answer (read by `archivist_card::server_query::CardStatus`).
#[derive(Debug, Serialize)]
pub struct CardStatus {
    pub accepted: bool,
    pub refusal: Option<&'static str>,
    pub card_number: Option<String>,
    pub linked_controllers: u32,
}

impl CardStatus {
    fn refused(reason: &'static str) -> Self {
        Self {
            accepted: false,
            refusal: Some(reason),
            card_number: None,
            linked_controllers: 0,
        }
    }
}

pub async fn card_status(State(state): State<CardStatusState>, request: Request) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(peer)| {
            peer.ip()
        });
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
    let verifier = state.verifier.borrow().clone();
    let (status, card_number) = match verifier.verify_client_cert(&leaf, &[], UnixTime::now()) {
        Err(error) => {
            let refusal = HandshakeRefusal::from_tls_error(&error)
                .unwrap_or(HandshakeRefusal::BadCertificate);
            (CardStatus::refused(refusal.code()), None)
        }
        Ok(_) => match linked(&state, &leaf, identity.clone()).await {
            Ok(answer) => answer,
            Err(SignInError::CardNumber(e)) => (CardStatus::refused(e.reason_code()), None),
            Err(SignInError::Database(error)) => {
                tracing::error!(%error, "card status: the card's links cannot be read");
                return errors::unavailable();
            }
        },
    };
    let event = AuditEvent {
        action: AuditAction::CardStatusChecked,
        outcome: status
            .refusal
            .map_or(Outcome::Success, |reason| Outcome::Refused { reason }),
        client_address: address,
        certificate: Some(&identity),
        card_number: card_number.as_deref(),
        controller_oid: None,
        document_oid: None,
        details: Some(serde_json::json!({ "linked_controllers": status.linked_controllers })),
    };
    if let Err(error) = state.audit.record(event).await {
        tracing::error!(%error, "card status: cannot write the audit row");
        return errors::unavailable();
    }
    Json(status).into_response()
}

async fn linked(
    state: &CardStatusState,
    leaf: &CertificateDer<'_>,
    identity: app::model::identity::CertificateIdentity,
) -> Result<(CardStatus, Option<String>), SignInError> {
    let client = identity::VerifiedClient::new(vec![leaf.to_vec()].into(), identity);
    let card = state.authenticator.card_key(&client).await?;
    let controllers = cards::controllers_in_force(&state.pool, &card).await?;
    let number = card.card_number.to_string();
    Ok((
        CardStatus {
            accepted: true,
            refusal: None,
            card_number: Some(number.clone()),
            linked_controllers: u32::try_from(controllers.len()).unwrap_or(u32::MAX),
        },
        Some(number),
    ))
}
