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
    #[error("database.read_url is not a valid PostgreSQL URL: {0}")]
    BadReadUrl(sqlx::Error),
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
    pool(settings, 0).await
}

/// The serving process's pool: [`connect`], with every connection's statements cut off after
/// `database.statement_timeout_millis` (set at connect, so it holds for every statement of the
/// session unless a transaction lifts it with `SET LOCAL`).
pub async fn connect_for_serving(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    pool(settings, settings.statement_timeout_millis).await
}

/// The serving process's pool for reads (`database.read_url`), the same limits as
/// [`connect_for_serving`]'s; `None` when reads share the primary's pool. Connected on first use:
/// a standby that is down when the instance starts must not keep it from serving.
pub fn connect_reads_for_serving(settings: &DatabaseSettings) -> Result<Option<PgPool>, DbError> {
    let Some(url) = settings.read_url.as_deref() else {
        return Ok(None);
    };
    let options =
        connect_options(url, settings.statement_timeout_millis).map_err(DbError::BadReadUrl)?;
    Ok(Some(pool_options(settings).connect_lazy_with(options)))
}

/// `url`'s options, with every statement cut off after `statement_timeout_millis` (0: never).
fn connect_options(
    url: &str,
    statement_timeout_millis: u64,
) -> Result<sqlx::postgres::PgConnectOptions, sqlx::Error> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    Ok(if statement_timeout_millis > 0 {
        options.options([("statement_timeout", statement_timeout_millis.to_string())])
    } else {
        options
    })
}

fn pool_options(settings: &DatabaseSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout())
}

/// `statement_timeout_millis` 0: no limit.
async fn pool(
    settings: &DatabaseSettings,
    statement_timeout_millis: u64,
) -> Result<PgPool, DbError> {
    let url = settings.url.as_deref().ok_or(DbError::NoUrl)?;
    let options = connect_options(url, statement_timeout_millis).map_err(DbError::BadUrl)?;
    pool_options(settings)
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
    // On a connection of its own with no statement timeout: building an index on a large table
    // may take longer than any request should.
    let mut conn = pool.acquire().await.map_err(DbError::Connect)?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .map_err(DbError::Connect)?;
    let migrated = MIGRATOR.run(&mut *conn).await;
    // The connection goes back to the pool: give it the pool's timeout again.
    let _ = sqlx::query("RESET statement_timeout")
        .execute(&mut *conn)
        .await;
    migrated.map_err(|source| DbError::Pending { pending, source })
}

/// True when the database answers a query.
pub async fn is_healthy(pool: &PgPool) -> bool {
    sqlx::query_scalar!("SELECT 1 AS \"one!\"")
        .fetch_one(pool)
        .await
        .is_ok()
}

/// True when the database takes writes: a primary, not a standby that a failover left behind
/// (in recovery), nor one set read-only. The audit log needs writes before any page is served.
pub async fn accepts_writes(pool: &PgPool) -> bool {
    sqlx::query_scalar!(
        r#"SELECT NOT pg_is_in_recovery()
                  AND current_setting('transaction_read_only') = 'off' AS "writable!""#
    )
    .fetch_one(pool)
    .await
    .unwrap_or(false)
}
