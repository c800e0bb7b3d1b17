//! The PostgreSQL pool and the schema migrations in `migrations/`.

use sqlx::{PgPool, postgres::PgPoolOptions};

use settings::DatabaseSettings;

/// The migrations, compiled into the binary so that `archivist migrate` needs no files.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "database.url is not set: set DATABASE_URL or [database] url in the configuration file"
    )]
    NoUrl,
    #[error("database.url is not a valid PostgreSQL URL: {0}")]
    BadUrl(sqlx::Error),
    #[error("cannot connect to the database (database.url): {0}")]
    Connect(sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "{pending} database migration(s) are not applied and this login cannot apply them ({source}): run `archivist migrate` with the database owner's login first"
    )]
    Pending {
        pending: usize,
        source: sqlx::migrate::MigrateError,
    },
}

/// Connects and checks the connection once, so that a wrong URL or a database that is down
/// is reported at start-up rather than at the first request.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    let url = settings.url.as_deref().ok_or(DbError::NoUrl)?;
    let options: sqlx::postgres::PgConnectOptions = url.parse().map_err(DbError::BadUrl)?;
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout())
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// `serve`'s step at start: nothing when every migration is applied (the serving login owns no
/// table and could not migrate), else applies them, which works only with the owner's login.
pub async fn migrate_if_pending(pool: &PgPool) -> Result<(), DbError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let pending = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .filter(|m| !applied.contains(&m.version))
        .count();
    if pending == 0 {
        return Ok(());
    }
    MIGRATOR
        .run(pool)
        .await
        .map_err(|source| DbError::Pending { pending, source })
}

/// True when the database answers a query.
pub async fn is_healthy(pool: &PgPool) -> bool {
    sqlx::query_scalar!("SELECT 1 AS \"one!\"")
        .fetch_one(pool)
        .await
        .is_ok()
}
