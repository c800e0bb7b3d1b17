//! Who sees what: card numbers read by the configured rule, links to controllers that take
//! effect on the next request, refusals with a reason, the administrators' commands, and
//! row-level security that keeps other controllers' rows invisible even to a query without the
//! application's filter.

use std::process::Output;

use server::{
    archive::ControllerOid,
    store::cards::{self, Validity},
};
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::{
    TestApp, TestDatabase, archive_chunk, archivist, card, create_database, database_url,
    drop_database, seed, two_controllers,
};

/// A fresh database with the schema and nothing else.
async fn migrated_database() -> TestDatabase {
    let database = create_database().await;
    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    server::db::migrate(&pool).await.expect("migrate");
    pool.close().await;
    database
}

/// A transaction as the application's role with this scope, as `store::scoped` opens them.
async fn as_application<'c>(
    db: &'c mut PgConnection,
    scope: &str,
) -> sqlx::Transaction<'c, sqlx::Postgres> {
    let mut tx = db.begin().await.expect("begin");
    sqlx::query(
        "SELECT set_config('role', 'archivist_app', true), \
                set_config('archivist.controllers', $1, true)",
    )
    .bind(scope)
    .execute(&mut *tx)
    .await
    .expect("scope");
    tx
}

async fn controller_name(app: &TestApp, oid: &ControllerOid) -> String {
    sqlx::query_scalar("SELECT name FROM controller WHERE oid = $1")
        .bind(oid.as_str())
        .fetch_one(&mut app.db().await)
        .await
        .expect("name")
}

#[tokio::test]
async fn a_card_linked_to_nothing_is_told_so() {
    // With a row a connection asked for, as an operator may.
    let app = TestApp::spawn_with(|s| s.audit.connections = true).await;
    let response = app.client(Some("archivist-1")).get("/").await.expect("get");
    assert_eq!(response.status, 200);
    assert!(
        response
            .body
            .contains(r#"data-field="card-number" class="mono">999000110<"#),
        "the card number the rule read is shown"
    );
    assert!(response.body.contains(r#"data-field="not-linked""#));
    assert!(!response.body.contains("data-controller="));
    let signed_in: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT card_number FROM audit_log WHERE action = 'tls.client_authenticated'",
    )
    .fetch_all(&mut app.db().await)
    .await
    .expect("audit");
    assert_eq!(
        signed_in,
        vec![Some("999000110".to_owned())],
        "the connection's row names the card number"
    );
    app.stop().await;
}

#[tokio::test]
async fn links_and_unlinks_take_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let (a, b) = two_controllers(&app.database).await;
    let (name_a, name_b) = (
        controller_name(&app, &a).await,
        controller_name(&app, &b).await,
    );
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("connect");
    let client = app.client(Some("archivist-1"));
    let archivist = card("999000110");

    seed::link(&pool, &archivist, &a).await;
    let page = client.get("/").await.expect("get").body;
    assert!(
        page.contains(&format!(r#"data-controller="{a}""#)),
        "linked controller shown"
    );
    assert!(page.contains(&name_a));
    assert!(!page.contains(&format!(r#"data-controller="{b}""#)));
    assert!(!page.contains(&name_b), "nothing of the other controller");
    assert!(!page.contains(r#"data-field="not-linked""#));

    // Another card with the same number under a foreign CA would be another key; the same
    // number is what links, so a second archivist sees nothing of A.
    let other = app
        .client(Some("archivist-2"))
        .get("/")
        .await
        .expect("get")
        .body;
    assert!(!other.contains(&name_a));

    assert!(
        cards::unlink(
            &mut pool.acquire().await.expect("connection"),
            &archivist,
            &a,
            "test"
        )
        .await
        .expect("unlink")
    );
    let page = client.get("/").await.expect("get").body;
    assert!(
        !page.contains(&name_a),
        "the unlink applies to the same connection's next request"
    );
    assert!(page.contains(r#"data-field="not-linked""#));

    // A link whose validity has not started yet, or has ended, is not in force.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    cards::link(
        &mut pool.acquire().await.expect("connection"),
        &archivist,
        &b,
        Validity {
            from: Some(later),
            until: None,
        },
        "test",
    )
    .await
    .expect("link");
    assert!(!client.get("/").await.expect("get").body.contains(&name_b));

    let history = cards::history(&pool, Some(&archivist.card_number))
        .await
        .expect("history");
    assert_eq!(history.len(), 2, "the ended link stays in the history");
    pool.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_without_a_card_number_is_refused_with_its_reason() {
    let app = TestApp::spawn().await;
    let response = app.client(Some("no-satu")).get("/").await.expect("get");
    assert_eq!(response.status, 200, "the page explains; it does not fail");
    assert!(response.body.contains(r#"data-field="access-refused""#));
    assert!(response.body.contains(">card_number_missing<"));
    let refusals: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT outcome, reason FROM audit_log WHERE action = 'auth.card_number_refused'",
    )
    .fetch_all(&mut app.db().await)
    .await
    .expect("audit");
    assert_eq!(
        refusals,
        vec![("refused".to_owned(), Some("card_number_missing".to_owned()))]
    );
    app.stop().await;
}

#[tokio::test]
async fn another_card_number_rule_reads_another_field() {
    let app = TestApp::spawn_with(|settings| {
        settings.auth.card_number_rule = identity::CardNumberRule::SanOtherName {
            type_id: "1.3.6.1.4.1.311.20.2.3".to_owned(),
        };
    })
    .await;
    let body = app
        .client(Some("no-satu"))
        .get("/")
        .await
        .expect("get")
        .body;
    assert!(
        body.contains(r#"data-field="card-number" class="mono">99900088@TEONET.DEMO.INVALID<"#),
        "the UPN is the card number under this rule"
    );
    app.stop().await;
}

/// The audit log under row-level security alone: the application's role sees the rows about its
/// scope's controllers (naming one, or a lookup made in a scope that held one) and nothing else,
/// and cannot write, change or remove a row.
#[tokio::test]
async fn row_level_security_shows_the_application_only_its_scopes_audit_rows() {
    let database = migrated_database().await;
    let (a, b) = two_controllers(&database).await;
    let mut db = PgConnection::connect(&database_url(&database))
        .await
        .expect("connect");
    let lookup = serde_json::json!({ "controllers": [a.as_str(), b.as_str()] });
    for (controller, details) in [
        (Some(a.as_str()), None),
        (Some(b.as_str()), None),
        (None, Some(lookup)),
        (None, None),
    ] {
        sqlx::query(
            "INSERT INTO audit_log (action, outcome, client_address, controller_oid, details)
             VALUES ('test.row_security', 'success', '127.0.0.1', $1, $2)",
        )
        .bind(controller)
        .bind(details)
        .execute(&mut db)
        .await
        .expect("an audit row");
    }

    /// (controller, whether the row is a lookup with its scope's controllers)
    async fn seen(db: &mut PgConnection, scope: &str) -> Vec<(Option<String>, bool)> {
        let mut tx = as_application(db, scope).await;
        let rows = sqlx::query_as(
            "SELECT controller_oid, details IS NOT NULL FROM audit_log
             WHERE action = 'test.row_security' ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await
        .expect("the log as the application");
        tx.rollback().await.expect("rollback");
        rows
    }
    let lookup_row: (Option<String>, bool) = (None, true);
    assert_eq!(seen(&mut db, "").await, [], "no scope, no rows");
    assert_eq!(
        seen(&mut db, a.as_str()).await,
        [(Some(a.as_str().to_owned()), false), lookup_row.clone()]
    );
    assert_eq!(
        seen(&mut db, b.as_str()).await,
        [(Some(b.as_str().to_owned()), false), lookup_row]
    );

    for statement in [
        "INSERT INTO audit_log (action, outcome, client_address)
         VALUES ('test.row_security', 'success', '127.0.0.1')",
        "UPDATE audit_log SET reason = 'x' WHERE action = 'test.row_security'",
        "DELETE FROM audit_log WHERE action = 'test.row_security'",
    ] {
        let mut tx = as_application(&mut db, a.as_str()).await;
        let refused = sqlx::query(statement).execute(&mut *tx).await;
        assert!(
            matches!(&refused, Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501")),
            "{statement}: {refused:?}"
        );
        tx.rollback().await.expect("rollback");
    }
}

/// Row-level security alone: as the application's role, with a scope and no filter of our own.
#[tokio::test]
async fn row_level_security_hides_other_controllers_without_any_filter() {
    let database = migrated_database().await;
    let (a, b) = two_controllers(&database).await;
    let mut db = PgConnection::connect(&database_url(&database))
        .await
        .expect("connect");

    async fn seen(db: &mut PgConnection, scope: &str) -> Vec<(String, i64)> {
        let mut tx = as_application(db, scope).await;
        let mut seen = Vec::new();
        for table in [
            "controller",
            "client",
            "client_case",
            "document_set",
            "document_version",
            "document_version_status",
            "stored_bytes",
            "rendition",
            "signature",
            "archive_state",
            "archive_event",
        ] {
            let count: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&mut *tx)
                .await
                .expect(table);
            seen.push((table.to_owned(), count));
        }
        tx.rollback().await.expect("rollback");
        seen
    }

    let nothing = seen(&mut db, "").await;
    assert!(
        nothing.iter().all(|(_, n)| *n == 0),
        "no scope, no rows: {nothing:?}"
    );
    let only_a = seen(&mut db, a.as_str()).await;
    let only_b = seen(&mut db, b.as_str()).await;
    let both = seen(&mut db, &format!("{a},{b}")).await;
    for ((table, na), ((_, nb), (_, nab))) in only_a.iter().zip(only_b.iter().zip(&both)) {
        assert!(*na > 0 && *nb > 0, "{table}: each controller has rows");
        assert_eq!(
            na + nb,
            *nab,
            "{table}: a scope sees exactly its controllers' rows"
        );
    }

    // Within A's scope, B's document cannot be read by OID, nor written.
    let b_document: String = sqlx::query_scalar(
        "SELECT document_oid FROM document_version WHERE controller_oid = $1 LIMIT 1",
    )
    .bind(b.as_str())
    .fetch_one(&mut db)
    .await
    .expect("a document of B");
    let mut tx = as_application(&mut db, a.as_str()).await;
    let found: Option<String> =
        sqlx::query_scalar("SELECT document_oid FROM document_version WHERE document_oid = $1")
            .bind(&b_document)
            .fetch_optional(&mut *tx)
            .await
            .expect("query");
    assert_eq!(found, None);
    let error = sqlx::query(
        "INSERT INTO archive_event (controller_oid, document_oid, event) VALUES ($1, $2, 'archived')",
    )
    .bind(b.as_str())
    .bind(&b_document)
    .execute(&mut *tx)
    .await
    .expect_err("a row of another controller cannot be written");
    assert!(error.to_string().contains("row-level security"), "{error}");
    drop(tx);
    db.close().await.expect("close");
    drop_database(&database).await;
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn administrators_link_cards_from_the_shell_and_every_change_is_audited() {
    let database = migrated_database().await;
    let (a, _) = two_controllers(&database).await;
    let a = a.as_str();

    // Bad input: a clear message, exit 1, nothing written.
    for (args, expected) in [
        (
            vec!["card", "link", "999 000", "--controller", a],
            "is not a card number",
        ),
        (
            vec!["card", "link", "999000110", "--controller", "not-an-oid"],
            "--controller",
        ),
        (
            vec!["card", "link", "999000110", "--controller", "1.2.246.999"],
            "is not in the archive",
        ),
        (
            vec![
                "card",
                "link",
                "999000110",
                "--controller",
                a,
                "--issuer",
                "CN=Somebody",
            ],
            "not one of the configured issuing CAs",
        ),
        (
            vec![
                "card",
                "link",
                "999000110",
                "--controller",
                a,
                "--from",
                "tomorrow",
            ],
            "RFC 3339",
        ),
        (
            vec!["card", "unlink", "999000110", "--controller", a],
            "is not linked",
        ),
    ] {
        let output = archivist(&database, &args).await;
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(expected),
            "{args:?}: {stderr}"
        );
    }

    let linked = archivist(
        &database,
        &["card", "link", " 999000110 ", "--controller", a],
    )
    .await;
    assert!(linked.status.success(), "{:?}", text(&linked));
    assert!(text(&linked).0.contains("linked card 999000110"));
    let again = archivist(&database, &["card", "link", "999000110", "--controller", a]).await;
    assert!(again.status.success());
    assert!(
        text(&again).0.contains("already linked"),
        "{:?}",
        text(&again)
    );

    let listed = archivist(&database, &["card", "list", "999000110"]).await;
    let (stdout, _) = text(&listed);
    assert!(stdout.contains(&format!("999000110\t{a}\t")), "{stdout}");
    assert!(
        stdout.contains("\tyes\t") && stdout.contains("operator:admin-test"),
        "{stdout}"
    );

    let unlinked = archivist(
        &database,
        &["card", "unlink", "999000110", "--controller", a],
    )
    .await;
    assert!(unlinked.status.success(), "{:?}", text(&unlinked));
    let (stdout, _) = text(&archivist(&database, &["card", "list"]).await);
    assert!(
        stdout.contains("\tno\t"),
        "the ended link is listed: {stdout}"
    );

    let granted = archivist(&database, &["admin", "grant", "999000220"]).await;
    assert!(granted.status.success(), "{:?}", text(&granted));
    let revoked = archivist(&database, &["admin", "revoke", "999000220"]).await;
    assert!(revoked.status.success(), "{:?}", text(&revoked));
    let not_admin = archivist(&database, &["admin", "revoke", "999000220"]).await;
    assert_eq!(not_admin.status.code(), Some(1));

    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let audit: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT action, operator, details->>'card_number' FROM audit_log \
         WHERE action LIKE 'admin.%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    let who = Some("admin-test".to_owned());
    assert_eq!(
        audit,
        vec![
            (
                "admin.card_linked".to_owned(),
                who.clone(),
                Some("999000110".to_owned())
            ),
            (
                "admin.card_unlinked".to_owned(),
                who.clone(),
                Some("999000110".to_owned())
            ),
            (
                "admin.administrator_granted".to_owned(),
                who.clone(),
                Some("999000220".to_owned())
            ),
            (
                "admin.administrator_revoked".to_owned(),
                who,
                Some("999000220".to_owned())
            ),
        ]
    );
    // The audit log as CSV: a filter by action prefix and card number, the export itself
    // recorded, bad filters refused.
    let exported = archivist(
        &database,
        &[
            "audit",
            "export",
            "--action",
            "admin.card_",
            "--card-number",
            "999000110",
        ],
    )
    .await;
    assert!(exported.status.success(), "{:?}", text(&exported));
    let mut reader = csv::Reader::from_reader(exported.stdout.as_slice());
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let actions: Vec<&str> = records.iter().map(|r| &r[column("action")]).collect();
    assert_eq!(actions, ["admin.card_linked", "admin.card_unlinked"]);
    assert!(
        records[0][column("details")].contains(r#""card_number": "999000110""#)
            || records[0][column("details")].contains(r#""card_number":"999000110""#),
        "JSON details survive CSV quoting: {:?}",
        &records[0][column("details")]
    );
    assert_eq!(&records[0][column("operator")], "admin-test");
    let bad = archivist(&database, &["audit", "export", "--since", "yesterday"]).await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).1.contains("RFC 3339"), "{:?}", text(&bad));
    let exports: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT details->>'action' FROM audit_log WHERE action = 'operator.audit_exported'",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        exports,
        vec![Some("admin.card_".to_owned())],
        "the export is on record"
    );

    // The history cannot be rewritten, not even by the owner.
    let error = sqlx::query("DELETE FROM card_link")
        .execute(&pool)
        .await
        .expect_err("history is kept");
    assert!(error.to_string().contains("keeps its history"), "{error}");
    pool.close().await;
    drop_database(&database).await;
}

#[tokio::test]
async fn controllers_are_created_renamed_and_merged_from_the_shell() {
    let database = migrated_database().await;
    let (a, b) = two_controllers(&database).await;
    let (a, b) = (a.as_str(), b.as_str());
    let new = "1.2.246.10.99999999.10.0";

    for (args, expected) in [
        (vec!["controller", "create", "kunta", "--name", "X"], "OID"),
        (
            vec!["controller", "create", new, "--name", "  "],
            "must not be empty",
        ),
        (
            vec!["controller", "create", a, "--name", "Kopio"],
            "already in the archive",
        ),
        (
            vec!["controller", "rename", "1.2.246.1", "--name", "X"],
            "is not in the archive",
        ),
        (
            vec!["controller", "merge", a, "--into", "1.2.246.1"],
            "is not in the archive",
        ),
    ] {
        let output = archivist(&database, &args).await;
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }

    // A controller created ahead of its first document can be linked at once.
    let created = archivist(
        &database,
        &["controller", "create", new, "--name", "Testilän kunta"],
    )
    .await;
    assert!(created.status.success(), "{:?}", text(&created));
    let linked = archivist(
        &database,
        &["card", "link", "999000110", "--controller", new],
    )
    .await;
    assert!(linked.status.success(), "{:?}", text(&linked));
    let renamed = archivist(
        &database,
        &[
            "controller",
            "rename",
            new,
            "--name",
            "Testilän sosiaalitoimi",
        ],
    )
    .await;
    assert!(renamed.status.success(), "{:?}", text(&renamed));
    let (listed, _) = text(&archivist(&database, &["controller", "list"]).await);
    assert!(
        listed.contains(&format!("{new}\tTestilän sosiaalitoimi\t-\tno")),
        "{listed}"
    );

    // A merger moves the documents' active controller, once and for good.
    let merged = archivist(&database, &["controller", "merge", a, "--into", b]).await;
    assert!(merged.status.success(), "{:?}", text(&merged));
    assert!(
        text(&merged).0.contains("10 documents"),
        "{:?}",
        text(&merged)
    );
    let pool = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    let active: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT active_controller_oid FROM archive_state WHERE controller_oid = $1",
    )
    .bind(a)
    .fetch_all(&pool)
    .await
    .expect("active");
    assert_eq!(active, vec![b.to_owned()]);
    let again = archivist(&database, &["controller", "merge", a, "--into", new]).await;
    assert!(
        text(&again).1.contains("already has the successor"),
        "{:?}",
        text(&again)
    );
    let cycle = archivist(&database, &["controller", "merge", b, "--into", a]).await;
    assert!(
        text(&cycle).1.contains("merged into it"),
        "{:?}",
        text(&cycle)
    );

    // B merged in turn into the new controller: A's documents follow, and so does a document
    // of A archived only now.
    let merged = archivist(&database, &["controller", "merge", b, "--into", new]).await;
    assert!(merged.status.success(), "{:?}", text(&merged));
    assert!(
        text(&merged).0.contains("20 documents"),
        "{:?}",
        text(&merged)
    );
    archive_chunk(&pool, 2).await;
    let active: Vec<(String, i64)> = sqlx::query_as(
        "SELECT active_controller_oid, count(*) FROM archive_state WHERE controller_oid = $1 \
         GROUP BY 1",
    )
    .bind(a)
    .fetch_all(&pool)
    .await
    .expect("active");
    assert_eq!(active, vec![(new.to_owned(), 20)]);

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'admin.controller_%' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "admin.controller_created",
            "admin.controller_renamed",
            "admin.controller_merged",
            "admin.controller_merged"
        ]
    );
    pool.close().await;
    drop_database(&database).await;
}
