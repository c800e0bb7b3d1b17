//! Administrative changes, whoever makes them: an operator from a shell on the archive's host
//! (`archivist card …`) or an administrator signed in with a card (the administrators' pages).
//! One set of functions, so that both are checked and recorded the same way, each change in one
//! transaction with its audit row.

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
        cards::{self, CardLinkError, Enrolment, EnrolmentError, LinkOutcome, Validity},
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

/// Every change here commits with its audit row in one transaction: both are written or
/// neither is, so the log never lacks a change that was made (and a change whose row cannot be
/// written is not made).
const NOT_AUDITED: &str = "nothing was changed: the audit log could not take the change's row";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Links(#[from] CardLinkError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{NOT_AUDITED} ({0})")]
    Audit(sqlx::Error),
}

/// Writes an administrative change to the audit log as its actor made it, through `executor`:
/// the change's own transaction, so that the change and its audit row commit together or not
/// at all.
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
                &AuditEvent {
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

/// Links a card number to a controller; nothing changes (and nothing is recorded) when the
/// link is already there.
pub async fn link_card(
    pool: &PgPool,
    actor: &Actor<'_>,
    card: &CardKey,
    controller: &ControllerOid,
    validity: Validity,
) -> Result<LinkOutcome, AdminError> {
    let mut tx = pool.begin().await?;
    let outcome = cards::link(&mut tx, card, controller, validity, &actor.label()).await?;
    if outcome == LinkOutcome::Linked {
        let format = |t: Option<OffsetDateTime>| t.and_then(|t| t.format(&Rfc3339).ok());
        let extra =
            json!({ "valid_from": format(validity.from), "valid_until": format(validity.until) });
        record_change_in(
            &mut *tx,
            actor,
            AuditAction::CardLinked,
            Some(controller),
            card_details(card, extra),
        )
        .await
        .map_err(AdminError::Audit)?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Ends a card's live link to a controller; `false` when there was none.
pub async fn unlink_card(
    pool: &PgPool,
    actor: &Actor<'_>,
    card: &CardKey,
    controller: &ControllerOid,
) -> Result<bool, AdminError> {
    let mut tx = pool.begin().await?;
    let ended = cards::unlink(&mut tx, card, controller, &actor.label()).await?;
    if ended {
        let details = card_details(card, json!({}));
        record_change_in(
            &mut *tx,
            actor,
            AuditAction::CardUnlinked,
            Some(controller),
            details,
        )
        .await
        .map_err(AdminError::Audit)?;
    }
    tx.commit().await?;
    Ok(ended)
}

/// Makes a card an administrator; `false` when it already was one (nothing recorded).
pub async fn grant_administrator(
    pool: &PgPool,
    actor: &Actor<'_>,
    card: &CardKey,
) -> Result<bool, AdminError> {
    let mut tx = pool.begin().await?;
    let granted = cards::grant_administrator(&mut tx, card, &actor.label()).await?;
    if granted {
        let details = card_details(card, json!({}));
        record_change_in(
            &mut *tx,
            actor,
            AuditAction::AdministratorGranted,
            None,
            details,
        )
        .await
        .map_err(AdminError::Audit)?;
    }
    tx.commit().await?;
    Ok(granted)
}

/// Ends a card's administrator right; `false` when it had none.
pub async fn revoke_administrator(
    pool: &PgPool,
    actor: &Actor<'_>,
    card: &CardKey,
) -> Result<bool, AdminError> {
    let mut tx = pool.begin().await?;
    let revoked = cards::revoke_administrator(&mut tx, card, &actor.label()).await?;
    if revoked {
        let details = card_details(card, json!({}));
        record_change_in(
            &mut *tx,
            actor,
            AuditAction::AdministratorRevoked,
            None,
            details,
        )
        .await
        .map_err(AdminError::Audit)?;
    }
    tx.commit().await?;
    Ok(revoked)
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolmentChangeError {
    #[error("nothing was imported: {0}")]
    Enrolment(#[from] EnrolmentError),
    #[error("{NOT_AUDITED} ({0})")]
    Audit(sqlx::Error),
}

/// Imports enrolled bindings (all or none) with one audit row naming the file.
pub async fn import_enrolment(
    pool: &PgPool,
    actor: &Actor<'_>,
    file: &str,
    rows: &[Enrolment],
) -> Result<u64, EnrolmentChangeError> {
    let mut tx = pool.begin().await.map_err(EnrolmentError::from)?;
    let added = cards::enrol(&mut tx, rows, &actor.label()).await?;
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::EnrolmentImported,
        None,
        json!({ "file": file, "rows": rows.len(), "added": added }),
    )
    .await
    .map_err(EnrolmentChangeError::Audit)?;
    tx.commit().await.map_err(EnrolmentError::from)?;
    Ok(added)
}

#[derive(Debug, thiserror::Error)]
pub enum ControllerChangeError {
    #[error("{0}")]
    Controllers(#[from] controllers::ControllerError),
    #[error("{NOT_AUDITED} ({0})")]
    Audit(sqlx::Error),
}

impl From<sqlx::Error> for ControllerChangeError {
    fn from(error: sqlx::Error) -> Self {
        Self::Controllers(error.into())
    }
}

/// Creates a controller ahead of its first document, so that cards can be linked to it.
pub async fn create_controller(
    pool: &PgPool,
    actor: &Actor<'_>,
    oid: &ControllerOid,
    name: &str,
) -> Result<(), ControllerChangeError> {
    let mut tx = pool.begin().await?;
    controllers::create(&mut tx, oid, name).await?;
    let details = json!({ "name": name.trim() });
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::ControllerCreated,
        Some(oid),
        details,
    )
    .await
    .map_err(ControllerChangeError::Audit)?;
    Ok(tx.commit().await?)
}

/// Renames a controller; returns the old name.
pub async fn rename_controller(
    pool: &PgPool,
    actor: &Actor<'_>,
    oid: &ControllerOid,
    name: &str,
) -> Result<String, ControllerChangeError> {
    let mut tx = pool.begin().await?;
    let old = controllers::rename(&mut tx, oid, name).await?;
    let details = json!({ "from": old, "to": name.trim() });
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::ControllerRenamed,
        Some(oid),
        details,
    )
    .await
    .map_err(ControllerChangeError::Audit)?;
    tx.commit().await?;
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
    let mut tx = pool.begin().await?;
    let moved = controllers::set_successor(&mut tx, oid, successor).await?;
    let details = json!({ "successor": successor.as_str(), "documents_moved": moved });
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::ControllerMerged,
        Some(oid),
        details,
    )
    .await
    .map_err(ControllerChangeError::Audit)?;
    tx.commit().await?;
    Ok(moved)
}

#[derive(Debug, thiserror::Error)]
pub enum DeploymentTestChangeError {
    #[error("{0}")]
    Tests(#[from] deployment_test::DeploymentTestError),
    #[error("{NOT_AUDITED} ({0})")]
    Audit(sqlx::Error),
}

impl From<sqlx::Error> for DeploymentTestChangeError {
    fn from(error: sqlx::Error) -> Self {
        Self::Tests(error.into())
    }
}

/// Defines a controller's deployment test case, or adds documents and test clients to it.
pub async fn define_deployment_test(
    pool: &PgPool,
    actor: &Actor<'_>,
    controller: &ControllerOid,
    documents: &[DocumentOid],
    clients: &[String],
) -> Result<deployment_test::Defined, DeploymentTestChangeError> {
    let mut tx = pool.begin().await?;
    let defined =
        deployment_test::define(&mut tx, controller, documents, clients, &actor.label()).await?;
    let details = json!({
        "created": defined.created,
        "documents": documents.iter().map(DocumentOid::as_str).collect::<Vec<_>>(),
        "clients": clients.len(),
        "documents_added": defined.documents_added,
        "clients_added": defined.clients_added,
    });
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::DeploymentTestDefined,
        Some(controller),
        details,
    )
    .await
    .map_err(DeploymentTestChangeError::Audit)?;
    tx.commit().await?;
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
    let mut tx = pool.begin().await?;
    let round = deployment_test::reset(&mut tx, controller, reason, &actor.label()).await?;
    let details = json!({ "reason": reason.trim(), "round": round });
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::DeploymentTestReset,
        Some(controller),
        details,
    )
    .await
    .map_err(DeploymentTestChangeError::Audit)?;
    tx.commit().await?;
    Ok(round)
}
