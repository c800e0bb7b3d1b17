//! Reads of an archivist's material. Every function here takes a [`ControllerScope`], filters by
//! it, and runs in a transaction that PostgreSQL itself limits to the same controllers: the
//! application's role (`archivist_app`, without BYPASSRLS) with the scope in
//! `archivist.controllers`, which the row-level security policies read. A query that forgot its
//! filter would still see nothing of another controller.

use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;

use crate::auth::ControllerScope;

/// A transaction as the application's role, seeing only the scope's controllers.
pub struct ScopedTransaction {
    tx: Transaction<'static, Postgres>,
}

impl ScopedTransaction {
    pub async fn begin(pool: &PgPool, scope: &ControllerScope) -> Result<Self, sqlx::Error> {
        let mut tx = pool.begin().await?;
        // One round trip for both; `true` makes them local to the transaction, so a pooled
        // connection never carries a scope (or the role) into the next request.
        sqlx::query(
            "SELECT set_config('role', 'archivist_app', true), \
                    set_config('archivist.controllers', $1, true)",
        )
        .bind(scope.database_setting())
        .execute(&mut *tx)
        .await?;
        Ok(Self { tx })
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// One controller of the scope, as the front page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerSummary {
    pub oid: String,
    pub name: String,
    pub last_archived_at: Option<OffsetDateTime>,
}

/// The scope's controllers that are in the archive, by name.
pub async fn controller_summaries(
    pool: &PgPool,
    scope: &ControllerScope,
) -> Result<Vec<ControllerSummary>, sqlx::Error> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let oids: Vec<String> = scope
        .controllers()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let mut tx = ScopedTransaction::begin(pool, scope).await?;
    let rows = sqlx::query_as!(
        ControllerSummary,
        r#"SELECT c.oid, c.name,
                  (SELECT max(s.archived_at) FROM archive_state s WHERE s.controller_oid = c.oid)
                      AS last_archived_at
           FROM controller c
           WHERE c.oid = ANY ($1)
           ORDER BY c.name, c.oid"#,
        &oids,
    )
    .fetch_all(&mut *tx.tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}
