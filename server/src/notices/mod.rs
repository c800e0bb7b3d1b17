//! Notices to the archivists: disruptions, maintenance windows and information. Administrators
//! write them (the administrators' page, `archivist notice …`, `archivist maintenance …`), an
//! operator can drop one in a file when the database is down, every page shows the current ones
//! in a banner, the public feeds publish the current and coming ones, and a maintenance window
//! may close the service to everyone but administrators.

pub mod board;
pub mod changes;
pub mod draft;
pub mod file;

use app::model::notices::{NoticeKind, NoticeView};
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

/// Where a notice comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeId {
    /// A row of the `notice` table.
    Stored(i64),
    /// The operator's notice file (`ops.notice_file`).
    File,
}

impl std::fmt::Display for NoticeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stored(id) => write!(f, "{id}"),
            Self::File => f.write_str("file"),
        }
    }
}

/// A notice as the server shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub id: NoticeId,
    pub kind: NoticeKind,
    pub text_fi: String,
    pub text_sv: String,
    pub text_en: Option<String>,
    pub affected: String,
    pub starts_at: OffsetDateTime,
    /// The planned end, or when it was ended if that came first; `None`: until ended.
    pub ends_at: Option<OffsetDateTime>,
    pub closes_service: bool,
    pub updated_at: OffsetDateTime,
}

impl Notice {
    /// Whether the notice is over at `now`.
    pub fn has_ended(&self, now: OffsetDateTime) -> bool {
        self.ends_at.is_some_and(|end| end <= now)
    }

    /// Whether the banner shows it at `now`: from its start (a maintenance notice `lead` ahead
    /// of its window) until it ends.
    pub fn is_shown(&self, now: OffsetDateTime, lead: Duration) -> bool {
        let from = match self.kind {
            NoticeKind::Maintenance => self.starts_at - lead,
            NoticeKind::Disruption | NoticeKind::Information => self.starts_at,
        };
        from <= now && !self.has_ended(now)
    }

    /// Whether its window has begun and not ended (the notice itself may show earlier).
    pub fn is_in_force(&self, now: OffsetDateTime) -> bool {
        self.starts_at <= now && !self.has_ended(now)
    }

    /// `ended`, `current` (in force) or `coming`, as the administrators' lists say.
    pub fn state(&self, now: OffsetDateTime) -> &'static str {
        if self.has_ended(now) {
            "ended"
        } else if self.is_in_force(now) {
            "current"
        } else {
            "coming"
        }
    }

    /// Whether the service is closed by it at `now`.
    pub fn closes_service_at(&self, now: OffsetDateTime) -> bool {
        self.closes_service && self.is_in_force(now)
    }

    pub fn view(&self) -> NoticeView {
        let format = |t: OffsetDateTime| {
            t.to_offset(time::UtcOffset::UTC)
                .format(&Rfc3339)
                .unwrap_or_default()
        };
        NoticeView {
            id: self.id.to_string(),
            kind: self.kind,
            text_fi: self.text_fi.clone(),
            text_sv: self.text_sv.clone(),
            text_en: self.text_en.clone(),
            affected: self.affected.clone(),
            starts_at: format(self.starts_at),
            ends_at: self.ends_at.map(format),
            closes_service: self.closes_service,
            updated_at: format(self.updated_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn notice(kind: NoticeKind) -> Notice {
        Notice {
            id: NoticeId::Stored(1),
            kind,
            text_fi: "fi".to_owned(),
            text_sv: "sv".to_owned(),
            text_en: None,
            affected: String::new(),
            starts_at: datetime!(2026-12-05 08:00 UTC),
            ends_at: Some(datetime!(2026-12-05 10:00 UTC)),
            closes_service: kind == NoticeKind::Maintenance,
            updated_at: datetime!(2026-12-01 08:00 UTC),
        }
    }

    #[test]
    fn a_maintenance_notice_shows_ahead_of_its_window_and_closes_only_inside_it() {
        let window = notice(NoticeKind::Maintenance);
        let lead = Duration::hours(24);
        assert!(!window.is_shown(datetime!(2026-12-04 07:59 UTC), lead));
        assert!(window.is_shown(datetime!(2026-12-04 08:00 UTC), lead));
        assert!(!window.closes_service_at(datetime!(2026-12-05 07:59:59 UTC)));
        assert!(window.closes_service_at(datetime!(2026-12-05 08:00 UTC)));
        assert!(window.closes_service_at(datetime!(2026-12-05 09:59:59 UTC)));
        assert!(!window.closes_service_at(datetime!(2026-12-05 10:00 UTC)));
        assert!(!window.is_shown(datetime!(2026-12-05 10:00 UTC), lead));
    }

    #[test]
    fn other_notices_show_from_their_start_only() {
        let disruption = notice(NoticeKind::Disruption);
        let lead = Duration::hours(24);
        assert!(!disruption.is_shown(datetime!(2026-12-05 07:59 UTC), lead));
        assert!(disruption.is_shown(datetime!(2026-12-05 08:00 UTC), lead));
        assert!(!disruption.closes_service_at(datetime!(2026-12-05 09:00 UTC)));
        let mut open_ended = disruption;
        open_ended.ends_at = None;
        assert!(open_ended.is_shown(datetime!(2030-01-01 00:00 UTC), lead));
    }

    #[test]
    fn the_view_is_in_utc() {
        let mut local = notice(NoticeKind::Information);
        local.starts_at = datetime!(2026-12-05 10:00 +02:00);
        let view = local.view();
        assert_eq!(view.starts_at, "2026-12-05T08:00:00Z");
        assert_eq!(view.ends_at.as_deref(), Some("2026-12-05T10:00:00Z"));
        assert_eq!(view.id, "1");
    }
}
