//! The operator's notice file (`ops.notice_file`): a notice written in TOML on the server's
//! host, shown and published without the database, for when the database is what is down.
//! The same fields and rules as a stored notice:
//!
//! ```toml
//! kind = "disruption"                     # or "maintenance", "information"
//! text_fi = "Arkistoon ei juuri nyt saada yhteyttä."
//! text_sv = "Arkivet kan inte nås just nu."
//! text_en = "The archive cannot be reached right now."   # optional
//! affected = "Koko palvelu"               # optional
//! starts_at = 2026-12-04T08:00:00+02:00   # optional: the file's modification time
//! ends_at = 2026-12-04T12:00:00+02:00     # optional
//! closes_service = false                  # optional; only with kind = "maintenance" and an end
//! ```

use std::path::{Path, PathBuf};

use app::model::notices::NoticeKind;
use serde::Deserialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{
    Notice, NoticeId,
    draft::{DraftError, NoticeDraft},
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeFile {
    kind: String,
    text_fi: String,
    text_sv: String,
    text_en: Option<String>,
    #[serde(default)]
    affected: String,
    /// A TOML date-time or a string in RFC 3339; both need a zone.
    starts_at: Option<toml::Value>,
    ends_at: Option<toml::Value>,
    #[serde(default)]
    closes_service: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum NoticeFileError {
    #[error("ops.notice_file {path}: cannot read it: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("ops.notice_file {path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("ops.notice_file {path}: kind must be disruption, maintenance or information")]
    Kind { path: PathBuf },
    #[error(
        "ops.notice_file {path}: {field} must be a time with its zone, such as 2026-12-04T08:00:00+02:00"
    )]
    Time { path: PathBuf, field: &'static str },
    #[error("ops.notice_file {path}: {source}")]
    Draft { path: PathBuf, source: DraftError },
}

/// The file's notice; `modified` (the file's modification time) is its start and its last
/// change when it names no start.
pub fn read(path: &Path, modified: OffsetDateTime) -> Result<Notice, NoticeFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| NoticeFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text, modified)
}

fn parse(path: &Path, text: &str, modified: OffsetDateTime) -> Result<Notice, NoticeFileError> {
    let file: NoticeFile = toml::from_str(text).map_err(|e| NoticeFileError::Toml {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })?;
    let kind = NoticeKind::parse(&file.kind).ok_or_else(|| NoticeFileError::Kind {
        path: path.to_owned(),
    })?;
    let starts_at = file_time(path, "starts_at", file.starts_at)?.unwrap_or(modified);
    let draft = NoticeDraft {
        kind,
        text_fi: file.text_fi,
        text_sv: file.text_sv,
        text_en: file.text_en,
        affected: file.affected,
        starts_at,
        ends_at: file_time(path, "ends_at", file.ends_at)?,
        closes_service: file.closes_service,
    }
    .check()
    .map_err(|source| NoticeFileError::Draft {
        path: path.to_owned(),
        source,
    })?;
    Ok(Notice {
        id: NoticeId::File,
        kind: draft.kind,
        text_fi: draft.text_fi,
        text_sv: draft.text_sv,
        text_en: draft.text_en,
        affected: draft.affected,
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        closes_service: draft.closes_service,
        updated_at: modified,
    })
}

fn file_time(
    path: &Path,
    field: &'static str,
    value: Option<toml::Value>,
) -> Result<Option<OffsetDateTime>, NoticeFileError> {
    let text = match value {
        None => return Ok(None),
        Some(toml::Value::Datetime(datetime)) => datetime.to_string(),
        Some(toml::Value::String(text)) => text,
        Some(_) => String::new(),
    };
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(Some)
        .map_err(|_| NoticeFileError::Time {
            path: path.to_owned(),
            field,
        })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const MODIFIED: OffsetDateTime = datetime!(2026-12-04 06:00 UTC);

    fn parsed(text: &str) -> Result<Notice, NoticeFileError> {
        parse(Path::new("notice.toml"), text, MODIFIED)
    }

    #[test]
    fn a_notice_with_toml_and_text_times() {
        let notice = parsed(
            r#"
kind = "maintenance"
text_fi = "Huolto"
text_sv = "Service"
starts_at = 2026-12-04T08:00:00+02:00
ends_at = "2026-12-04T12:00:00+02:00"
closes_service = true
"#,
        )
        .expect("valid");
        assert_eq!(notice.id, NoticeId::File);
        assert_eq!(notice.starts_at, datetime!(2026-12-04 06:00 UTC));
        assert_eq!(notice.ends_at, Some(datetime!(2026-12-04 10:00 UTC)));
        assert!(notice.closes_service);
    }

    #[test]
    fn without_a_start_it_starts_when_the_file_was_written() {
        let notice =
            parsed("kind = \"disruption\"\ntext_fi = \"a\"\ntext_sv = \"b\"\n").expect("valid");
        assert_eq!(notice.starts_at, MODIFIED);
        assert_eq!(notice.ends_at, None);
    }

    #[test]
    fn broken_files_say_what_is_wrong() {
        let message = |text: &str| parsed(text).expect_err("refused").to_string();
        assert!(message("kind = ").contains("notice.toml"));
        assert!(
            message("kind = \"outage\"\ntext_fi = \"a\"\ntext_sv = \"b\"").contains("kind must be")
        );
        assert!(message("kind = \"disruption\"\ntext_fi = \"a\"").contains("text_sv"));
        assert!(
            message("kind = \"disruption\"\ntext_fi = \"a\"\ntext_sv = \"b\"\nstarts_at = 2026-12-04T08:00:00")
                .contains("starts_at must be a time with its zone")
        );
        assert!(
            message("kind = \"disruption\"\ntext_fi = \"\"\ntext_sv = \"b\"")
                .contains("text_fi: a text is required")
        );
        assert!(
            message("kind = \"disruption\"\ntext_fi = \"a\"\ntext_sv = \"b\"\nseverity = 1")
                .contains("severity")
        );
    }
}
