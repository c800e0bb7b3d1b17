//! `archivist audit verify|seal|prove|prove-consistency|check-proof|public-key|new-key`: the
//! operator's and the auditor's side of the log's integrity.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use settings::Settings;

use crate::audit::{
    AuditAction, AuditLog, OperatorEvent, Outcome,
    checkpoint::{PublicKey, SigningKey},
    proof::{self, Checked, Proof},
    seal::{SealSettings, Sealer},
    verify::{self, Report},
};

/// Exit code of `verify` when tampering was found.
pub const VERIFY_TAMPERED: u8 = 1;
/// Exit code of `verify` when it could not check (database, key or sink unreadable).
pub const VERIFY_FAILED: u8 = 2;

fn time(t: &time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The public keys verify uses: the files given, else the configured signing key's own.
fn public_keys(settings: &Settings, files: &[PathBuf]) -> Result<Vec<PublicKey>, String> {
    match (files, settings.audit.signing_key_file.as_deref()) {
        ([_, ..], _) => files
            .iter()
            .map(|file| PublicKey::read(file).map_err(|e| e.to_string()))
            .collect(),
        ([], Some(key)) => Ok(vec![
            SigningKey::load(key)
                .map_err(|e| e.to_string())?
                .public_key(),
        ]),
        ([], None) => Err(
            "give --public-key FILE (from `archivist audit public-key`): audit.signing_key_file is not set"
                .to_owned(),
        ),
    }
}

pub async fn verify(settings: &Settings, sinks: Vec<PathBuf>, keys: &[PathBuf]) -> ExitCode {
    match verify_inner(settings, sinks, keys).await {
        Ok(report) if report.intact() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(VERIFY_TAMPERED),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(VERIFY_FAILED)
        }
    }
}

async fn verify_inner(
    settings: &Settings,
    mut sinks: Vec<PathBuf>,
    keys: &[PathBuf],
) -> Result<Report, String> {
    let keys = public_keys(settings, keys)?;
    if sinks.is_empty() {
        sinks.extend(settings.audit.checkpoint_dir.clone());
    }
    let pool = crate::commands::pool(settings).await?;
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let report = verify::verify(&mut conn, &keys, &sinks)
        .await
        .map_err(|e| format!("cannot verify the audit log: {e}"))?;
    let took = started.elapsed();
    print_report(&report, &sinks, took);
    let details = serde_json::json!({
        "intact": report.intact(),
        "chain_length": report.chain_length,
        "checkpoints": report.checkpoints_checked,
        "findings": report.findings.len() as u64 + report.more_findings,
    });
    AuditLog::new(pool)
        .record_operator(OperatorEvent {
            action: AuditAction::OperatorVerifiedAudit,
            outcome: Outcome::Success,
            controller_oid: None,
            document_oid: None,
            details: Some(details),
        })
        .await
        .map_err(|e| format!("verified, but cannot record it in the audit log: {e}"))?;
    Ok(report)
}

fn print_report(report: &Report, sinks: &[PathBuf], took: std::time::Duration) {
    let rate = report.chain_length as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "chain: {} rows recomputed in {:.1} s ({rate:.0} rows/s)",
        report.chain_length,
        took.as_secs_f64()
    );
    let sources = if sinks.is_empty() {
        "the database only: no checkpoint directory given".to_owned()
    } else {
        let dirs: Vec<String> = sinks.iter().map(|d| d.display().to_string()).collect();
        format!("the database and {}", dirs.join(", "))
    };
    match report.newest_checkpoint {
        Some((size, at)) => println!(
            "checkpoints: {} with a valid signature (from {sources}); the newest covers {size} rows, signed {}",
            report.checkpoints_checked,
            time(&at)
        ),
        None => println!("checkpoints: none with a valid signature (from {sources})"),
    }
    if report.unsealed > 0 {
        let oldest = report
            .oldest_unsealed
            .as_ref()
            .map(time)
            .unwrap_or_default();
        println!(
            "not yet sealed: {} rows, the oldest written {oldest} (the server seals every second)",
            report.unsealed
        );
    }
    if report.intact() {
        println!("intact: every row, link and checkpoint agrees");
    } else {
        for finding in &report.findings {
            println!("TAMPERED: {finding}");
        }
        if report.more_findings > 0 {
            println!("... and {} more findings", report.more_findings);
        }
    }
}

pub async fn seal(settings: &Settings) -> Result<(), String> {
    let seal_settings = SealSettings::from_settings(&settings.audit).map_err(|e| e.to_string())?;
    let pool = crate::commands::pool(settings).await?;
    let round = Sealer::new(pool, seal_settings)
        .seal()
        .await
        .map_err(|e| format!("cannot seal the audit log: {e}"))?;
    if round.skipped {
        eprintln!("another instance is sealing the audit log right now; nothing done");
    } else {
        eprintln!(
            "sealed {} rows; the chain has {} rows{}",
            round.sealed,
            round.chain_length,
            match round.checkpoints.last() {
                Some(size) => format!("; signed a checkpoint of {size} rows"),
                None => String::new(),
            }
        );
    }
    Ok(())
}

pub async fn prove(settings: &Settings, seq: u64, checkpoint: Option<u64>) -> Result<(), String> {
    let pool = crate::commands::pool(settings).await?;
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    // The proof carries the row itself, which may concern a client: recorded before it is made.
    crate::audit::record_operator_in(
        &mut *conn,
        OperatorEvent {
            action: AuditAction::OperatorProvedAuditRow,
            outcome: Outcome::Success,
            controller_oid: None,
            document_oid: None,
            details: Some(serde_json::json!({ "seq": seq, "checkpoint": checkpoint })),
        },
    )
    .await
    .map_err(|e| format!("cannot write to the audit log, so no proof was made: {e}"))?;
    let proof = proof::prove_inclusion(&mut conn, seq, checkpoint)
        .await
        .map_err(|e| e.to_string())?;
    print_json(&proof)
}

pub async fn prove_consistency(settings: &Settings, old: u64, new: u64) -> Result<(), String> {
    let pool = crate::commands::pool(settings).await?;
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    let proof = proof::prove_consistency(&mut conn, old, new)
        .await
        .map_err(|e| e.to_string())?;
    print_json(&proof)
}

fn print_json(proof: &Proof) -> Result<(), String> {
    let text = serde_json::to_string_pretty(proof).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

/// Offline: reads no settings' database, only the proof and the key.
pub fn check_proof(file: &Path, key: &Path) -> Result<(), String> {
    let key = PublicKey::read(key).map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let proof: Proof = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not an audit proof: {e}", file.display()))?;
    match proof::check(&proof, &key).map_err(|e| format!("the proof does not hold: {e}"))? {
        Checked::Included {
            seq,
            row,
            checkpoint,
        } => println!(
            "holds: row seq {seq} (id {}, {}, {}) is in the checkpoint of {} rows signed {} by key {}",
            row.id,
            time(&row.occurred_at),
            row.action,
            checkpoint.tree_size,
            time(&checkpoint.signed_at),
            checkpoint.key_id
        ),
        Checked::Consistent { old, new } => println!(
            "holds: the log of {} rows (signed {}) is the first {} rows of the log of {} rows (signed {}); nothing was changed or removed in between",
            old.tree_size,
            time(&old.signed_at),
            old.tree_size,
            new.tree_size,
            time(&new.signed_at)
        ),
    }
    Ok(())
}

pub fn print_public_key(settings: &Settings) -> Result<(), String> {
    let path = settings.audit.signing_key_file.as_deref().ok_or(
        "audit.signing_key_file is not set (ARCHIVIST_AUDIT__SIGNING_KEY_FILE or [audit] signing_key_file)",
    )?;
    let key = SigningKey::load(path).map_err(|e| e.to_string())?;
    println!("{}", key.public_key());
    Ok(())
}

pub fn new_key(file: &Path) -> Result<(), String> {
    let key = SigningKey::generate(file).map_err(|e| e.to_string())?;
    eprintln!(
        "wrote a new signing key to {} (readable by its owner only); its public key:",
        file.display()
    );
    println!("{}", key.public_key());
    Ok(())
}
