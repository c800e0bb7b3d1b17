//! `archivist card …`, `archivist admin …` and `archivist controller …`: linking card numbers
//! to controllers, naming administrators and managing controllers from a shell on the
//! archive's host. Every change is written to the audit log with the operating-system account
//! that made it.

use sqlx::PgPool;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use x509_parser::{certificate::X509Certificate, prelude::FromDer};

use identity::{CardKey, CardNumber, enrolment::ENROLMENT_HEADER, files};
use settings::Settings;

use crate::{
    administration::{self, Actor},
    archive::{ControllerOid, DocumentOid},
    audit::{AuditAction, AuditFilter, AuditLog, OperatorEvent, Outcome},
    store::{
        cards::{self, Enrolment, LinkOutcome, Validity},
        controllers,
    },
};

/// The issuing CA a card number is under: the one named with `--issuer`, which must be one of
/// `tls.client_ca`, or the only one configured.
pub fn resolve_issuer(settings: &Settings, issuer: Option<&str>) -> Result<String, String> {
    let configured = configured_issuers(settings)?;
    match (issuer, configured.as_slice()) {
        (Some(wanted), _) if configured.iter().any(|c| c == wanted) => Ok(wanted.to_owned()),
        (Some(wanted), _) => Err(format!(
            "--issuer {wanted:?} is not one of the configured issuing CAs (tls.client_ca): {}",
            configured.join("; ")
        )),
        (None, [only]) => Ok(only.clone()),
        (None, _) => Err(format!(
            "several issuing CAs are configured; name the card's with --issuer: {}",
            configured.join("; ")
        )),
    }
}

/// The names of the issuing CAs in `tls.client_ca`, as card links name them.
pub fn configured_issuers(settings: &Settings) -> Result<Vec<String>, String> {
    let mut configured = Vec::new();
    for path in &settings.tls.client_ca {
        for der in files::certificates("tls.client_ca", path).map_err(|e| e.to_string())? {
            let (_, cert) = X509Certificate::from_der(&der)
                .map_err(|e| format!("tls.client_ca {}: {e}", path.display()))?;
            configured.push(cert.subject().to_string());
        }
    }
    Ok(configured)
}

/// A card number typed on the command line.
pub fn parse_card_number(value: &str) -> Result<CardNumber, String> {
    CardNumber::parse(value).map_err(|_| {
        format!("{value:?} is not a card number (letters A–Z, digits and -._@: only, at most 128)")
    })
}

pub fn card_key(
    settings: &Settings,
    card_number: &str,
    issuer: Option<&str>,
) -> Result<CardKey, String> {
    Ok(CardKey {
        card_number: parse_card_number(card_number)?,
        issuer: resolve_issuer(settings, issuer)?,
    })
}

pub fn parse_time(setting: &str, value: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        format!("{setting} {value:?} is not an RFC 3339 time such as 2026-12-01T08:00:00+02:00")
    })
}

pub async fn link(
    pool: &PgPool,
    card: &CardKey,
    controller: &ControllerOid,
    validity: Validity,
) -> Result<String, String> {
    match administration::link_card(pool, &Actor::Operator, card, controller, validity)
        .await
        .map_err(|e| e.to_string())?
    {
        LinkOutcome::Linked => Ok(format!(
            "linked card {} to controller {controller}",
            card.card_number
        )),
        LinkOutcome::AlreadyLinked => Ok(format!(
            "card {} was already linked to controller {controller}; nothing changed",
            card.card_number
        )),
    }
}

pub async fn unlink(
    pool: &PgPool,
    card: &CardKey,
    controller: &ControllerOid,
) -> Result<String, String> {
    if administration::unlink_card(pool, &Actor::Operator, card, controller)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(format!(
            "unlinked card {} from controller {controller}; it takes effect on the card's next request",
            card.card_number
        ))
    } else {
        Err(format!(
            "card {} is not linked to controller {controller}",
            card.card_number
        ))
    }
}

/// Reads and checks an enrolment file: every row's problem is reported with its line, and one
/// bad row refuses the whole file.
pub fn read_enrolment_file(
    path: &std::path::Path,
    issuers: &[String],
) -> Result<Vec<Enrolment>, String> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("{shown}: {e}"))?;
    let header = reader
        .headers()
        .map_err(|e| format!("{shown}: {e}"))?
        .clone();
    if header.iter().collect::<Vec<_>>() != ENROLMENT_HEADER {
        return Err(format!(
            "{shown}: the first line must be {}",
            ENROLMENT_HEADER.join(",")
        ));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(format!("{shown}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        match enrolment_row(&record, issuers) {
            Ok(row) => rows.push(row),
            Err(problem) => problems.push(format!("{shown} line {line}: {problem}")),
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "nothing was imported:\n{}",
            problems.into_iter().take(20).collect::<Vec<_>>().join("\n")
        ));
    }
    if rows.is_empty() {
        return Err(format!("{shown}: no bindings after the header line"));
    }
    Ok(rows)
}

fn enrolment_row(record: &csv::StringRecord, issuers: &[String]) -> Result<Enrolment, String> {
    let field = |i: usize| record.get(i).unwrap_or_default();
    let card_number = parse_card_number(field(0))?;
    let issuer = field(1);
    if !issuers.iter().any(|i| i == issuer) {
        return Err(format!(
            "issuer {issuer:?} is not one of the configured issuing CAs (tls.client_ca)"
        ));
    }
    let serial_hex: String = field(2).chars().filter(|c| *c != ':').collect();
    let serial = hex::decode(&serial_hex)
        .ok()
        .filter(|bytes| !bytes.is_empty())
        .ok_or_else(|| format!("certificate_serial {:?} is not hex", field(2)))?;
    let key_hash = field(3).to_ascii_lowercase();
    if key_hash.len() != 64 || !key_hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "public_key_sha256 {:?} is not 64 hex digits",
            field(3)
        ));
    }
    Ok(Enrolment {
        card_number,
        issuer: issuer.to_owned(),
        certificate_serial: serial
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
        public_key_sha256: key_hash,
    })
}

pub async fn import_enrolment(
    pool: &PgPool,
    file: &std::path::Path,
    rows: &[Enrolment],
) -> Result<String, String> {
    let added =
        administration::import_enrolment(pool, &Actor::Operator, &file.display().to_string(), rows)
            .await
            .map_err(|e| e.to_string())?;
    Ok(format!(
        "{added} bindings added, {} already enrolled",
        rows.len() as u64 - added
    ))
}

/// The link history as text: one line a link, newest first within each card.
pub async fn list(pool: &PgPool, card_number: Option<&CardNumber>) -> Result<String, String> {
    let links = cards::history(pool, card_number)
        .await
        .map_err(|e| e.to_string())?;
    if links.is_empty() {
        return Ok(match card_number {
            Some(n) => format!("card {n} has never been linked to a controller"),
            None => "no card has been linked to a controller".to_owned(),
        });
    }
    let now = OffsetDateTime::now_utc();
    let time = |t: Option<OffsetDateTime>| {
        t.and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "-".to_owned())
    };
    let mut out = String::from(
        "card number\tcontroller\tname\tin force\tvalid from\tvalid until\tlinked at\tlinked by\tunlinked at\tunlinked by\tissuer\n",
    );
    for l in links {
        let in_force = if l.is_in_force(now) { "yes" } else { "no" };
        out.push_str(&format!(
            "{}\t{}\t{}\t{in_force}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            l.card_number,
            l.controller_oid,
            l.controller_name,
            time(l.valid_from),
            time(l.valid_until),
            time(Some(l.linked_at)),
            l.linked_by,
            time(l.unlinked_at),
            l.unlinked_by.as_deref().unwrap_or("-"),
            l.issuer,
        ));
    }
    Ok(out.trim_end().to_owned())
}

pub async fn grant(pool: &PgPool, card: &CardKey) -> Result<String, String> {
    if administration::grant_administrator(pool, &Actor::Operator, card)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(format!("card {} is now an administrator", card.card_number))
    } else {
        Ok(format!(
            "card {} was already an administrator; nothing changed",
            card.card_number
        ))
    }
}

pub async fn revoke(pool: &PgPool, card: &CardKey) -> Result<String, String> {
    if administration::revoke_administrator(pool, &Actor::Operator, card)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(format!(
            "card {} is no longer an administrator",
            card.card_number
        ))
    } else {
        Err(format!("card {} is not an administrator", card.card_number))
    }
}

pub async fn create_controller(
    pool: &PgPool,
    oid: &ControllerOid,
    name: &str,
) -> Result<String, String> {
    administration::create_controller(pool, &Actor::Operator, oid, name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("created controller {oid} ({})", name.trim()))
}

pub async fn rename_controller(
    pool: &PgPool,
    oid: &ControllerOid,
    name: &str,
) -> Result<String, String> {
    let old = administration::rename_controller(pool, &Actor::Operator, oid, name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("renamed controller {oid}: {old} → {}", name.trim()))
}

pub async fn merge_controller(
    pool: &PgPool,
    oid: &ControllerOid,
    successor: &ControllerOid,
) -> Result<String, String> {
    let moved = administration::merge_controller(pool, &Actor::Operator, oid, successor)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "controller {oid} is merged into {successor}; {moved} documents have a new active controller"
    ))
}

/// Every controller, tab-separated.
pub async fn list_controllers(pool: &PgPool) -> Result<String, String> {
    let all = controllers::list(pool).await.map_err(|e| e.to_string())?;
    if all.is_empty() {
        return Ok("no controllers yet".to_owned());
    }
    let mut out = String::from("controller\tname\tsuccessor\tin production\n");
    for c in all {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            c.oid,
            c.name,
            c.successor_oid.as_deref().unwrap_or("-"),
            if c.in_production { "yes" } else { "no" }
        ));
    }
    Ok(out.trim_end().to_owned())
}

/// `archivist deployment-test define`.
pub async fn define_deployment_test(
    pool: &PgPool,
    controller: &ControllerOid,
    documents: &[DocumentOid],
    clients: &[String],
) -> Result<String, String> {
    let defined = administration::define_deployment_test(
        pool,
        &Actor::Operator,
        controller,
        documents,
        clients,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "deployment test of {controller} {}: {} document(s) and {} test client(s) added",
        if defined.created {
            "defined"
        } else {
            "extended"
        },
        defined.documents_added,
        defined.clients_added,
    ))
}

/// `archivist deployment-test reset`.
pub async fn reset_deployment_test(
    pool: &PgPool,
    controller: &ControllerOid,
    reason: &str,
) -> Result<String, String> {
    let round = administration::reset_deployment_test(pool, &Actor::Operator, controller, reason)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "deployment test of {controller} reset: round {round} begins, the controller is in deployment again"
    ))
}

/// `archivist audit export`: CSV on standard output. The export is recorded first, so that it
/// is in the log even if the copy is interrupted.
pub async fn export_audit(settings: &Settings, filter: &AuditFilter) -> Result<(), String> {
    let pool = crate::commands::pool(settings).await?;
    let details = serde_json::to_value(filter).map_err(|e| e.to_string())?;
    AuditLog::new(pool.clone())
        .record_operator(OperatorEvent {
            action: AuditAction::OperatorExportedAudit,
            outcome: Outcome::Success,
            controller_oid: None,
            document_oid: None,
            details: Some(details),
        })
        .await
        .map_err(|e| format!("cannot write to the audit log, so nothing was exported: {e}"))?;
    let rows = AuditLog::new(pool)
        .export_csv(filter, |chunk| async move {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&chunk)?;
            stdout.flush()?;
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("{rows} audit rows exported");
    Ok(())
}
