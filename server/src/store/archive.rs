//! Storing a prepared document: the raw bytes, the derived index rows and the archive's own
//! data, in one transaction. The same function serves the importer and, later, an ingestion
//! endpoint.

use serde_json::json;
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::archive::{
    ParsedDocument, PreparedDocument, Rendition,
    cda::{Code, RenditionKind},
    xmldsig::VERIFIER,
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

    /// Stores one prepared document. Idempotent: the same id with the same bytes is reported
    /// as already archived; the same id with other bytes is refused.
    pub async fn archive(
        &self,
        prepared: &PreparedDocument,
        archived_at: OffsetDateTime,
    ) -> Result<Archived, ArchiveError> {
        let mut tx = self.pool.begin().await?;
        let doc = &prepared.document;
        let controller = doc.controller.as_str();
        let document_oid = doc.document_oid.as_str();

        // Two importers with the same document wait for each other here, so it is stored once.
        sqlx::query!(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            document_oid
        )
        .execute(&mut *tx)
        .await?;

        if let Some(existing) = sqlx::query!(
            r#"SELECT v.controller_oid AS "controller_oid!", b.sha256 AS "sha256?"
               FROM document_version v
               LEFT JOIN stored_bytes b
                 ON b.controller_oid = v.controller_oid AND b.document_oid = v.document_oid
                AND b.kind = 'cda'
               WHERE v.document_oid = $1"#,
            document_oid
        )
        .fetch_optional(&mut *tx)
        .await?
        {
            return if existing.controller_oid != controller {
                Err(ArchiveError::OtherController(document_oid.to_owned()))
            } else if existing.sha256.as_deref() == Some(prepared.cda_sha256.as_slice()) {
                Ok(Archived::AlreadyArchived)
            } else {
                Err(ArchiveError::DifferentContent(document_oid.to_owned()))
            };
        }

        if let Some(replaced) = &doc.replaces {
            let parent = sqlx::query!(
                "SELECT set_oid::text AS \"set_oid!\" FROM document_version
                 WHERE controller_oid = $1 AND document_oid = $2",
                controller,
                replaced.document_oid.as_str()
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ArchiveError::UnknownReplaced(replaced.document_oid.to_string()))?;
            if parent.set_oid != doc.set_id.as_str() {
                return Err(ArchiveError::ReplacedInOtherSet {
                    replaced: replaced.document_oid.to_string(),
                    its_set: parent.set_oid,
                    set: doc.set_id.to_string(),
                });
            }
        }

        insert_references(&mut tx, doc).await?;
        insert_version(&mut tx, prepared, archived_at).await?;
        insert_bytes(&mut tx, prepared).await?;
        insert_signatures(&mut tx, prepared, archived_at).await?;
        let archive_id = Uuid::now_v7();
        let rule = self.rules.rule_for(doc);
        insert_archive_state(&mut tx, prepared, archive_id, archived_at, rule).await?;
        update_set_status(&mut tx, controller, doc.set_id.as_str()).await?;
        tx.commit().await?;
        Ok(Archived::Stored { archive_id })
    }
}

/// Controller, register, service unit, client, case and client relationship, created the
/// first time a document names them.
async fn insert_references(
    tx: &mut Transaction<'_, Postgres>,
    doc: &ParsedDocument,
) -> Result<(), sqlx::Error> {
    let controller = doc.controller.as_str();
    let client_system = doc.client_id.root.as_str();
    let client_value = doc.client_id.extension.as_deref().unwrap_or_default();
    let service_task = doc.function_code.as_ref().map(|c| c.code.as_str());
    sqlx::query!(
        r#"WITH c AS (
               INSERT INTO controller (oid, name) VALUES ($1, coalesce($2, $1))
               ON CONFLICT (oid) DO NOTHING
           ), r AS (
               INSERT INTO register (controller_oid, registry_type)
               SELECT $1, $3 WHERE $3::text IS NOT NULL
               ON CONFLICT DO NOTHING
           ), u AS (
               INSERT INTO service_unit (controller_oid, oid, name)
               SELECT $1, $4, $5 WHERE $4::text IS NOT NULL
               ON CONFLICT DO NOTHING
           )
           INSERT INTO client (controller_oid, id_system, id_value, is_test)
           VALUES ($1, $6, $7, $8)
           ON CONFLICT DO NOTHING"#,
        controller,
        doc.controller_name.as_deref(),
        doc.registry_type.as_ref().map(|c| c.code.as_str()),
        doc.service_unit_oid.as_ref().map(|o| o.as_str()),
        doc.service_unit_name.as_deref(),
        client_system,
        client_value,
        is_test_identity(client_system, client_value),
    )
    .execute(&mut **tx)
    .await?;
    // The controller row must exist before rows that refer to it, and data-modifying CTEs of one
    // statement cannot see each other's rows; hence the second statement.
    sqlx::query!(
        r#"WITH a AS (
               INSERT INTO client_case (controller_oid, oid, client_id_system, client_id_value, service_task)
               SELECT $1, $2, $4, $5, $6 WHERE $2::text IS NOT NULL
               ON CONFLICT DO NOTHING
           )
           INSERT INTO client_relationship (controller_oid, oid, client_id_system, client_id_value, service_task)
           SELECT $1, $3, $4, $5, $6 WHERE $3::text IS NOT NULL
           ON CONFLICT DO NOTHING"#,
        controller,
        doc.case_oid.as_ref().map(|o| o.as_str()),
        doc.client_relationship_oid.as_ref().map(|o| o.as_str()),
        client_system,
        client_value,
        service_task,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
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

fn code_parts(code: Option<&Code>) -> (Option<&str>, Option<&str>) {
    (
        code.map(|c| c.code.as_str()),
        code.and_then(|c| c.code_system.as_deref()),
    )
}

async fn insert_version(
    tx: &mut Transaction<'_, Postgres>,
    prepared: &PreparedDocument,
    archived_at: OffsetDateTime,
) -> Result<(), ArchiveError> {
    let doc = &prepared.document;
    let controller = doc.controller.as_str();
    let version = i32::try_from(doc.version_number).unwrap_or(i32::MAX);
    sqlx::query!(
        r#"INSERT INTO document_set
               (controller_oid, set_oid, client_id_system, client_id_value, status,
                current_document_oid, current_version, version_count,
                first_archived_at, last_archived_at)
           VALUES ($1, $2, $3, $4, 'current', $5, $6, 1, $7, $7)
           ON CONFLICT (controller_oid, set_oid) DO UPDATE
               SET last_archived_at = greatest(document_set.last_archived_at, EXCLUDED.last_archived_at)"#,
        controller,
        doc.set_id.as_str(),
        doc.client_id.root.as_str(),
        doc.client_id.extension.as_deref().unwrap_or_default(),
        doc.document_oid.as_str(),
        version,
        archived_at,
    )
    .execute(&mut **tx)
    .await?;

    let (general_type, general_type_system) = code_parts(doc.general_type.as_ref());
    let (specific_type, specific_type_system) = code_parts(doc.specific_type.as_ref());
    let (group, group_system) = code_parts(doc.document_group.as_ref());
    let (task, task_system) = code_parts(doc.function_code.as_ref());
    let (process, process_system) = code_parts(doc.service_process.as_ref());
    let (confidentiality, confidentiality_system) = code_parts(doc.confidentiality.as_ref());
    let (record_status, record_status_system) = code_parts(doc.record_status.as_ref());
    let (registry, registry_system) = code_parts(doc.registry_type.as_ref());
    let (retention, retention_system) = code_parts(doc.total_retention_class.as_ref());
    let (special, special_system) = code_parts(doc.special_content.as_ref());
    let (consent, consent_system) = code_parts(doc.consent.as_ref());
    let (restriction, restriction_system) = code_parts(doc.authorization_restriction.as_ref());
    let (inaccessible, inaccessible_system) = code_parts(doc.inaccessible_argument.as_ref());
    let (correction, correction_system) = code_parts(doc.reason_of_correction.as_ref());
    let (file_format, file_format_system) = code_parts(doc.file_format.as_ref());
    let (structured, structured_system) = code_parts(doc.structured_file_format.as_ref());
    let software = doc.software.as_ref();
    let given_names =
        (!doc.client_given_names.is_empty()).then(|| doc.client_given_names.join(" "));
    let header = doc.header_json();

    let inserted = sqlx::query!(
        r#"INSERT INTO document_version (
               controller_oid, document_oid, set_oid, version_number, replaces_document_oid, status,
               effective_time, creation_time,
               general_type_code, general_type_system, specific_type_code, specific_type_system,
               document_group_code, document_group_system, service_task_code, service_task_system,
               service_process_code, service_process_system, confidentiality_code, confidentiality_system,
               language_code, record_status_code, record_status_system,
               registry_type_code, registry_type_system, retention_class_code, retention_class_system,
               special_content_code, special_content_system, consent_code, consent_system,
               restriction_code, restriction_system, inaccessible_code, inaccessible_system,
               correction_reason_code, correction_reason_system, file_format_code, file_format_system,
               structured_format_code, structured_format_system, content_specification_id,
               client_id_system, client_id_value, client_family_name, client_given_names,
               client_gender_code, client_birth_time,
               author_id_system, author_id_value, author_name, custodian_name,
               case_oid, client_relationship_oid, service_unit_oid, service_unit_name,
               responsible_organisation_oid, responsible_organisation_name,
               organiser_oid, organiser_name,
               software_moderator, software_product, software_version,
               signer_name, signer_authentication_code, signed_time,
               header, unknown_header)
           VALUES ($1, $2, $3, $4, $5, 'current', $6, $7,
               $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
               $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38,
               $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53, $54,
               $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66, $67)
           ON CONFLICT (controller_oid, set_oid, version_number) DO NOTHING"#,
        controller,
        doc.document_oid.as_str(),
        doc.set_id.as_str(),
        version,
        doc.replaces.as_ref().map(|r| r.document_oid.as_str()),
        prepared.effective_time,
        prepared.creation_time,
        general_type,
        general_type_system,
        specific_type,
        specific_type_system,
        group,
        group_system,
        task,
        task_system,
        process,
        process_system,
        confidentiality,
        confidentiality_system,
        doc.language.as_deref(),
        record_status,
        record_status_system,
        registry,
        registry_system,
        retention,
        retention_system,
        special,
        special_system,
        consent,
        consent_system,
        restriction,
        restriction_system,
        inaccessible,
        inaccessible_system,
        correction,
        correction_system,
        file_format,
        file_format_system,
        structured,
        structured_system,
        doc.content_specification_id.as_deref(),
        doc.client_id.root.as_str(),
        doc.client_id.extension.as_deref().unwrap_or_default(),
        doc.client_family_name.as_deref(),
        given_names,
        doc.client_gender.as_ref().map(|c| c.code.as_str()),
        doc.client_birth_time.as_deref(),
        doc.author_id.as_ref().map(|a| a.root.as_str()),
        doc.author_id.as_ref().and_then(|a| a.extension.as_deref()),
        doc.author_name.as_deref(),
        doc.controller_name.as_deref(),
        doc.case_oid.as_ref().map(|o| o.as_str()),
        doc.client_relationship_oid.as_ref().map(|o| o.as_str()),
        doc.service_unit_oid.as_ref().map(|o| o.as_str()),
        doc.service_unit_name.as_deref(),
        doc.responsible_organisation_oid.as_ref().map(|o| o.as_str()),
        doc.responsible_organisation_name.as_deref(),
        doc.organiser_oid.as_ref().map(|o| o.as_str()),
        doc.organiser_name.as_deref(),
        software.and_then(|s| s.moderator.as_deref()),
        software.and_then(|s| s.product.as_deref()),
        software.and_then(|s| s.version.as_deref()),
        doc.signer_name.as_deref(),
        doc.signer_authentication_method.as_ref().map(|c| c.code.as_str()),
        doc.signed_time.as_deref(),
        header,
        &doc.unknown_header,
    )
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ArchiveError::VersionTaken {
            set: doc.set_id.to_string(),
            version,
        });
    }
    Ok(())
}

async fn insert_bytes(
    tx: &mut Transaction<'_, Postgres>,
    prepared: &PreparedDocument,
) -> Result<(), sqlx::Error> {
    let doc = &prepared.document;
    let controller = doc.controller.as_str();
    let document_oid = doc.document_oid.as_str();
    let submission = &prepared.submission;
    let mut kinds = vec!["cda"];
    let mut blobs: Vec<&[u8]> = vec![&submission.cda];
    let mut digests: Vec<&[u8]> = vec![&prepared.cda_sha256];
    if let (Some(frame), Some(digest)) = (&submission.frame, &prepared.frame_sha256) {
        kinds.push("frame");
        blobs.push(frame);
        digests.push(digest);
    }
    sqlx::query!(
        r#"INSERT INTO stored_bytes (controller_oid, document_oid, kind, media_type, size, sha256, bytes)
           SELECT $1, $2, kind, 'application/xml', octet_length(bytes), sha256, bytes
           FROM unnest($3::text[], $4::bytea[], $5::bytea[]) AS b (kind, sha256, bytes)"#,
        controller,
        document_oid,
        &kinds as &[&str],
        &digests as &[&[u8]],
        &blobs as &[&[u8]],
    )
    .execute(&mut **tx)
    .await?;

    let renditions: &[Rendition] = &doc.renditions;
    let positions: Vec<i16> = (0..renditions.len())
        .map(|i| i16::try_from(i).unwrap_or(i16::MAX))
        .collect();
    let kinds: Vec<&str> = renditions.iter().map(|r| rendition_kind(r.kind)).collect();
    let media_types: Vec<&str> = renditions.iter().map(|r| r.media_type.as_str()).collect();
    let digests: Vec<Vec<u8>> = renditions
        .iter()
        .map(|r| crate::archive::sha256(&r.bytes).to_vec())
        .collect();
    let blobs: Vec<&[u8]> = renditions.iter().map(|r| r.bytes.as_slice()).collect();
    sqlx::query!(
        r#"INSERT INTO rendition (controller_oid, document_oid, position, kind, media_type, size, sha256, bytes)
           SELECT $1, $2, position, kind, media_type, octet_length(bytes), sha256, bytes
           FROM unnest($3::int2[], $4::text[], $5::text[], $6::bytea[], $7::bytea[])
                AS r (position, kind, media_type, sha256, bytes)"#,
        controller,
        document_oid,
        &positions,
        &kinds as &[&str],
        &media_types as &[&str],
        &digests,
        &blobs as &[&[u8]],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn rendition_kind(kind: RenditionKind) -> &'static str {
    match kind {
        RenditionKind::Xhtml => "xhtml",
        RenditionKind::Pdf => "pdf",
        RenditionKind::Json => "json",
        RenditionKind::Other => "other",
    }
}

async fn insert_signatures(
    tx: &mut Transaction<'_, Postgres>,
    prepared: &PreparedDocument,
    verified_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let doc = &prepared.document;
    for (position, (info, check)) in doc.signatures.iter().zip(&prepared.signatures).enumerate() {
        let certificate = check.certificate.as_ref();
        let (description, description_system) = code_parts(info.description.as_ref());
        sqlx::query!(
            r#"INSERT INTO signature (
                   controller_oid, document_oid, position, signature_id,
                   description_code, description_system, signature_timestamp,
                   integrity, integrity_detail, trust, trust_detail,
                   signer_subject, signer_issuer, signer_serial, signer_not_before, signer_not_after,
                   certificate, verified_at, verifier)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"#,
            doc.controller.as_str(),
            doc.document_oid.as_str(),
            i16::try_from(position).unwrap_or(i16::MAX),
            info.id.as_deref(),
            description,
            description_system,
            info.timestamp.as_deref(),
            check.integrity.code(),
            check.integrity_detail.as_deref(),
            check.trust.code(),
            check.trust_detail.as_deref(),
            certificate.map(|c| c.subject.as_str()),
            certificate.map(|c| c.issuer.as_str()),
            certificate.map(|c| c.serial.as_str()),
            certificate.map(|c| c.not_before),
            certificate.map(|c| c.not_after),
            certificate.map(|c| c.der.as_slice()),
            verified_at,
            VERIFIER,
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_archive_state(
    tx: &mut Transaction<'_, Postgres>,
    prepared: &PreparedDocument,
    archive_id: Uuid,
    archived_at: OffsetDateTime,
    rule: &RetentionRule,
) -> Result<(), sqlx::Error> {
    let doc = &prepared.document;
    let frame = prepared.frame.as_ref();
    let retention_end = rule.end_for(prepared.effective_time);
    let message_id = frame.map(|f| match &f.message_id.extension {
        Some(extension) => format!("{}:{extension}", f.message_id.root),
        None => f.message_id.root.clone(),
    });
    let details = json!({
        "archive_id": archive_id,
        "storage_code": prepared.storage_code,
        "completion_code": prepared.completion_code,
        "retention_rule": rule.id,
        "cda_sha256": hex::encode(prepared.cda_sha256),
        "frame": prepared.frame_sha256.map(hex::encode),
        "message_id": message_id,
        "signatures": prepared.signatures.iter().map(|s| json!({
            "integrity": s.integrity.code(), "trust": s.trust.code()
        })).collect::<Vec<_>>(),
    });
    sqlx::query!(
        r#"WITH state AS (
               INSERT INTO archive_state (
                   controller_oid, document_oid, archive_id, archived_at, storage_code,
                   completion_code, retention_rule_id, retention_end, active_controller_oid,
                   message_id, service_request_code, use_situation_code)
               SELECT $1, $2, $3, $4, $5, $6, $7, $8,
                      coalesce((SELECT successor_oid FROM controller WHERE oid = $1), $1),
                      $9, $10, $11
           )
           INSERT INTO archive_event (controller_oid, document_oid, occurred_at, event, details)
           VALUES ($1, $2, $4, 'archived', $12)"#,
        doc.controller.as_str(),
        doc.document_oid.as_str(),
        archive_id,
        archived_at,
        prepared.storage_code,
        prepared.completion_code,
        rule.id,
        retention_end,
        message_id,
        frame
            .and_then(|f| f.service_request.as_ref())
            .map(|c| c.code.as_str()),
        frame
            .and_then(|f| f.use_situation.as_ref())
            .map(|c| c.code.as_str()),
        details,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Recomputes the set's status from all its versions, whatever order they arrived in: the
/// highest version is current unless it is a nullification, which nullifies the set. Versions
/// whose status changes get an archive event.
async fn update_set_status(
    tx: &mut Transaction<'_, Postgres>,
    controller: &str,
    set_oid: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"WITH versions AS (
               SELECT v.document_oid, v.version_number, s.completion_code
               FROM document_version v
               JOIN archive_state s USING (controller_oid, document_oid)
               WHERE v.controller_oid = $1 AND v.set_oid = $2
           ), head AS (
               SELECT document_oid, version_number, completion_code = 'NU' AS nullified,
                      (SELECT count(*) FROM versions)::int AS version_count
               FROM versions ORDER BY version_number DESC LIMIT 1
           ), set_update AS (
               UPDATE document_set d
               SET status = CASE WHEN head.nullified THEN 'nullified' ELSE 'current' END,
                   current_document_oid = head.document_oid,
                   current_version = head.version_number,
                   version_count = head.version_count
               FROM head
               WHERE d.controller_oid = $1 AND d.set_oid = $2
           ), changed AS (
               UPDATE document_version v
               SET status = wanted.status
               FROM (
                   SELECT versions.document_oid,
                          CASE WHEN head.nullified THEN 'nullified'
                               WHEN versions.version_number = head.version_number THEN 'current'
                               ELSE 'replaced' END AS status
                   FROM versions, head
               ) wanted
               WHERE v.controller_oid = $1 AND v.document_oid = wanted.document_oid
                 AND v.status <> wanted.status
               RETURNING v.document_oid, v.status
           )
           INSERT INTO archive_event (controller_oid, document_oid, event, details)
           SELECT $1, changed.document_oid, changed.status,
                  jsonb_build_object('by', (SELECT document_oid FROM head))
           FROM changed"#,
        controller,
        set_oid,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
