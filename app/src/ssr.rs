//! The server side's contract with the pages: the one way a handler or a server function
//! learns who is on the other end of the connection.
//!
//! The `archivist` server's accept loop verifies the client certificate during the TLS
//! handshake and attaches an [`identity::VerifiedClient`] to every request of that connection.

use std::{future::Future, pin::Pin, sync::Arc};

use identity::VerifiedClient;

pub use crate::error::ServiceError;
use crate::model::{
    access::{Access, SessionView},
    admin::{AuditPage, CardLinkView, ControllerChange, LinkFormOptions, LinkResult},
};

/// The notices shown now, put into every request by the server (they need neither a card nor
/// the database: the server keeps the last ones it read).
#[derive(Clone, Debug, Default)]
pub struct CurrentNotices(pub Arc<[crate::model::notices::NoticeView]>);

/// The notices of the request being served; none when the server put none in (a wiring
/// mistake the banner's absence shows, not a reason to fail the page).
pub async fn current_notices() -> Vec<crate::model::notices::NoticeView> {
    leptos_axum::extract::<axum::Extension<CurrentNotices>>()
        .await
        .map(|axum::Extension(CurrentNotices(notices))| notices.to_vec())
        .unwrap_or_default()
}

/// The verified client of the request a server function is serving.
pub async fn verified_client() -> Result<VerifiedClient, ServiceError> {
    leptos_axum::extract::<axum::Extension<VerifiedClient>>()
        .await
        .map(|axum::Extension(client)| client)
        .map_err(|_| refused(ServiceError::NoCertificate))
}

/// A server function's refusal: the response gets the error's HTTP status (so that a request
/// about another controller's material answers 404 like one about nothing at all).
pub fn refused(error: ServiceError) -> ServiceError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
        // A failover or an outage: the same wait the status pages ask for.
        if error == ServiceError::Unavailable {
            response.insert_header(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
    }
    error
}

/// How long a 503 asks the client to wait before trying again: about what a database failover
/// takes.
pub const RETRY_AFTER_SECONDS: &str = "30";

/// The opening every server function shares: the services of this request, and the refusal's
/// status on the response. `call` asks the services for the answer.
pub async fn serve<T>(
    call: impl for<'a> FnOnce(&'a dyn ArchivistServices) -> ServiceFuture<'a, T>,
) -> Result<T, ServiceError> {
    let services = services().await?;
    call(&*services).await.map_err(refused)
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

/// What the pages ask of the server on behalf of the request's caller. The `archivist` server
/// implements it over its request context, authentication layer and data access; this crate
/// never sees SQL or a controller scope, only the answers.
pub trait ArchivistServices: Send + Sync + 'static {
    /// The card's number and the controllers linked to it now.
    fn access<'a>(&'a self) -> ServiceFuture<'a, Access>;

    /// What the pages need of the session: the CSRF token for their forms.
    fn session<'a>(&'a self) -> ServiceFuture<'a, SessionView>;

    /// Makes one linked controller the active one (`None`: all of them). A controller that is
    /// not linked to the card, or does not exist, is [`ServiceError::NotFound`].
    fn choose_controller<'a>(&'a self, controller: Option<String>) -> ServiceFuture<'a, ()>;

    /// Ends the session (recorded in the audit log).
    fn sign_out<'a>(&'a self) -> ServiceFuture<'a, ()>;

    /// Administrators only (anyone else: [`ServiceError::NotFound`]): what the link form offers.
    fn admin_overview<'a>(&'a self) -> ServiceFuture<'a, LinkFormOptions>;

    /// Administrators only: the link history of one card number, or of every card.
    fn card_links<'a>(
        &'a self,
        card_number: Option<String>,
    ) -> ServiceFuture<'a, Vec<CardLinkView>>;

    /// Administrators only: links a card number to a controller (audited).
    fn link_card<'a>(&'a self, request: LinkRequest) -> ServiceFuture<'a, LinkResult>;

    /// Administrators only: ends a card's link to a controller (audited).
    fn unlink_card<'a>(
        &'a self,
        card_number: String,
        issuer: String,
        controller: String,
    ) -> ServiceFuture<'a, ()>;

    /// Administrators only: creates, renames or merges a controller (audited).
    fn change_controller<'a>(&'a self, change: ControllerChange) -> ServiceFuture<'a, ()>;

    /// Administrators only: defines or resets a controller's deployment test (audited).
    fn change_deployment_test<'a>(
        &'a self,
        change: crate::model::admin::DeploymentTestChange,
    ) -> ServiceFuture<'a, ()>;

    /// Administrators only: the newest notices, ended ones too.
    fn admin_notices<'a>(&'a self)
    -> ServiceFuture<'a, Vec<crate::model::notices::AdminNoticeRow>>;

    /// Administrators only: creates or changes a notice (audited). A refused field:
    /// [`ServiceError::Invalid`] naming it; a notice that has ended: `Conflict("notice_ended")`.
    fn save_notice<'a>(&'a self, form: crate::model::notices::NoticeForm) -> ServiceFuture<'a, ()>;

    /// Administrators only: ends a notice now (audited).
    fn end_notice<'a>(&'a self, id: String) -> ServiceFuture<'a, ()>;

    /// The audit log: all of it for an administrator, the rows about the card's own controllers
    /// for an archivist.
    fn audit<'a>(&'a self, query: AuditQuery) -> ServiceFuture<'a, AuditPage>;

    /// One document version within the active controllers (audited). Not an OID:
    /// [`ServiceError::Invalid`]; not there or another controller's: [`ServiceError::NotFound`].
    fn document<'a>(
        &'a self,
        document_oid: String,
    ) -> ServiceFuture<'a, crate::model::document::DocumentView>;

    /// One page of documents of the active controllers (audited). A malformed field:
    /// [`ServiceError::Invalid`] naming it.
    fn search<'a>(
        &'a self,
        query: crate::model::search::SearchQuery,
    ) -> ServiceFuture<'a, crate::model::search::SearchPage>;

    /// A client's document sets in the active controllers (audited). Not a valid personal
    /// identity code: [`ServiceError::Invalid`] (`client`).
    fn client<'a>(&'a self, client: String) -> ServiceFuture<'a, crate::model::client::ClientView>;

    /// The code lists' choices for the search form (no client data).
    fn search_options<'a>(&'a self) -> ServiceFuture<'a, crate::model::search::SearchOptions>;

    /// The stored CDA of a version as highlighted text (audited as a raw read; the SHA-256 is
    /// checked, a mismatch is [`ServiceError::Integrity`]).
    fn stored_cda<'a>(
        &'a self,
        document_oid: String,
    ) -> ServiceFuture<'a, crate::model::document::StoredCdaView>;

    /// Two versions of one set side by side (audited). Not OIDs: [`ServiceError::Invalid`]
    /// (`a`, `b`); either not there or another controller's: [`ServiceError::NotFound`];
    /// versions of different sets: `Invalid("other_set")`.
    fn compare<'a>(
        &'a self,
        a: String,
        b: String,
    ) -> ServiceFuture<'a, crate::model::compare::ComparisonView>;

    /// The deployment tests of the active controllers (audited).
    fn deployment_tests<'a>(
        &'a self,
    ) -> ServiceFuture<'a, Vec<crate::model::deployment_test::DeploymentTestView>>;

    /// Records a check of one test document (audited). Not in an active controller's test
    /// case: [`ServiceError::NotFound`]; the test is confirmed: [`ServiceError::Conflict`].
    fn check_test_document<'a>(
        &'a self,
        controller: String,
        document: String,
    ) -> ServiceFuture<'a, ()>;

    /// Confirms a deployment test (audited, refusals too): every document of its case must be
    /// archived and checked; a second confirmation is [`ServiceError::Conflict`].
    fn confirm_deployment_test<'a>(&'a self, controller: String) -> ServiceFuture<'a, ()>;
}

/// The server's [`ArchivistServices`] for one request: the server attaches them to every
/// request with a verified card and a session, bound to who is asking on that request, so that
/// no method needs to be told.
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
