//! What happens to each TLS connection: refused certificates are written to the audit log
//! (tallied, see [`super::handshake_refusals`]); authenticated ones only when the operator
//! asks for a row a connection (`audit.connections`), because a database write per handshake
//! lets anyone with a valid card make the server write at their handshake rate and starve
//! everyone else of database connections. Sign-ins are on the log once a session either way.

use std::net::SocketAddr;

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
};
use identity::{HandshakeRefusal, VerifiedClient};

use crate::{
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::Authenticator,
    notices::board::NoticeBoard,
    tls::{ConnectionHandler, presented::Presented},
};

use super::{errors, handshake_refusals::HandshakeRefusals};

pub struct Connections {
    router: Router,
    audit: AuditLog,
    /// To record the card number with the sign-in; a certificate without one is refused (and
    /// audited) when it asks for anything.
    authenticator: Authenticator,
    refused: HandshakeRefusals,
    /// For the notices on the page of a connection that cannot be served.
    notices: NoticeBoard,
    /// A `tls.client_authenticated` row for every connection with a card.
    per_connection: bool,
}

impl Connections {
    pub fn new(
        router: Router,
        audit: AuditLog,
        authenticator: Authenticator,
        refused: HandshakeRefusals,
        notices: NoticeBoard,
        per_connection: bool,
    ) -> Self {
        Self {
            router,
            audit,
            authenticator,
            refused,
            notices,
            per_connection,
        }
    }
}

impl ConnectionHandler for Connections {
    async fn connected(&self, peer: SocketAddr, client: Option<&VerifiedClient>) -> Router {
        let Some(client) = client.filter(|_| self.per_connection) else {
            // Anonymous connections see only the guidance page and public assets; a card's
            // connection is on the log through its session's sign-in and its every access.
            return self.router.clone();
        };
        let card_number = self
            .authenticator
            .card_key(client)
            .await
            .ok()
            .map(|key| key.card_number);
        let event = AuditEvent {
            action: AuditAction::ClientAuthenticated,
            outcome: Outcome::Success,
            client_address: peer.ip(),
            certificate: Some(client.identity()),
            card_number: card_number.as_ref().map(|n| n.as_str()),
            controller_oid: None,
            document_oid: None,
            details: None,
        };
        match self.audit.record(event).await {
            Ok(()) => self.router.clone(),
            Err(error) => {
                // Every access must be on record: without the audit log, no client pages.
                tracing::error!(%peer, %error, "cannot write the audit log; refusing service on this connection");
                self.router.clone().layer(middleware::from_fn_with_state(
                    self.notices.clone(),
                    unavailable_except_public,
                ))
            }
        }
    }

    async fn refused(
        &self,
        peer: SocketAddr,
        refusal: HandshakeRefusal,
        presented: Option<Presented>,
    ) {
        self.refused
            .record(peer.ip(), refusal.code(), presented)
            .await;
    }
}

/// What holds no client data (assets, the health check, the notice feeds) needs no audit row.
async fn unavailable_except_public(
    State(notices): State<NoticeBoard>,
    request: Request,
    next: Next,
) -> Response {
    if super::is_public(request.uri().path()) {
        return next.run(request).await;
    }
    super::notices::with_shown(&notices, async { errors::unavailable() }).await
}
