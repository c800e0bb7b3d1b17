//! Behind a TLS-terminating load balancer (off unless `proxy.trusted` lists addresses): the
//! card certificate arrives in RFC 9440 `Client-Cert` and `Client-Cert-Chain` headers instead of
//! a handshake of ours.
//!
//! - From a listed proxy address, the forwarded chain goes through the very verifier our own
//!   handshakes use (path to a configured issuing CA, revocation, EKU, and the card checks), as
//!   if the handshake had been ours; the client's address is the last `X-Forwarded-For` entry.
//!   A chain that fails gets a 403 page with its reason code and an audit row; a malformed
//!   header a 400 page.
//! - From anyone else the headers are removed before anything reads them: a forged
//!   `Client-Cert` is worth nothing.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use identity::VerifiedClient;
use rustls::pki_types::{CertificateDer, UnixTime};

use identity::HandshakeRefusal;

use super::{CurrentVerifier, accept::client_from_chain, presented::Presented};
use crate::audit::{AuditAction, AuditEvent, AuditLog, Outcome};

pub const CLIENT_CERT: &str = "client-cert";
pub const CLIENT_CERT_CHAIN: &str = "client-cert-chain";
const FORWARDED_FOR: &str = "x-forwarded-for";

/// What the middleware needs.
#[derive(Clone)]
pub struct ForwardedCertificates {
    trusted: Arc<[IpAddr]>,
    verifier: CurrentVerifier,
    audit: AuditLog,
}

impl ForwardedCertificates {
    pub fn new(trusted: Vec<IpAddr>, verifier: CurrentVerifier, audit: AuditLog) -> Self {
        Self {
            trusted: trusted.into(),
            verifier,
            audit,
        }
    }

    /// The verifier our handshakes use now.
    pub fn verifier(&self) -> CurrentVerifier {
        self.verifier.clone()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the {0} header is not a structured-field byte sequence (:base64:)")]
    NotByteSequence(&'static str),
    #[error("the {0} header is not valid base64")]
    Base64(&'static str),
    #[error("Client-Cert-Chain came without Client-Cert")]
    ChainWithoutCertificate,
}

/// One RFC 8941 byte sequence: `:` base64 `:`, nothing else.
fn byte_sequence(header: &'static str, item: &str) -> Result<Vec<u8>, HeaderError> {
    let inner = item
        .trim()
        .strip_prefix(':')
        .and_then(|rest| rest.strip_suffix(':'))
        .ok_or(HeaderError::NotByteSequence(header))?;
    STANDARD
        .decode(inner)
        .map_err(|_| HeaderError::Base64(header))
}

/// The forwarded chain, leaf first; `None` when the proxy forwarded no certificate.
pub fn forwarded_chain(headers: &HeaderMap) -> Result<Option<Vec<Vec<u8>>>, HeaderError> {
    let text = |name: &'static str| -> Result<Option<String>, HeaderError> {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().map_err(|_| HeaderError::NotByteSequence(name)))
            .collect::<Result<_, _>>()?;
        Ok((!values.is_empty()).then(|| values.join(",")))
    };
    let leaf = text(CLIENT_CERT)?;
    let chain = text(CLIENT_CERT_CHAIN)?;
    let Some(leaf) = leaf else {
        return match chain {
            Some(_) => Err(HeaderError::ChainWithoutCertificate),
            None => Ok(None),
        };
    };
    let mut certificates = vec![byte_sequence("Client-Cert", &leaf)?];
    if let Some(chain) = chain {
        for item in chain.split(',') {
            certificates.push(byte_sequence("Client-Cert-Chain", item)?);
        }
    }
    Ok(Some(certificates))
}

/// The client's address as the proxy saw it: the last `X-Forwarded-For` entry (the one our
/// proxy added; earlier ones come from the client and prove nothing).
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .and_then(|last| last.trim().parse().ok())
}

/// Middleware, outermost after the security headers.
pub async fn from_proxy(
    State(forwarded): State<ForwardedCertificates>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    let trusted = peer.is_some_and(|peer| forwarded.trusted.contains(&peer.ip()));
    if !trusted {
        let headers = request.headers_mut();
        headers.remove(CLIENT_CERT);
        headers.remove(CLIENT_CERT_CHAIN);
        return next.run(request).await;
    }
    if let Some(client) = forwarded_for(request.headers()) {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client, 0)));
    }
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let chain = match forwarded_chain(request.headers()) {
        Ok(Some(chain)) => chain,
        Ok(None) => return next.run(request).await,
        Err(error) => {
            tracing::warn!(?peer, %error, "malformed forwarded client certificate");
            return (
                StatusCode::BAD_REQUEST,
                Html(app::status_pages::bad_forwarded_certificate(
                    &crate::web::notices::shown(),
                )),
            )
                .into_response();
        }
    };
    let certificates: Vec<CertificateDer<'static>> =
        chain.into_iter().map(CertificateDer::from).collect();
    let verifier = forwarded.verifier.borrow().clone();
    let verdict = match certificates.split_first() {
        Some((leaf, intermediates)) => verifier
            .verify_client_cert(leaf, intermediates, UnixTime::now())
            .map_err(|error| {
                HandshakeRefusal::from_tls_error(&error).unwrap_or(HandshakeRefusal::BadCertificate)
            }),
        None => Err(HandshakeRefusal::BadCertificate),
    };
    let client = verdict.and_then(|_| {
        client_from_chain(&certificates)
            .ok()
            .flatten()
            .ok_or(HandshakeRefusal::BadCertificate)
    });
    match client {
        Ok(client) => {
            request.extensions_mut().insert::<VerifiedClient>(client);
            next.run(request).await
        }
        Err(refusal) => {
            let presented = certificates.first().map(Presented::from_der);
            refused(&forwarded.audit, address, refusal, presented).await
        }
    }
}

async fn refused(
    audit: &AuditLog,
    address: Option<IpAddr>,
    refusal: HandshakeRefusal,
    presented: Option<Presented>,
) -> Response {
    tracing::warn!(
        ?address,
        reason = refusal.code(),
        "forwarded client certificate refused"
    );
    if let Some(address) = address {
        let event = AuditEvent {
            action: AuditAction::CertificateRefused,
            outcome: Outcome::Refused {
                reason: refusal.code(),
            },
            client_address: address,
            certificate: None,
            card_number: None,
            controller_oid: None,
            document_oid: None,
            details: Some(serde_json::json!({ "forwarded": true, "presented": presented })),
        };
        if let Err(error) = audit.record(event).await {
            tracing::error!(%error, "cannot write a refused forwarded certificate to the audit log");
        }
    }
    (
        StatusCode::FORBIDDEN,
        Html(app::status_pages::certificate_refused(
            refusal.code(),
            &crate::web::notices::shown(),
        )),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn the_chain_is_read_leaf_first() {
        let h = headers(&[
            (CLIENT_CERT, ":AQID:"),
            (CLIENT_CERT_CHAIN, ":BAU=:, :Bg==:"),
        ]);
        assert_eq!(
            forwarded_chain(&h),
            Ok(Some(vec![vec![1, 2, 3], vec![4, 5], vec![6]]))
        );
        assert_eq!(forwarded_chain(&headers(&[])), Ok(None));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for (pairs, error) in [
            (
                vec![(CLIENT_CERT, "AQID")],
                HeaderError::NotByteSequence("Client-Cert"),
            ),
            (
                vec![(CLIENT_CERT, ":not base64!:")],
                HeaderError::Base64("Client-Cert"),
            ),
            (
                vec![(CLIENT_CERT, ":AQID:"), (CLIENT_CERT_CHAIN, ":AQID:, nope")],
                HeaderError::NotByteSequence("Client-Cert-Chain"),
            ),
            (
                vec![(CLIENT_CERT_CHAIN, ":AQID:")],
                HeaderError::ChainWithoutCertificate,
            ),
        ] {
            assert_eq!(forwarded_chain(&headers(&pairs)), Err(error));
        }
    }

    #[test]
    fn the_client_address_is_the_last_forwarded_for_entry() {
        let h = headers(&[(FORWARDED_FOR, "203.0.113.9, 198.51.100.7")]);
        assert_eq!(forwarded_for(&h), "198.51.100.7".parse().ok());
        assert_eq!(forwarded_for(&headers(&[(FORWARDED_FOR, "unknown")])), None);
        assert_eq!(forwarded_for(&headers(&[])), None);
    }
}
