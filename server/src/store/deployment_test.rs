//! Deployment tests as administrators manage them: define a controller's test case (documents
//! by OID, test clients by identifier) and reset a test with a reason, which starts a new round
//! and takes the controller back out of production. The archivist's checks and confirmation
//! are in `scoped::deployment_test`.

use sqlx::{Connection as _, PgConnection};

use crate::archive::{ControllerOid, DocumentOid};

#[derive(Debug, thiserror::Error)]
pub enum DeploymentTestError {
    #[error("controller {0} is not in the archive")]
    UnknownController(ControllerOid),
    #[error("controller {0} has no deployment test")]
    NoTest(ControllerOid),
    #[error(
        "the deployment test of {0} is confirmed; reset it (with a reason) before changing its case"
    )]
    Confirmed(ControllerOid),
    #[error("a test case needs at least one document or test client")]
    NothingNamed,
    #[error("a test client's identifier must not be empty")]
    EmptyClient,
    #[error("a reset needs a reason")]
    NoReason,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a definition added (names already in the case are not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Defined {
    /// The test did not exist before.
    pub created: bool,
    pub documents_added: u64,
    pub clients_added: u64,
}

/// Creates the controller's test (in progress, round 1) when it has none, and adds the named
/// documents and test clients to its case.
pub async fn define(
    conn: &mut PgConnection,
    controller: &ControllerOid,
    documents: &[DocumentOid],
    clients: &[String],
    defined_by: &str,
) -> Result<Defined, DeploymentTestError> {
    if documents.is_empty() && clients.is_empty() {
        return Err(DeploymentTestError::NothingNamed);
    }
    let clients: Vec<String> = clients.iter().map(|c| c.trim().to_owned()).collect();
    if clients.iter().any(String::is_empty) {
        return Err(DeploymentTestError::EmptyClient);
    }
    let documents: Vec<String> = documents.iter().map(|d| d.as_str().to_owned()).collect();
    let mut tx = conn.begin().await?;
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM controller WHERE oid = $1) AS "known!""#,
        controller.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(DeploymentTestError::UnknownController(controller.clone()));
    }
    let created = sqlx::query!(
        "INSERT INTO deployment_test (controller_oid, state, defined_by)
         VALUES ($1, 'in_progress', $2) ON CONFLICT (controller_oid) DO NOTHING",
        controller.as_str(),
        defined_by,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    let state = sqlx::query_scalar!(
        "SELECT state FROM deployment_test WHERE controller_oid = $1 FOR UPDATE",
        controller.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    if state == "confirmed" {
        return Err(DeploymentTestError::Confirmed(controller.clone()));
    }
    let documents_added = sqlx::query!(
        "INSERT INTO deployment_test_document (controller_oid, document_oid)
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        controller.as_str(),
        &documents,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let clients_added = sqlx::query!(
        "INSERT INTO deployment_test_client (controller_oid, client_id_value)
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
        controller.as_str(),
        &clients,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Defined {
        created,
        documents_added,
        clients_added,
    })
}

/// Starts the test again: the next round (no checks yet), not confirmed, and the controller
/// back in deployment. Returns the new round.
pub async fn reset(
    conn: &mut PgConnection,
    controller: &ControllerOid,
    reason: &str,
    reset_by: &str,
) -> Result<i32, DeploymentTestError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DeploymentTestError::NoReason);
    }
    let mut tx = conn.begin().await?;
    let round = sqlx::query_scalar!(
        "UPDATE deployment_test
         SET state = 'in_progress', round = round + 1, confirmed_at = NULL,
             confirmed_by_card = NULL, confirmed_by_satu = NULL, confirmed_by_name = NULL,
             confirmed_certificate_sha256 = NULL,
             reset_at = now(), reset_by = $2, reset_reason = $3
         WHERE controller_oid = $1
         RETURNING round",
        controller.as_str(),
        reset_by,
        reason,
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| DeploymentTestError::NoTest(controller.clone()))?;
    sqlx::query!(
        "UPDATE controller SET production_since = NULL WHERE oid = $1",
        controller.as_str(),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(round)
}
