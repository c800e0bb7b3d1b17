//! Administrative changes, whoever makes them: an operator from a shell on the archive's host
//! (`archivist card …`) or an administrator signed in with a card (the administrators' pages).
//! One set of functions, so that both are checked and recorded the same way.

use std::net::IpAddr;

use identity::VerifiedClient;
use serde_json::json;
use sqlx::PgPool;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use identity::CardKey;

use crate::{
    archive::{ControllerOid, DocumentOid},
    audit::{self, AuditAction, AuditEvent, OperatorEvent, Outcome, operator_account},
    store::{
        cards::{self, CardLinkError, LinkOutcome, Validity},
        controllers, deployment_test,
    },
};

/// Who makes a change.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// From a shell on the archive's host: the operating-system account is recorded.
    Operator,
    /// Signed in with a card that holds the administrator right (checked by the caller).
    Administrator {
        card: &'a CardKey,
        client: &'a VerifiedClient,
        address: IpAddr,
    },
}

impl Actor<'_> {
    /// Stored with the change itself (`linked_by`, `unlinked_by`, …).
    pub fn label(&self) -> String {
        match self {
            Self::Operator => format!("operator:{}", operator_account()),
            Self::Administrator { card, client, .. } => format!(
                "card:{} ({})",
                card.card_number,
                client.identity().holder_name
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Links(#[from] CardLinkError),
    #[error("the change was made but could not be written to the audit log: {0}")]
    Audit(sqlx::Error),
}

/// Writes an administrative change to the audit log as its actor made it.
pub async fn record_change(
    pool: &PgPool,
    actor: &Actor<'_>,
    action: AuditAction,
    controller: Option<&ControllerOid>,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    record_change_in(pool, actor, action, controller, details).await
}

/// [`record_change`] through `executor`: the change's own transaction, so that the change and
/// its audit row commit together or not at all.
pub async fn record_change_in<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    actor: &Actor<'_>,
    action: AuditAction,
    controller: Option<&ControllerOid>,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    match actor {
        Actor::Operator => {
            audit::record_operator_in(
                executor,
                OperatorEvent {
                    action,
                    outcome: Outcome::Success,
                    controller_oid: controller.map(ControllerOid::as_str),
                    document_oid: None,
                    details: Some(details),
                },
            )
            .await
        }
        Actor::Administrator {
            card,
            client,
            address,
        } => {
            audit::record_in(
                executor,
                AuditEvent {
                    action,
                    outcome: Outcome::Success,
                    client_address: *address,
                    certificate: Some(client.identity()),
                    card_number: Some(card.card_number.as_str()),
                    controller_oid: controller.map(ControllerOid::as_str),
                    document_oid: None,
                    details: Some(details),
                },
            )
            .await
        }
    }
}

/// The card a change concerns, as the audit row's details name it.
fn card_details(card: &CardKey, extra: serde_json::Value) -> serde_json::Value {
    let mut details = json!({
        "card_number": card.card_number.as_str(),
        "issuer": card.issuer,
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (details.as_object_mut(), extra) {
        map.extend(extra);
    }
    details
}

pub async fn record_card_change(
    pool: &PgPool,
    actor: &Actor<'_>,
    action: AuditAction,
    card: &CardKey,
    controller: Option<&ControllerOid>,
    extra: serde_json::Value,
) -> Result<(), sqlx::Error> {
    record_change(pool, actor, action, controller, card_details(card, extra)).await
}

/// Links a card number to a controller; nothing changes (and nothing is recorded) when the
/// link is already there.
pub async fn link_card(
    pool: &PgPool,
    actor: &Actor<'_>,
    card: &CardKey,
    controller: &ControllerOid,
    validity: Validity,
) -> Result<LinkOutcome, AdminError> {
    let outcome = cards::link(pool, card, controller, validity, &actor.label()).await?;
    if outcome == LinkOutcome::Linked {
        let format = |t: Option<OffsetDateTime>| t.and_then(|t| t.format(&Rfc3339).ok());
        record_card_change(
            pool,
            actor,
            AuditAction::CardLinked,
            card,
            Some(controller),
            json!({ "valid_from": format(validity.from), "valid_until": format(validity.until) }),
        )
        .await
        .map_err(AdminError::Audit)?;
    }
    Ok(outcome)
}

/// Ends a card's live link to a controller; `false` when there was none.
pub async fn unlink_card(
    pool: &PgPool,
    actor: &Actor<'_>,
    card: &CardKey,
    controller: &ControllerOid,
) -> Result<bool, AdminError> {
    let ended = cards::unlink(pool, card, controller, &actor.label()).await?;
    if ended {
        record_card_change(
            pool,
            actor,
            AuditAction::CardUnlinked,
            card,
            Some(controller),
            json!({}),
        )
        .await
        .map_err(AdminError::Audit)?;
    }
    Ok(ended)
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerChangeError {
    #[error("{0}")]
    Controllers(#[from] controllers::ControllerError),
    #[error("the change was made but could not be written to the audit log: {0}")]
    Audit(sqlx::Error),
}

/// Creates a controller ahead of its first document, so that cards can be linked to it.
pub async fn create_controller(
    pool: &PgPool,
    actor: &Actor<'_>,
    oid: &ControllerOid,
    name: &str,
) -> Result<(), ControllerChangeError> {
    controllers::create(pool, oid, name).await?;
    record_change(
        pool,
        actor,
        AuditAction::ControllerCreated,
        Some(oid),
        json!({ "name": name.trim() }),
    )
    .await
    .map_err(ControllerChangeError::Audit)
}

/// Renames a controller; returns the old name.
pub async fn rename_controller(
    pool: &PgPool,
    actor: &Actor<'_>,
    oid: &ControllerOid,
    name: &str,
) -> Result<String, ControllerChangeError> {
    let old = controllers::rename(pool, oid, name).await?;
    record_change(
        pool,
        actor,
        AuditAction::ControllerRenamed,
        Some(oid),
        json!({ "from": old, "to": name.trim() }),
    )
    .await
    .map_err(ControllerChangeError::Audit)?;
    Ok(old)
}

/// Merges a controller into its successor; returns how many documents changed their active
/// controller.
pub async fn merge_controller(
    pool: &PgPool,
    actor: &Actor<'_>,
    oid: &ControllerOid,
    successor: &ControllerOid,
) -> Result<u64, ControllerChangeError> {
    let moved = controllers::set_successor(pool, oid, successor).await?;
    record_change(
        pool,
        actor,
        AuditAction::ControllerMerged,
        Some(oid),
        json!({ "successor": successor.as_str(), "documents_moved": moved }),
    )
    .await
    .map_err(ControllerChangeError::Audit)?;
    Ok(moved)
}

#[derive(Debug, thiserror::Error)]
pub enum DeploymentTestChangeError {
    #[error("{0}")]
    Tests(#[from] deployment_test::DeploymentTestError),
    #[error("the change was made but could not be written to the audit log: {0}")]
    Audit(sqlx::Error),
}

/// Defines a controller's deployment test case, or adds documents and test clients to it.
pub async fn define_deployment_test(
    pool: &PgPool,
    actor: &Actor<'_>,
    controller: &ControllerOid,
    documents: &[DocumentOid],
    clients: &[String],
) -> Result<deployment_test::Defined, DeploymentTestChangeError> {
    let defined =
        deployment_test::define(pool, controller, documents, clients, &actor.label()).await?;
    record_change(
        pool,
        actor,
        AuditAction::DeploymentTestDefined,
        Some(controller),
        json!({
            "created": defined.created,
            "documents": documents.iter().map(DocumentOid::as_str).collect::<Vec<_>>(),
            "clients": clients.len(),
            "documents_added": defined.documents_added,
            "clients_added": defined.clients_added,
        }),
    )
    .await
    .map_err(DeploymentTestChangeError::Audit)?;
    Ok(defined)
}

/// Resets a deployment test with a reason: a new round, and the controller back in deployment.
/// Returns the new round.
pub async fn reset_deployment_test(
    pool: &PgPool,
    actor: &Actor<'_>,
    controller: &ControllerOid,
    reason: &str,
) -> Result<i32, DeploymentTestChangeError> {
    let round = deployment_test::reset(pool, controller, reason, &actor.label()).await?;
    record_change(
        pool,
        actor,
        AuditAction::DeploymentTestReset,
        Some(controller),
        json!({ "reason": reason.trim(), "round": round }),
    )
    .await
    .map_err(DeploymentTestChangeError::Audit)?;
    Ok(round)
}
