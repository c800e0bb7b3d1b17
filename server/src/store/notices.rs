//! The `notice` table: notices are added, changed and ended, never deleted. The changes take a
//! transaction so that the caller writes its audit row in the same one.

use app::model::notices::NoticeKind;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::notices::{Notice, NoticeId, draft::NoticeDraft};

/// A stored notice with its history, as administrators list it.
#[derive(Clone, Debug)]
pub struct StoredNotice {
    pub notice: Notice,
    /// The end as announced (the notice's own end may be earlier: when it was ended).
    pub planned_end: Option<OffsetDateTime>,
    pub reason: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub updated_by: Option<String>,
    pub ended_by: Option<String>,
    pub ended_at: Option<OffsetDateTime>,
}

struct Row {
    id: i64,
    kind: String,
    text_fi: String,
    text_sv: String,
    text_en: Option<String>,
    affected: String,
    starts_at: OffsetDateTime,
    ends_at: Option<OffsetDateTime>,
    closes_service: bool,
    reason: String,
    created_by: String,
    created_at: OffsetDateTime,
    updated_by: Option<String>,
    updated_at: Option<OffsetDateTime>,
    ended_by: Option<String>,
    ended_at: Option<OffsetDateTime>,
}

impl Row {
    fn stored(self) -> Result<StoredNotice, sqlx::Error> {
        // The table's CHECK allows only the three codes.
        let kind = NoticeKind::parse(&self.kind)
            .ok_or_else(|| sqlx::Error::Decode(format!("notice kind {:?}", self.kind).into()))?;
        let ends_at = match (self.ends_at, self.ended_at) {
            (Some(planned), Some(ended)) => Some(planned.min(ended)),
            (planned, ended) => planned.or(ended),
        };
        Ok(StoredNotice {
            notice: Notice {
                id: NoticeId::Stored(self.id),
                kind,
                text_fi: self.text_fi,
                text_sv: self.text_sv,
                text_en: self.text_en,
                affected: self.affected,
                starts_at: self.starts_at,
                ends_at,
                closes_service: self.closes_service,
                updated_at: self.updated_at.unwrap_or(self.created_at),
            },
            planned_end: self.ends_at,
            reason: self.reason,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_by: self.updated_by,
            ended_by: self.ended_by,
            ended_at: self.ended_at,
        })
    }
}

/// The notices not yet over: what every instance reads every few seconds.
pub async fn not_ended(pool: &PgPool) -> Result<Vec<Notice>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, kind, text_fi, text_sv, text_en, affected, starts_at, ends_at,
                  closes_service, reason, created_by, created_at, updated_by, updated_at,
                  ended_by, ended_at
             FROM notice
            WHERE ended_at IS NULL AND (ends_at IS NULL OR ends_at > now())
            ORDER BY starts_at, id"#
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| row.stored().map(|stored| stored.notice))
        .collect()
}

/// The newest `limit` notices, ended ones too, newest first (the administrators' list).
pub async fn newest(pool: &PgPool, limit: i64) -> Result<Vec<StoredNotice>, sqlx::Error> {
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT id, kind, text_fi, text_sv, text_en, affected, starts_at, ends_at,
                  closes_service, reason, created_by, created_at, updated_by, updated_at,
                  ended_by, ended_at
             FROM notice
            ORDER BY id DESC
            LIMIT $1"#,
        limit
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Row::stored).collect()
}

/// One notice, locked for a change in the caller's transaction.
pub async fn lock(conn: &mut PgConnection, id: i64) -> Result<Option<StoredNotice>, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT id, kind, text_fi, text_sv, text_en, affected, starts_at, ends_at,
                  closes_service, reason, created_by, created_at, updated_by, updated_at,
                  ended_by, ended_at
             FROM notice
            WHERE id = $1
              FOR UPDATE"#,
        id
    )
    .fetch_optional(conn)
    .await?;
    row.map(Row::stored).transpose()
}

/// Adds a checked notice; returns its id.
pub async fn insert(
    conn: &mut PgConnection,
    draft: &NoticeDraft,
    reason: &str,
    created_by: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO notice (kind, text_fi, text_sv, text_en, affected, starts_at, ends_at,
                               closes_service, reason, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           RETURNING id"#,
        draft.kind.code(),
        draft.text_fi,
        draft.text_sv,
        draft.text_en,
        draft.affected,
        draft.starts_at,
        draft.ends_at,
        draft.closes_service,
        reason,
        created_by,
    )
    .fetch_one(conn)
    .await
}

/// Replaces a notice's content with a checked draft.
pub async fn update(
    conn: &mut PgConnection,
    id: i64,
    draft: &NoticeDraft,
    updated_by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE notice
              SET kind = $2, text_fi = $3, text_sv = $4, text_en = $5, affected = $6,
                  starts_at = $7, ends_at = $8, closes_service = $9,
                  updated_by = $10, updated_at = now()
            WHERE id = $1"#,
        id,
        draft.kind.code(),
        draft.text_fi,
        draft.text_sv,
        draft.text_en,
        draft.affected,
        draft.starts_at,
        draft.ends_at,
        draft.closes_service,
        updated_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a notice now.
pub async fn end(conn: &mut PgConnection, id: i64, ended_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notice SET ended_at = now(), ended_by = $2 WHERE id = $1",
        id,
        ended_by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The ids of the maintenance windows that close the service now, locked for ending them.
pub async fn lock_closing_now(conn: &mut PgConnection) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id FROM notice
            WHERE closes_service AND ended_at IS NULL
              AND starts_at <= now() AND ends_at > now()
            ORDER BY id
              FOR UPDATE"#
    )
    .fetch_all(conn)
    .await
}
