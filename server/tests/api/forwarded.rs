//! Behind a TLS-terminating load balancer: RFC 9440 `Client-Cert` headers count only from a
//! configured proxy address, and then get every check our own handshake makes.

use base64::{Engine, engine::general_purpose::STANDARD};
use rustls::pki_types::{CertificateDer, pem::PemObject};

use crate::helpers::{TestApp, TestResponse, audit_rows, pki, sign_in_address};

/// The headers a load balancer sends for a demo card's certificate.
fn forwarded(stem: &str) -> Vec<(&'static str, String)> {
    let encode = |file: String| -> Vec<String> {
        CertificateDer::pem_file_iter(pki().file(&file))
            .expect("pem")
            .map(|cert| format!(":{}:", STANDARD.encode(cert.expect("cert").as_ref())))
            .collect()
    };
    let leaf = encode(format!("{stem}.pem")).remove(0);
    let chain = encode(format!("{stem}.chain.pem")).join(", ");
    vec![
        ("client-cert", leaf),
        ("client-cert-chain", chain),
        ("x-forwarded-for", "203.0.113.50, 198.51.100.7".to_owned()),
    ]
}

async fn behind_proxy() -> TestApp {
    TestApp::spawn_with(|s| s.proxy.trusted = vec!["127.0.0.1".parse().expect("ip")]).await
}

async fn front_page(app: &TestApp, card: Option<&str>, forwarded_card: &str) -> TestResponse {
    app.client(card)
        .request_with("GET", "/", "", &forwarded(forwarded_card))
        .await
        .expect("front page")
}

#[tokio::test]
async fn a_trusted_proxy_forwards_the_card_it_verified() {
    let app = behind_proxy().await;
    let response = front_page(&app, None, "archivist-1").await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(response.body.contains("999000110"), "{}", response.body);

    assert_eq!(
        sign_in_address(&app).await,
        "198.51.100.7",
        "the address the proxy saw"
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_headers_from_anyone_else_are_ignored() {
    let app = TestApp::spawn().await;
    let anonymous = front_page(&app, None, "archivist-1").await;
    assert_eq!(anonymous.status, 401, "no card, whatever the headers say");

    let other = front_page(&app, Some("archivist-2"), "archivist-1").await;
    assert_eq!(other.status, 200);
    assert!(other.body.contains("99900022B"), "{}", other.body);
    assert!(!other.body.contains("999000110"), "{}", other.body);
    app.stop().await;
}

#[tokio::test]
async fn a_forwarded_certificate_gets_every_check_of_a_handshake() {
    let app = behind_proxy().await;
    for (stem, reason) in [
        ("expired", "certificate_expired"),
        ("revoked", "certificate_revoked"),
        ("foreign", "unknown_issuer"),
        ("wrong-eku", "wrong_key_purpose"),
        ("no-digital-signature", "key_usage_not_digital_signature"),
    ] {
        let response = front_page(&app, None, stem).await;
        assert_eq!(response.status, 403, "{stem}: {}", response.body);
        assert!(response.body.contains(reason), "{stem}: {}", response.body);
        let rows = audit_rows(&app).await;
        let last = rows.last().expect("a row");
        assert_eq!(
            (last.0.as_str(), last.1.as_str(), last.2.as_deref()),
            ("tls.certificate_refused", "refused", Some(reason)),
            "{stem}"
        );
    }

    let malformed = app
        .client(None)
        .request_with("GET", "/", "", &[("client-cert", "MIIB...".to_owned())])
        .await
        .expect("request");
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    app.stop().await;
}
