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
    model::deployment::DeploymentTestView,
    model::documents::{DocumentView, StoredCdaView},
    model::search::{SearchOptions, SearchPage, SearchQuery},
    ssr::{ArchivistServices, AuditQuery, Caller, LinkRequest, ServiceError, ServiceFuture},
};
use sqlx::PgPool;
use time::format_description::well_known::Rfc3339;

use crate::{
    archive::ControllerOid,
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::{Authenticator, CardNumberRule, ControllerScope, SignInError},
    store::scoped,
};

use super::session::{self, SignedIn};

pub struct ServerServices {
    pub(super) pool: PgPool,
    pub(super) authenticator: Authenticator,
    pub(super) audit: AuditLog,
    /// The issuing CAs' names (`tls.client_ca`), under which administrators link card numbers.
    pub(super) issuers: Vec<String>,
}

impl ServerServices {
    pub fn new(
        pool: PgPool,
        authenticator: Authenticator,
        audit: AuditLog,
        issuers: Vec<String>,
    ) -> Self {
        Self {
            pool,
            authenticator,
            audit,
            issuers,
        }
    }

    /// The session [`super::session::establish`] made sure of before the request got here.
    pub(super) async fn signed_in(&self, caller: &Caller) -> Result<SignedIn, ServiceError> {
        match session::signed_in(&caller.session).await {
            Ok(Some(signed_in)) => Ok(signed_in),
            Ok(None) => Err(ServiceError::NoSession),
            Err(error) => {
                tracing::error!(%error, "cannot read the session");
                Err(ServiceError::Unavailable)
            }
        }
    }

    /// The card's whole scope now; a card without a card number has none.
    pub(super) async fn full_scope(
        &self,
        caller: &Caller,
    ) -> Result<ControllerScope, ServiceError> {
        match self.authenticator.scope(&caller.client).await {
            Ok(scope) => Ok(scope),
            Err(SignInError::CardNumber(_)) => Err(ServiceError::NotFound),
            Err(SignInError::Database(error)) => Err(unavailable(error)),
        }
    }

    async fn choose(
        &self,
        caller: &Caller,
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
        session::choose_controller(&caller.session, chosen.as_ref())
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
        caller: &Caller,
    ) -> Result<ControllerScope, ServiceError> {
        let chosen = self.signed_in(caller).await?.active_controller();
        Ok(self.full_scope(caller).await?.narrowed_to(chosen.as_ref()))
    }

    /// Records something the caller did, with the caller's certificate and card number.
    pub(super) async fn record_success(
        &self,
        caller: &Caller,
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
        caller: &Caller,
        action: AuditAction,
        outcome: Outcome,
        controller: Option<&str>,
        document: Option<&str>,
        details: Option<serde_json::Value>,
    ) -> Result<(), ServiceError> {
        let card_number = self
            .authenticator
            .card_key(&caller.client)
            .await
            .ok()
            .map(|key| key.card_number);
        self.audit
            .record(AuditEvent {
                action,
                outcome,
                client_address: caller.address,
                certificate: Some(caller.client.identity()),
                card_number: card_number.as_ref().map(|n| n.as_str()),
                controller_oid: controller,
                document_oid: document,
                details,
            })
            .await
            .map_err(unavailable)
    }

    async fn end_session(&self, caller: &Caller) -> Result<(), ServiceError> {
        self.signed_in(caller).await?;
        self.record_success(caller, AuditAction::SessionSignedOut, None)
            .await?;
        session::end(&caller.session).await.map_err(|error| {
            tracing::error!(%error, "cannot end the session");
            ServiceError::Unavailable
        })
    }

    async fn current_access(&self, caller: &Caller) -> Result<Access, ServiceError> {
        let chosen = self.signed_in(caller).await?.active_controller();
        let scope = match self.authenticator.scope(&caller.client).await {
            Ok(scope) => scope,
            Err(SignInError::CardNumber(refusal)) => {
                let reason = refusal.reason_code();
                tracing::warn!(address = %caller.address, reason, "card number refused");
                self.audit
                    .record(AuditEvent {
                        action: AuditAction::CardNumberRefused,
                        outcome: Outcome::Refused { reason },
                        client_address: caller.address,
                        certificate: Some(caller.client.identity()),
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
        let administrator = self
            .authenticator
            .is_administrator(scope.card())
            .await
            .map_err(unavailable)?;
        let controllers = scoped::controller_summaries(&self.pool, &scope)
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

impl ArchivistServices for ServerServices {
    fn access<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, Access> {
        Box::pin(self.current_access(caller))
    }

    fn session<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, SessionView> {
        Box::pin(async move {
            let signed_in = self.signed_in(caller).await?;
            Ok(SessionView {
                csrf_token: signed_in.csrf_token().to_owned(),
            })
        })
    }

    fn choose_controller<'a>(
        &'a self,
        caller: &'a Caller,
        controller: Option<String>,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(self.choose(caller, controller))
    }

    fn sign_out<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, ()> {
        Box::pin(self.end_session(caller))
    }

    fn admin_overview<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, LinkFormOptions> {
        Box::pin(self.overview(caller))
    }

    fn card_links<'a>(
        &'a self,
        caller: &'a Caller,
        card_number: Option<String>,
    ) -> ServiceFuture<'a, Vec<CardLinkView>> {
        Box::pin(self.links(caller, card_number))
    }

    fn link_card<'a>(
        &'a self,
        caller: &'a Caller,
        request: LinkRequest,
    ) -> ServiceFuture<'a, LinkResult> {
        Box::pin(self.link(caller, request))
    }

    fn unlink_card<'a>(
        &'a self,
        caller: &'a Caller,
        card_number: String,
        issuer: String,
        controller: String,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(self.unlink(caller, card_number, issuer, controller))
    }

    fn change_controller<'a>(
        &'a self,
        caller: &'a Caller,
        change: ControllerChange,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(self.controller_change(caller, change))
    }

    fn change_deployment_test<'a>(
        &'a self,
        caller: &'a Caller,
        change: DeploymentTestChange,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(self.deployment_test_change(caller, change))
    }

    fn audit<'a>(&'a self, caller: &'a Caller, query: AuditQuery) -> ServiceFuture<'a, AuditPage> {
        Box::pin(self.audit_rows(caller, query))
    }

    fn document<'a>(
        &'a self,
        caller: &'a Caller,
        document_oid: String,
    ) -> ServiceFuture<'a, DocumentView> {
        Box::pin(self.document_view(caller, document_oid))
    }

    fn search<'a>(
        &'a self,
        caller: &'a Caller,
        query: SearchQuery,
    ) -> ServiceFuture<'a, SearchPage> {
        Box::pin(self.search_page(caller, query))
    }

    fn client<'a>(&'a self, caller: &'a Caller, client: String) -> ServiceFuture<'a, ClientView> {
        Box::pin(self.client_view(caller, client))
    }

    fn search_options<'a>(&'a self, caller: &'a Caller) -> ServiceFuture<'a, SearchOptions> {
        Box::pin(self.search_choices(caller))
    }

    fn stored_cda<'a>(
        &'a self,
        caller: &'a Caller,
        document_oid: String,
    ) -> ServiceFuture<'a, StoredCdaView> {
        Box::pin(self.stored_cda_view(caller, document_oid))
    }

    fn compare<'a>(
        &'a self,
        caller: &'a Caller,
        a: String,
        b: String,
    ) -> ServiceFuture<'a, ComparisonView> {
        Box::pin(self.comparison(caller, a, b))
    }

    fn deployment_tests<'a>(
        &'a self,
        caller: &'a Caller,
    ) -> ServiceFuture<'a, Vec<DeploymentTestView>> {
        Box::pin(self.deployment_test_views(caller))
    }

    fn check_test_document<'a>(
        &'a self,
        caller: &'a Caller,
        controller: String,
        document: String,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(self.check_document(caller, controller, document))
    }

    fn confirm_deployment_test<'a>(
        &'a self,
        caller: &'a Caller,
        controller: String,
    ) -> ServiceFuture<'a, ()> {
        Box::pin(self.confirm_test(caller, controller))
    }
}
