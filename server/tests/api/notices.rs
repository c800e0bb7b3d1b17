//! Notices and maintenance windows through real TLS and the real command line: the banner on
//! pages with and without a card, the public feeds, the maintenance gate, the administrators'
//! functions, the operator's notice file while the database is gone, and every bad input
//! refused with nothing stored.

use std::time::Duration;

use sqlx::PgPool;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::helpers::{
    Session, TestApp, TestResponse, archivist, card, database_url, drop_database, refusal, seed,
};

/// How long a change made elsewhere may take to show: the test servers read every second.
const SHOWS_WITHIN: Duration = Duration::from_secs(10);

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).expect("formats")
}

async fn run(app: &TestApp, args: &[&str]) -> String {
    let output = archivist(&app.database, args).await;
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The command's error line, for a command that must fail.
async fn refused(app: &TestApp, args: &[&str]) -> String {
    let output = archivist(&app.database, args).await;
    assert!(!output.status.success(), "{args:?} was accepted");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asks `path` again until `done` holds for the answer (bounded by [`SHOWS_WITHIN`]).
async fn until(
    client: &crate::helpers::TestClient,
    path: &str,
    done: impl Fn(&TestResponse) -> bool,
) -> TestResponse {
    let deadline = tokio::time::Instant::now() + SHOWS_WITHIN;
    loop {
        let response = client.get(path).await.expect("request");
        if done(&response) || tokio::time::Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// archivist-1's card (999000110) made an administrator; the pool to look at the database.
async fn archivist_1_administers(app: &TestApp) -> PgPool {
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("pool");
    seed::administrator(&pool, &card("999000110")).await;
    pool
}

async fn notice_rows(app: &TestApp) -> i64 {
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("pool");
    sqlx::query_scalar("SELECT count(*) FROM notice")
        .fetch_one(&pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_notice_added_from_the_shell_shows_on_every_page_and_in_the_feeds() {
    let app = TestApp::spawn().await;
    let added = run(
        &app,
        &[
            "notice",
            "add",
            "--kind",
            "disruption",
            "--text-fi",
            "Haku on hidas <script>alert(1)</script>",
            "--text-sv",
            "Sökningen är långsam",
            "--affected",
            "Haku",
        ],
    )
    .await;
    assert!(added.starts_with("notice 1 added"), "{added}");

    // Without a card: the sign-in guidance (401) and the feeds.
    let anonymous = app.client(None);
    let guidance = until(&anonymous, "/", |r| r.body.contains("Haku on hidas")).await;
    assert_eq!(guidance.status, 401);
    assert!(
        guidance
            .body
            .contains(r#"role="status" aria-live="polite""#)
    );
    assert!(
        guidance
            .body
            .contains("Haku on hidas &lt;script&gt;alert(1)&lt;/script&gt;"),
        "markup in a notice is text: {}",
        guidance.body
    );
    assert!(!guidance.body.contains("<script>alert(1)"));
    assert!(guidance.body.contains("Sökningen är långsam"));

    let json = anonymous.get("/notices.json").await.expect("feed");
    assert_eq!(json.status, 200);
    assert_eq!(
        json.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("public, max-age=30")
    );
    let feed: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    let notice = &feed["notices"][0];
    assert_eq!(notice["kind"], "disruption");
    assert_eq!(notice["text_sv"], "Sökningen är långsam");
    assert_eq!(notice["affected"], "Haku");
    assert_eq!(notice["current"], true);
    assert_eq!(notice["text_en"], serde_json::Value::Null);

    let atom = anonymous.get("/notices.atom").await.expect("feed");
    assert_eq!(atom.status, 200);
    assert!(atom.content_type.starts_with("application/atom+xml"));
    check_atom(&atom.body, 1);

    // With a card: the application's pages, and the server's own 404 page.
    let archivist = app.client(Some("archivist-1"));
    let front = archivist.get("/").await.expect("front page");
    assert_eq!(front.status, 200);
    assert!(
        front.body.contains(r#"data-field="notices""#),
        "{}",
        front.body
    );
    assert!(front.body.contains("Haku on hidas &lt;script&gt;"));
    let missing = archivist
        .get("/api/documents/1.2.3/raw")
        .await
        .expect("404");
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Sökningen är långsam"));

    // Ended: gone from the pages and the feeds.
    assert_eq!(
        run(&app, &["notice", "end", "1"]).await.trim(),
        "notice 1 ended"
    );
    let json = until(&anonymous, "/notices.json", |r| !r.body.contains("Haku")).await;
    assert!(!json.body.contains("Haku"), "{}", json.body);
    check_atom(&anonymous.get("/notices.atom").await.expect("feed").body, 0);
    let listed = run(&app, &["notice", "list"]).await;
    assert!(listed.contains("1\tdisruption\tended\t"), "{listed}");
    assert!(listed.contains("operator:admin-test"), "{listed}");

    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("pool");
    let audited: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action, operator FROM audit_log WHERE action LIKE 'admin.notice_%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit rows");
    assert_eq!(
        audited,
        [
            (
                "admin.notice_created".to_owned(),
                Some("admin-test".to_owned())
            ),
            (
                "admin.notice_ended".to_owned(),
                Some("admin-test".to_owned())
            ),
        ]
    );
    app.stop().await;
}

/// The Atom 1.0 requirements (RFC 4287 §4.1): a feed with an id, a title, an updated time and
/// an author; each entry with an id, a title, an updated time and content; times in RFC 3339.
fn check_atom(body: &str, entries: usize) {
    const ATOM: &str = "http://www.w3.org/2005/Atom";
    let document = roxmltree::Document::parse(body).expect("well-formed XML");
    let feed = document.root_element();
    assert_eq!(feed.tag_name().namespace(), Some(ATOM));
    assert_eq!(feed.tag_name().name(), "feed");
    fn child<'a, 'input>(
        node: roxmltree::Node<'a, 'input>,
        name: &str,
    ) -> Vec<roxmltree::Node<'a, 'input>> {
        node.children()
            .filter(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(ATOM))
            .collect()
    }
    for name in ["id", "title", "updated", "author"] {
        assert_eq!(child(feed, name).len(), 1, "feed/{name}: {body}");
    }
    let time = |node: roxmltree::Node<'_, '_>| {
        OffsetDateTime::parse(node.text().unwrap_or_default(), &Rfc3339).expect("RFC 3339")
    };
    time(child(feed, "updated")[0]);
    let found = child(feed, "entry");
    assert_eq!(found.len(), entries, "{body}");
    let mut ids = std::collections::HashSet::new();
    for entry in found {
        for name in ["id", "title", "updated", "content"] {
            assert_eq!(child(entry, name).len(), 1, "entry/{name}: {body}");
        }
        time(child(entry, "updated")[0]);
        assert!(ids.insert(child(entry, "id")[0].text().unwrap_or_default().to_owned()));
        assert_eq!(child(entry, "content")[0].attribute("type"), Some("text"));
    }
}

#[tokio::test]
async fn bad_notices_are_refused_with_the_field_named_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let now = OffsetDateTime::now_utc();
    let base = [
        "notice",
        "add",
        "--kind",
        "information",
        "--text-fi",
        "Tiedote",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| (*s).to_owned()).collect()
    };
    let long = "x".repeat(2001);
    let yesterday = rfc3339(now - time::Duration::days(1));
    let an_hour_ago = rfc3339(now - time::Duration::hours(1));
    let tomorrow = rfc3339(now + time::Duration::days(1));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with(&[]), "--text-sv: a text is required"),
        (with(&["--text-sv", "  "]), "--text-sv: a text is required"),
        (
            with(&["--text-sv", &long]),
            "--text-sv: at most 2000 characters",
        ),
        (
            with(&["--text-sv", "Med\u{1b}delande"]),
            "--text-sv: control characters are not allowed",
        ),
        (
            with(&[
                "--text-sv",
                "M",
                "--starts",
                &tomorrow,
                "--ends",
                &an_hour_ago,
            ]),
            "--ends: the end must come after the start",
        ),
        (
            with(&[
                "--text-sv",
                "M",
                "--starts",
                &yesterday,
                "--ends",
                &an_hour_ago,
            ]),
            "--ends: that time has passed already",
        ),
        (
            with(&[
                "--text-sv",
                "M",
                "--ends",
                &tomorrow,
                "--closes-service",
                "true",
            ]),
            "--closes-service: only a maintenance notice with an end can close the service",
        ),
        (
            with(&["--text-sv", "M", "--starts", "tomorrow"]),
            "--starts \"tomorrow\" is not an RFC 3339 time",
        ),
    ];
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let message = refused(&app, &args).await;
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    assert!(
        refused(&app, &["notice", "end", "7"])
            .await
            .contains("there is no notice 7")
    );
    assert!(
        refused(&app, &["maintenance", "end"])
            .await
            .contains("no maintenance break")
    );
    assert!(
        refused(
            &app,
            &[
                "maintenance",
                "start",
                "--until",
                &tomorrow,
                "--reason",
                " "
            ]
        )
        .await
        .contains("reason")
    );
    assert!(
        refused(
            &app,
            &[
                "maintenance",
                "start",
                "--until",
                &an_hour_ago,
                "--reason",
                "x"
            ]
        )
        .await
        .contains("--until: that time has passed already")
    );
    assert_eq!(notice_rows(&app).await, 0, "nothing half-stored");
    app.stop().await;
}

#[tokio::test]
async fn a_maintenance_break_closes_the_service_to_all_but_administrators_and_ends_on_time() {
    let app = TestApp::spawn().await;
    let pool = archivist_1_administers(&app).await;
    let archivist = app.client(Some("archivist-2"));
    assert_eq!(archivist.get("/").await.expect("page").status, 200);

    let until_time = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let started = run(
        &app,
        &[
            "maintenance",
            "start",
            "--until",
            &rfc3339(until_time),
            "--reason",
            "database upgrade",
        ],
    )
    .await;
    assert!(
        started.contains("closed to all but administrators"),
        "{started}"
    );

    // A page: 503, Retry-After up to the window's end, the notice in the reader's language.
    let page = until(&archivist, "/search", |r| r.status == 503).await;
    assert_eq!(page.status, 503);
    let retry = page.retry_after();
    assert!((3000..=3600).contains(&retry), "{retry}");
    assert!(
        page.body
            .contains("Palvelu on suljettu huoltotoimien ajaksi.")
    );
    assert!(page.body.contains(r#"<html lang="fi">"#));
    let swedish = archivist
        .request_with(
            "GET",
            "/",
            "",
            &[("cookie", "archivist-language=sv".to_owned())],
        )
        .await
        .expect("page");
    assert_eq!(swedish.status, 503);
    assert!(swedish.body.contains(r#"<html lang="sv">"#));
    assert!(swedish.body.contains("Tjänsten öppnar"));
    assert!(
        !swedish.body.contains("database upgrade"),
        "the reason is internal"
    );

    // A server function and a byte endpoint: 503 with a short JSON body.
    for path in ["/api/access", "/api/documents/1.2.3/raw"] {
        let answer = archivist.get(path).await.expect("request");
        assert_eq!(answer.status, 503, "{path}");
        assert!(answer.headers.contains_key("retry-after"));
        let body: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
        assert_eq!(body["error"], "maintenance");
        assert_eq!(body["text"]["en"], "The service is closed for maintenance.");
    }

    // Still open: an administrator, the health check, the feeds, the metrics.
    let admin = app.client(Some("archivist-1"));
    let admin_page = admin.get("/").await.expect("page");
    assert_eq!(admin_page.status, 200);
    assert!(admin_page.body.contains("Palvelu on suljettu katkon ajan."));
    let anonymous = app.client(None);
    assert_eq!(anonymous.get("/healthz").await.expect("health").status, 200);
    let feed = anonymous.get("/notices.json").await.expect("feed");
    assert_eq!(feed.status, 200);
    assert!(
        feed.body.contains(r#""closes_service":true"#),
        "{}",
        feed.body
    );
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_maintenance_closed 1"),
        "{metrics}"
    );

    let ended = run(&app, &["maintenance", "end"]).await;
    assert!(ended.contains("open again"), "{ended}");
    let open = until(&archivist, "/search", |r| r.status == 200).await;
    assert_eq!(open.status, 200);
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_maintenance_closed 0"),
        "{metrics}"
    );

    let audited: Vec<(String,)> = sqlx::query_as(
        "SELECT action FROM audit_log WHERE action LIKE 'admin.maintenance_%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit rows");
    assert_eq!(
        audited,
        [
            ("admin.maintenance_started".to_owned(),),
            ("admin.maintenance_ended".to_owned(),)
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn administrators_write_change_and_end_notices_on_record() {
    let app = TestApp::spawn().await;
    let pool = archivist_1_administers(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    let archivist = Session::start(&app, "archivist-2").await;
    let form = "id=&kind=maintenance&text_fi=Katko&text_sv=Avbrott&text_en=&affected=\
                &starts_at=2099-01-05T08:00&ends_at=2099-01-05T10:00&closes_service=on";

    // Not an administrator: the same 404 as any unknown function, nothing stored.
    let refused = archivist.post("/api/admin/save-notice", form).await;
    assert_eq!(refused.status, 404);
    assert_eq!(notice_rows(&app).await, 0);

    let saved = admin.post("/api/admin/save-notice", form).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let listed = admin.get("/api/admin/notices").await;
    let rows: serde_json::Value = serde_json::from_str(&listed.body).expect("json");
    assert_eq!(rows[0]["state"], "coming");
    // 08.00 in Helsinki in winter is 06.00 UTC, and the form gets it back as typed.
    assert_eq!(rows[0]["notice"]["starts_at"], "2099-01-05T06:00:00Z");
    assert_eq!(rows[0]["starts_local"], "2099-01-05T08:00");
    assert_eq!(rows[0]["notice"]["closes_service"], true);
    let id = rows[0]["notice"]["id"].as_str().expect("id").to_owned();

    // Coming in 70 years: in the feed, not yet in the banner.
    let feed = app.client(None).get("/notices.json").await.expect("feed");
    assert!(feed.body.contains("Avbrott"), "{}", feed.body);
    assert!(!archivist.get("/").await.body.contains("Avbrott"));

    for (bad, code) in [
        (
            form.replace("text_sv=Avbrott", "text_sv="),
            "invalid:text_sv",
        ),
        (
            form.replace("2099-01-05T10:00", "2099-01-05T07:00"),
            "invalid:ends_at",
        ),
        (
            form.replace("kind=maintenance", "kind=outage"),
            "invalid:kind",
        ),
        (
            form.replace("2099-01-05T08:00", "5.1.2099 8.00"),
            "invalid:starts_at",
        ),
        (
            form.replace("kind=maintenance", "kind=information"),
            "invalid:closes_service",
        ),
    ] {
        let answer = admin.post("/api/admin/save-notice", &bad).await;
        assert_eq!(answer.status, 422, "{bad}");
        assert_eq!(refusal(&answer.body), code, "{bad}");
    }
    assert_eq!(notice_rows(&app).await, 1, "refused forms store nothing");

    // Changed to start now: in the banner at once on this instance.
    let now = form
        .replace("id=", &format!("id={id}"))
        .replace("starts_at=2099-01-05T08:00", "starts_at=")
        .replace("&closes_service=on", "")
        .replace("text_en=", "text_en=Break");
    let changed = admin.post("/api/admin/save-notice", &now).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let page = archivist.get("/").await;
    assert!(page.body.contains("Katko"), "{}", page.body);

    let ended = admin
        .post("/api/admin/end-notice", &format!("id={id}"))
        .await;
    assert_eq!(ended.status, 200);
    assert!(!archivist.get("/").await.body.contains("Katko"));
    let again = admin
        .post("/api/admin/end-notice", &format!("id={id}"))
        .await;
    assert_eq!(refusal(&again.body), "conflict:notice_ended");
    let missing = admin.post("/api/admin/end-notice", "id=999").await;
    assert_eq!(missing.status, 404);

    let audited: Vec<(String, Option<String>, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT action, card_number, details FROM audit_log \
         WHERE action LIKE 'admin.notice_%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit rows");
    let actions: Vec<&str> = audited.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "admin.notice_created",
            "admin.notice_changed",
            "admin.notice_ended"
        ]
    );
    assert!(
        audited
            .iter()
            .all(|(_, card, _)| card.as_deref() == Some("999000110"))
    );
    let change = audited[1].2.as_ref().expect("details");
    assert_eq!(change["before"]["closes_service"], true);
    assert_eq!(change["after"]["text_en"], "Break");
    app.stop().await;
}

#[tokio::test]
async fn the_notice_file_shows_without_the_database_and_a_broken_one_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("notice.toml");
    let path = file.clone();
    let app = TestApp::spawn_with(move |s| s.ops.notice_file = Some(path)).await;
    let anonymous = app.client(None);
    assert!(
        !anonymous
            .get("/notices.json")
            .await
            .expect("feed")
            .body
            .contains("kind")
    );

    std::fs::write(
        &file,
        "kind = \"disruption\"\ntext_fi = \"Tietokanta on alhaalla\"\ntext_sv = \"Databasen är nere\"\n",
    )
    .expect("write");
    let feed = until(&anonymous, "/notices.json", |r| r.body.contains("alhaalla")).await;
    assert!(feed.body.contains(r#""id":"file""#), "{}", feed.body);

    // A broken file: logged, and the notice read before stays up.
    std::fs::write(&file, "kind = \"disruption\"\ntext_fi = ").expect("write");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let feed = anonymous.get("/notices.json").await.expect("feed");
    assert!(feed.body.contains("alhaalla"), "{}", feed.body);
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_notice_file_broken 1"),
        "{metrics}"
    );

    std::fs::write(
        &file,
        "kind = \"disruption\"\ntext_fi = \"Tietokanta on yhä alhaalla\"\ntext_sv = \"Databasen är nere\"\n",
    )
    .expect("write");
    // The database gone: the 503 page and the feed still show the file's notice.
    drop_database(&app.database).await;
    let card = app.client(Some("archivist-1"));
    let page = until(&card, "/", |r| r.body.contains("yhä alhaalla")).await;
    assert_eq!(page.status, 503);
    assert!(
        page.body.contains("Tietokanta on yhä alhaalla"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Palvelu ei ole juuri nyt käytettävissä"));
    let feed = anonymous.get("/notices.atom").await.expect("feed");
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("Databasen är nere"));

    std::fs::remove_file(&file).expect("remove");
    let feed = until(&anonymous, "/notices.json", |r| {
        !r.body.contains("alhaalla")
    })
    .await;
    assert!(!feed.body.contains("alhaalla"), "{}", feed.body);
    app.stop().await;
}
