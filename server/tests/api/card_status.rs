//! `POST /api/card-status`, which `archivist-card check --server` asks without a card
//! certificate of its own: what sign-in would make of a certificate, and nothing more. Asked
//! without proof, the answer and the audit row do not pretend the holder asked; over a
//! connection that presents the card, they do. Each address may ask a few times a minute.

use rustls::pki_types::{CertificateDer, pem::PemObject};
use server::{archive::ControllerOid, store::cards};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestResponse, audit_rows, card, database_url, pki, seed};

/// A `card.status_checked` row: card number, certificate subject, key hash, details.
type AskedRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    serde_json::Value,
);

fn der(stem: &str) -> Vec<u8> {
    CertificateDer::from_pem_file(pki().file(&format!("{stem}.pem")))
        .expect("certificate")
        .to_vec()
}

async fn ask(app: &TestApp, body: &[u8], content_type: &str) -> TestResponse {
    ask_as(app, None, body, content_type).await
}

/// The question over a connection that presents `presenting`'s card (or none).
async fn ask_as(
    app: &TestApp,
    presenting: Option<&str>,
    body: &[u8],
    content_type: &str,
) -> TestResponse {
    app.client(presenting)
        .request_bytes(
            "POST",
            "/api/card-status",
            body,
            &[("content-type", content_type.to_owned())],
        )
        .await
        .expect("request")
}

#[tokio::test]
async fn the_answer_says_accepted_or_why_not_and_is_audited() {
    let app = TestApp::spawn().await;
    let good = ask(&app, &der("archivist-1"), "application/pkix-cert").await;
    assert_eq!(good.status, 200, "{}", good.body);
    let answer: serde_json::Value = serde_json::from_str(&good.body).expect("json");
    assert_eq!(answer["accepted"], true);
    assert_eq!(answer["card_number"], "999000110");
    assert_eq!(answer["proven"], false);
    assert_eq!(
        answer["linked_controllers"],
        serde_json::Value::Null,
        "without proof of the card, not whether or where it is linked"
    );
    assert!(
        good.headers.get("set-cookie").is_none(),
        "no session is started"
    );

    for (stem, reason) in [
        ("revoked", "certificate_revoked"),
        ("expired", "certificate_expired"),
        ("foreign", "unknown_issuer"),
        ("no-satu", "card_number_missing"),
    ] {
        let refused = ask(&app, &der(stem), "application/pkix-cert").await;
        assert_eq!(refused.status, 200, "{stem}: {}", refused.body);
        let answer: serde_json::Value = serde_json::from_str(&refused.body).expect("json");
        assert_eq!(answer["accepted"], false, "{stem}");
        assert_eq!(answer["refusal"], reason, "{stem}");
        assert_eq!(answer["card_number"], serde_json::Value::Null, "{stem}");
    }

    let rows = audit_rows(&app).await;
    let asked: Vec<_> = rows
        .iter()
        .filter(|(action, ..)| action == "card.status_checked")
        .collect();
    assert_eq!(asked.len(), 5, "{rows:?}");
    // Not in the holder's name: an unauthenticated client asked about a certificate.
    let mut db = app.db().await;
    let rows: Vec<AskedRow> = sqlx::query_as(
        "SELECT card_number, certificate_subject, public_key_sha256, details FROM audit_log
             WHERE action = 'card.status_checked' ORDER BY id",
    )
    .fetch_all(&mut db)
    .await
    .expect("rows");
    for (number, subject, key, details) in &rows {
        assert_eq!((number, subject, key), (&None, &None, &None), "{details}");
        assert_eq!(details["asked_by"], "unauthenticated", "{details}");
        assert_eq!(details["proof"], "none", "{details}");
        assert!(details["asked_about"]["serial"].is_string(), "{details}");
    }
    assert_eq!(rows[0].3["card_number"], "999000110");
    app.stop().await;
}

#[tokio::test]
async fn over_a_connection_presenting_the_card_the_answer_counts_its_links() {
    let app = TestApp::spawn().await;
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("pool");
    let controller = ControllerOid::parse("1.2.246.10.12345670.10.0").expect("oid");
    seed::controller(&pool, &controller, "Alfa").await;
    cards::link(
        &mut pool.acquire().await.expect("connection"),
        &card("999000110"),
        &controller,
        cards::Validity::default(),
        "test",
    )
    .await
    .expect("link");

    let own = ask_as(
        &app,
        Some("archivist-1"),
        &der("archivist-1"),
        "application/pkix-cert",
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    let answer: serde_json::Value = serde_json::from_str(&own.body).expect("json");
    assert_eq!(answer["proven"], true);
    assert_eq!(answer["linked_controllers"], 1);

    // Another card's certificate over this connection proves nothing about that card.
    let other = ask_as(
        &app,
        Some("archivist-2"),
        &der("archivist-1"),
        "application/pkix-cert",
    )
    .await;
    let answer: serde_json::Value = serde_json::from_str(&other.body).expect("json");
    assert_eq!(answer["proven"], false);
    assert_eq!(answer["linked_controllers"], serde_json::Value::Null);

    let rows: Vec<(Option<String>, Option<String>, serde_json::Value)> = sqlx::query_as(
        "SELECT card_number, satu, details FROM audit_log
         WHERE action = 'card.status_checked' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0.as_deref(), Some("999000110"), "the holder asked");
    assert_eq!(rows[0].2["proof"], "tls_client_certificate");
    assert_eq!(rows[0].2["linked_controllers"], 1);
    assert_eq!((&rows[1].0, &rows[1].1), (&None, &None), "{rows:?}");
    assert_eq!(rows[1].2["asked_by"], "unauthenticated");
    app.stop().await;
}

#[tokio::test]
async fn an_address_that_asks_too_often_is_told_to_wait() {
    let app = TestApp::spawn_with(|settings| settings.auth.card_status_per_minute = 2).await;
    for _ in 0..2 {
        let answer = ask(&app, &der("archivist-1"), "application/pkix-cert").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let refused = ask(&app, &der("archivist-1"), "application/pkix-cert").await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    let wait = refused.retry_after();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(refused.body.contains("too many"), "{}", refused.body);

    let rows = audit_rows(&app).await;
    let asked = rows
        .iter()
        .filter(|(action, ..)| action == "card.status_checked")
        .count();
    assert_eq!(asked, 2, "the refused question is not asked: {rows:?}");
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_status_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let wrong_type = ask(&app, &der("archivist-1"), "application/json").await;
    assert_eq!(wrong_type.status, 415, "{}", wrong_type.body);
    assert!(wrong_type.body.contains("application/pkix-cert"));

    let garbage = ask(&app, b"not a certificate", "application/pkix-cert").await;
    assert_eq!(garbage.status, 400, "{}", garbage.body);

    let huge = ask(&app, &vec![0x30; 64 * 1024], "application/pkix-cert").await;
    assert_eq!(huge.status, 413, "{}", huge.body);

    // Only POST: a GET is not the question.
    let get = app.client(None).get("/api/card-status").await.expect("get");
    assert_eq!(get.status, 405, "{}", get.body);

    let rows = audit_rows(&app).await;
    assert!(
        rows.iter()
            .all(|(action, ..)| action != "card.status_checked"),
        "nothing was asked: {rows:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_answer_carries_the_current_notices_for_the_card_tool() {
    let app = TestApp::spawn().await;
    let quiet: serde_json::Value = serde_json::from_str(
        &ask(&app, &der("archivist-1"), "application/pkix-cert")
            .await
            .body,
    )
    .expect("json");
    assert_eq!(quiet["notices"], serde_json::json!([]));

    let added = crate::helpers::archivist(
        &app.database,
        &[
            "notice",
            "add",
            "--kind",
            "disruption",
            "--text-fi",
            "Kortit eivät toimi",
            "--text-sv",
            "Korten fungerar inte",
        ],
    )
    .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    // The test servers read the notices every second.
    let mut answer = serde_json::Value::Null;
    for _ in 0..50 {
        answer = serde_json::from_str(
            &ask(&app, &der("archivist-1"), "application/pkix-cert")
                .await
                .body,
        )
        .expect("json");
        if answer["notices"][0]["text_sv"] == "Korten fungerar inte" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(answer["notices"][0]["kind"], "disruption", "{answer}");
    assert_eq!(answer["notices"][0]["text_sv"], "Korten fungerar inte");
    app.stop().await;
}
