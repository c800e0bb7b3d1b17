//! Certificates that must not get a page: expired, revoked, from a foreign CA, or without the
//! client-authentication purpose. Each refusal is in the audit log with its reason.

use crate::helpers::{TestApp, audit_rows_at_least};

async fn assert_refused(card: &str, reason: &str) {
    let app = TestApp::spawn().await;
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
