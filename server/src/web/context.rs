//! The request context: who is asking, resolved once per request.
//!
//! [`attach`] runs for every request that came with a verified card and has a session. It puts
//! one [`RequestContext`] into the request (for raw handlers, the session check and the CSRF
//! check) and the pages' [`Services`] bound to it (for server functions). The card key, the
//! card's scope and the administrator right are each read at most once per request, when first
//! asked for, however many server functions a page render calls: before this, a page looked the
//! card up three or four times.

use std::{net::IpAddr, sync::Arc};

use app::ssr::Services;
use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::request::Parts;
use identity::{CardKey, CardNumber, CardNumberError, VerifiedClient};
use tokio::sync::OnceCell;
use tower_sessions::Session;

use super::{access::ServerServices, errors, session};
use crate::auth::{Authenticator, ControllerScope, SignInError};

/// Who is asking on this request: the verified card, the address the request came from, the
/// session, and what the authentication layer resolves from them.
#[derive(Clone)]
pub struct RequestContext(Arc<Resolved>);

struct Resolved {
    client: VerifiedClient,
    address: IpAddr,
    session: Session,
    authenticator: Authenticator,
    /// The card key, or why the certificate gives none (which is an answer, not a failure).
    card: OnceCell<Result<CardKey, CardNumberError>>,
    /// The card's links in force when first asked for on this request.
    scope: OnceCell<ControllerScope>,
    administrator: OnceCell<bool>,
}

impl RequestContext {
    fn new(
        client: VerifiedClient,
        address: IpAddr,
        session: Session,
        authenticator: Authenticator,
    ) -> Self {
        Self(Arc::new(Resolved {
            client,
            address,
            session,
            authenticator,
            card: OnceCell::new(),
            scope: OnceCell::new(),
            administrator: OnceCell::new(),
        }))
    }

    pub fn client(&self) -> &VerifiedClient {
        &self.0.client
    }

    /// The client's address, for the audit log (a trusted load balancer's forwarded one).
    pub fn address(&self) -> IpAddr {
        self.0.address
    }

    pub fn session(&self) -> &Session {
        &self.0.session
    }

    /// The card key of the connection's certificate, by the configured rule.
    pub async fn card(&self) -> Result<&CardKey, SignInError> {
        let card = self
            .0
            .card
            .get_or_try_init(|| async {
                match self.0.authenticator.card_key(&self.0.client).await {
                    Ok(card) => Ok(Ok(card)),
                    Err(SignInError::CardNumber(refusal)) => Ok(Err(refusal)),
                    Err(SignInError::Database(error)) => Err(error),
                }
            })
            .await?;
        card.as_ref()
            .map_err(|refusal| SignInError::CardNumber(*refusal))
    }

    /// The card number for the audit log; `None` when the certificate gives none or it cannot
    /// be read now (the row is written all the same).
    pub async fn card_number(&self) -> Option<&CardNumber> {
        self.card().await.ok().map(|card| &card.card_number)
    }

    /// The card's whole scope: its links in force now.
    pub async fn scope(&self) -> Result<&ControllerScope, SignInError> {
        self.0
            .scope
            .get_or_try_init(|| async {
                let card = self.card().await?.clone();
                Ok(self.0.authenticator.scope_of(card).await?)
            })
            .await
    }

    /// The scope narrowed to the controller chosen in this session, as every archivist page
    /// sees it. No session record: [`ScopeError::NoSession`].
    pub async fn active_scope(&self) -> Result<ControllerScope, ScopeError> {
        let chosen = session::signed_in(&self.0.session)
            .await
            .map_err(ScopeError::Session)?
            .ok_or(ScopeError::NoSession)?
            .active_controller();
        Ok(self.scope().await?.narrowed_to(chosen.as_ref()))
    }

    /// Whether the card may administer links; a card without a card number may not.
    pub async fn is_administrator(&self) -> Result<bool, sqlx::Error> {
        self.0
            .administrator
            .get_or_try_init(|| async {
                match self.card().await {
                    Ok(card) => self.0.authenticator.is_administrator(card).await,
                    Err(SignInError::CardNumber(_)) => Ok(false),
                    Err(SignInError::Database(error)) => Err(error),
                }
            })
            .await
            .copied()
    }

    /// The card key when the card holds the administrator right now; `None` for anyone else.
    pub async fn administrator(&self) -> Result<Option<&CardKey>, sqlx::Error> {
        if !self.is_administrator().await? {
            return Ok(None);
        }
        match self.card().await {
            Ok(card) => Ok(Some(card)),
            Err(SignInError::CardNumber(_)) => Ok(None),
            Err(SignInError::Database(error)) => Err(error),
        }
    }
}

/// Why a request has no scope to work in.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(transparent)]
    SignIn(#[from] SignInError),
    #[error("the request has no signed-in session")]
    NoSession,
    #[error("cannot read the session: {0}")]
    Session(tower_sessions::session::Error),
}

/// What [`attach`] needs besides the request.
#[derive(Clone)]
pub struct ContextState {
    pub services: Arc<ServerServices>,
}

/// Middleware (inside the session layer, before the session check): attaches the request's
/// context and the pages' services bound to it. A request without a verified card or a session
/// goes on without them (public assets; the session layer's own failure page).
pub async fn attach(
    State(state): State<ContextState>,
    mut request: Request,
    next: Next,
) -> Response {
    let extensions = request.extensions();
    let (Some(client), Some(session), Some(ConnectInfo(peer))) = (
        extensions.get::<VerifiedClient>().cloned(),
        extensions.get::<Session>().cloned(),
        extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .copied(),
    ) else {
        return next.run(request).await;
    };
    let authenticator = state.services.authenticator.clone();
    let context = RequestContext::new(client, peer.ip(), session, authenticator);
    let services = Services(Arc::new(super::access::ForRequest::new(
        state.services,
        context.clone(),
    )));
    request.extensions_mut().insert(context);
    request.extensions_mut().insert(services);
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<RequestContext>() {
            Some(context) => Ok(context.clone()),
            // Only on a route outside `attach`: a wiring mistake, never the caller's.
            None => {
                tracing::error!(path = %parts.uri.path(), "a handler asked for the request context outside its layer");
                Err(errors::unavailable().into_response())
            }
        }
    }
}
