//! A notice as an administrator or operator wrote it, checked before anything is stored: the
//! same rules for the administrators' page, `archivist notice …` and the operator's notice file.

use app::model::notices::NoticeKind;
use time::OffsetDateTime;

/// Longest text of one language, in characters: a banner is read at a glance.
pub const MAX_TEXT: usize = 2000;
/// Longest "what is affected" (and maintenance reason), in characters.
pub const MAX_AFFECTED: usize = 500;

/// A notice's content, checked by [`NoticeDraft::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeDraft {
    pub kind: NoticeKind,
    pub text_fi: String,
    pub text_sv: String,
    /// `None` (or empty): English readers get the Finnish text.
    pub text_en: Option<String>,
    pub affected: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: Option<OffsetDateTime>,
    pub closes_service: bool,
}

/// Why a draft is refused; [`DraftError::field`] names the field for the form to point at.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error("{field}: a text is required")]
    Missing { field: &'static str },
    #[error("{field}: at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: control characters are not allowed")]
    ControlCharacter { field: &'static str },
    #[error("ends_at: the end must come after the start")]
    EndsBeforeStart,
    #[error("ends_at: that time has passed already")]
    EndsInThePast,
    #[error("closes_service: only a maintenance notice with an end can close the service")]
    ClosingNeedsMaintenanceWindow,
}

impl DraftError {
    /// The field the error is about, as the forms and the command line name it.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field } => field,
            Self::EndsBeforeStart | Self::EndsInThePast => "ends_at",
            Self::ClosingNeedsMaintenanceWindow => "closes_service",
        }
    }
}

impl NoticeDraft {
    /// The draft with its texts trimmed (an empty English text is none), or the first rule it
    /// breaks. Texts are kept as written: markup in them is shown as text wherever they appear.
    pub fn check(mut self) -> Result<Self, DraftError> {
        self.text_fi = required("text_fi", &self.text_fi)?;
        self.text_sv = required("text_sv", &self.text_sv)?;
        self.text_en = match self.text_en.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(required("text_en", text)?),
        };
        self.affected = bounded("affected", self.affected.trim(), MAX_AFFECTED)?;
        if let Some(end) = self.ends_at
            && end <= self.starts_at
        {
            return Err(DraftError::EndsBeforeStart);
        }
        if self.closes_service && (self.kind != NoticeKind::Maintenance || self.ends_at.is_none()) {
            return Err(DraftError::ClosingNeedsMaintenanceWindow);
        }
        Ok(self)
    }

    /// [`Self::check`], and an end still to come: a new or changed notice that would already be
    /// over is a mistake (a date typed wrong), not something to store.
    pub fn check_at(self, now: OffsetDateTime) -> Result<Self, DraftError> {
        let draft = self.check()?;
        match draft.ends_at {
            Some(end) if end <= now => Err(DraftError::EndsInThePast),
            _ => Ok(draft),
        }
    }
}

fn required(field: &'static str, text: &str) -> Result<String, DraftError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DraftError::Missing { field });
    }
    bounded(field, text, MAX_TEXT)
}

/// Line breaks and tabs are text; other control characters (NUL, escapes) are not.
pub fn bounded(field: &'static str, text: &str, max: usize) -> Result<String, DraftError> {
    if text.chars().count() > max {
        return Err(DraftError::TooLong { field, max });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DraftError::ControlCharacter { field });
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use time::{Duration, macros::datetime};

    use super::*;

    fn draft() -> NoticeDraft {
        NoticeDraft {
            kind: NoticeKind::Maintenance,
            text_fi: "  Huoltokatko  ".to_owned(),
            text_sv: "Serviceavbrott".to_owned(),
            text_en: Some("   ".to_owned()),
            affected: " Haku ".to_owned(),
            starts_at: datetime!(2026-12-05 08:00 UTC),
            ends_at: Some(datetime!(2026-12-05 10:00 UTC)),
            closes_service: true,
        }
    }

    #[test]
    fn a_good_draft_is_trimmed_and_an_empty_english_text_is_none() {
        let checked = draft().check().expect("valid");
        assert_eq!(checked.text_fi, "Huoltokatko");
        assert_eq!(checked.text_en, None);
        assert_eq!(checked.affected, "Haku");
    }

    #[test]
    fn finnish_and_swedish_are_required() {
        let mut no_fi = draft();
        no_fi.text_fi = " \n ".to_owned();
        assert_eq!(no_fi.check(), Err(DraftError::Missing { field: "text_fi" }));
        let mut no_sv = draft();
        no_sv.text_sv = String::new();
        assert_eq!(no_sv.check().map_err(|e| e.field()), Err("text_sv"));
    }

    #[test]
    fn long_texts_and_control_characters_are_refused() {
        let mut long = draft();
        long.text_sv = "å".repeat(MAX_TEXT + 1);
        assert_eq!(
            long.check(),
            Err(DraftError::TooLong {
                field: "text_sv",
                max: MAX_TEXT
            })
        );
        let mut exactly = draft();
        exactly.text_sv = "å".repeat(MAX_TEXT);
        assert!(exactly.check().is_ok());
        let mut nul = draft();
        nul.text_en = Some("a\u{0}b".to_owned());
        assert_eq!(
            nul.check(),
            Err(DraftError::ControlCharacter { field: "text_en" })
        );
        let mut lines = draft();
        lines.text_fi = "rivi\nrivi".to_owned();
        assert!(lines.check().is_ok());
    }

    #[test]
    fn an_end_before_the_start_or_in_the_past_is_refused() {
        let mut backwards = draft();
        backwards.ends_at = Some(backwards.starts_at);
        assert_eq!(backwards.check(), Err(DraftError::EndsBeforeStart));
        let now = datetime!(2026-12-05 10:00 UTC);
        assert_eq!(draft().check_at(now), Err(DraftError::EndsInThePast));
        assert!(draft().check_at(now - Duration::seconds(1)).is_ok());
    }

    #[test]
    fn only_a_maintenance_window_with_an_end_closes_the_service() {
        let mut open_ended = draft();
        open_ended.ends_at = None;
        assert_eq!(
            open_ended.check(),
            Err(DraftError::ClosingNeedsMaintenanceWindow)
        );
        let mut disruption = draft();
        disruption.kind = NoticeKind::Disruption;
        assert_eq!(
            disruption.check().map_err(|e| e.field()),
            Err("closes_service")
        );
    }
}
