//! A verified card gets its identity; a browser without a card gets the guidance page.

use hyper::Version;

use crate::helpers::{TestApp, audit_rows, public_key_sha256};

#[tokio::test]
async fn a_valid_card_sees_its_identity() {
    let app = TestApp::spawn().await;
    let response = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("request");

    assert_eq!(response.status, 200);
    assert!(response.content_type.starts_with("text/html"));
    let body = &response.body;
    assert!(
        body.contains("Virtanen Aino Maria 999000110"),
        "holder name missing"
    );
    assert!(
        body.contains(r#"data-field="satu">999000110<"#),
        "SATU missing"
    );
    assert!(body.contains("DVV TEST Social Welfare and Healthcare Professional CA - G4E"));
    assert!(
        body.contains(&public_key_sha256("archivist-1")),
        "key hash missing"
    );
    assert!(
        body.contains("/pkg/archivist.js"),
        "hydration script missing"
    );

    // The session it started; no row for the connection itself (see `audit.connections`).
    let rows = audit_rows(&app).await;
    let row = |action: &str| {
        (
            action.to_owned(),
            "success".to_owned(),
            None,
            Some("999000110".to_owned()),
        )
    };
    assert_eq!(rows, vec![row("session.started")]);
    app.stop().await;
}

#[tokio::test]
async fn the_identity_server_function_answers_with_the_certificate() {
    let app = TestApp::spawn().await;
    let response = app
        .client(Some("archivist-3"))
        .get("/api/identity")
        .await
        .expect("request");
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response.body.contains(r#""satu":"99900033P""#),
        "{}",
        response.body
    );
    assert!(
        response.body.contains(&public_key_sha256("archivist-3")),
        "{}",
        response.body
    );

    let anonymous = app
        .client(None)
        .get("/api/identity")
        .await
        .expect("request");
    assert_eq!(anonymous.status, 401, "server functions need a card too");
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_without_satu_is_shown_without_one() {
    let app = TestApp::spawn().await;
    let response = app.client(Some("no-satu")).get("/").await.expect("request");
    assert_eq!(response.status, 200);
    assert!(
        response
            .body
            .contains(r#"data-field="satu">ei varmenteessa<"#),
        "{}",
        response.body
    );
    app.stop().await;
}

#[tokio::test]
async fn no_certificate_gets_the_guidance_page_in_three_languages() {
    let app = TestApp::spawn().await;
    let client = app.client(None);
    for path in ["/", "/some/deep/link", "/api/identity"] {
        let response = client.get(path).await.expect("request");
        assert_eq!(response.status, 401, "{path}");
        assert!(
            response.body.contains("Aseta ammattikortti kortinlukijaan"),
            "{path}"
        );
        assert!(
            response.body.contains("Sätt in yrkeskortet i kortläsaren"),
            "{path}"
        );
        assert!(
            response.body.contains("Insert your professional card"),
            "{path}"
        );
    }
    // The guidance page's style sheet and the health check need no card.
    assert_eq!(
        client.get("/pkg/archivist.css").await.expect("css").status,
        200
    );
    assert_eq!(client.get("/healthz").await.expect("health").status, 200);
    assert!(
        audit_rows(&app).await.is_empty(),
        "an anonymous visit is no sign-in"
    );
    app.stop().await;
}

#[tokio::test]
async fn http2_is_negotiated_and_works() {
    let app = TestApp::spawn().await;
    let response = app
        .client(Some("archivist-2"))
        .get_h2("/")
        .await
        .expect("request");
    assert_eq!(response.version, Version::HTTP_2);
    assert_eq!(response.status, 200);
    assert!(response.body.contains("Korhonen Elias 99900022B"));
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_page_is_404_for_a_signed_in_user() {
    let app = TestApp::spawn().await;
    let response = app
        .client(Some("archivist-1"))
        .get("/no/such/page")
        .await
        .expect("request");
    assert_eq!(response.status, 404);
    assert!(response.body.contains("Sivua ei löytynyt"));
    app.stop().await;
}

fn header<'a>(response: &'a crate::helpers::TestResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_the_security_headers() {
    let app = TestApp::spawn().await;
    let page = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("request");
    let csp = header(&page, "content-security-policy");
    let nonce = csp
        .split_whitespace()
        .find_map(|token| token.strip_prefix("'nonce-"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("script nonce in the policy");
    assert!(
        page.body
            .contains(&format!(r#"<script type="module" nonce="{nonce}">"#)),
        "the hydration loader carries this response's nonce"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");

    let guidance = app.client(None).get("/").await.expect("request");
    assert!(header(&guidance, "content-security-policy").starts_with("default-src 'none'"));

    for response in [&page, &guidance] {
        assert!(header(response, "strict-transport-security").starts_with("max-age="));
        assert_eq!(header(response, "x-content-type-options"), "nosniff");
        assert_eq!(header(response, "x-frame-options"), "DENY");
        assert_eq!(header(response, "referrer-policy"), "same-origin");
    }

    let second = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("request");
    assert_ne!(
        header(&second, "content-security-policy"),
        csp,
        "a new nonce for every response"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_remembered_language_renders_the_page_and_an_unknown_one_is_ignored() {
    let app = TestApp::spawn().await;
    let client = app.client(Some("archivist-1"));
    let with_cookie = |value: &str| {
        let client = &client;
        let cookie = format!("archivist-language={value}");
        async move {
            client
                .request_with("GET", "/", "", &[("cookie", cookie)])
                .await
                .expect("request")
        }
    };
    let swedish = with_cookie("sv").await;
    assert_eq!(swedish.status, 200);
    assert!(
        swedish
            .body
            .contains("Kanta – arkivariens användargränssnitt")
            && swedish.body.contains(r#"lang="sv""#),
        "{}",
        swedish.body
    );
    // Times are shown in Finland's time, the UTC instant kept in `datetime`.
    assert!(swedish.body.contains("<time datetime="), "{}", swedish.body);
    for unknown in ["de", "", "sv-FI"] {
        let page = with_cookie(unknown).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("Kanta – arkistonhoitajan käyttöliittymä"),
            "{unknown}: {}",
            page.body
        );
    }
    app.stop().await;
}
