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

/// True when the database answers a query.
pub async fn is_healthy(pool: &PgPool) -> bool {
    sqlx::query_scalar!("SELECT 1 AS \"one!\"")
        .fetch_one(pool)
        .await
        .is_ok()
}
