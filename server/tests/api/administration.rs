//! The administrators' server functions and the audit page through real TLS: only a card with
//! the administrator right gets anything (everyone else the same 404 as for nothing), changes
//! apply on the linked card's next request and are on record in the administrator's name, bad
//! input changes nothing, a change whose audit row cannot be written is not made, and the audit
//! page shows an archivist only their controllers' rows.

use server::{archive::ControllerOid, store::cards};
use sqlx::PgPool;

use crate::helpers::{Session, TestApp, archivist, card, database_url, refusal, seed};

/// An audit row as (action, card number, controller, card number in the details).
type ChangeRow = (String, Option<String>, Option<String>, Option<String>);

const A: &str = "1.2.246.10.12345670.10.0";
const B: &str = "1.2.246.10.12345671.10.0";

/// Controllers A and B; archivist-1 an administrator linked to A, archivist-2 linked to B.
async fn set_up(app: &TestApp) -> PgPool {
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("pool");
    let a = ControllerOid::parse(A).expect("oid");
    let b = ControllerOid::parse(B).expect("oid");
    seed::controller(&pool, &a, "Alfa").await;
    seed::controller(&pool, &b, "Beta").await;
    seed::link(&pool, &card("999000110"), &a).await;
    seed::link(&pool, &card("99900022B"), &b).await;
    seed::administrator(&pool, &card("999000110")).await;
    pool
}

/// A page with its script nonce (new in every response) blanked out.
fn without_nonce(page: &str) -> String {
    let nonce = page
        .split_once(r#"nonce=""#)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(nonce, _)| nonce.to_owned());
    match nonce {
        Some(nonce) if !nonce.is_empty() => page.replace(&nonce, "NONCE"),
        _ => page.to_owned(),
    }
}

#[tokio::test]
async fn only_administrators_get_the_administrative_functions() {
    let app = TestApp::spawn().await;
    let _pool = set_up(&app).await;
    let archivist = Session::start(&app, "archivist-2").await;
    // Each administrators' route against an unknown path of the same kind: a page, a download,
    // a function read and a function sent.
    let pairs = [
        (
            archivist.get("/admin").await,
            archivist.get("/no-such-page").await,
        ),
        (
            archivist.get("/audit.csv?since=2026-01-01").await,
            archivist.get("/no-such.csv?since=2026-01-01").await,
        ),
        (
            archivist.get("/api/admin/overview").await,
            archivist.get("/api/admin/no-such").await,
        ),
        (
            archivist.get("/api/admin/card-links?card_number=").await,
            archivist.get("/api/no-such?card_number=").await,
        ),
        (
            archivist
                .post(
                    "/api/admin/link-card",
                    &format!(
                        "card_number=99900022B&issuer=&controller={A}&valid_from=&valid_until="
                    ),
                )
                .await,
            archivist
                .post("/api/no-such", &format!("controller={A}"))
                .await,
        ),
    ];
    for (refused, unknown) in &pairs {
        assert_eq!(refused.status, 404, "{}", refused.body);
        assert_eq!(unknown.status, 404, "{}", unknown.body);
        assert_eq!(refused.content_type, unknown.content_type);
        assert_eq!(
            without_nonce(&refused.body),
            without_nonce(&unknown.body),
            "an administrators' route answers what an unknown path does"
        );
        assert!(!refused.body.contains("ServerError"), "{}", refused.body);
    }
    let access = archivist.get("/api/access").await;
    assert!(
        !access.body.contains(A),
        "nothing was linked: {}",
        access.body
    );

    let admin = Session::start(&app, "archivist-1").await;
    let overview = admin.get("/api/admin/overview").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(overview.body.contains(A) && overview.body.contains(B));
    let page = admin.get("/admin").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(r#"data-field="link-history""#),
        "{}",
        page.body
    );
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_links_and_unlinks_a_card_on_record() {
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    let archivist = Session::start(&app, "archivist-4").await;
    assert!(!archivist.get("/api/access").await.body.contains(B));

    let linked = admin
        .post(
            "/api/admin/link-card",
            &format!("card_number=999000442&issuer=&controller={B}&valid_from=&valid_until="),
        )
        .await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(linked.body, r#""Linked""#);
    assert!(
        archivist.get("/api/access").await.body.contains(B),
        "in force on the card's next request"
    );
    let again = admin
        .post(
            "/api/admin/link-card",
            &format!("card_number=999000442&issuer=&controller={B}&valid_from=&valid_until="),
        )
        .await;
    assert_eq!(again.body, r#""AlreadyLinked""#);

    let history = admin
        .get("/api/admin/card-links?card_number=999000442")
        .await;
    assert!(
        history
            .body
            .contains(r#""linked_by":"card:999000110 (Virtanen Aino Maria 999000110)""#),
        "{}",
        history.body
    );

    let issuer = crate::helpers::issuer();
    let unlinked = admin
        .post(
            "/api/admin/unlink-card",
            &format!(
                "card_number=999000442&issuer={}&controller={B}",
                url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect::<String>()
            ),
        )
        .await;
    assert_eq!(unlinked.status, 200, "{}", unlinked.body);
    assert!(!archivist.get("/api/access").await.body.contains(B));
    let history = admin
        .get("/api/admin/card-links?card_number=999000442")
        .await;
    assert!(history.body.contains(r#""live":false"#), "{}", history.body);

    let rows: Vec<ChangeRow> = sqlx::query_as(
        "SELECT action, card_number, controller_oid, details->>'card_number'
         FROM audit_log WHERE action LIKE 'admin.%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    let changed = |action: &str| {
        (
            action.to_owned(),
            Some("999000110".to_owned()),
            Some(B.to_owned()),
            Some("999000442".to_owned()),
        )
    };
    assert_eq!(
        rows,
        vec![changed("admin.card_linked"), changed("admin.card_unlinked")]
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_administrative_input_is_named_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    let before = cards::history(&pool, None).await.expect("history").len();
    for (form, code) in [
        (
            format!("card_number=not%20a%20card%21&issuer=&controller={A}&valid_from=&valid_until="),
            "invalid:card_number",
        ),
        (
            "card_number=999000442&issuer=&controller=1.2.246.10.99999999.10.0&valid_from=&valid_until=".to_owned(),
            "invalid:controller",
        ),
        (
            "card_number=999000442&issuer=&controller=not-an-oid&valid_from=&valid_until=".to_owned(),
            "invalid:controller",
        ),
        (
            format!("card_number=999000442&issuer=CN%3DSomeone%20else&controller={A}&valid_from=&valid_until="),
            "invalid:issuer",
        ),
        (
            format!("card_number=999000442&issuer=&controller={A}&valid_from=1.12.2026&valid_until="),
            "invalid:valid_from",
        ),
        (
            format!(
                "card_number=999000442&issuer=&controller={A}&valid_from=2026-12-31&valid_until=2026-12-01"
            ),
            "invalid:validity",
        ),
    ] {
        let response = admin.post("/api/admin/link-card", &form).await;
        assert_eq!(response.status, 422, "{form}: {}", response.body);
        assert!(refusal(&response.body) == code, "{form}: {}", response.body);
    }
    let response = admin
        .post(
            "/api/admin/unlink-card",
            &format!("card_number=999000442&issuer=&controller={A}"),
        )
        .await;
    assert_eq!(response.status, 422);
    assert!(
        refusal(&response.body) == "invalid:not_linked",
        "{}",
        response.body
    );
    assert_eq!(
        cards::history(&pool, None).await.expect("history").len(),
        before
    );
    app.stop().await;
}

#[tokio::test]
async fn the_audit_page_shows_an_archivist_only_their_controllers_rows() {
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    // Rows about each controller: a link to A and one to B, made by the administrator.
    for controller in [A, B] {
        let response = admin
            .post(
                "/api/admin/link-card",
                &format!(
                    "card_number=999000442&issuer=&controller={controller}&valid_from=&valid_until="
                ),
            )
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
    }

    let whole = admin
        .get("/api/audit?since=&until=&action=admin.&card_number=&controller=")
        .await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    let page: serde_json::Value = serde_json::from_str(&whole.body).expect("json");
    assert_eq!(page["whole_log"], true);
    assert_eq!(page["rows"].as_array().map(Vec::len), Some(2));

    let archivist = Session::start(&app, "archivist-2").await;
    let own = archivist
        .get("/api/audit?since=&until=&action=&card_number=&controller=")
        .await;
    let page: serde_json::Value = serde_json::from_str(&own.body).expect("json");
    assert_eq!(page["whole_log"], false);
    let rows = page["rows"].as_array().expect("rows");
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r["controller_oid"] == B),
        "only controller B's rows: {own:?}",
        own = own.body
    );
    // Asking for A's rows by name gives nothing either.
    let other = archivist
        .get(&format!(
            "/api/audit?since=&until=&action=&card_number=&controller={A}"
        ))
        .await;
    let page: serde_json::Value = serde_json::from_str(&other.body).expect("json");
    assert_eq!(page["rows"].as_array().map(Vec::len), Some(0));

    let bad = archivist
        .get("/api/audit?since=yesterday&until=&action=&card_number=&controller=")
        .await;
    assert_eq!(bad.status, 422);
    assert!(refusal(&bad.body) == "invalid:since", "{}", bad.body);

    let searches: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'audit.searched'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(searches, 3, "each search that ran is on record");
    app.stop().await;
}

#[tokio::test]
async fn lookups_made_in_a_controller_show_on_that_controllers_audit_page() {
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let b = ControllerOid::parse(B).expect("oid");
    // archivist-1 works in A and B; archivist-2 only in B.
    seed::link(&pool, &card("999000110"), &b).await;
    let first = Session::start(&app, "archivist-1").await;
    let search = first.get("/search").await;
    assert_eq!(search.status, 200, "{}", search.body);
    let lookup = first.get("/api/clients/documents?client=010101A900R").await;
    assert_eq!(lookup.status, 200, "{}", lookup.body);

    let second = Session::start(&app, "archivist-2").await;
    let seen = |action: &'static str| {
        let second = &second;
        async move {
            let page = second
                .get(&format!(
                    "/api/audit?since=&until=&action={action}&card_number=999000110&controller="
                ))
                .await;
            assert_eq!(page.status, 200, "{}", page.body);
            let page: serde_json::Value = serde_json::from_str(&page.body).expect("json");
            page["rows"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(seen("document.searched").await, 1, "the search in A and B");
    assert_eq!(
        seen("client.viewed").await,
        1,
        "the client looked up in A and B"
    );

    // A controller's own filter finds them too; a controller the lookup did not touch does not.
    let admin_view = |controller: &'static str| {
        let first = &first;
        async move {
            let page = first
                .get(&format!(
                    "/api/audit?since=&until=&action=document.searched&card_number=&controller={controller}"
                ))
                .await;
            let page: serde_json::Value = serde_json::from_str(&page.body).expect("json");
            page["rows"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(admin_view(B).await, 1);
    assert_eq!(admin_view("1.2.246.10.99999999.10.0").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_administration_forms_carry_the_sessions_token_before_the_page_is_interactive() {
    let app = TestApp::spawn().await;
    let _pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    let page = admin.get("/admin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // What the server renders is what a form sends before the WebAssembly has loaded.
    let tokens: Vec<&str> = page
        .body
        .split(r#"name="csrf_token""#)
        .skip(1)
        .map(|rest| {
            rest.split('>')
                .next()
                .and_then(|attributes| attributes.split(r#"value=""#).nth(1))
                .and_then(|value| value.split('"').next())
                .unwrap_or_default()
        })
        .collect();
    assert!(tokens.len() >= 4, "the page's forms: {tokens:?}");
    assert!(
        tokens.iter().all(|token| *token == admin.token),
        "every form carries the session's token: {tokens:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_downloads_the_audit_log_as_csv() {
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    let linked = admin
        .post(
            "/api/admin/link-card",
            &format!("card_number=999000442&issuer=&controller={B}&valid_from=&valid_until="),
        )
        .await;
    assert_eq!(linked.status, 200, "{}", linked.body);

    let csv = admin.get("/audit.csv?action=admin.&card=999000442").await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(
        lines[0].starts_with("id,occurred_at,action,outcome"),
        "{}",
        csv.body
    );
    assert_eq!(lines.len(), 2, "the header and the one link: {}", csv.body);
    assert!(lines[1].contains("admin.card_linked"), "{}", csv.body);

    let bad = admin.get("/audit.csv?since=tomorrow").await;
    assert_eq!(bad.status, 422);

    let archivist = Session::start(&app, "archivist-2").await;
    let refused = archivist.get("/audit.csv").await;
    assert_eq!(refused.status, 404);

    let exports: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'audit.exported'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(
        exports, 1,
        "the download is on record, the refused ones are not exports"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_creates_renames_and_merges_controllers() {
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    const C: &str = "1.2.246.10.12345679.10.0";

    let created = admin
        .post(
            "/api/admin/create-controller",
            &format!("oid={C}&name=Gamma"),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let renamed = admin
        .post(
            "/api/admin/rename-controller",
            &format!("oid={C}&name=Gamma%20uusi"),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let overview = admin.get("/api/admin/overview").await;
    assert!(overview.body.contains("Gamma uusi"), "{}", overview.body);

    for (path, form, code) in [
        (
            "create-controller",
            "oid=not-an-oid&name=X".to_owned(),
            "invalid:oid",
        ),
        (
            "create-controller",
            format!("oid={C}&name=Again"),
            "invalid:controller_exists",
        ),
        (
            "create-controller",
            "oid=1.2.246.10.1&name=%20".to_owned(),
            "invalid:name",
        ),
        (
            "rename-controller",
            "oid=1.2.246.10.99999999.10.0&name=X".to_owned(),
            "invalid:controller",
        ),
        (
            "merge-controller",
            format!("oid={C}&successor={C}"),
            "invalid:merge_cycle",
        ),
    ] {
        let response = admin.post(&format!("/api/admin/{path}"), &form).await;
        assert_eq!(response.status, 422, "{form}: {}", response.body);
        assert!(refusal(&response.body) == code, "{form}: {}", response.body);
    }

    let merged = admin
        .post(
            "/api/admin/merge-controller",
            &format!("oid={C}&successor={A}"),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let again = admin
        .post(
            "/api/admin/merge-controller",
            &format!("oid={C}&successor={B}"),
        )
        .await;
    assert!(
        refusal(&again.body) == "invalid:already_merged",
        "{}",
        again.body
    );

    let archivist = Session::start(&app, "archivist-2").await;
    let refused = archivist
        .post("/api/admin/create-controller", "oid=1.2.246.10.7&name=Nope")
        .await;
    assert_eq!(refused.status, 404);

    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT action, card_number, controller_oid FROM audit_log
         WHERE action LIKE 'admin.controller_%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    let by_admin = |action: &str| {
        (
            action.to_owned(),
            Some("999000110".to_owned()),
            Some(C.to_owned()),
        )
    };
    assert_eq!(
        rows,
        vec![
            by_admin("admin.controller_created"),
            by_admin("admin.controller_renamed"),
            by_admin("admin.controller_merged"),
        ]
    );
    app.stop().await;
}

/// An audit log that takes no administrative rows (a full disk, a lost privilege, a broken
/// trigger): every change, from the web and from the shell, is refused and nothing changes,
/// since a change and its row commit in one transaction.
#[tokio::test]
async fn a_change_whose_audit_row_cannot_be_written_is_not_made() {
    const NEW: &str = "1.2.246.10.12345699.10.0";
    let app = TestApp::spawn().await;
    let pool = set_up(&app).await;
    let admin = Session::start(&app, "archivist-1").await;
    sqlx::raw_sql(
        r#"CREATE FUNCTION refuse_administrative_rows() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'the audit log takes no administrative rows'; END $$;
           CREATE TRIGGER refuse_administrative_rows BEFORE INSERT ON audit_log FOR EACH ROW
           WHEN (NEW.action LIKE 'admin.%') EXECUTE FUNCTION refuse_administrative_rows();"#,
    )
    .execute(&pool)
    .await
    .expect("a trigger refusing administrative rows");
    let links = cards::history(&pool, None).await.expect("history").len();
    let link = format!("card_number=999000442&issuer=&controller={B}&valid_from=&valid_until=");
    let issuer: String =
        url::form_urlencoded::byte_serialize(crate::helpers::issuer().as_bytes()).collect();

    for (path, form) in [
        ("link-card", link.clone()),
        (
            "unlink-card",
            format!("card_number=999000110&issuer={issuer}&controller={A}"),
        ),
        ("create-controller", format!("oid={NEW}&name=Uusi")),
        ("rename-controller", format!("oid={A}&name=Toinen")),
    ] {
        let response = admin.post(&format!("/api/admin/{path}"), &form).await;
        assert_eq!(response.status, 503, "{path}: {}", response.body);
    }
    for args in [
        vec!["card", "link", "999000442", "--controller", A],
        vec!["admin", "grant", "99900022B"],
        vec!["controller", "create", NEW, "--name", "Uusi"],
    ] {
        let output = archivist(&app.database, &args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("nothing was changed: the audit log could not take the change's row"),
            "{args:?}: {stderr}"
        );
    }

    let history = cards::history(&pool, None).await.expect("history");
    assert_eq!(history.len(), links, "no link made");
    assert!(
        history.iter().all(|l| l.unlinked_at.is_none()),
        "no link ended"
    );
    assert!(
        !cards::is_administrator(&pool, &card("99900022B"))
            .await
            .expect("administrator"),
        "no right granted"
    );
    let controllers: Vec<(String, String)> =
        sqlx::query_as("SELECT oid, name FROM controller ORDER BY oid")
            .fetch_all(&pool)
            .await
            .expect("controllers");
    assert_eq!(
        controllers,
        [
            (A.to_owned(), "Alfa".to_owned()),
            (B.to_owned(), "Beta".to_owned())
        ],
        "no controller created or renamed"
    );

    // Once the log takes rows again, the same change goes through, with its row.
    sqlx::raw_sql("DROP TRIGGER refuse_administrative_rows ON audit_log")
        .execute(&pool)
        .await
        .expect("drop the trigger");
    let linked = admin.post("/api/admin/link-card", &link).await;
    assert_eq!(linked.body, r#""Linked""#);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'admin.card_linked'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(rows, 1);
}
