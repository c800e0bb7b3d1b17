//! The server's answers for the administrators' notices section: the same functions as
//! `archivist notice …` ([`crate::notices::changes`]), with the signed-in administrator as actor.
//! A change shows on this instance at once; the others read it within `ops.notice_refresh_secs`.

use app::{
    model::notices::{AdminNoticeRow, NoticeForm, NoticeKind},
    ssr::ServiceError,
};
use time::OffsetDateTime;

use super::{
    access::{ServerServices, unavailable},
    admin::acting,
    context::RequestContext,
    days::{local_time, local_time_field},
};
use crate::notices::{
    changes::{self, NoticeChangeError},
    draft::{DraftError, NoticeDraft},
};

/// Notices the administrators' list shows at most.
const LISTED: i64 = 50;

fn refused(error: NoticeChangeError) -> ServiceError {
    match error {
        NoticeChangeError::Draft(error) => match error {
            DraftError::Missing { field } => ServiceError::invalid(field),
            DraftError::TooLong { .. } | DraftError::ControlCharacter { .. } => {
                ServiceError::invalid("text_long")
            }
            DraftError::EndsBeforeStart | DraftError::EndsInThePast => {
                ServiceError::invalid("ends_at")
            }
            DraftError::ClosingNeedsMaintenanceWindow => ServiceError::invalid("closes_service"),
        },
        NoticeChangeError::NotFound(_) => ServiceError::NotFound,
        NoticeChangeError::Ended(_) => ServiceError::conflict("notice_ended"),
        // Only the command line's unplanned breaks ask for these.
        NoticeChangeError::ReasonMissing | NoticeChangeError::NoMaintenance => {
            ServiceError::invalid("reason")
        }
        NoticeChangeError::Database(error) => unavailable(error),
    }
}

/// The form's fields as a draft; a start left empty is now.
fn draft(form: &NoticeForm) -> Result<NoticeDraft, ServiceError> {
    let kind = NoticeKind::parse(&form.kind).ok_or(ServiceError::invalid("kind"))?;
    Ok(NoticeDraft {
        kind,
        text_fi: form.text_fi.clone(),
        text_sv: form.text_sv.clone(),
        text_en: Some(form.text_en.clone()),
        affected: form.affected.clone(),
        starts_at: local_time("starts_at", &form.starts_at)?
            .unwrap_or_else(OffsetDateTime::now_utc),
        ends_at: local_time("ends_at", &form.ends_at)?,
        closes_service: form.closes_service,
    })
}

fn notice_id(text: &str) -> Result<i64, ServiceError> {
    // Not a number: as good as no such notice.
    text.trim().parse().map_err(|_| ServiceError::NotFound)
}

impl ServerServices {
    pub(super) async fn admin_notices(
        &self,
        caller: &RequestContext,
    ) -> Result<Vec<AdminNoticeRow>, ServiceError> {
        self.administrator(caller).await?;
        let stored = changes::list(&self.pool, LISTED)
            .await
            .map_err(unavailable)?;
        let now = OffsetDateTime::now_utc();
        Ok(stored
            .into_iter()
            .map(|stored| {
                let notice = &stored.notice;
                let state = notice.state(now);
                AdminNoticeRow {
                    notice: notice.view(),
                    state: state.to_owned(),
                    starts_local: local_time_field(notice.starts_at),
                    ends_local: stored.planned_end.map(local_time_field).unwrap_or_default(),
                    created_by: stored.created_by,
                    ended_by: stored.ended_by,
                    reason: stored.reason,
                }
            })
            .collect())
    }

    pub(super) async fn save_notice(
        &self,
        caller: &RequestContext,
        form: NoticeForm,
    ) -> Result<(), ServiceError> {
        let admin = self.administrator(caller).await?;
        let actor = acting(&admin, caller);
        let draft = draft(&form)?;
        if form.id.trim().is_empty() {
            changes::create(&self.pool, &actor, draft)
                .await
                .map_err(refused)?;
        } else {
            changes::edit(&self.pool, &actor, notice_id(&form.id)?, |_| draft)
                .await
                .map_err(refused)?;
        }
        self.notices.refresh().await;
        Ok(())
    }

    pub(super) async fn end_notice(
        &self,
        caller: &RequestContext,
        id: String,
    ) -> Result<(), ServiceError> {
        let admin = self.administrator(caller).await?;
        let actor = acting(&admin, caller);
        changes::end(&self.pool, &actor, notice_id(&id)?)
            .await
            .map_err(refused)?;
        self.notices.refresh().await;
        Ok(())
    }
}
