//! Sessions through real TLS: one per sign-in, bound to the card's key, never adopted from a
//! cookie, ended by sign-out and timeouts; every state-changing request checked for forgery.

use server::archive::ControllerOid;
use sqlx::PgPool;

use crate::helpers::{
    TestApp, TestClient, TestResponse, audit_rows, card, database_url, public_key_sha256, seed,
};

const COOKIE: &str = "__Host-archivist-session";

/// The session id a response sets, if it sets one.
fn set_session(response: &TestResponse) -> Option<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{COOKIE}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

fn cookie(id: &str) -> (&'static str, String) {
    ("cookie", format!("{COOKIE}={id}"))
}

async fn session_count(app: &TestApp) -> i64 {
    let mut db = app.db().await;
    sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&mut db)
        .await
        .expect("count sessions")
}

async fn actions(app: &TestApp) -> Vec<String> {
    audit_rows(app).await.into_iter().map(|r| r.0).collect()
}

/// Signs in with a GET of the front page; the new session's id.
async fn sign_in(client: &TestClient) -> String {
    let response = client.get("/").await.expect("front page");
    assert_eq!(response.status, 200, "{}", response.body);
    set_session(&response).expect("a session cookie")
}

/// The CSRF token of a session, as its pages get it.
async fn token_of(client: &TestClient, session: &str) -> String {
    let response = client
        .request_with("GET", "/api/session", "", &[cookie(session)])
        .await
        .expect("session");
    assert_eq!(response.status, 200, "{}", response.body);
    let value: serde_json::Value = serde_json::from_str(&response.body).expect("json");
    value["csrf_token"].as_str().expect("a token").to_owned()
}

#[tokio::test]
async fn a_sign_in_starts_one_session_with_a_strict_cookie() {
    let app = TestApp::spawn().await;
    let client = app.client(Some("archivist-1"));
    let first = client.get("/").await.expect("front page");
    let set_cookie = first
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("set-cookie")
        .to_owned();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
        "Max-Age=900",
    ] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain"), "{set_cookie}");
    let id = set_session(&first).expect("session id");

    // The same session on later requests, over new connections: no new sign-in.
    for _ in 0..3 {
        let again = client
            .request_with("GET", "/", "", &[cookie(&id)])
            .await
            .expect("again");
        assert_eq!(again.status, 200);
        assert_eq!(set_session(&again), None, "the session is kept as it is");
    }
    assert_eq!(session_count(&app).await, 1);
    let started = actions(&app)
        .await
        .into_iter()
        .filter(|a| a == "session.started")
        .count();
    assert_eq!(started, 1);

    // Public assets never start a session.
    let css = app
        .client(Some("archivist-2"))
        .get("/pkg/archivist.css")
        .await
        .expect("css");
    assert_eq!(css.status, 200);
    assert_eq!(set_session(&css), None);
    assert_eq!(session_count(&app).await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_session_id_chosen_by_someone_else_is_never_adopted() {
    let app = TestApp::spawn().await;
    let client = app.client(Some("archivist-1"));
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let response = client
        .request_with("GET", "/", "", &[cookie(planted)])
        .await
        .expect("front page");
    assert_eq!(response.status, 200);
    let issued = set_session(&response).expect("a new session");
    assert_ne!(issued, planted);
    // A malformed id is no different.
    let response = client
        .request_with("GET", "/", "", &[cookie("../../etc/passwd")])
        .await
        .expect("front page");
    assert_eq!(response.status, 200);
    assert!(set_session(&response).is_some());
    app.stop().await;
}

#[tokio::test]
async fn a_session_cookie_taken_to_another_card_destroys_the_session() {
    let app = TestApp::spawn().await;
    let owner = app.client(Some("archivist-1"));
    let thief = app.client(Some("archivist-2"));
    let stolen = sign_in(&owner).await;

    let response = thief
        .request_with("GET", "/", "", &[cookie(&stolen)])
        .await
        .expect("front page");
    assert_eq!(response.status, 200, "the other card signs in on its own");
    let own = set_session(&response).expect("a session of its own");
    assert_ne!(own, stolen);
    assert!(
        !response.body.contains("999000110"),
        "nothing of the first card's session shows"
    );
    let rows = audit_rows(&app).await;
    assert!(
        rows.iter().any(
            |(action, outcome, reason, satu)| action == "session.certificate_changed"
                && outcome == "refused"
                && reason.as_deref() == Some("certificate_changed")
                && satu.as_deref() == Some("99900022B")
        ),
        "{rows:?}"
    );
    // Whose session it was: the owner's card key, as the owner's sign-in row has it.
    let presented: Option<String> = sqlx::query_scalar(
        "SELECT details->>'session_public_key_sha256' FROM audit_log
         WHERE action = 'session.certificate_changed'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .expect("the row");
    assert_eq!(presented, Some(public_key_sha256("archivist-1")));

    // The stolen session is gone for its owner too: the card signs in again.
    let response = owner
        .request_with("GET", "/", "", &[cookie(&stolen)])
        .await
        .expect("front page");
    let renewed = set_session(&response).expect("a new session");
    assert_ne!(renewed, stolen);
    assert_eq!(
        session_count(&app).await,
        2,
        "the thief's and the owner's new one"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_idle_session_ends() {
    let app = TestApp::spawn_with(|s| {
        s.session.idle_timeout_secs = 1;
        s.session.absolute_timeout_secs = 1;
    })
    .await;
    let client = app.client(Some("archivist-3"));
    let id = sign_in(&client).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let response = client
        .request_with("GET", "/", "", &[cookie(&id)])
        .await
        .expect("front page");
    let renewed = set_session(&response).expect("a new session");
    assert_ne!(renewed, id);
    app.stop().await;
}

/// Two controllers linked to archivist-1, one to archivist-2.
async fn linked_controllers(app: &TestApp) -> (ControllerOid, ControllerOid, ControllerOid) {
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("pool");
    let a = ControllerOid::parse("1.2.246.10.12345670.10.0").expect("oid");
    let b = ControllerOid::parse("1.2.246.10.12345671.10.0").expect("oid");
    let c = ControllerOid::parse("1.2.246.10.12345672.10.0").expect("oid");
    for (oid, name) in [(&a, "Alfa"), (&b, "Beta"), (&c, "Gamma")] {
        seed::controller(&pool, oid, name).await;
    }
    for (number, oid) in [("999000110", &a), ("999000110", &b), ("99900022B", &c)] {
        seed::link(&pool, &card(number), oid).await;
    }
    pool.close().await;
    (a, b, c)
}

async fn choose(
    client: &TestClient,
    session: &str,
    body: &str,
    origin: Option<String>,
) -> TestResponse {
    let mut headers = vec![cookie(session)];
    if let Some(origin) = origin {
        headers.push(("origin", origin));
    }
    client
        .request_with("POST", "/api/choose-controller", body, &headers)
        .await
        .expect("choose")
}

#[tokio::test]
async fn state_changing_requests_need_this_sites_origin_and_the_sessions_token() {
    let app = TestApp::spawn().await;
    let (a, b, _) = linked_controllers(&app).await;
    let client = app.client(Some("archivist-1"));
    let session = sign_in(&client).await;
    let token = token_of(&client, &session).await;
    let body = |token: &str| format!("csrf_token={token}&controller={}", b.as_str());

    let other = app.client(Some("archivist-2"));
    let other_session = sign_in(&other).await;
    let other_token = token_of(&other, &other_session).await;

    for (body, origin, reason) in [
        (body(&token), None, "origin_missing"),
        (
            body(&token),
            Some("https://evil.example".to_owned()),
            "origin_mismatch",
        ),
        (
            format!("controller={}", b.as_str()),
            Some(client.origin()),
            "token_missing",
        ),
        (body("0000"), Some(client.origin()), "token_mismatch"),
        (body(&other_token), Some(client.origin()), "token_mismatch"),
    ] {
        let response = choose(&client, &session, &body, origin).await;
        assert_eq!(response.status, 403, "{reason}: {}", response.body);
        assert!(response.body.contains(reason), "{}", response.body);
        let rows = audit_rows(&app).await;
        let last = rows.last().expect("a row");
        assert_eq!(
            (last.0.as_str(), last.2.as_deref()),
            ("request.csrf_refused", Some(reason))
        );
        // Which request, and whose card: an investigation needs both.
        let (path, card_number): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT details->>'path', card_number FROM audit_log ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(&mut app.db().await)
        .await
        .expect("the refusal's row");
        assert_eq!(path.as_deref(), Some("/api/choose-controller"), "{reason}");
        assert_eq!(card_number.as_deref(), Some("999000110"), "{reason}");
    }
    let access = client
        .request_with("GET", "/api/access", "", &[cookie(&session)])
        .await
        .expect("access");
    assert!(
        access.body.contains(r#""active_controller":null"#),
        "nothing was changed: {}",
        access.body
    );

    // A body over the limit is refused before it is read, and changes nothing.
    let huge = format!("csrf_token={token}&controller={}", "1".repeat(100_000));
    let response = choose(&client, &session, &huge, Some(client.origin())).await;
    assert_eq!(response.status, 413);

    let response = choose(&client, &session, &body(&token), Some(client.origin())).await;
    assert_eq!(response.status, 200, "{}", response.body);
    let access = client
        .request_with("GET", "/api/access", "", &[cookie(&session)])
        .await
        .expect("access");
    assert!(
        access
            .body
            .contains(&format!(r#""active_controller":"{}""#, b.as_str())),
        "{}",
        access.body
    );
    assert!(access.body.contains(a.as_str()), "both stay listed");
    app.stop().await;
}

#[tokio::test]
async fn the_origin_is_checked_against_the_sites_own_never_the_requests_host() {
    let app = TestApp::spawn().await;
    let (_, b, _) = linked_controllers(&app).await;
    let client = app.client(Some("archivist-1"));
    let session = sign_in(&client).await;
    let token = token_of(&client, &session).await;
    let body = format!("csrf_token={token}&controller={}", b.as_str());
    // A forged Host that agrees with a forged Origin proves nothing.
    let forged = client
        .request_with(
            "POST",
            "/api/choose-controller",
            &body,
            &[
                cookie(&session),
                ("host", "evil.example".to_owned()),
                ("origin", "https://evil.example".to_owned()),
            ],
        )
        .await
        .expect("post");
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("origin_mismatch"), "{}", forged.body);
    // Every name of the server certificate is the site's own: the same post from 127.0.0.1.
    let port = client.origin().rsplit(':').next().expect("port").to_owned();
    let by_address = choose(
        &client,
        &session,
        &body,
        Some(format!("https://127.0.0.1:{port}")),
    )
    .await;
    assert_eq!(by_address.status, 200, "{}", by_address.body);
    app.stop().await;

    // With `origins` set, only those.
    let app =
        TestApp::spawn_with(|s| s.origins = vec!["https://archive.example:8443".to_owned()]).await;
    let (_, b, _) = linked_controllers(&app).await;
    let client = app.client(Some("archivist-1"));
    let session = sign_in(&client).await;
    let token = token_of(&client, &session).await;
    let body = format!("csrf_token={token}&controller={}", b.as_str());
    let local = choose(&client, &session, &body, Some(client.origin())).await;
    assert_eq!(local.status, 403, "{}", local.body);
    let configured = choose(
        &client,
        &session,
        &body,
        Some("https://archive.example:8443".to_owned()),
    )
    .await;
    assert_eq!(configured.status, 200, "{}", configured.body);
    app.stop().await;
}

#[tokio::test]
async fn another_archivists_controller_cannot_be_chosen_and_looks_like_none() {
    let app = TestApp::spawn().await;
    let (_, _, c) = linked_controllers(&app).await;
    let client = app.client(Some("archivist-1"));
    let session = sign_in(&client).await;
    let token = token_of(&client, &session).await;

    let foreign = choose(
        &client,
        &session,
        &format!("csrf_token={token}&controller={}", c.as_str()),
        Some(client.origin()),
    )
    .await;
    let missing = choose(
        &client,
        &session,
        &format!("csrf_token={token}&controller=1.2.246.10.99999999.10.0"),
        Some(client.origin()),
    )
    .await;
    assert_ne!(foreign.status, 200);
    assert_eq!(foreign.status, missing.status);
    assert_eq!(foreign.body, missing.body);
    assert!(!foreign.body.contains(c.as_str()), "{}", foreign.body);
    app.stop().await;
}

async fn sign_out(client: &TestClient, session: &str, token: &str) -> TestResponse {
    client
        .request_with(
            "POST",
            "/api/sign-out",
            &format!("csrf_token={token}"),
            &[cookie(session), ("origin", client.origin())],
        )
        .await
        .expect("sign out")
}

#[tokio::test]
async fn sign_out_ends_the_session_and_the_signed_out_page_starts_none() {
    let app = TestApp::spawn().await;
    let client = app.client(Some("archivist-2"));
    let session = sign_in(&client).await;
    let token = token_of(&client, &session).await;

    let response = sign_out(&client, &session, &token).await;
    assert!(
        response.status == 200 || response.status == 302,
        "{}: {}",
        response.status,
        response.body
    );
    let removal = response
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(removal.contains("Max-Age=0"), "cookie removed: {removal}");
    // Browsers ignore a __Host- cookie without Secure, removals included.
    assert!(removal.contains("Secure"), "{removal}");
    assert_eq!(session_count(&app).await, 0);
    assert!(
        actions(&app)
            .await
            .contains(&"session.signed_out".to_owned())
    );

    let page = client.get("/signed-out").await.expect("signed-out page");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"data-field="signed-out""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Poista ammattikortti"), "{}", page.body);
    assert_eq!(set_session(&page), None, "no new session on that page");
    assert!(!page.body.contains(r#"data-action="sign-out""#));
    assert_eq!(session_count(&app).await, 0);

    // The old cookie is worth nothing now.
    let again = sign_out(&client, &session, &token).await;
    assert_eq!(again.status, 403, "{}", again.body);
    app.stop().await;
}
