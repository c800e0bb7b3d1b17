//! The server side's contract with the pages: the one way a handler or a server function
//! learns who is on the other end of the connection.
//!
//! The `archivist` server's accept loop verifies the client certificate during the TLS
//! handshake and attaches a [`VerifiedClient`] to every request of that connection. Nothing
//! else creates one from a request, so holding one means the handshake succeeded.

use std::{future::Future, net::IpAddr, pin::Pin, sync::Arc};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    response::{Html, IntoResponse, Response},
};
use http::{StatusCode, request::Parts};

pub use crate::error::ServiceError;
use crate::model::{
    access::{Access, SessionView},
    admin::{AuditPage, CardLinkView, ControllerChange, LinkFormOptions, LinkResult},
    identity::CertificateIdentity,
};

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
pub async fn verified_client() -> Result<VerifiedClient, ServiceError> {
    leptos_axum::extract::<VerifiedClient>()
        .await
        .map_err(|_| refused(ServiceError::NoCertificate))
}

/// A server function's refusal: the response gets the error's HTTP status (so that a request
/// about another controller's material answers 404 like one about nothing at all).
pub fn refused(error: ServiceError) -> ServiceError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    error
}

/// The opening every server function shares: who is asking, the server's services, and the
/// refusal's status on the response. `call` asks the services for the answer.
pub async fn serve<T>(
    call: impl for<'a> FnOnce(&'a dyn ArchivistServices, &'a Caller) -> ServiceFuture<'a, T>,
) -> Result<T, ServiceError> {
    let caller = caller().await?;
    let services = services().await?;
    call(&*services, &caller).await.map_err(refused)
}

/// A link as the administrators' form sends it; the server checks every field.
#[derive(Clone, Debug)]
pub struct LinkRequest {
    pub card_number: String,
    /// Empty when only one issuing CA is configured.
    pub issuer: String,
    pub controller: String,
    pub valid_from: String,
    pub valid_until: String,
}

/// The audit page's filter as typed; empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub since: String,
    pub until: String,
    pub action: String,
    pub card_number: String,
    pub controller: String,
}

/// A boxed future, so that [`ArchivistServices`] can be used as a trait object.
pub type ServiceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ServiceError>> + Send + 'a>>;

/// What the pages ask of the server. The `archivist` server implements it over its
/// authentication layer and data access; this crate never sees SQL or a controller scope, only
/// the answers.
pub trait ArchivistServices: Send + Sync + 'static {
    /// The card's number and the controllers linked to it now.
    fn access<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, Access>;

    /// What the pages need of the session: the CSRF token for their forms.
    fn session<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, SessionView>;

    /// Makes one linked controller the active one (`None`: all of them). A controller that is
    /// not linked to the card, or does not exist, is [`ServiceError::NotFound`].
    fn choose_controller<'a>(
        &'a self,
        caller: &'a Caller,
        controller: Option<String>,
    ) -> ServiceFuture<'a, ()>;

    /// Ends the session (recorded in the audit log).
    fn sign_out<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, ()>;

    /// Administrators only (anyone else: [`ServiceError::NotFound`]): what the link form offers.
    fn admin_overview<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, LinkFormOptions>;

    /// Administrators only: the link history of one card number, or of every card.
    fn card_links<'a>(
        &'a self,
        caller: &'a Caller,
        card_number: Option<String>,
    ) -> ServiceFuture<'a, Vec<CardLinkView>>;

    /// Administrators only: links a card number to a controller (audited).
    fn link_card<'a>(
        &'a self,
        caller: &'a Caller,
        request: LinkRequest,
    ) -> ServiceFuture<'a, LinkResult>;

    /// Administrators only: ends a card's link to a controller (audited).
    fn unlink_card<'a>(
        &'a self,
        caller: &'a Caller,
        card_number: String,
        issuer: String,
        controller: String,
    ) -> ServiceFuture<'a, ()>;

    /// Administrators only: creates, renames or merges a controller (audited).
    fn change_controller<'a>(
        &'a self,
        caller: &'a Caller,
        change: ControllerChange,
    ) -> ServiceFuture<'a, ()>;

    /// Administrators only: defines or resets a controller's deployment test (audited).
    fn change_deployment_test<'a>(
        &'a self,
        caller: &'a Caller,
        change: crate::model::admin::DeploymentTestChange,
    ) -> ServiceFuture<'a, ()>;

    /// The audit log: all of it for an administrator, the rows about the card's own controllers
    /// for an archivist.
    fn audit<'a>(&'a self, caller: &'a Caller, query: AuditQuery) -> ServiceFuture<'a, AuditPage>;

    /// One document version within the active controllers (audited). Not an OID:
    /// [`ServiceError::Invalid`]; not there or another controller's: [`ServiceError::NotFound`].
    fn document<'a>(
        &'a self,
        caller: &'a Caller,
        document_oid: String,
    ) -> ServiceFuture<'a, crate::model::documents::DocumentView>;

    /// One page of documents of the active controllers (audited). A malformed field:
    /// [`ServiceError::Invalid`] naming it.
    fn search<'a>(
        &'a self,
        caller: &'a Caller,
        query: crate::model::search::SearchQuery,
    ) -> ServiceFuture<'a, crate::model::search::SearchPage>;

    /// A client's document sets in the active controllers (audited). Not a valid personal
    /// identity code: [`ServiceError::Invalid`] (`client`).
    fn client<'a>(
        &'a self,
        caller: &'a Caller,
        client: String,
    ) -> ServiceFuture<'a, crate::model::client::ClientView>;

    /// The code lists' choices for the search form (no client data).
    fn search_options<'a>(
        &'a self,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, crate::model::search::SearchOptions>;

    /// The stored CDA of a version as highlighted text (audited as a raw read; the SHA-256 is
    /// checked, a mismatch is [`ServiceError::Integrity`]).
    fn stored_cda<'a>(
        &'a self,
        caller: &'a Caller,
        document_oid: String,
    ) -> ServiceFuture<'a, crate::model::documents::StoredCdaView>;

    /// Two versions of one set side by side (audited). Not OIDs: [`ServiceError::Invalid`]
    /// (`a`, `b`); either not there or another controller's: [`ServiceError::NotFound`];
    /// versions of different sets: `Invalid("other_set")`.
    fn compare<'a>(
        &'a self,
        caller: &'a Caller,
        a: String,
        b: String,
    ) -> ServiceFuture<'a, crate::model::compare::ComparisonView>;

    /// The deployment tests of the active controllers (audited).
    fn deployment_tests<'a>(
        &'a self,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, Vec<crate::model::deployment::DeploymentTestView>>;

    /// Records a check of one test document (audited). Not in an active controller's test
    /// case: [`ServiceError::NotFound`]; the test is confirmed: [`ServiceError::Conflict`].
    fn check_test_document<'a>(
        &'a self,
        caller: &'a Caller,
        controller: String,
        document: String,
    ) -> ServiceFuture<'a, ()>;

    /// Confirms a deployment test (audited, refusals too): every document of its case must be
    /// archived and checked; a second confirmation is [`ServiceError::Conflict`].
    fn confirm_deployment_test<'a>(
        &'a self,
        caller: &'a Caller,
        controller: String,
    ) -> ServiceFuture<'a, ()>;
}

/// Who is asking: the verified card, the address the connection came from (for the audit
/// log) and the request's session, which only the server's services read or change.
#[derive(Clone, Debug)]
pub struct Caller {
    pub client: VerifiedClient,
    pub address: IpAddr,
    pub session: tower_sessions::Session,
}

/// The caller of the request a server function is serving.
pub async fn caller() -> Result<Caller, ServiceError> {
    let client = verified_client().await?;
    let ConnectInfo(peer) = leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
        .await
        .map_err(|_| refused(ServiceError::NoCertificate))?;
    let session = leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|_| refused(ServiceError::NoSession))?;
    Ok(Caller {
        client,
        address: peer.ip(),
        session,
    })
}

/// The server's [`ArchivistServices`], attached to every request as an axum extension.
#[derive(Clone)]
pub struct Services(pub Arc<dyn ArchivistServices>);

impl std::ops::Deref for Services {
    type Target = dyn ArchivistServices;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// The services for the request a server function is serving.
pub async fn services() -> Result<Services, ServiceError> {
    leptos_axum::extract::<axum::Extension<Services>>()
        .await
        .map(|axum::Extension(services)| services)
        .map_err(|_| refused(ServiceError::Unavailable))
}
