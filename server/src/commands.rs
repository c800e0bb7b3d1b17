//! The operator commands that work on the archive: `import`, `show`, `export`, `demo data`.
//! Each returns a message for the single `error:` line the command line prints on failure.

use std::{io::Write, path::Path, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use settings::Settings;

use crate::{
    archive::xmldsig::TrustAnchors,
    audit::{AuditAction, AuditLog, OperatorEvent, Outcome as AuditOutcome},
    db,
    demo::documents,
    import::{Importer, Observer, Outcome, Source},
    store::{ArchiveStore, operator},
};

/// A progress bar on standard error (hidden when it is not a terminal).
struct Bar(ProgressBar);

impl Bar {
    fn new(unit: &str) -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left) {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Self(bar)
    }
}

impl Observer for Bar {
    fn total(&self, files: u64) {
        self.0.set_length(files);
    }
    fn finished(&self, name: &str, outcome: &Outcome, files: u64) {
        self.0.inc(files);
        if let Outcome::Refused(reason) = outcome {
            self.0.suspend(|| eprintln!("refused: {name}: {reason}"));
        }
    }
}

pub async fn pool(settings: &Settings) -> Result<sqlx::PgPool, String> {
    let pool = db::connect(&settings.database)
        .await
        .map_err(|e| e.to_string())?;
    db::migrate(&pool).await.map_err(|e| e.to_string())?;
    Ok(pool)
}

/// `archivist import PATH...`: non-zero exit when anything was refused.
pub async fn import(
    settings: &Settings,
    paths: &[String],
    jobs: Option<usize>,
    metrics_file: Option<&Path>,
) -> Result<(), String> {
    let anchors =
        TrustAnchors::from_pem_files(&settings.archive.signature_ca).map_err(|e| e.to_string())?;
    let pool = pool(settings).await?;
    let store = ArchiveStore::new(pool.clone())
        .await
        .map_err(|e| e.to_string())?;
    let importer = Importer::new(
        store,
        anchors,
        jobs.unwrap_or(settings.archive.import_concurrency),
    );
    let sources: Vec<Source> = paths
        .iter()
        .map(|p| {
            if p == "-" {
                Source::Stdin
            } else {
                Source::Path(p.into())
            }
        })
        .collect();
    let bar = Bar::new("files");
    let started = Instant::now();
    let summary = importer.import(&sources, &bar).await;
    bar.0.finish_and_clear();
    let took = started.elapsed();
    let seconds = took.as_secs_f64();
    let stored = summary.archived + summary.already_archived;
    eprintln!(
        "archived {}, already archived {}, refused {} in {seconds:.1} s ({:.0} documents/s)",
        summary.archived,
        summary.already_archived,
        summary.refused.len(),
        stored as f64 / seconds.max(0.001),
    );
    for (name, reason) in &summary.refused {
        eprintln!("  refused {name}: {reason}");
    }
    AuditLog::new(pool)
        .record_operator(OperatorEvent {
            action: AuditAction::OperatorImported,
            outcome: AuditOutcome::Success,
            controller_oid: None,
            document_oid: None,
            details: Some(json!({
                "sources": paths,
                "archived": summary.archived,
                "already_archived": summary.already_archived,
                "refused": summary.refused.len(),
            })),
        })
        .await
        .map_err(|e| format!("cannot write the audit log: {e}"))?;
    if let Some(path) = metrics_file {
        let text =
            crate::monitoring::import_run::render(&summary, took, time::OffsetDateTime::now_utc());
        crate::monitoring::import_run::write(path, &text).map_err(|e| {
            format!(
                "the import is done, but --metrics-file {} cannot be written: {e}",
                path.display()
            )
        })?;
    }
    if summary.refused.is_empty() {
        Ok(())
    } else {
        Err(format!("{} file(s) refused", summary.refused.len()))
    }
}

/// Records an operator's read before any client data is shown: no audit row, no output.
async fn audit_read(
    pool: &sqlx::PgPool,
    action: AuditAction,
    document_oid: &str,
    controller_oid: Option<&str>,
    outcome: AuditOutcome,
) -> Result<(), String> {
    AuditLog::new(pool.clone())
        .record_operator(OperatorEvent {
            action,
            outcome,
            controller_oid,
            document_oid: Some(document_oid),
            details: None,
        })
        .await
        .map_err(|e| format!("cannot write the audit log, so nothing is shown: {e}"))
}

fn lookup_reason(error: &operator::LookupError) -> &'static str {
    match error {
        operator::LookupError::NotFound(_) | operator::LookupError::NoPart(..) => "not_found",
        operator::LookupError::Integrity { .. } => "integrity_error",
        operator::LookupError::Database(_) => "database_error",
    }
}

/// `archivist show DOCUMENT_OID`: the version's metadata and archive data as JSON.
pub async fn show(settings: &Settings, document_oid: &str) -> Result<(), String> {
    let pool = pool(settings).await?;
    let action = AuditAction::OperatorShowedDocument;
    match operator::document_report(&pool, document_oid).await {
        Ok(report) => {
            let controller = report["version"]["controller_oid"].as_str();
            audit_read(
                &pool,
                action,
                document_oid,
                controller,
                AuditOutcome::Success,
            )
            .await?;
            let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            println!("{text}");
            Ok(())
        }
        Err(e) => {
            let reason = lookup_reason(&e);
            audit_read(
                &pool,
                action,
                document_oid,
                None,
                AuditOutcome::Refused { reason },
            )
            .await?;
            Err(e.to_string())
        }
    }
}

/// `archivist export DOCUMENT_OID`: the stored bytes to standard output, unchanged.
pub async fn export(
    settings: &Settings,
    document_oid: &str,
    part: &'static str,
) -> Result<(), String> {
    let pool = pool(settings).await?;
    let action = AuditAction::OperatorExportedDocument;
    match operator::stored_part(&pool, document_oid, part).await {
        Ok(stored) => {
            audit_read(
                &pool,
                action,
                document_oid,
                Some(&stored.controller_oid),
                AuditOutcome::Success,
            )
            .await?;
            let mut out = std::io::stdout().lock();
            out.write_all(&stored.bytes)
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write to standard output: {e}"))
        }
        Err(e) => {
            let reason = lookup_reason(&e);
            audit_read(
                &pool,
                action,
                document_oid,
                None,
                AuditOutcome::Refused { reason },
            )
            .await?;
            Err(e.to_string())
        }
    }
}

/// `archivist demo data`: generated documents under `out`.
pub fn generate(out: &Path, options: &documents::Options) -> Result<(), String> {
    let bar = Bar::new("documents");
    bar.0.set_length(options.documents);
    let started = Instant::now();
    documents::write_all(out, options, &|done| bar.0.set_position(done))
        .map_err(|e| e.to_string())?;
    bar.0.finish_and_clear();
    eprintln!(
        "{} documents with their transfer frames written to {} in {:.1} s",
        options.documents,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
