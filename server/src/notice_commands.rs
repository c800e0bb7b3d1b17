//! `archivist notice …` and `archivist maintenance …`: notices and unplanned breaks from a shell
//! on the archive's host, through the same functions as the administrators' page
//! ([`crate::notices::changes`]), audited with the operating-system account.

use app::model::notices::NoticeKind;
use sqlx::PgPool;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    admin_commands::parse_time,
    administration::Actor,
    notices::{
        changes::{self, NoticeChangeError},
        draft::NoticeDraft,
    },
};

/// A notice's kind on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum KindArg {
    Disruption,
    Maintenance,
    Information,
}

impl From<KindArg> for NoticeKind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Disruption => Self::Disruption,
            KindArg::Maintenance => Self::Maintenance,
            KindArg::Information => Self::Information,
        }
    }
}

/// A notice's fields as typed; absent ones are left as they are (`edit`) or take their defaults
/// (`add`: start now, no end, no English text, nothing named as affected).
#[derive(Debug, Default, clap::Args)]
pub struct NoticeFields {
    /// disruption, maintenance or information.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// The text in Finnish (required for a new notice).
    #[arg(long, value_name = "TEXT")]
    pub text_fi: Option<String>,
    /// The text in Swedish (required for a new notice).
    #[arg(long, value_name = "TEXT")]
    pub text_sv: Option<String>,
    /// The text in English (optional: English readers get the Finnish one); empty removes it.
    #[arg(long, value_name = "TEXT")]
    pub text_en: Option<String>,
    /// What the notice concerns, in free text; empty: the whole service.
    #[arg(long, value_name = "TEXT")]
    pub affected: Option<String>,
    /// When it begins, RFC 3339 (a new notice: now).
    #[arg(long, value_name = "TIME")]
    pub starts: Option<String>,
    /// When it ends, RFC 3339; `none` for no end.
    #[arg(long, value_name = "TIME")]
    pub ends: Option<String>,
    /// Whether the window closes the service to all but administrators (maintenance with an
    /// end only).
    #[arg(long, value_name = "BOOL")]
    pub closes_service: Option<bool>,
}

/// [`NoticeFields`] with the times read: a mistyped time is refused before anything is asked of
/// the database.
struct NoticeChange {
    kind: Option<NoticeKind>,
    text_fi: Option<String>,
    text_sv: Option<String>,
    text_en: Option<String>,
    affected: Option<String>,
    starts_at: Option<OffsetDateTime>,
    /// `Some(None)`: no end.
    ends_at: Option<Option<OffsetDateTime>>,
    closes_service: Option<bool>,
}

impl NoticeFields {
    fn read(self) -> Result<NoticeChange, String> {
        Ok(NoticeChange {
            kind: self.kind.map(NoticeKind::from),
            text_fi: self.text_fi,
            text_sv: self.text_sv,
            text_en: self.text_en,
            affected: self.affected,
            starts_at: self
                .starts
                .map(|t| parse_time("--starts", &t))
                .transpose()?,
            ends_at: match self.ends.as_deref().map(str::trim) {
                None => None,
                Some("none") => Some(None),
                Some(ends) => Some(Some(parse_time("--ends", ends)?)),
            },
            closes_service: self.closes_service,
        })
    }
}

impl NoticeChange {
    /// `draft` with the typed fields laid over it.
    fn apply(self, mut draft: NoticeDraft) -> NoticeDraft {
        draft.kind = self.kind.unwrap_or(draft.kind);
        draft.text_fi = self.text_fi.unwrap_or(draft.text_fi);
        draft.text_sv = self.text_sv.unwrap_or(draft.text_sv);
        draft.text_en = self.text_en.or(draft.text_en);
        draft.affected = self.affected.unwrap_or(draft.affected);
        draft.starts_at = self.starts_at.unwrap_or(draft.starts_at);
        draft.ends_at = self.ends_at.unwrap_or(draft.ends_at);
        draft.closes_service = self.closes_service.unwrap_or(draft.closes_service);
        draft
    }
}

/// A refusal in the command line's words: a field is named by its option.
fn refused(error: NoticeChangeError) -> String {
    let NoticeChangeError::Draft(error) = &error else {
        return error.to_string();
    };
    let option = match error.field() {
        "text_fi" => "--text-fi",
        "text_sv" => "--text-sv",
        "text_en" => "--text-en",
        "affected" => "--affected",
        "ends_at" => "--ends",
        "closes_service" => "--closes-service",
        _ => "--reason",
    };
    let message = error.to_string();
    let reason = message
        .split_once(": ")
        .map_or(message.as_str(), |(_, r)| r);
    format!("{option}: {reason}")
}

pub async fn add(pool: &PgPool, fields: NoticeFields) -> Result<String, String> {
    let change = fields.read()?;
    let kind = change.kind.ok_or("--kind is required for a new notice")?;
    let draft = change.apply(NoticeDraft {
        kind,
        text_fi: String::new(),
        text_sv: String::new(),
        text_en: None,
        affected: String::new(),
        starts_at: OffsetDateTime::now_utc(),
        ends_at: None,
        closes_service: false,
    });
    let id = changes::create(pool, &Actor::Operator, draft)
        .await
        .map_err(refused)?;
    Ok(format!("notice {id} added"))
}

pub async fn edit(pool: &PgPool, id: i64, fields: NoticeFields) -> Result<String, String> {
    let change = fields.read()?;
    changes::edit(pool, &Actor::Operator, id, |draft| change.apply(draft))
        .await
        .map_err(refused)?;
    Ok(format!("notice {id} changed"))
}

pub async fn end(pool: &PgPool, id: i64) -> Result<String, String> {
    changes::end(pool, &Actor::Operator, id)
        .await
        .map_err(refused)?;
    Ok(format!("notice {id} ended"))
}

pub async fn list(pool: &PgPool, limit: i64) -> Result<String, String> {
    let notices = changes::list(pool, limit.clamp(1, 1000))
        .await
        .map_err(|e| format!("the database failed: {e}"))?;
    if notices.is_empty() {
        return Ok("no notices".to_owned());
    }
    let now = OffsetDateTime::now_utc();
    let time = |t: Option<OffsetDateTime>| {
        t.and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "-".to_owned())
    };
    let mut out = String::from(
        "id\tkind\tstate\tstarts at\tends at\tcloses service\tcreated by\tended by\ttext (fi)\n",
    );
    for stored in notices {
        let notice = &stored.notice;
        let state = notice.state(now);
        out.push_str(&format!(
            "{}\t{}\t{state}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            notice.id,
            notice.kind.code(),
            time(Some(notice.starts_at)),
            time(notice.ends_at),
            if notice.closes_service { "yes" } else { "no" },
            stored.created_by,
            stored.ended_by.as_deref().unwrap_or("-"),
            notice.text_fi.lines().next().unwrap_or_default(),
        ));
    }
    Ok(out.trim_end().to_owned())
}

pub async fn start_maintenance(pool: &PgPool, until: &str, reason: &str) -> Result<String, String> {
    let until = parse_time("--until", until)?;
    if until <= OffsetDateTime::now_utc() {
        return Err("--until: that time has passed already".to_owned());
    }
    let id = changes::start_maintenance(pool, &Actor::Operator, until, reason, None)
        .await
        .map_err(refused)?;
    Ok(format!(
        "the service is closed to all but administrators until {} (notice {id}); \
         `archivist maintenance end` opens it earlier",
        until.format(&Rfc3339).unwrap_or_default()
    ))
}

pub async fn end_maintenance(pool: &PgPool) -> Result<String, String> {
    let ended = changes::end_maintenance(pool, &Actor::Operator)
        .await
        .map_err(refused)?;
    let ids: Vec<String> = ended.iter().map(i64::to_string).collect();
    Ok(format!(
        "the service is open again (notice {} ended)",
        ids.join(", ")
    ))
}
