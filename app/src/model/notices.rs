//! Notices to the archivists (disruptions, maintenance windows, information): what the banner on
//! every page, the public feeds and the administrators' list show. They hold no client data.

use serde::{Deserialize, Serialize};

use crate::i18n::Language;

/// What a notice is about. The codes are stored and published in the feeds, so they never
/// change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Something does not work as it should.
    Disruption,
    /// A planned break or a change window (shown ahead of its start).
    Maintenance,
    /// Anything else archivists should know.
    Information,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 3] = [Self::Disruption, Self::Maintenance, Self::Information];

    pub fn code(self) -> &'static str {
        match self {
            Self::Disruption => "disruption",
            Self::Maintenance => "maintenance",
            Self::Information => "information",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.code() == code.trim())
    }
}

/// A stored notice as the administrators' list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminNoticeRow {
    pub notice: NoticeView,
    /// `current`, `coming` or `ended`.
    pub state: String,
    /// The times as the form's `datetime-local` fields take them (Finland's time, to the
    /// minute); the planned end, even when the notice was ended earlier.
    pub starts_local: String,
    pub ends_local: String,
    pub created_by: String,
    pub ended_by: Option<String>,
    /// Why an operator closed the service (`archivist maintenance start`).
    pub reason: String,
}

/// A notice as the administrators' form sends it; the server checks every field. Times are
/// Finland's time as `datetime-local` fields send them (`2026-12-05T08:00`); an empty end is
/// no end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeForm {
    /// Empty for a new notice.
    pub id: String,
    pub kind: String,
    pub text_fi: String,
    pub text_sv: String,
    pub text_en: String,
    pub affected: String,
    pub starts_at: String,
    pub ends_at: String,
    pub closes_service: bool,
}

/// One notice as it is shown and published. Times are RFC 3339 in UTC; the pages show them in
/// Finland's time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    /// `42` for a notice in the database, `file` for the operator's notice file.
    pub id: String,
    pub kind: NoticeKind,
    pub text_fi: String,
    pub text_sv: String,
    /// Absent: English readers get the Finnish text.
    pub text_en: Option<String>,
    /// What the notice concerns, in free text; empty when it concerns the whole service.
    pub affected: String,
    pub starts_at: String,
    /// When the notice ends (its planned end, or when it was ended); `None`: until ended.
    pub ends_at: Option<String>,
    /// A maintenance window during which only administrators are let in.
    pub closes_service: bool,
    /// When the notice was created or last changed.
    pub updated_at: String,
}

impl NoticeView {
    /// The notice's text in `language`; English falls back to Finnish.
    pub fn text(&self, language: Language) -> &str {
        match language {
            Language::Fi => &self.text_fi,
            Language::Sv => &self.text_sv,
            Language::En => self.text_en.as_deref().unwrap_or(&self.text_fi),
        }
    }

    /// The language the text for `language` is really in (English falls back to Finnish), for
    /// the `lang` attribute that screen readers pronounce it by.
    pub fn text_language(&self, language: Language) -> Language {
        match (language, &self.text_en) {
            (Language::En, None) => Language::Fi,
            (language, _) => language,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(text_en: Option<&str>) -> NoticeView {
        NoticeView {
            id: "1".to_owned(),
            kind: NoticeKind::Disruption,
            text_fi: "suomeksi".to_owned(),
            text_sv: "på svenska".to_owned(),
            text_en: text_en.map(str::to_owned),
            affected: String::new(),
            starts_at: "2026-12-04T08:00:00Z".to_owned(),
            ends_at: None,
            closes_service: false,
            updated_at: "2026-12-04T08:00:00Z".to_owned(),
        }
    }

    #[test]
    fn english_falls_back_to_finnish_and_says_so() {
        let without = notice(None);
        assert_eq!(without.text(Language::En), "suomeksi");
        assert_eq!(without.text_language(Language::En), Language::Fi);
        let with = notice(Some("in English"));
        assert_eq!(with.text(Language::En), "in English");
        assert_eq!(with.text_language(Language::En), Language::En);
        assert_eq!(with.text(Language::Sv), "på svenska");
    }

    #[test]
    fn kinds_read_back_from_their_codes_only() {
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.code()), Some(kind));
        }
        assert_eq!(NoticeKind::parse("outage"), None);
    }
}
