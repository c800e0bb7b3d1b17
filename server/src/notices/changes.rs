//! Creating, changing and ending notices, and opening and closing unplanned maintenance breaks:
//! one set of functions for the administrators' page and the command line, each change checked
//! and committed together with its audit row in the actor's name.

use app::model::notices::NoticeKind;
use serde_json::json;
use sqlx::PgPool;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    administration::{Actor, record_change_in},
    audit::AuditAction,
    store::notices::{self, StoredNotice},
};

use super::draft::{self, DraftError, NoticeDraft};

#[derive(Debug, thiserror::Error)]
pub enum NoticeChangeError {
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error("there is no notice {0}")]
    NotFound(i64),
    #[error("notice {0} has ended; write a new one instead")]
    Ended(i64),
    #[error("reason: say why the service is closed")]
    ReasonMissing,
    #[error("no maintenance break closes the service now")]
    NoMaintenance,
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// The texts an unplanned break shows when the operator gives none of their own.
pub const MAINTENANCE_TEXTS: [&str; 3] = [
    "Palvelu on suljettu huoltotoimien ajaksi.",
    "Tjänsten är stängd för underhåll.",
    "The service is closed for maintenance.",
];

fn time(t: Option<OffsetDateTime>) -> Option<String> {
    t.and_then(|t| t.format(&Rfc3339).ok())
}

/// What the audit row keeps of a notice: everything that was announced.
fn recorded(draft: &NoticeDraft) -> serde_json::Value {
    json!({
        "kind": draft.kind.code(),
        "text_fi": draft.text_fi,
        "text_sv": draft.text_sv,
        "text_en": draft.text_en,
        "affected": draft.affected,
        "starts_at": time(Some(draft.starts_at)),
        "ends_at": time(draft.ends_at),
        "closes_service": draft.closes_service,
    })
}

/// Stores a new notice (an end already past is refused); returns its id.
pub async fn create(
    pool: &PgPool,
    actor: &Actor<'_>,
    draft: NoticeDraft,
) -> Result<i64, NoticeChangeError> {
    let draft = draft.check_at(OffsetDateTime::now_utc())?;
    let mut tx = pool.begin().await?;
    let id = notices::insert(&mut tx, &draft, "", &actor.label()).await?;
    let mut details = recorded(&draft);
    details["notice"] = json!(id);
    record_change_in(&mut *tx, actor, AuditAction::NoticeCreated, None, details).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a notice: `change` gets its content as it is and returns the new one (the form's
/// whole content, or the command line's fields laid over the old). A notice that has ended is
/// not changed (it is history).
pub async fn edit(
    pool: &PgPool,
    actor: &Actor<'_>,
    id: i64,
    change: impl FnOnce(NoticeDraft) -> NoticeDraft,
) -> Result<(), NoticeChangeError> {
    let now = OffsetDateTime::now_utc();
    let mut tx = pool.begin().await?;
    let before = still_open(notices::lock(&mut tx, id).await?, id, now)?;
    let draft = change(as_draft(&before)).check_at(now)?;
    notices::update(&mut tx, id, &draft, &actor.label()).await?;
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::NoticeChanged,
        None,
        json!({ "notice": id, "before": recorded(&as_draft(&before)), "after": recorded(&draft) }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a notice now (one not yet begun is withdrawn).
pub async fn end(pool: &PgPool, actor: &Actor<'_>, id: i64) -> Result<(), NoticeChangeError> {
    let now = OffsetDateTime::now_utc();
    let mut tx = pool.begin().await?;
    let before = still_open(notices::lock(&mut tx, id).await?, id, now)?;
    notices::end(&mut tx, id, &actor.label()).await?;
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::NoticeEnded,
        None,
        json!({
            "notice": id,
            "kind": before.notice.kind.code(),
            "planned_end": time(before.planned_end),
            "closes_service": before.notice.closes_service,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Closes the service from now until `until` for an unplanned break: a maintenance notice that
/// closes the service, with the standard texts unless `texts` gives others.
pub async fn start_maintenance(
    pool: &PgPool,
    actor: &Actor<'_>,
    until: OffsetDateTime,
    reason: &str,
    texts: Option<[String; 3]>,
) -> Result<i64, NoticeChangeError> {
    let now = OffsetDateTime::now_utc();
    let reason = draft::bounded("reason", reason.trim(), draft::MAX_AFFECTED)?;
    if reason.is_empty() {
        return Err(NoticeChangeError::ReasonMissing);
    }
    let [text_fi, text_sv, text_en] = texts.unwrap_or(MAINTENANCE_TEXTS.map(str::to_owned));
    let draft = NoticeDraft {
        kind: NoticeKind::Maintenance,
        text_fi,
        text_sv,
        text_en: Some(text_en),
        affected: String::new(),
        starts_at: now,
        ends_at: Some(until),
        closes_service: true,
    }
    .check_at(now)?;
    let mut tx = pool.begin().await?;
    let id = notices::insert(&mut tx, &draft, &reason, &actor.label()).await?;
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::MaintenanceStarted,
        None,
        json!({ "notice": id, "reason": reason, "until": time(Some(until)) }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Ends every maintenance break that closes the service now; returns their ids.
pub async fn end_maintenance(
    pool: &PgPool,
    actor: &Actor<'_>,
) -> Result<Vec<i64>, NoticeChangeError> {
    let mut tx = pool.begin().await?;
    let ids = notices::lock_closing_now(&mut tx).await?;
    if ids.is_empty() {
        return Err(NoticeChangeError::NoMaintenance);
    }
    for id in &ids {
        notices::end(&mut tx, *id, &actor.label()).await?;
    }
    record_change_in(
        &mut *tx,
        actor,
        AuditAction::MaintenanceEnded,
        None,
        json!({ "notices": ids }),
    )
    .await?;
    tx.commit().await?;
    Ok(ids)
}

/// The newest notices, ended ones too, for the administrators.
pub async fn list(pool: &PgPool, limit: i64) -> Result<Vec<StoredNotice>, sqlx::Error> {
    notices::newest(pool, limit).await
}

fn still_open(
    found: Option<StoredNotice>,
    id: i64,
    now: OffsetDateTime,
) -> Result<StoredNotice, NoticeChangeError> {
    let stored = found.ok_or(NoticeChangeError::NotFound(id))?;
    if stored.ended_at.is_some() || stored.notice.has_ended(now) {
        return Err(NoticeChangeError::Ended(id));
    }
    Ok(stored)
}

/// A stored notice's content, as a draft to change.
fn as_draft(stored: &StoredNotice) -> NoticeDraft {
    let notice = &stored.notice;
    NoticeDraft {
        kind: notice.kind,
        text_fi: notice.text_fi.clone(),
        text_sv: notice.text_sv.clone(),
        text_en: notice.text_en.clone(),
        affected: notice.affected.clone(),
        starts_at: notice.starts_at,
        ends_at: stored.planned_end,
        closes_service: notice.closes_service,
    }
}
