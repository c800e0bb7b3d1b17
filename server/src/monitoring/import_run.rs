//! What `archivist import` leaves for the monitoring: a batch command is not scraped, so its
//! figures go into a file in the Prometheus text format for node_exporter's textfile collector
//! (`--metrics-file`, README: "Monitoring an import"). The file is replaced whole (written
//! beside it, then renamed), so a scrape never reads half of it.

use std::{io::Write, path::Path, time::Duration};

use metrics::gauge;
use metrics_exporter_prometheus::PrometheusBuilder;
use time::OffsetDateTime;

use crate::import::Summary;

/// The figures of one run, rendered by the exporter (names, HELP and TYPE lines, escaping).
pub fn render(summary: &Summary, took: Duration, finished: OffsetDateTime) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&recorder, || {
        use metrics::describe_gauge;
        describe_gauge!(
            "archivist_import_last_run_documents",
            "Documents of the last `archivist import`, by outcome (archived, already_archived, refused)."
        );
        describe_gauge!(
            "archivist_import_last_run_duration_seconds",
            "How long the last `archivist import` took."
        );
        describe_gauge!(
            "archivist_import_last_run_timestamp_seconds",
            "When the last `archivist import` finished (Unix time)."
        );
        let count = |n: u64| u32::try_from(n).map_or(f64::from(u32::MAX), f64::from);
        let refused = u64::try_from(summary.refused.len()).unwrap_or(u64::MAX);
        for (outcome, n) in [
            ("archived", summary.archived),
            ("already_archived", summary.already_archived),
            ("refused", refused),
        ] {
            gauge!("archivist_import_last_run_documents", "outcome" => outcome).set(count(n));
        }
        gauge!("archivist_import_last_run_duration_seconds").set(took.as_secs_f64());
        gauge!("archivist_import_last_run_timestamp_seconds").set(finished.unix_timestamp() as f64);
    });
    recorder.handle().render()
}

/// Replaces `path` with `text`: written to a hidden file beside it, synced, then renamed.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial"));
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_run_is_rendered_in_the_text_format_and_replaces_the_file_whole() {
        let summary = Summary {
            archived: 7,
            already_archived: 2,
            refused: vec![("a.xml".to_owned(), "broken".to_owned())],
        };
        let text = render(
            &summary,
            Duration::from_millis(1500),
            datetime!(2026-12-04 10:00 UTC),
        );
        assert!(
            text.contains("archivist_import_last_run_documents{outcome=\"archived\"} 7"),
            "{text}"
        );
        assert!(text.contains("archivist_import_last_run_documents{outcome=\"refused\"} 1"));
        assert!(text.contains("archivist_import_last_run_duration_seconds 1.5"));
        assert!(text.contains("archivist_import_last_run_timestamp_seconds 1796378400"));
        assert!(text.contains("# TYPE archivist_import_last_run_documents gauge"));
        assert!(!text.contains("a.xml"), "no file names in metrics");

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("archivist_import.prom");
        std::fs::write(&path, "old").expect("old file");
        write(&path, &text).expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no partial file left"
        );
    }
}
