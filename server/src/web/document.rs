//! The document page's answer: one version within the archivist's active controllers, its
//! header fields in the profile's order with code display names from the code lists, the
//! archive's data, and its set's versions. Audited as `document.viewed`.

use app::{
    model::document::{
        ArchiveData, ArchiveEventView, CodedValue, DocumentView, HeaderField, HeaderValue,
        RenditionInfo, SignatureView, StoredInfo, StructuredRendition, VersionRow,
    },
    ssr::ServiceError,
};
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::context::RequestContext;
use crate::{
    archive::DocumentOid,
    audit::{AuditAction, Outcome},
    auth::ControllerScope,
    store::scoped,
};

use super::{
    access::{ServerServices, unavailable},
    structured::{MAX_TREE_BYTES, structured_rendition},
};

/// How a header field is read from the `document_version` row.
enum Field {
    /// A timestamp column.
    Time(&'static str),
    /// A column holding a time as the document wrote it (HL7 `TS`).
    Hl7Time(&'static str),
    /// `{prefix}_code` and `{prefix}_system`, with the document's display name under `prefix`.
    Code(&'static str),
    /// Columns joined with spaces (a name and its identifier, a software's parts).
    Text(&'static [&'static str]),
}

/// The header fields in the order of the social welfare profile (archive-model.md §1.2).
const HEADER: &[(&str, Field)] = &[
    ("effective_time", Field::Time("effective_time")),
    ("creation_time", Field::Time("creation_time")),
    ("general_type", Field::Code("general_type")),
    ("specific_type", Field::Code("specific_type")),
    ("document_group", Field::Code("document_group")),
    ("service_task", Field::Code("service_task")),
    ("service_process", Field::Code("service_process")),
    ("client_id", Field::Text(&["client_id_value"])),
    (
        "client_name",
        Field::Text(&["client_family_name", "client_given_names"]),
    ),
    ("client_birth_time", Field::Text(&["client_birth_time"])),
    ("client_gender", Field::Text(&["client_gender_code"])),
    ("case", Field::Text(&["case_oid"])),
    (
        "client_relationship",
        Field::Text(&["client_relationship_oid"]),
    ),
    (
        "service_unit",
        Field::Text(&["service_unit_name", "service_unit_oid"]),
    ),
    (
        "responsible_organisation",
        Field::Text(&[
            "responsible_organisation_name",
            "responsible_organisation_oid",
        ]),
    ),
    (
        "organiser",
        Field::Text(&["organiser_name", "organiser_oid"]),
    ),
    ("custodian", Field::Text(&["custodian_name"])),
    ("author", Field::Text(&["author_name", "author_id_value"])),
    ("confidentiality", Field::Code("confidentiality")),
    ("record_status", Field::Code("record_status")),
    ("registry_type", Field::Code("registry_type")),
    ("retention_class", Field::Code("retention_class")),
    ("special_content", Field::Code("special_content")),
    ("consent", Field::Code("consent")),
    ("restriction", Field::Code("restriction")),
    ("restriction_text", Field::Text(&["restriction_text"])),
    ("inaccessible", Field::Code("inaccessible")),
    ("inaccessible_text", Field::Text(&["inaccessible_text"])),
    ("correction_reason", Field::Code("correction_reason")),
    ("language", Field::Text(&["language_code"])),
    ("file_format", Field::Code("file_format")),
    ("structured_format", Field::Code("structured_format")),
    (
        "content_specification",
        Field::Text(&["content_specification_id"]),
    ),
    (
        "software",
        Field::Text(&["software_moderator", "software_product", "software_version"]),
    ),
    ("signer", Field::Text(&["signer_name", "signer_id"])),
    (
        "signer_authentication",
        Field::Text(&["signer_authentication_code"]),
    ),
    ("signed_time", Field::Hl7Time("signed_time")),
];

impl ServerServices {
    pub(super) async fn document(
        &self,
        caller: &RequestContext,
        document_oid: String,
    ) -> Result<DocumentView, ServiceError> {
        let document = DocumentOid::parse(document_oid.trim())
            .map_err(|_| ServiceError::invalid("document_oid"))?;
        let scope = self.active_scope(caller).await?;
        let mut view = self.unnamed_view(&scope, &document).await?;
        let structured = self
            .checked_rendition(
                caller,
                &scope,
                (&view.controller_oid, &document),
                "json",
                MAX_TREE_BYTES,
            )
            .await?;
        view.structured = structured_rendition(structured);
        self.name_codes(&mut view).await?;
        self.record_access(
            caller,
            AuditAction::DocumentViewed,
            Outcome::Success,
            Some(view.controller_oid.as_str()),
            Some(document.as_str()),
            Some(json!({ "version": view.version_number })),
        )
        .await?;
        Ok(view)
    }

    /// One version within the scope, with the code lists' display names; not in the scope:
    /// [`ServiceError::NotFound`]. Not audited: the callers record what they show.
    pub(super) async fn version_view(
        &self,
        scope: &ControllerScope,
        document: &DocumentOid,
    ) -> Result<DocumentView, ServiceError> {
        let mut view = self.unnamed_view(scope, document).await?;
        self.name_codes(&mut view).await?;
        Ok(view)
    }

    /// The first rendition of `kind` of a version, read whole when it is at most `max_size`
    /// bytes (`Some(None)` when larger; `None` when there is none), checked against the SHA-256
    /// recorded when it was archived: a mismatch is logged, audited and an integrity error, and
    /// nothing of it is shown.
    pub(super) async fn checked_rendition(
        &self,
        caller: &RequestContext,
        scope: &ControllerScope,
        (controller, document): (&str, &DocumentOid),
        kind: &str,
        max_size: i64,
    ) -> Result<Option<Option<Vec<u8>>>, ServiceError> {
        let Some(read) = scoped::rendition_bytes(&self.reads, scope, document, kind, max_size)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let Some(bytes) = read.bytes else {
            return Ok(Some(None));
        };
        if ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref() == read.sha256 {
            return Ok(Some(Some(bytes)));
        }
        tracing::error!(
            document = %document.as_str(),
            controller = %controller,
            rendition = %kind,
            "INTEGRITY ERROR: a stored rendition does not match the SHA-256 recorded at archiving; nothing was shown"
        );
        self.record_access(
            caller,
            AuditAction::DocumentIntegrityFailed,
            Outcome::Refused {
                reason: "sha256_mismatch",
            },
            Some(controller),
            Some(document.as_str()),
            Some(json!({ "rendition": kind })),
        )
        .await?;
        Err(ServiceError::Integrity)
    }

    /// [`Self::version_view`] before the code lists have named its codes.
    async fn unnamed_view(
        &self,
        scope: &ControllerScope,
        document: &DocumentOid,
    ) -> Result<DocumentView, ServiceError> {
        let row = scoped::document_version(&self.reads, scope, document)
            .await
            .map_err(unavailable)?
            .ok_or(ServiceError::NotFound)?;
        view_of(&row).ok_or_else(|| {
            tracing::error!(document = %document.as_str(), "the document page's row has an unexpected shape");
            ServiceError::Unavailable
        })
    }

    /// Fills in the code lists' display names of every coded value on the page.
    async fn name_codes(&self, view: &mut DocumentView) -> Result<(), ServiceError> {
        let mut coded: Vec<&mut CodedValue> = Vec::new();
        let values = view
            .header
            .iter_mut()
            .map(|f| &mut f.value)
            .chain(view.title.iter_mut())
            .chain(
                view.versions
                    .iter_mut()
                    .filter_map(|v| v.correction_reason.as_mut()),
            );
        for value in values {
            if let HeaderValue::Code(code) = value {
                coded.push(code);
            }
        }
        if let StructuredRendition::Tree(tree) = &mut view.structured {
            coded.extend(tree.codes_mut());
        }
        // Documents name a code system with its version as the last arc (…1506.201701); the
        // code lists hold the system without it. Both are looked up, the exact one first.
        let wanted: Vec<(String, String)> = coded
            .iter()
            .filter_map(|c| c.system.as_deref().map(|s| (s, c.code.as_str())))
            .flat_map(|(system, code)| {
                [Some(system), unversioned(system)]
                    .into_iter()
                    .flatten()
                    .map(move |s| (s.to_owned(), code.to_owned()))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let names = scoped::code_names(&self.reads, &wanted)
            .await
            .map_err(unavailable)?;
        for code in coded {
            let Some(system) = code.system.as_deref() else {
                continue;
            };
            code.names = [Some(system), unversioned(system)]
                .into_iter()
                .flatten()
                .find_map(|candidate| {
                    names
                        .iter()
                        .find(|(s, value, _)| s == candidate && *value == code.code)
                        .map(|(_, _, names)| names.clone())
                });
        }
        Ok(())
    }
}

/// A code system OID without its last arc, when that arc is a version (a year, or year and
/// month: 2008, 201701).
fn unversioned(system: &str) -> Option<&str> {
    let (base, last) = system.rsplit_once('.')?;
    (last.len() >= 4 && last.starts_with("20") && last.bytes().all(|b| b.is_ascii_digit()))
        .then_some(base)
}

fn text(row: &Map<String, Value>, key: &str) -> Option<String> {
    row.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A timestamp as PostgreSQL's JSON writes it, in UTC RFC 3339 to the second.
fn time(value: Option<&Value>) -> Option<String> {
    let text = value?.as_str()?;
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    parsed
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// An HL7 time that names its zone, to the minute at least, as an instant shown beside the
/// stored value; anything less precise (a day, a time without a zone) is shown as it is stored,
/// since reading it as an instant would invent what the document did not say.
fn hl7_time(stored: &str) -> HeaderValue {
    let digits = stored.bytes().take_while(u8::is_ascii_digit).count();
    let zoned = stored.get(digits..).is_some_and(|rest| {
        rest.starts_with(['+', '-']) || (rest.starts_with('.') && rest.contains(['+', '-']))
    });
    let instant = (digits >= 12 && zoned)
        .then(|| crate::archive::parse_hl7_time(stored).ok())
        .flatten()
        .and_then(|at| {
            at.to_offset(time::UtcOffset::UTC)
                .replace_nanosecond(0)
                .ok()?
                .format(&Rfc3339)
                .ok()
        });
    match instant {
        Some(utc) => HeaderValue::StoredTime {
            utc,
            stored: stored.to_owned(),
        },
        None => HeaderValue::Text(stored.to_owned()),
    }
}

fn coded(row: &Map<String, Value>, prefix: &str) -> Option<HeaderValue> {
    let code = text(row, &format!("{prefix}_code"))?;
    Some(HeaderValue::Code(CodedValue {
        code,
        system: text(row, &format!("{prefix}_system")),
        names: None,
        document_name: row
            .get("display_names")
            .and_then(|names| names.get(prefix))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }))
}

fn header_value(row: &Map<String, Value>, field: &Field) -> Option<HeaderValue> {
    match field {
        Field::Time(column) => time(row.get(*column)).map(HeaderValue::Time),
        Field::Hl7Time(column) => text(row, column).map(|stored| hl7_time(&stored)),
        Field::Code(prefix) => coded(row, prefix),
        Field::Text(columns) => {
            let parts: Vec<String> = columns.iter().filter_map(|c| text(row, c)).collect();
            (!parts.is_empty()).then(|| HeaderValue::Text(parts.join(" ")))
        }
    }
}

/// The page's view of the database's JSON; `None` if a required part is missing.
fn view_of(row: &Value) -> Option<DocumentView> {
    let version = row.get("version")?.as_object()?;
    let archive = row.get("archive")?.as_object()?;
    let rule = row.get("rule")?.as_object()?;
    let header = HEADER
        .iter()
        .filter_map(|(key, field)| {
            header_value(version, field).map(|value| HeaderField {
                key: (*key).to_owned(),
                value,
            })
        })
        .collect();
    let unknown_header = version
        .get("unknown_header")
        .filter(|v| {
            v.as_object().is_some_and(|o| !o.is_empty())
                || v.as_array().is_some_and(|a| !a.is_empty())
        })
        .and_then(|v| serde_json::to_string_pretty(v).ok());
    let mut pdf_number = 0_u16;
    let renditions = row
        .get("renditions")?
        .as_array()?
        .iter()
        .filter_map(|r| {
            let r = r.as_object()?;
            let kind = text(r, "kind")?;
            let pdf = (kind == "pdf").then(|| {
                pdf_number += 1;
                pdf_number
            });
            Some(RenditionInfo {
                kind,
                media_type: text(r, "media_type").unwrap_or_default(),
                size: r.get("size")?.as_i64()?,
                sha256: text(r, "sha256")?,
                pdf_number: pdf,
            })
        })
        .collect();
    let raw = row.get("raw")?.as_object()?;
    Some(DocumentView {
        document_oid: text(version, "document_oid")?,
        set_oid: text(version, "set_oid")?,
        version_number: i32::try_from(version.get("version_number")?.as_i64()?).ok()?,
        status: row.get("status")?.as_str()?.to_owned(),
        controller_oid: text(version, "controller_oid")?,
        controller_name: row.get("controller_name")?.as_str()?.to_owned(),
        title: coded(version, "specific_type").or_else(|| coded(version, "general_type")),
        header,
        unknown_header,
        archive: ArchiveData {
            archive_id: text(archive, "archive_id")?,
            archived_at: time(archive.get("archived_at"))?,
            storage_code: text(archive, "storage_code")?,
            completion_code: text(archive, "completion_code")?,
            retention_end: text(archive, "retention_end"),
            retention_rule: text(rule, "id")?,
            retention_rule_names: [
                text(rule, "description_fi")?,
                text(rule, "description_sv")?,
                text(rule, "description_en")?,
            ],
            active_controller_oid: text(archive, "active_controller_oid")?,
        },
        signatures: row
            .get("signatures")?
            .as_array()?
            .iter()
            .filter_map(|g| {
                let g = g.as_object()?;
                Some(SignatureView {
                    integrity: text(g, "integrity")?,
                    integrity_detail: text(g, "integrity_detail"),
                    trust: text(g, "trust")?,
                    trust_detail: text(g, "trust_detail"),
                    signer_subject: text(g, "signer_subject"),
                    signer_issuer: text(g, "signer_issuer"),
                    signature_timestamp: text(g, "signature_timestamp"),
                    verified_at: time(g.get("verified_at"))?,
                })
            })
            .collect(),
        events: row
            .get("events")?
            .as_array()?
            .iter()
            .filter_map(|e| {
                let e = e.as_object()?;
                Some(ArchiveEventView {
                    occurred_at: time(e.get("occurred_at"))?,
                    event: text(e, "event")?,
                })
            })
            .collect(),
        versions: row
            .get("versions")?
            .as_array()?
            .iter()
            .filter_map(|w| {
                let w = w.as_object()?;
                let software: Vec<String> = ["software_product", "software_version"]
                    .iter()
                    .filter_map(|c| text(w, c))
                    .collect();
                Some(VersionRow {
                    document_oid: text(w, "document_oid")?,
                    version_number: i32::try_from(w.get("version_number")?.as_i64()?).ok()?,
                    status: text(w, "status")?,
                    archived_at: time(w.get("archived_at"))?,
                    software: (!software.is_empty()).then(|| software.join(" ")),
                    correction_reason: coded(w, "correction_reason"),
                })
            })
            .collect(),
        raw: StoredInfo {
            size: raw.get("size")?.as_i64()?,
            sha256: text(raw, "sha256")?,
        },
        renditions,
        structured: StructuredRendition::Absent,
    })
}

#[cfg(test)]
mod tests {
    use app::model::document::HeaderValue;

    use super::{hl7_time, unversioned};

    #[test]
    fn a_signing_time_with_its_zone_is_an_instant_shown_beside_the_stored_value() {
        assert_eq!(
            hl7_time("20191106103300+0200"),
            HeaderValue::StoredTime {
                utc: "2019-11-06T08:33:00Z".to_owned(),
                stored: "20191106103300+0200".to_owned(),
            }
        );
        assert_eq!(
            hl7_time("20191106103300.123-0330"),
            HeaderValue::StoredTime {
                utc: "2019-11-06T14:03:00Z".to_owned(),
                stored: "20191106103300.123-0330".to_owned(),
            }
        );
        // What does not say its zone or its minute is not made into an instant.
        for stored in [
            "20191106103300",
            "20191106",
            "2019110610+0200",
            "not a time",
        ] {
            assert_eq!(
                hl7_time(stored),
                HeaderValue::Text(stored.to_owned()),
                "{stored}"
            );
        }
    }

    #[test]
    fn a_version_arc_is_dropped_and_nothing_else() {
        assert_eq!(
            unversioned("1.2.246.537.6.1506.201701"),
            Some("1.2.246.537.6.1506")
        );
        assert_eq!(
            unversioned("1.2.246.537.5.40154.2008"),
            Some("1.2.246.537.5.40154")
        );
        assert_eq!(unversioned("1.2.246.537.6.1506"), None);
        assert_eq!(unversioned("1.2.246.537.6.12"), None);
        assert_eq!(unversioned("2008"), None);
    }
}
