//! The server side's contract with the pages: the one way a handler or a server function
//! learns who is on the other end of the connection.
//!
//! The `archivist` server's accept loop verifies the client certificate during the TLS
//! handshake and attaches a [`VerifiedClient`] to every request of that connection. Nothing
//! else creates one from a request, so holding one means the handshake succeeded.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    response::{Html, IntoResponse, Response},
};
use http::{StatusCode, request::Parts};
use leptos::prelude::ServerFnError;

use crate::identity::CertificateIdentity;

/// The client certificate chain verified in this connection's TLS handshake, leaf first,
/// with the identity read from the leaf.
#[derive(Clone, Debug)]
pub struct VerifiedClient {
    chain: Arc<[Vec<u8>]>,
    identity: Arc<CertificateIdentity>,
}

impl VerifiedClient {
    /// Only the TLS layer calls this, with the chain rustls verified.
    pub fn new(chain: Arc<[Vec<u8>]>, identity: CertificateIdentity) -> Self {
        Self {
            chain,
            identity: Arc::new(identity),
        }
    }

    /// The verified chain as DER, leaf certificate first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    pub fn identity(&self) -> &CertificateIdentity {
        &self.identity
    }
}

/// The request came over a connection without a client certificate.
#[derive(Debug, thiserror::Error)]
#[error("the connection has no verified client certificate")]
pub struct NoClientCertificate;

impl IntoResponse for NoClientCertificate {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            Html(crate::status_pages::no_client_certificate()),
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for VerifiedClient {
    type Rejection = NoClientCertificate;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedClient>()
            .cloned()
            .ok_or(NoClientCertificate)
    }
}

/// The verified client of the request a server function is serving.
pub async fn verified_client() -> Result<VerifiedClient, ServerFnError> {
    leptos_axum::extract::<VerifiedClient>()
        .await
        .map_err(|_| ServerFnError::new(NoClientCertificate.to_string()))
}
