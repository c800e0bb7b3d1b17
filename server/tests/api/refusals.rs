//! Certificates that must not get a page: expired, revoked, from a foreign CA, without the
//! client-authentication purpose, without digitalSignature, or of a policy not on the
//! allowlist. Each refusal is in the audit log with its reason and what the client presented.

use identity::demo::DEMO_CARD_POLICY;
use settings::Settings;

use crate::helpers::{TestApp, audit_rows_at_least, pki, public_key_sha256};

async fn assert_refused(card: &str, reason: &str) {
    assert_refused_with(card, reason, |_| {}).await;
}

async fn assert_refused_with(card: &str, reason: &str, adjust: impl FnOnce(&mut Settings)) {
    let app = TestApp::spawn_with(adjust).await;
    let result = app.client(Some(card)).get("/").await;
    assert!(
        result.is_err(),
        "{card} got a page: {:?}",
        result.map(|r| r.status)
    );

    let rows = audit_rows_at_least(&app, 1).await;
    assert_eq!(
        rows,
        vec![(
            "tls.certificate_refused".to_owned(),
            "refused".to_owned(),
            Some(reason.to_owned()),
            None
        )],
        "{card}"
    );
    // What the client presented, for an investigation: in the details, never as the actor.
    let mut db = app.db().await;
    let (subject, key, presented): (Option<String>, Option<String>, serde_json::Value) =
        sqlx::query_as(
            "SELECT certificate_subject, public_key_sha256, details->'presented' FROM audit_log",
        )
        .fetch_one(&mut db)
        .await
        .expect("row");
    assert_eq!((subject, key), (None, None), "{card}");
    let serial = presented_serial(card);
    assert_eq!(presented["serial"], serial.as_str(), "{card}: {presented}");
    assert_eq!(
        presented["public_key_sha256"],
        public_key_sha256(card).as_str(),
        "{card}: {presented}"
    );
    assert!(
        presented["subject"]
            .as_str()
            .is_some_and(|subject| subject.contains("CN=")),
        "{card}: {presented}"
    );
    assert_eq!(
        presented["certificate_sha256"].as_str().map(str::len),
        Some(64),
        "{card}: {presented}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    assert_refused("expired", "certificate_expired").await;
}

#[tokio::test]
async fn a_revoked_certificate_is_refused() {
    assert_refused("revoked", "certificate_revoked").await;
}

#[tokio::test]
async fn a_certificate_from_an_unrelated_ca_is_refused() {
    assert_refused("foreign", "unknown_issuer").await;
}

#[tokio::test]
async fn a_certificate_without_client_authentication_purpose_is_refused() {
    assert_refused("wrong-eku", "wrong_key_purpose").await;
}

#[tokio::test]
async fn a_certificate_whose_key_usage_lacks_digital_signature_is_refused() {
    assert_refused("no-digital-signature", "key_usage_not_digital_signature").await;
}

#[tokio::test]
async fn a_certificate_of_a_policy_not_on_the_allowlist_is_refused() {
    assert_refused_with("other-policy", "policy_not_allowed", |settings| {
        settings.tls.card_policies = vec![DEMO_CARD_POLICY.to_owned()];
    })
    .await;
}

#[tokio::test]
async fn a_card_of_an_allowed_policy_still_signs_in() {
    let app = TestApp::spawn_with(|settings| {
        settings.tls.card_policies = vec![DEMO_CARD_POLICY.to_owned()];
    })
    .await;
    let response = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("page");
    assert_eq!(response.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_flood_of_refused_handshakes_is_counted_not_written_a_row_each() {
    let app = TestApp::spawn_with(|s| s.audit.refusal_interval_secs = 2).await;
    let flood = std::time::Instant::now();
    for _ in 0..30 {
        let refused = app.client(Some("revoked")).get("/").await;
        assert!(refused.is_err(), "a revoked card gets no page");
    }
    let mut db = app.db().await;
    let mut rows: Vec<(i64, serde_json::Value)> = Vec::new();
    for _ in 0..75 {
        rows = sqlx::query_as(
            "SELECT (details->>'count')::bigint, details FROM audit_log
             WHERE action = 'tls.certificate_refused' ORDER BY id",
        )
        .fetch_all(&mut db)
        .await
        .expect("rows");
        if rows.iter().map(|row| row.0).sum::<i64>() == 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(rows.iter().map(|row| row.0).sum::<i64>(), 30, "{rows:?}");
    assert_eq!(rows[0].0, 1, "the first refusal is written at once");
    let intervals = usize::try_from(flood.elapsed().as_secs() / 2).unwrap_or(usize::MAX);
    assert!(
        rows.len() <= intervals.saturating_add(3) && rows.len() < 30,
        "a row an interval ({intervals} intervals passed), not one a handshake: {rows:?}"
    );
    let serial = presented_serial("revoked");
    for (_, details) in &rows {
        assert_eq!(details["presented"]["serial"], serial.as_str(), "{details}");
        assert!(
            details["certificates"]
                .as_array()
                .is_some_and(|hashes| hashes.len() <= 10),
            "{details}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_refused_flood_from_many_addresses_writes_a_bounded_number_of_rows() {
    // One interval longer than the flood takes, so that it is tallied as one.
    let app = TestApp::spawn_with(|s| s.audit.refusal_interval_secs = 30).await;
    // 450 addresses, each refused once: more than the 400 kinds tallied at once. Sixteen at a
    // time, so that the flood is over well within the interval even on a loaded machine.
    let refused = |n: u32| {
        let client = app.client(Some("revoked"));
        async move {
            let source = std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                127,
                1,
                (n / 250) as u8,
                (n % 250 + 1) as u8,
            ));
            // TLS 1.3: the client may finish before the server refuses; either way no page.
            if let Ok(mut tls) = client.tls_from(source, &[b"http/1.1"]).await {
                let mut byte = [0_u8; 1];
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    tokio::io::AsyncReadExt::read(&mut tls, &mut byte),
                )
                .await;
            }
        }
    };
    futures::StreamExt::for_each_concurrent(futures::stream::iter(0..450), 16, refused).await;
    let mut db = app.db().await;
    let mut rows: Vec<(String, String, i64)> = Vec::new();
    for _ in 0..200 {
        rows = sqlx::query_as(
            "SELECT reason, host(client_address), (details->>'count')::bigint FROM audit_log
             WHERE action = 'tls.certificate_refused' ORDER BY id",
        )
        .fetch_all(&mut db)
        .await
        .expect("rows");
        if rows.iter().map(|row| row.2).sum::<i64>() == 450 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        rows.iter().map(|row| row.2).sum::<i64>(),
        450,
        "every refusal counted"
    );
    assert!(rows.len() <= 401, "{} rows", rows.len());
    let rest: Vec<_> = rows
        .iter()
        .filter(|row| row.0 == "other_addresses")
        .collect();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!((rest[0].1.as_str(), rest[0].2), ("0.0.0.0", 50));
    app.stop().await;
}

/// A demo card's certificate serial as the audit details write it.
fn presented_serial(card: &str) -> String {
    pki()
        .serial(card)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
