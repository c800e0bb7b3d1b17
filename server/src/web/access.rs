//! The server's answers to the pages' questions ([`app::ssr::ArchivistServices`]): the
//! authentication layer and the scoped data access put together, with refusals and failures
//! logged and audited here so that the pages only ever get a plain message.

use app::{
    model::access::{Access, LinkedController, RuleView, SessionView},
    model::admin::{
        AuditPage, CardLinkView, ControllerChange, DeploymentTestChange, LinkFormOptions,
        LinkResult,
    },
    model::client::ClientView,
    model::compare::ComparisonView,
    model::deployment_test::DeploymentTestView,
    model::document::{DocumentView, StoredCdaView},
    model::notices::{AdminNoticeRow, NoticeForm},
    model::search::{SearchOptions, SearchPage, SearchQuery},
    ssr::{ArchivistServices, AuditQuery, LinkRequest, ServiceError, ServiceFuture},
};
use identity::CardNumberRule;
use sqlx::PgPool;
use std::{future::Future, sync::Arc};
use time::format_description::well_known::Rfc3339;

use crate::{
    archive::ControllerOid,
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::{Authenticator, ControllerScope, SignInError},
    notices::board::NoticeBoard,
    store::scoped,
};

use super::{
    context::{RequestContext, ScopeError},
    refusals::RefusalLog,
    session::{self, SignedIn},
};

pub struct ServerServices {
    /// The primary: changes and what must see them at once.
    pub(super) pool: PgPool,
    /// Archivists' reads (`database.read_url`, else the primary): they go on through a
    /// failover.
    pub(super) reads: PgPool,
    pub(super) authenticator: Authenticator,
    pub(super) audit: AuditLog,
    /// The issuing CAs' names (`tls.client_ca`), under which administrators link card numbers.
    pub(super) issuers: Vec<String>,
    pub(super) refusals: RefusalLog,
    /// Read again at once after an administrator's change to the notices.
    pub(super) notices: NoticeBoard,
}

impl ServerServices {
    pub fn new(
        pool: PgPool,
        reads: PgPool,
        authenticator: Authenticator,
        audit: AuditLog,
        issuers: Vec<String>,
        refusals: RefusalLog,
        notices: NoticeBoard,
    ) -> Self {
        Self {
            pool,
            reads,
            authenticator,
            audit,
            issuers,
            refusals,
            notices,
        }
    }

    /// The session [`super::session::establish`] made sure of before the request got here.
    pub(super) async fn signed_in(
        &self,
        caller: &RequestContext,
    ) -> Result<SignedIn, ServiceError> {
        match session::signed_in(caller.session()).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) => Err(ServiceError::NoSession),
            Err(error) => {
                tracing::error!(%error, "cannot read the session");
                Err(ServiceError::Unavailable)
            }
        }
    }

    /// The card's whole scope now; a card without a card number has none.
    pub(super) async fn full_scope<'c>(
        &self,
        caller: &'c RequestContext,
    ) -> Result<&'c ControllerScope, ServiceError> {
        caller.scope().await.map_err(refusal)
    }

    async fn choose_controller(
        &self,
        caller: &RequestContext,
        controller: Option<String>,
    ) -> Result<(), ServiceError> {
        let scope = self.full_scope(caller).await?;
        let chosen = match controller {
            None => None,
            // Not an OID, not a controller, or another controller's: all the same answer.
            Some(text) => Some(
                ControllerOid::parse(&text)
                    .ok()
                    .filter(|oid| scope.contains(oid))
                    .ok_or(ServiceError::NotFound)?,
            ),
        };
        session::choose_controller(caller.session(), chosen.as_ref())
            .await
            .map_err(|error| {
                tracing::error!(%error, "cannot keep the choice of controller");
                ServiceError::Unavailable
            })
    }

    /// The card's scope narrowed to the session's active controller, as every archivist page
    /// sees it.
    pub(super) async fn active_scope(
        &self,
        caller: &RequestContext,
    ) -> Result<ControllerScope, ServiceError> {
        caller.active_scope().await.map_err(|error| match error {
            ScopeError::SignIn(error) => refusal(error),
            ScopeError::NoSession => ServiceError::NoSession,
            ScopeError::Session(error) => {
                tracing::error!(%error, "cannot read the session");
                ServiceError::Unavailable
            }
        })
    }

    /// Records something the caller did, with the caller's certificate and card number.
    pub(super) async fn record_success(
        &self,
        caller: &RequestContext,
        action: AuditAction,
        details: Option<serde_json::Value>,
    ) -> Result<(), ServiceError> {
        self.record_access(caller, action, Outcome::Success, None, None, details)
            .await
    }

    /// Records what the caller did or was refused, about a controller's material and document
    /// where there is one: one place for every audited read and change of the pages.
    pub(super) async fn record_access(
        &self,
        caller: &RequestContext,
        action: AuditAction,
        outcome: Outcome,
        controller: Option<&str>,
        document: Option<&str>,
        details: Option<serde_json::Value>,
    ) -> Result<(), ServiceError> {
        self.audit
            .record(AuditEvent {
                action,
                outcome,
                client_address: caller.address(),
                certificate: Some(caller.client().identity()),
                card_number: caller.card_number().await.map(|n| n.as_str()),
                controller_oid: controller,
                document_oid: document,
                details,
            })
            .await
            .map_err(unavailable)
    }

    async fn sign_out(&self, caller: &RequestContext) -> Result<(), ServiceError> {
        self.signed_in(caller).await?;
        self.record_success(caller, AuditAction::SessionSignedOut, None)
            .await?;
        session::end(caller.session()).await.map_err(|error| {
            tracing::error!(%error, "cannot end the session");
            ServiceError::Unavailable
        })
    }

    async fn access(&self, caller: &RequestContext) -> Result<Access, ServiceError> {
        let chosen = self.signed_in(caller).await?.active_controller();
        let scope = match caller.scope().await {
            Ok(scope) => scope,
            Err(SignInError::CardNumber(refusal)) => {
                let reason = refusal.reason_code();
                tracing::warn!(address = %caller.address(), reason, "card number refused");
                self.audit
                    .record(AuditEvent {
                        action: AuditAction::CardNumberRefused,
                        outcome: Outcome::Refused { reason },
                        client_address: caller.address(),
                        certificate: Some(caller.client().identity()),
                        card_number: None,
                        controller_oid: None,
                        document_oid: None,
                        details: None,
                    })
                    .await
                    .map_err(unavailable)?;
                return Ok(Access::Refused {
                    reason: reason.to_owned(),
                });
            }
            Err(SignInError::Database(error)) => return Err(unavailable(error)),
        };
        let administrator = caller.is_administrator().await.map_err(unavailable)?;
        let controllers = scoped::controller_summaries(&self.reads, scope)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|c| LinkedController {
                oid: c.oid,
                name: c.name,
                // Whole seconds, like the certificate's validity on the same page.
                last_archived_at: c
                    .last_archived_at
                    .and_then(|t| t.replace_nanosecond(0).ok())
                    .and_then(|t| t.format(&Rfc3339).ok()),
            })
            .collect();
        Ok(Access::Linked {
            card_number: scope.card().card_number.to_string(),
            rule: match self.authenticator.rule().clone() {
                CardNumberRule::SubjectAttribute { oid } => RuleView::SubjectAttribute { oid },
                CardNumberRule::SanOtherName { type_id } => RuleView::SanOtherName { type_id },
                CardNumberRule::IssuerAndSerial => RuleView::IssuerAndSerial,
                CardNumberRule::Enrolled => RuleView::Enrolled,
            },
            administrator,
            active_controller: chosen
                .filter(|oid| scope.contains(oid))
                .map(|oid| oid.as_str().to_owned()),
            controllers,
        })
    }
}

/// The reason goes to the log; the page gets "temporarily unavailable".
pub(super) fn unavailable(error: sqlx::Error) -> ServiceError {
    tracing::error!(%error, "database error while serving an archivist");
    ServiceError::Unavailable
}

/// A card without a card number has no scope: to the pages, what it asks for is not there.
fn refusal(error: SignInError) -> ServiceError {
    match error {
        SignInError::CardNumber(_) => ServiceError::NotFound,
        SignInError::Database(error) => unavailable(error),
    }
}

/// The server's services bound to one request's caller: what [`super::context::attach`] hands
/// the pages for that request.
pub struct ForRequest {
    services: Arc<ServerServices>,
    caller: RequestContext,
}

impl ForRequest {
    pub(super) fn new(services: Arc<ServerServices>, caller: RequestContext) -> Self {
        Self { services, caller }
    }
}

impl ForRequest {
    /// The answer of `route`, with a refusal (not there, malformed) noted in the refusal log.
    fn noted<'a, T: Send + 'a>(
        &'a self,
        route: &'static str,
        identifier: Option<String>,
        answer: impl Future<Output = Result<T, ServiceError>> + Send + 'a,
    ) -> ServiceFuture<'a, T> {
        Box::pin(async move {
            let result = answer.await;
            if let Err(error) = &result
                && let Some(reason) = refused_as(error)
            {
                self.services
                    .refusals
                    .record(&self.caller, route, &reason, identifier.as_deref())
                    .await;
            }
            result
        })
    }
}

/// The refusals worth a trace: what was not there (or another controller's) and malformed
/// input. A missing session, a conflict and an outage are answers of another kind.
fn refused_as(error: &ServiceError) -> Option<String> {
    match error {
        ServiceError::NotFound => Some("not_found".to_owned()),
        ServiceError::Invalid(field) => Some(format!("invalid:{field}")),
        _ => None,
    }
}

impl ArchivistServices for ForRequest {
    fn access<'a>(&'a self) -> ServiceFuture<'a, Access> {
        Box::pin(self.services.access(&self.caller))
    }

    fn session<'a>(&'a self) -> ServiceFuture<'a, SessionView> {
        Box::pin(async move {
            let signed_in = self.services.signed_in(&self.caller).await?;
            Ok(SessionView {
                csrf_token: signed_in.csrf_token().to_owned(),
            })
        })
    }

    fn choose_controller<'a>(&'a self, controller: Option<String>) -> ServiceFuture<'a, ()> {
        let asked = controller.clone();
        self.noted(
            "choose_controller",
            asked,
            self.services.choose_controller(&self.caller, controller),
        )
    }

    fn sign_out<'a>(&'a self) -> ServiceFuture<'a, ()> {
        Box::pin(self.services.sign_out(&self.caller))
    }

    fn admin_overview<'a>(&'a self) -> ServiceFuture<'a, LinkFormOptions> {
        self.noted(
            "admin_overview",
            None,
            self.services.admin_overview(&self.caller),
        )
    }

    fn card_links<'a>(
        &'a self,
        card_number: Option<String>,
    ) -> ServiceFuture<'a, Vec<CardLinkView>> {
        let asked = card_number.clone();
        self.noted(
            "card_links",
            asked,
            self.services.card_links(&self.caller, card_number),
        )
    }

    fn link_card<'a>(&'a self, request: LinkRequest) -> ServiceFuture<'a, LinkResult> {
        let asked = Some(request.controller.clone());
        self.noted(
            "link_card",
            asked,
            self.services.link_card(&self.caller, request),
        )
    }

    fn unlink_card<'a>(
        &'a self,
        card_number: String,
        issuer: String,
        controller: String,
    ) -> ServiceFuture<'a, ()> {
        let asked = Some(controller.clone());
        self.noted(
            "unlink_card",
            asked,
            self.services
                .unlink_card(&self.caller, card_number, issuer, controller),
        )
    }

    fn change_controller<'a>(&'a self, change: ControllerChange) -> ServiceFuture<'a, ()> {
        self.noted(
            "change_controller",
            None,
            self.services.change_controller(&self.caller, change),
        )
    }

    fn change_deployment_test<'a>(&'a self, change: DeploymentTestChange) -> ServiceFuture<'a, ()> {
        self.noted(
            "change_deployment_test",
            None,
            self.services.change_deployment_test(&self.caller, change),
        )
    }

    fn admin_notices<'a>(&'a self) -> ServiceFuture<'a, Vec<AdminNoticeRow>> {
        self.noted(
            "admin_notices",
            None,
            self.services.admin_notices(&self.caller),
        )
    }

    fn save_notice<'a>(&'a self, form: NoticeForm) -> ServiceFuture<'a, ()> {
        self.noted(
            "save_notice",
            None,
            self.services.save_notice(&self.caller, form),
        )
    }

    fn end_notice<'a>(&'a self, id: String) -> ServiceFuture<'a, ()> {
        self.noted(
            "end_notice",
            Some(id.clone()),
            self.services.end_notice(&self.caller, id),
        )
    }

    fn audit<'a>(&'a self, query: AuditQuery) -> ServiceFuture<'a, AuditPage> {
        self.noted("audit", None, self.services.audit(&self.caller, query))
    }

    fn document<'a>(&'a self, document_oid: String) -> ServiceFuture<'a, DocumentView> {
        let asked = Some(document_oid.clone());
        self.noted(
            "document",
            asked,
            self.services.document(&self.caller, document_oid),
        )
    }

    fn search<'a>(&'a self, query: SearchQuery) -> ServiceFuture<'a, SearchPage> {
        self.noted("search", None, self.services.search(&self.caller, query))
    }

    fn client<'a>(&'a self, client: String) -> ServiceFuture<'a, ClientView> {
        let asked = Some(client.clone());
        self.noted("client", asked, self.services.client(&self.caller, client))
    }

    fn search_options<'a>(&'a self) -> ServiceFuture<'a, SearchOptions> {
        Box::pin(self.services.search_options(&self.caller))
    }

    fn stored_cda<'a>(&'a self, document_oid: String) -> ServiceFuture<'a, StoredCdaView> {
        let asked = Some(document_oid.clone());
        self.noted(
            "stored_cda",
            asked,
            self.services.stored_cda(&self.caller, document_oid),
        )
    }

    fn compare<'a>(&'a self, a: String, b: String) -> ServiceFuture<'a, ComparisonView> {
        let asked = Some(format!("{a} {b}"));
        self.noted("compare", asked, self.services.compare(&self.caller, a, b))
    }

    fn deployment_tests<'a>(&'a self) -> ServiceFuture<'a, Vec<DeploymentTestView>> {
        Box::pin(self.services.deployment_tests(&self.caller))
    }

    fn check_test_document<'a>(
        &'a self,
        controller: String,
        document: String,
    ) -> ServiceFuture<'a, ()> {
        let asked = Some(document.clone());
        self.noted(
            "check_test_document",
            asked,
            self.services
                .check_test_document(&self.caller, controller, document),
        )
    }

    fn confirm_deployment_test<'a>(&'a self, controller: String) -> ServiceFuture<'a, ()> {
        let asked = Some(controller.clone());
        self.noted(
            "confirm_deployment_test",
            asked,
            self.services
                .confirm_deployment_test(&self.caller, controller),
        )
    }
}
