//! Controllers (rekisterinpitäjät) as administrators manage them: created before their first
//! document arrives (so cards can be linked ahead), renamed, and merged into a successor.

use sqlx::{Connection as _, PgConnection, PgPool};

use crate::archive::ControllerOid;

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    #[error("controller {0} is already in the archive")]
    Exists(ControllerOid),
    #[error("controller {0} is not in the archive")]
    Unknown(ControllerOid),
    #[error("a controller's name must not be empty")]
    EmptyName,
    #[error("controller {0} already has the successor {1}; a merger is not undone or redirected")]
    SuccessorSet(ControllerOid, String),
    #[error("{successor} cannot succeed {controller}: it is {controller} or merged into it")]
    Cycle {
        controller: ControllerOid,
        successor: ControllerOid,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controller {
    pub oid: String,
    pub name: String,
    pub successor_oid: Option<String>,
    pub in_production: bool,
}

fn checked_name(name: &str) -> Result<&str, ControllerError> {
    let name = name.trim();
    if name.is_empty() {
        Err(ControllerError::EmptyName)
    } else {
        Ok(name)
    }
}

pub async fn create(
    conn: &mut PgConnection,
    oid: &ControllerOid,
    name: &str,
) -> Result<(), ControllerError> {
    let name = checked_name(name)?;
    let inserted = sqlx::query!(
        "INSERT INTO controller (oid, name) VALUES ($1, $2) ON CONFLICT (oid) DO NOTHING",
        oid.as_str(),
        name,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ControllerError::Exists(oid.clone()));
    }
    Ok(())
}

/// The new name; the old one is returned for the audit log.
pub async fn rename(
    conn: &mut PgConnection,
    oid: &ControllerOid,
    name: &str,
) -> Result<String, ControllerError> {
    let name = checked_name(name)?;
    let mut tx = conn.begin().await?;
    let old = sqlx::query_scalar!(
        "SELECT name FROM controller WHERE oid = $1 FOR UPDATE",
        oid.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ControllerError::Unknown(oid.clone()))?;
    sqlx::query!(
        "UPDATE controller SET name = $2 WHERE oid = $1",
        oid.as_str(),
        name
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(old)
}

/// Records that `successor` took over `controller` (a merger) and makes it the active
/// controller of every document whose active controller was `controller`. Returns how many
/// documents changed hands.
pub async fn set_successor(
    conn: &mut PgConnection,
    controller: &ControllerOid,
    successor: &ControllerOid,
) -> Result<u64, ControllerError> {
    let mut tx = conn.begin().await?;
    // Both rows locked in OID order, so two mergers cannot cross.
    let mut pair = [controller.as_str(), successor.as_str()];
    pair.sort_unstable();
    let rows = sqlx::query!(
        "SELECT oid, successor_oid FROM controller WHERE oid = ANY ($1) ORDER BY oid FOR UPDATE",
        &pair.map(str::to_owned)[..],
    )
    .fetch_all(&mut *tx)
    .await?;
    let find = |oid: &ControllerOid| rows.iter().find(|r| r.oid == oid.as_str());
    let current = find(controller).ok_or_else(|| ControllerError::Unknown(controller.clone()))?;
    if find(successor).is_none() {
        return Err(ControllerError::Unknown(successor.clone()));
    }
    if let Some(existing) = &current.successor_oid {
        return Err(ControllerError::SuccessorSet(
            controller.clone(),
            existing.clone(),
        ));
    }
    // Who holds the successor's documents: the end of its own chain of mergers (the same
    // function the archive uses for documents archived later). The controller has no successor,
    // so it is in that chain exactly when the chain ends at it.
    let holder = sqlx::query_scalar!(
        r#"SELECT active_controller_of($1) AS "holder!""#,
        successor.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    if holder == controller.as_str() {
        return Err(ControllerError::Cycle {
            controller: controller.clone(),
            successor: successor.clone(),
        });
    }
    sqlx::query!(
        "UPDATE controller SET successor_oid = $2 WHERE oid = $1",
        controller.as_str(),
        successor.as_str(),
    )
    .execute(&mut *tx)
    .await?;
    let moved = sqlx::query!(
        "UPDATE archive_state SET active_controller_oid = $2 WHERE active_controller_oid = $1",
        controller.as_str(),
        holder,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(moved)
}

pub async fn list(pool: &PgPool) -> Result<Vec<Controller>, ControllerError> {
    Ok(sqlx::query_as!(
        Controller,
        r#"SELECT oid, name, successor_oid, production_since IS NOT NULL AS "in_production!"
           FROM controller ORDER BY name, oid"#
    )
    .fetch_all(pool)
    .await?)
}
