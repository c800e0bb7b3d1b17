//! The operator commands through the binary: `demo data`, `import` (summary and exit code),
//! `show` and `export` (byte-identical), each recorded in the audit log.

use std::process::{Command, Output};

use sqlx::PgPool;

use crate::helpers::{create_database, database_url, drop_database};

/// action, outcome, reason, operator, document
type AuditRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn archivist(database: &str, ca: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archivist"))
        .args(args)
        .env("DATABASE_URL", database_url(database))
        .env(
            "ARCHIVIST_ARCHIVE__SIGNATURE_CA",
            format!("[{}]", ca.display()),
        )
        .env("USER", "operator-test")
        .env_remove("SUDO_USER")
        .output()
        .expect("run archivist")
}

#[tokio::test]
async fn import_show_and_export_work_from_the_shell_and_are_audited() {
    let database = create_database().await;
    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("signing-ca.pem");
    std::fs::write(&ca, server::demo::documents::SIGNING_CA_PEM).expect("ca");
    let docs = dir.path().join("docs");
    let docs_arg = docs.to_str().expect("utf-8 path");

    let generated = archivist(
        &database,
        &ca,
        &[
            "demo",
            "data",
            "--out",
            docs_arg,
            "--documents",
            "30",
            "--controllers",
            "2",
        ],
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );

    let figures = dir.path().join("archivist_import.prom");
    let figures_arg = figures.to_str().expect("utf-8 path");
    let imported = archivist(
        &database,
        &ca,
        &["import", docs_arg, "--metrics-file", figures_arg],
    );
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(imported.status.success(), "{stderr}");
    assert!(
        stderr.contains("archived 30, already archived 0, refused 0"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&figures).expect("the metrics file");
    assert!(
        text.contains("archivist_import_last_run_documents{outcome=\"archived\"} 30"),
        "{text}"
    );
    // A metrics file that cannot be written: the import is done all the same, and it says so.
    let unwritable = archivist(
        &database,
        &ca,
        &[
            "import",
            docs_arg,
            "--metrics-file",
            "/nonexistent/dir/a.prom",
        ],
    );
    let stderr = String::from_utf8_lossy(&unwritable.stderr);
    assert_eq!(unwritable.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "the import is done, but --metrics-file /nonexistent/dir/a.prom cannot be written"
        ),
        "{stderr}"
    );

    // A damaged file among good ones: the good ones are kept, the exit code says "refused".
    let broken = docs.join("controller-00").join("broken.xml");
    std::fs::write(&broken, "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id").expect("write");
    let again = archivist(&database, &ca, &["import", docs_arg]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("archived 0, already archived 30, refused 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("broken.xml") && stderr.contains("not well-formed"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("error: 1 file(s) refused"),
        "{stderr}"
    );

    let original =
        std::fs::read(docs.join("controller-00/chunk-000000/v1-0000.xml")).expect("read");
    let oid = server::archive::parse_document(&original)
        .expect("parses")
        .document_oid
        .to_string();
    let exported = archivist(&database, &ca, &["export", &oid]);
    assert!(exported.status.success());
    assert_eq!(
        exported.stdout, original,
        "export writes the stored bytes unchanged"
    );

    let shown = archivist(&database, &ca, &["show", &oid]);
    assert!(shown.status.success());
    let report: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!(report["version"]["document_oid"], oid.as_str());
    assert_eq!(report["archive"]["storage_code"], "AC");
    assert_eq!(report["signatures"][0]["integrity"], "valid");
    assert_eq!(report["signatures"][0]["trust"], "trusted");
    assert!(report["events"][0]["event"] == "archived");

    let unknown = archivist(&database, &ca, &["show", "1.2.3.4.5"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("is not in the archive"));

    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT action, outcome, reason, operator, document_oid FROM audit_log ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit rows");
    let expect = |action: &str, outcome: &str, document: Option<&str>| {
        assert!(
            rows.iter().any(|(a, o, _, op, d)| a == action
                && o == outcome
                && op.as_deref() == Some("operator-test")
                && d.as_deref() == document),
            "{action} {outcome} {document:?} in {rows:?}"
        );
    };
    expect("operator.documents_imported", "success", None);
    expect("operator.document_exported", "success", Some(&oid));
    expect("operator.document_shown", "success", Some(&oid));
    expect("operator.document_shown", "refused", Some("1.2.3.4.5"));
    pool.close().await;
    drop_database(&database).await;
}
