//! Storing a prepared document: the raw bytes, the derived index rows and the archive's own
//! data, in one transaction. The same function serves the importer and, later, an ingestion
//! endpoint.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::archive::{
    ParsedDocument, PreparedDocument, Rendition,
    cda::{Code, RenditionKind, SignatureInfo},
    xmldsig::{SignatureCheck, VERIFIER},
};

use super::retention::{RetentionRule, RetentionRules};

/// What happened to one submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Archived {
    Stored {
        archive_id: Uuid,
    },
    /// The same document with the same bytes is already in the archive; nothing changed.
    AlreadyArchived,
}

/// Why a well-formed document was not stored. Messages name identifiers, never client data.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("document {0} is already archived with different content")]
    DifferentContent(String),
    #[error("document {0} is already archived under another controller")]
    OtherController(String),
    #[error("the replaced document {0} is not in the archive (archive it first)")]
    UnknownReplaced(String),
    #[error("the replaced document {replaced} belongs to set {its_set}, not {set}")]
    ReplacedInOtherSet {
        replaced: String,
        its_set: String,
        set: String,
    },
    #[error("version {version} of set {set} is already archived as another document")]
    VersionTaken { set: String, version: i32 },
    #[error("the database refused the document: {0}")]
    Database(#[from] sqlx::Error),
}

impl ArchiveError {
    /// Refusals are about the document; a database error is about the archive and may pass.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Self::Database(_))
    }
}

/// The archive's write side.
#[derive(Clone, Debug)]
pub struct ArchiveStore {
    pool: PgPool,
    rules: RetentionRules,
}

impl ArchiveStore {
    pub async fn new(pool: PgPool) -> Result<Self, sqlx::Error> {
        let rules = RetentionRules::load(&pool).await?;
        Ok(Self { pool, rules })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Refreshes the planner's statistics of the archive's tables, so that plans cached while
    /// they were small are made again. Needs the tables' owner; otherwise a warning, no error.
    pub async fn refresh_statistics(&self) {
        let result = sqlx::query(
            "ANALYZE controller, client, client_case, client_relationship, document_set, \
             document_version, stored_bytes, rendition, signature, archive_state, archive_event",
        )
        .execute(&self.pool)
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot refresh the archive's statistics");
        }
    }

    /// Stores one prepared document in one transaction (one call of the database function
    /// `archive_document`). Idempotent: the same id with the same bytes is reported as already
    /// archived; the same id with other bytes is refused.
    pub async fn archive(
        &self,
        prepared: &PreparedDocument,
        archived_at: OffsetDateTime,
    ) -> Result<Archived, ArchiveError> {
        let doc = &prepared.document;
        let archive_id = Uuid::now_v7();
        let rule = self.rules.rule_for(doc);
        let submission = &prepared.submission;

        let mut raw_kinds = vec!["cda"];
        let mut raw_digests: Vec<&[u8]> = vec![&prepared.cda_sha256];
        let mut raw_bytes: Vec<&[u8]> = vec![&submission.cda];
        if let (Some(frame), Some(digest)) = (&submission.frame, &prepared.frame_sha256) {
            raw_kinds.push("frame");
            raw_digests.push(digest);
            raw_bytes.push(frame);
        }
        let renditions: &[Rendition] = &doc.renditions;
        let rendition_kinds: Vec<&str> =
            renditions.iter().map(|r| rendition_kind(r.kind)).collect();
        let media_types: Vec<&str> = renditions.iter().map(|r| r.media_type.as_str()).collect();
        let rendition_digests: Vec<Vec<u8>> = renditions
            .iter()
            .map(|r| crate::archive::sha256(&r.bytes).to_vec())
            .collect();
        let rendition_bytes: Vec<&[u8]> = renditions.iter().map(|r| r.bytes.as_slice()).collect();

        let outcome = sqlx::query_scalar!(
            r#"SELECT archive_document($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) AS "outcome!""#,
            version_row(prepared),
            json!({
                "registry_type": doc.registry_type.as_ref().map(|c| &c.code),
                "client_is_test": is_test_identity(
                    &doc.client_id.root,
                    doc.client_id.extension.as_deref().unwrap_or_default()
                ),
            }),
            &raw_kinds as &[&str],
            &raw_digests as &[&[u8]],
            &raw_bytes as &[&[u8]],
            &rendition_kinds as &[&str],
            &media_types as &[&str],
            &rendition_digests,
            &rendition_bytes as &[&[u8]],
            signature_rows(prepared, archived_at),
            state_row(prepared, archive_id, archived_at, rule),
            event_details(prepared, archive_id, rule),
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            // Two different documents claiming the same version of a set at the same moment.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                ArchiveError::VersionTaken {
                    set: doc.set_id.to_string(),
                    version: version_number(prepared),
                }
            }
            _ => ArchiveError::Database(e),
        })?;

        let document_oid = doc.document_oid.to_string();
        match outcome.as_str() {
            "stored" => Ok(Archived::Stored { archive_id }),
            "already_archived" => Ok(Archived::AlreadyArchived),
            "different_content" => Err(ArchiveError::DifferentContent(document_oid)),
            "other_controller" => Err(ArchiveError::OtherController(document_oid)),
            "unknown_replaced" => Err(ArchiveError::UnknownReplaced(
                doc.replaces
                    .as_ref()
                    .map(|r| r.document_oid.to_string())
                    .unwrap_or_default(),
            )),
            "version_taken" => Err(ArchiveError::VersionTaken {
                set: doc.set_id.to_string(),
                version: version_number(prepared),
            }),
            other => match other.strip_prefix("replaced_in_other_set:") {
                Some(its_set) => Err(ArchiveError::ReplacedInOtherSet {
                    replaced: doc
                        .replaces
                        .as_ref()
                        .map(|r| r.document_oid.to_string())
                        .unwrap_or_default(),
                    its_set: its_set.to_owned(),
                    set: doc.set_id.to_string(),
                }),
                None => Err(ArchiveError::Database(sqlx::Error::Protocol(format!(
                    "archive_document returned {other:?}"
                )))),
            },
        }
    }
}

fn version_number(prepared: &PreparedDocument) -> i32 {
    i32::try_from(prepared.document.version_number).unwrap_or(i32::MAX)
}

/// A personal identity code of the test series: individual number 900–999.
fn is_test_identity(system: &str, value: &str) -> bool {
    system == "1.2.246.21"
        && value.len() == 11
        && value
            .get(7..10)
            .and_then(|n| n.parse::<u16>().ok())
            .is_some_and(|n| n >= 900)
}

fn rendition_kind(kind: RenditionKind) -> &'static str {
    match kind {
        RenditionKind::Xhtml => "xhtml",
        RenditionKind::Pdf => "pdf",
        RenditionKind::Json => "json",
        RenditionKind::Other => "other",
    }
}

fn code(code: Option<&Code>) -> (Option<&str>, Option<&str>) {
    (
        code.map(|c| c.code.as_str()),
        code.and_then(|c| c.code_system.as_deref()),
    )
}

fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// The `document_version` row as JSON, keyed by column name (read with
/// `jsonb_populate_record` in the database).
fn version_row(prepared: &PreparedDocument) -> serde_json::Value {
    let doc: &ParsedDocument = &prepared.document;
    let mut row = serde_json::Map::new();
    let mut display_names = serde_json::Map::new();
    let mut coded = |prefix: &str, value: Option<&Code>| {
        let (c, system) = code(value);
        row.insert(format!("{prefix}_code"), json!(c));
        row.insert(format!("{prefix}_system"), json!(system));
        if let Some(name) = value.and_then(|v| v.display_name.as_ref()) {
            display_names.insert(prefix.to_owned(), json!(name));
        }
    };
    coded("general_type", doc.general_type.as_ref());
    coded("specific_type", doc.specific_type.as_ref());
    coded("document_group", doc.document_group.as_ref());
    coded("service_task", doc.function_code.as_ref());
    coded("service_process", doc.service_process.as_ref());
    coded("confidentiality", doc.confidentiality.as_ref());
    coded("record_status", doc.record_status.as_ref());
    coded("registry_type", doc.registry_type.as_ref());
    coded("retention_class", doc.total_retention_class.as_ref());
    coded("special_content", doc.special_content.as_ref());
    coded("consent", doc.consent.as_ref());
    coded("restriction", doc.authorization_restriction.as_ref());
    coded("inaccessible", doc.inaccessible_argument.as_ref());
    coded("correction_reason", doc.reason_of_correction.as_ref());
    coded("file_format", doc.file_format.as_ref());
    coded("structured_format", doc.structured_file_format.as_ref());
    let software = doc.software.as_ref();
    let given_names =
        (!doc.client_given_names.is_empty()).then(|| doc.client_given_names.join(" "));
    let fields = json!({
        "controller_oid": doc.controller,
        "document_oid": doc.document_oid,
        "set_oid": doc.set_id,
        "version_number": version_number(prepared),
        "replaces_document_oid": doc.replaces.as_ref().map(|r| &r.document_oid),
        "effective_time": rfc3339(prepared.effective_time),
        "creation_time": prepared.creation_time.and_then(rfc3339),
        "language_code": doc.language,
        "content_specification_id": doc.content_specification_id,
        "client_id_system": doc.client_id.root,
        "client_id_value": doc.client_id.extension.as_deref().unwrap_or_default(),
        "client_family_name": doc.client_family_name,
        "client_given_names": given_names,
        "client_gender_code": doc.client_gender.as_ref().map(|c| &c.code),
        "client_birth_time": doc.client_birth_time,
        "author_id_system": doc.author_id.as_ref().map(|a| &a.root),
        "author_id_value": doc.author_id.as_ref().and_then(|a| a.extension.as_ref()),
        "author_name": doc.author_name,
        "custodian_name": doc.controller_name,
        "case_oid": doc.case_oid,
        "client_relationship_oid": doc.client_relationship_oid,
        "service_unit_oid": doc.service_unit_oid,
        "service_unit_name": doc.service_unit_name,
        "responsible_organisation_oid": doc.responsible_organisation_oid,
        "responsible_organisation_name": doc.responsible_organisation_name,
        "organiser_oid": doc.organiser_oid,
        "organiser_name": doc.organiser_name,
        "software_moderator": software.and_then(|s| s.moderator.as_ref()),
        "software_product": software.and_then(|s| s.product.as_ref()),
        "software_version": software.and_then(|s| s.version.as_ref()),
        "restriction_text": doc.authorization_restriction_text,
        "inaccessible_text": doc.inaccessible_argument_text,
        "signer_id": doc.signer_id,
        "signer_name": doc.signer_name,
        "signer_authentication_code": doc.signer_authentication_method.as_ref().map(|c| &c.code),
        "signed_time": doc.signed_time,
        "display_names": display_names,
        "unknown_header": doc.unknown_header,
    });
    if let serde_json::Value::Object(fields) = fields {
        row.extend(fields);
    }
    serde_json::Value::Object(row)
}

/// One `signature` row per signature: what the document says and what verification found.
fn signature_rows(prepared: &PreparedDocument, verified_at: OffsetDateTime) -> serde_json::Value {
    let doc = &prepared.document;
    let rows: Vec<serde_json::Value> = doc
        .signatures
        .iter()
        .zip(&prepared.signatures)
        .enumerate()
        .map(
            |(position, (info, check)): (usize, (&SignatureInfo, &SignatureCheck))| {
                let certificate = check.certificate.as_ref();
                let (description, description_system) = code(info.description.as_ref());
                json!({
                    "controller_oid": doc.controller,
                    "document_oid": doc.document_oid,
                    "position": position,
                    "signature_id": info.id,
                    "description_code": description,
                    "description_system": description_system,
                    "signature_timestamp": info.timestamp,
                    "integrity": check.integrity.code(),
                    "integrity_detail": check.integrity_detail,
                    "trust": check.trust.code(),
                    "trust_detail": check.trust_detail,
                    "signer_subject": certificate.map(|c| &c.subject),
                    "signer_issuer": certificate.map(|c| &c.issuer),
                    "signer_serial": certificate.map(|c| &c.serial),
                    "signer_not_before": certificate.and_then(|c| rfc3339(c.not_before)),
                    "signer_not_after": certificate.and_then(|c| rfc3339(c.not_after)),
                    // bytea's text form, which jsonb_populate_recordset reads.
                    "certificate": certificate.map(|c| format!("\\x{}", hex::encode(&c.der))),
                    "verified_at": rfc3339(verified_at),
                    "verifier": VERIFIER,
                })
            },
        )
        .collect();
    serde_json::Value::Array(rows)
}

fn message_id(prepared: &PreparedDocument) -> Option<String> {
    prepared
        .frame
        .as_ref()
        .map(|f| match &f.message_id.extension {
            Some(extension) => format!("{}:{extension}", f.message_id.root),
            None => f.message_id.root.clone(),
        })
}

/// The `archive_state` row: the archive's own data for the version.
fn state_row(
    prepared: &PreparedDocument,
    archive_id: Uuid,
    archived_at: OffsetDateTime,
    rule: &RetentionRule,
) -> serde_json::Value {
    let doc = &prepared.document;
    let frame = prepared.frame.as_ref();
    json!({
        "controller_oid": doc.controller,
        "document_oid": doc.document_oid,
        "archive_id": archive_id,
        "archived_at": rfc3339(archived_at),
        "storage_code": prepared.storage_code,
        "completion_code": prepared.completion_code,
        "retention_rule_id": rule.id,
        "retention_end": rule.end_for(prepared.effective_time).map(|d| d.to_string()),
        // Filled in by the database from the controller's successor.
        "active_controller_oid": doc.controller,
        "message_id": message_id(prepared),
        "service_request_code": frame.and_then(|f| f.service_request.as_ref()).map(|c| &c.code),
        "use_situation_code": frame.and_then(|f| f.use_situation.as_ref()).map(|c| &c.code),
    })
}

fn event_details(
    prepared: &PreparedDocument,
    archive_id: Uuid,
    rule: &RetentionRule,
) -> serde_json::Value {
    json!({
        "archive_id": archive_id,
        "storage_code": prepared.storage_code,
        "completion_code": prepared.completion_code,
        "retention_rule": rule.id,
        "cda_sha256": hex::encode(prepared.cda_sha256),
        "frame_sha256": prepared.frame_sha256.map(hex::encode),
        "message_id": message_id(prepared),
        "signatures": prepared.signatures.iter().map(|s| json!({
            "integrity": s.integrity.code(), "trust": s.trust.code()
        })).collect::<Vec<_>>(),
    })
}
