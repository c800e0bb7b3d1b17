//! The deployment test page's answers: the tests of the active controllers with their
//! documents, a check of one document, and the confirmation that moves a controller to
//! production. Each is audited; refused confirmations too, with the reason.

use app::{
    model::deployment_test::{
        ALREADY_CONFIRMED, Check, Confirmation, DeploymentTestView, EMPTY_CASE, Reset,
        TestDocument, TestView, UNFINISHED,
    },
    ssr::ServiceError,
};
use serde_json::json;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::context::RequestContext;
use crate::{
    archive::{ControllerOid, DocumentOid},
    audit::{AuditAction, Outcome},
    auth::ControllerScope,
    store::scoped::deployment_test::{
        self, Checker, TestChangeError, TestDocumentRecord, TestRecord,
    },
};

use super::{
    access::{ServerServices, unavailable},
    search::row_of,
};

impl ServerServices {
    pub(super) async fn deployment_tests(
        &self,
        caller: &RequestContext,
    ) -> Result<Vec<DeploymentTestView>, ServiceError> {
        let scope = self.active_scope(caller).await?;
        let tests = deployment_test::tests(&self.reads, &scope)
            .await
            .map_err(unavailable)?;
        let documents = deployment_test::test_documents(&self.reads, &scope)
            .await
            .map_err(unavailable)?;
        self.record(
            caller,
            AuditAction::DeploymentTestViewed,
            Outcome::Success,
            None,
            None,
            json!({
                "controllers": scope.controllers().iter().map(ControllerOid::as_str).collect::<Vec<_>>(),
                "documents": documents.len(),
            }),
        )
        .await?;
        Ok(tests
            .into_iter()
            .map(|test| view_of(test, &documents))
            .collect())
    }

    pub(super) async fn check_test_document(
        &self,
        caller: &RequestContext,
        controller: String,
        document: String,
    ) -> Result<(), ServiceError> {
        // A malformed identifier cannot name anything in the scope: the same answer as an
        // unknown one.
        let controller = ControllerOid::parse(&controller).map_err(|_| ServiceError::NotFound)?;
        let document = DocumentOid::parse(&document).map_err(|_| ServiceError::NotFound)?;
        let scope = self.active_scope(caller).await?;
        let certificate = certificate_sha256(caller);
        let checker = checker(caller, &scope, &certificate);
        let result =
            deployment_test::check_document(&self.pool, &scope, &controller, &document, checker)
                .await;
        let added = match result {
            Ok(added) => added,
            Err(error) => {
                return Err(self
                    .refused(
                        caller,
                        AuditAction::DeploymentTestDocumentChecked,
                        &controller,
                        Some(&document),
                        error,
                    )
                    .await);
            }
        };
        if added {
            self.record(
                caller,
                AuditAction::DeploymentTestDocumentChecked,
                Outcome::Success,
                Some(&controller),
                Some(&document),
                json!({}),
            )
            .await?;
        }
        Ok(())
    }

    pub(super) async fn confirm_deployment_test(
        &self,
        caller: &RequestContext,
        controller: String,
    ) -> Result<(), ServiceError> {
        let controller = ControllerOid::parse(&controller).map_err(|_| ServiceError::NotFound)?;
        let scope = self.active_scope(caller).await?;
        let certificate = certificate_sha256(caller);
        let checker = checker(caller, &scope, &certificate);
        match deployment_test::confirm(&self.pool, &scope, &controller, checker).await {
            Ok(confirmed_at) => {
                self.record(
                    caller,
                    AuditAction::DeploymentTestConfirmed,
                    Outcome::Success,
                    Some(&controller),
                    None,
                    json!({
                        "confirmed_at": confirmed_at.format(&Rfc3339).unwrap_or_default(),
                        "certificate_sha256": certificate,
                    }),
                )
                .await?;
                Ok(())
            }
            Err(error) => Err(self
                .refused(
                    caller,
                    AuditAction::DeploymentTestConfirmed,
                    &controller,
                    None,
                    error,
                )
                .await),
        }
    }

    /// Records a refused check or confirmation and gives the page its answer. Nothing is
    /// recorded for a controller outside the scope: that must look like one that does not exist.
    async fn refused(
        &self,
        caller: &RequestContext,
        action: AuditAction,
        controller: &ControllerOid,
        document: Option<&DocumentOid>,
        error: TestChangeError,
    ) -> ServiceError {
        let (answer, reason) = match error {
            TestChangeError::NotFound => return ServiceError::NotFound,
            TestChangeError::Database(error) => return unavailable(error),
            TestChangeError::AlreadyConfirmed => (
                ServiceError::conflict(ALREADY_CONFIRMED),
                "already_confirmed",
            ),
            TestChangeError::Unfinished(_) => (ServiceError::conflict(UNFINISHED), "unfinished"),
            TestChangeError::Empty => (ServiceError::conflict(EMPTY_CASE), "empty_case"),
        };
        match self
            .record(
                caller,
                action,
                Outcome::Refused { reason },
                Some(controller),
                document,
                json!({}),
            )
            .await
        {
            Ok(()) => answer,
            Err(error) => error,
        }
    }

    async fn record(
        &self,
        caller: &RequestContext,
        action: AuditAction,
        outcome: Outcome,
        controller: Option<&ControllerOid>,
        document: Option<&DocumentOid>,
        details: serde_json::Value,
    ) -> Result<(), ServiceError> {
        self.record_access(
            caller,
            action,
            outcome,
            controller.map(ControllerOid::as_str),
            document.map(DocumentOid::as_str),
            Some(details),
        )
        .await
    }
}

/// The signed-in card's holder, as a check or confirmation records them.
fn checker<'a>(
    caller: &'a RequestContext,
    scope: &'a ControllerScope,
    certificate_sha256: &'a str,
) -> Checker<'a> {
    let identity = caller.client().identity();
    Checker {
        card_number: scope.card().card_number.as_str(),
        satu: identity.satu.as_deref(),
        name: &identity.holder_name,
        certificate_sha256,
    }
}

/// SHA-256 of the leaf certificate the connection was verified with, hex.
fn certificate_sha256(caller: &RequestContext) -> String {
    caller
        .client()
        .chain()
        .first()
        .map(|der| hex::encode(ring::digest::digest(&ring::digest::SHA256, der)))
        .unwrap_or_default()
}

fn time_text(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn view_of(record: TestRecord, documents: &[TestDocumentRecord]) -> DeploymentTestView {
    let controller = record.controller_oid;
    let test =
        record.test.map(|test| {
            let confirmed = (test.state == "confirmed")
                .then(|| {
                    Some(Confirmation {
                        at: time_text(test.confirmed_at?),
                        by_name: test.confirmed_by_name.clone()?,
                        by_satu: test.confirmed_by_satu.clone(),
                        card_number: test.confirmed_by_card.clone()?,
                        certificate_sha256: test.confirmed_certificate_sha256.clone()?,
                    })
                })
                .flatten();
            let last_reset = match (test.reset_at, test.reset_by, test.reset_reason) {
                (Some(at), Some(by), Some(reason)) => Some(Reset {
                    at: time_text(at),
                    by,
                    reason,
                }),
                _ => None,
            };
            TestView {
                confirmed,
                round: test.round,
                defined_by: test.defined_by,
                defined_at: time_text(test.defined_at),
                last_reset,
                documents: documents
                    .iter()
                    .filter(|d| d.controller_oid == controller)
                    .map(|d| TestDocument {
                        document_oid: d.document_oid.clone(),
                        named: d.named,
                        archived: d.archived.clone().map(row_of),
                        checked: d.checked_by_name.clone().zip(d.checked_at).map(
                            |(by_name, at)| Check {
                                by_name,
                                at: time_text(at),
                            },
                        ),
                    })
                    .collect(),
            }
        });
    DeploymentTestView {
        controller_oid: controller,
        controller_name: record.controller_name,
        production_since: record.production_since.map(time_text),
        test,
    }
}
