//! The enrolled binding rule: card numbers that are not in the certificate come from an
//! enrolment file imported with `archivist card import-enrolment`.

use rustls::pki_types::{CertificateDer, pem::PemObject};

use crate::helpers::{TestApp, archivist, issuer, pki, public_key_sha256};

/// The serial as the identity page shows it (upper-case hex with colons).
fn serial_of(stem: &str) -> String {
    let der = CertificateDer::from_pem_file(pki().file(&format!("{stem}.pem"))).expect("cert");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parse");
    cert.raw_serial()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn enrolment_file(lines: &[String]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("file");
    let text = format!(
        "card_number,issuer,certificate_serial,public_key_sha256\n{}\n",
        lines.join("\n")
    );
    std::fs::write(file.path(), text).expect("write");
    file
}

fn row(card_number: &str, stem: &str) -> String {
    format!(
        "{card_number},\"{}\",{},{}",
        issuer(),
        serial_of(stem),
        public_key_sha256(stem)
    )
}

/// A server under the enrolled rule, with archivist-1's certificate enrolled as KORTTI-0001;
/// the enrolment file (removed when dropped), and the output of its import.
async fn enrolled_app() -> (TestApp, tempfile::NamedTempFile, std::process::Output) {
    let app = TestApp::spawn_with(|s| {
        s.auth.card_number_rule = identity::CardNumberRule::Enrolled;
    })
    .await;
    let file = enrolment_file(&[row("KORTTI-0001", "archivist-1")]);
    let path = file.path().to_string_lossy().into_owned();
    let output = archivist(&app.database, &["card", "import-enrolment", &path]).await;
    assert!(output.status.success(), "{output:?}");
    (app, file, output)
}

#[tokio::test]
async fn an_enrolled_certificate_signs_in_with_its_card_number() {
    let (app, file, output) = enrolled_app().await;
    let path = file.path().to_string_lossy().into_owned();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 bindings added"),
        "{output:?}"
    );
    // Importing the same file again changes nothing.
    let again = archivist(&app.database, &["card", "import-enrolment", &path]).await;
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("0 bindings added, 1 already enrolled"),
        "{again:?}"
    );

    let body = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("get")
        .body;
    assert!(
        body.contains(r#"data-field="card-number" class="mono">KORTTI-0001<"#),
        "{body}"
    );

    // A card that is not enrolled is told so, with a reason code and an audit row.
    let body = app
        .client(Some("archivist-2"))
        .get("/")
        .await
        .expect("get")
        .body;
    assert!(body.contains("card_not_enrolled"), "{body}");
    let mut db = app.db().await;
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'auth.card_number_refused' AND reason = 'card_not_enrolled'",
    )
    .fetch_one(&mut db)
    .await
    .expect("count");
    assert_eq!(refused, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_bad_enrolment_file_imports_nothing_and_names_each_line() {
    let app = TestApp::spawn().await;
    let file = enrolment_file(&[
        row("KORTTI-0001", "archivist-1"),
        row("kortti 2!", "archivist-2"),
        format!(
            "KORTTI-0003,\"CN=Someone else\",01,{}",
            public_key_sha256("archivist-3")
        ),
        format!(
            "KORTTI-0004,\"{}\",zz,{}",
            issuer(),
            public_key_sha256("archivist-3")
        ),
        format!("KORTTI-0005,\"{}\",01,abc", issuer()),
    ]);
    let output = archivist(
        &app.database,
        &["card", "import-enrolment", &file.path().to_string_lossy()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "nothing was imported",
        "line 3:",
        "line 4: issuer",
        "line 5: certificate_serial",
        "line 6: public_key_sha256",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(
        !stderr.contains("line 2:"),
        "the good row is fine: {stderr}"
    );

    // A binding that would change an enrolled certificate's card number is refused whole.
    let good = enrolment_file(&[row("KORTTI-0001", "archivist-1")]);
    let ok = archivist(
        &app.database,
        &["card", "import-enrolment", &good.path().to_string_lossy()],
    )
    .await;
    assert!(ok.status.success(), "{ok:?}");
    let changed = enrolment_file(&[
        row("KORTTI-0009", "archivist-1"),
        row("KORTTI-0002", "archivist-2"),
    ]);
    let refused = archivist(
        &app.database,
        &[
            "card",
            "import-enrolment",
            &changed.path().to_string_lossy(),
        ],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("already enrolled"),
        "{refused:?}"
    );
    let mut db = app.db().await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM card_enrolment")
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!(
        count, 1,
        "the second card of the refused file was not added"
    );

    let wrong_header = tempfile::NamedTempFile::new().expect("file");
    std::fs::write(wrong_header.path(), "card,issuer\n1,2\n").expect("write");
    let output = archivist(
        &app.database,
        &[
            "card",
            "import-enrolment",
            &wrong_header.path().to_string_lossy(),
        ],
    )
    .await;
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("card_number,issuer,certificate_serial,public_key_sha256"),
        "{output:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_database_error_reading_the_enrolment_is_unavailable_not_a_missing_page() {
    let (app, _, _) = enrolled_app().await;
    // The bindings cannot be read (the rest of the database, the audit log included, works):
    // the card's number is unknown because of the database, not because the card is not enrolled.
    let mut db = app.db().await;
    sqlx::query("ALTER TABLE card_enrolment RENAME TO card_enrolment_away")
        .execute(&mut db)
        .await
        .expect("rename");
    let download = app
        .client(Some("archivist-1"))
        .get("/audit.csv")
        .await
        .expect("get");
    assert_eq!(download.status, 503, "{}", download.body);
    assert!(
        download
            .body
            .contains("Palvelu ei ole juuri nyt käytettävissä"),
        "{}",
        download.body
    );
    app.stop().await;
}
