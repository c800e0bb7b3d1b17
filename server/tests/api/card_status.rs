//! `POST /api/card-status`, which `archivist-card check --server` asks without a card
//! certificate of its own: what sign-in would make of a certificate, and nothing more.

use rustls::pki_types::{CertificateDer, pem::PemObject};

use crate::helpers::{TestApp, TestResponse, audit_rows, pki};

fn der(stem: &str) -> Vec<u8> {
    CertificateDer::from_pem_file(pki().file(&format!("{stem}.pem")))
        .expect("certificate")
        .to_vec()
}

async fn ask(app: &TestApp, body: &[u8], content_type: &str) -> TestResponse {
    app.client(None)
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
    assert_eq!(answer["linked_controllers"], 0);
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
