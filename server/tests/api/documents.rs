//! The byte endpoints: `/api/documents/{oid}/raw`, `/rendition`, `/pdf/{n}`.

use std::collections::HashSet;

use base64::{Engine, engine::general_purpose::STANDARD};
use server::archive::ControllerOid;
use sqlx::PgPool;

use crate::helpers::{
    Session, TestApp, TestResponse, archive_chunk, audit_rows, card, database_url, refusal, seed,
    two_controllers_with_files,
};

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// Two controllers' documents archived, archivist-1 linked to the first.
struct Archive {
    app: TestApp,
    pool: PgPool,
    a: ControllerOid,
    b: ControllerOid,
    file_hashes: HashSet<Vec<u8>>,
}

impl Archive {
    async fn new() -> Self {
        Self::with_settings(|_| {}).await
    }

    async fn with_settings(adjust: impl FnOnce(&mut settings::Settings)) -> Self {
        let app = TestApp::spawn_with(adjust).await;
        let ((a, b), files) = two_controllers_with_files(&app.database).await;
        let pool = PgPool::connect(&database_url(&app.database))
            .await
            .expect("connect");
        seed::link(&pool, &card("999000110"), &a).await;
        let file_hashes = files.iter().map(|f| sha256(&f.bytes)).collect();
        Self {
            app,
            pool,
            a,
            b,
            file_hashes,
        }
    }

    /// A document of `controller`, optionally one with a PDF rendition.
    async fn document(&self, controller: &ControllerOid, with_pdf: bool) -> String {
        sqlx::query_scalar(
            "SELECT v.document_oid FROM document_version v
             WHERE v.controller_oid = $1
               AND (NOT $2 OR EXISTS (SELECT 1 FROM rendition r
                    WHERE r.controller_oid = v.controller_oid
                      AND r.document_oid = v.document_oid AND r.kind = 'pdf'))
             ORDER BY v.document_oid LIMIT 1",
        )
        .bind(controller.as_str())
        .bind(with_pdf)
        .fetch_one(&self.pool)
        .await
        .expect("a document")
    }

    /// GET as archivist-1, the body as bytes.
    async fn get(&self, path: &str) -> (TestResponse, Vec<u8>) {
        let response = self
            .app
            .client(Some("archivist-1"))
            .get(path)
            .await
            .expect("get");
        let bytes = response.body_bytes.clone();
        (response, bytes)
    }

    async fn reads(&self, action: &str) -> Vec<(Option<String>, Option<String>)> {
        sqlx::query_as(
            "SELECT document_oid, controller_oid FROM audit_log WHERE action = $1 ORDER BY id",
        )
        .bind(action)
        .fetch_all(&self.pool)
        .await
        .expect("audit")
    }

    /// Runs `update` (with `$1` = `document`) as the database owner with `table`'s
    /// immutability trigger off for the moment: what a broken disk or a rogue administrator
    /// could do, and what the archive must notice.
    async fn behind_the_archives_back(&self, table: &str, update: &str, document: &str) {
        let mut db = self.app.db().await;
        let trigger = format!("{table}_immutable");
        sqlx::query(&format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
            .execute(&mut db)
            .await
            .expect("disable");
        sqlx::query(update)
            .bind(document)
            .execute(&mut db)
            .await
            .expect(update);
        sqlx::query(&format!("ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
            .execute(&mut db)
            .await
            .expect("enable");
    }

    async fn stop(self) {
        self.pool.close().await;
        self.app.stop().await;
    }
}

fn header<'a>(response: &'a TestResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_stored_cda_is_served_byte_exact_with_its_digest_and_audited() {
    let archive = Archive::new().await;
    let document = archive.document(&archive.a, false).await;
    let (response, body) = archive.get(&format!("/api/documents/{document}/raw")).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        archive.file_hashes.contains(&sha256(&body)),
        "the bytes are one of the imported files, unchanged"
    );
    assert_eq!(header(&response, "content-type"), "application/xml");
    assert_eq!(header(&response, "content-length"), body.len().to_string());
    assert_eq!(
        header(&response, "repr-digest"),
        format!("sha-256=:{}:", STANDARD.encode(sha256(&body)))
    );
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert!(header(&response, "content-disposition").starts_with("inline"));

    let (download, _) = archive
        .get(&format!("/api/documents/{document}/raw?download=1"))
        .await;
    assert_eq!(
        header(&download, "content-disposition"),
        format!("attachment; filename=\"{document}.xml\"")
    );
    assert_eq!(
        archive.reads("document.raw_read").await,
        vec![(Some(document.clone()), Some(archive.a.as_str().to_owned())); 2]
    );
    archive.stop().await;
}

#[tokio::test]
async fn pages_and_answers_with_client_data_are_never_cached() {
    let archive = Archive::new().await;
    let document = archive.document(&archive.a, false).await;
    let client: String =
        sqlx::query_scalar("SELECT client_id_value FROM document_version WHERE document_oid = $1")
            .bind(&document)
            .fetch_one(&archive.pool)
            .await
            .expect("client");
    for path in [
        "/".to_owned(),
        "/search".to_owned(),
        format!("/documents/{document}"),
        format!("/documents/{document}/cda"),
        format!("/client?client={client}"),
        format!("/compare?a={document}&b={document}"),
        "/audit".to_owned(),
        format!("/api/documents/view?document_oid={document}"),
        format!("/api/clients/documents?client={client}"),
        "/api/access".to_owned(),
        "/no-such-page".to_owned(),
    ] {
        let (response, _) = archive.get(&path).await;
        assert!(response.status < 500, "{path}: {}", response.status);
        assert_eq!(header(&response, "cache-control"), "no-store", "{path}");
    }
    archive.stop().await;
}

/// The `request.refused` rows of the log: route, reason, count, identifiers, card number.
async fn refusal_rows(pool: &PgPool) -> Vec<(String, String, i64, Vec<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT details->>'route', details->>'reason', (details->>'count')::bigint,
                ARRAY(SELECT jsonb_array_elements_text(details->'identifiers')), card_number
         FROM audit_log WHERE action = 'request.refused' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .expect("refusals")
}

#[tokio::test]
async fn refused_requests_leave_a_trace_and_a_flood_leaves_one_row_a_kind() {
    let archive = Archive::with_settings(|s| s.audit.refusal_interval_secs = 2).await;
    let (app, pool, b) = (&archive.app, &archive.pool, &archive.b);
    let theirs: String = sqlx::query_scalar(
        "SELECT document_oid FROM document_version WHERE controller_oid = $1
         ORDER BY document_oid LIMIT 1",
    )
    .bind(b.as_str())
    .fetch_one(pool)
    .await
    .expect("another controller's document");
    let session = Session::start(app, "archivist-1").await;

    // Another controller's document: to the archivist the same 404 as none at all, on record.
    let view = |oid: String| format!("/api/documents/view?document_oid={oid}");
    let other = session.get(&view(theirs.clone())).await;
    assert_eq!(
        refusal_rows(pool).await,
        vec![(
            "document".to_owned(),
            "not_found".to_owned(),
            1,
            vec![theirs.clone()],
            Some("999000110".to_owned())
        )],
        "the first refusal is written at once"
    );
    let none = session
        .get(&view("1.2.246.10.99999999.1.1".to_owned()))
        .await;
    assert_eq!((other.status, &other.body), (none.status, &none.body));
    assert_eq!(other.status, 404);

    // A flood: counted, and written as a row a kind when each interval (2 s) ends: however slow
    // this machine is, a row an interval, not one a request.
    let flood = std::time::Instant::now();
    for n in 2..=31 {
        let probe = session
            .get(&view(format!("1.2.246.10.99999999.1.{n}")))
            .await;
        assert_eq!(probe.status, 404);
    }
    let mut rows = refusal_rows(pool).await;
    for _ in 0..75 {
        if rows.iter().map(|row| row.2).sum::<i64>() == 32 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        rows = refusal_rows(pool).await;
    }
    assert_eq!(rows.iter().map(|row| row.2).sum::<i64>(), 32, "{rows:?}");
    let intervals = usize::try_from(flood.elapsed().as_secs() / 2).unwrap_or(usize::MAX);
    assert!(
        rows.len() <= intervals.saturating_add(3) && rows.len() < 32,
        "a row a kind and interval ({intervals} intervals passed): {rows:?}"
    );
    assert!(
        rows.iter()
            .all(|row| row.3.len() <= 10 && row.4.as_deref() == Some("999000110")),
        "at most the first ten identifiers of each row, and whose card: {rows:?}"
    );
    let flood_rows = rows.len();

    // The byte endpoint, an administrative function and malformed input: each its own kind.
    let raw = session.get(&format!("/api/documents/{theirs}/raw")).await;
    assert_eq!(raw.status, 404);
    let admin = session.get("/api/admin/overview").await;
    assert_eq!(admin.status, 404);
    let malformed = session.get("/api/clients/documents?client=123").await;
    assert_eq!(malformed.status, 422);
    let kinds: Vec<(String, String)> = refusal_rows(pool)
        .await
        .into_iter()
        .skip(flood_rows)
        .map(|row| (row.0, row.1))
        .collect();
    assert_eq!(
        kinds,
        [
            ("document_bytes", "not_found"),
            ("admin_overview", "not_found"),
            ("client", "invalid:client"),
        ]
        .map(|(route, reason)| (route.to_owned(), reason.to_owned()))
    );

    // An administrator finds them on the audit page by the card number.
    seed::administrator(pool, &card("99900022B")).await;
    let administrator = Session::start(app, "archivist-2").await;
    let page = administrator
        .get("/api/audit?since=&until=&action=request.refused&card_number=999000110&controller=")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    assert_eq!(
        page["rows"].as_array().map(Vec::len),
        Some(flood_rows + 3),
        "{page}"
    );
    archive.stop().await;
}

#[tokio::test]
async fn another_controllers_document_is_the_same_404_as_none() {
    let archive = Archive::new().await;
    let theirs = archive.document(&archive.b, false).await;
    let nobodys = "1.2.246.10.99999999.10.0.1";
    for part in ["raw", "rendition", "pdf/1"] {
        let (other, _) = archive
            .get(&format!("/api/documents/{theirs}/{part}"))
            .await;
        let (missing, _) = archive
            .get(&format!("/api/documents/{nobodys}/{part}"))
            .await;
        assert_eq!(other.status, 404, "{part}");
        assert_eq!(
            (other.status, &other.body, &other.content_type),
            (missing.status, &missing.body, &missing.content_type),
            "{part}: not one byte tells them apart"
        );
    }
    let (malformed, _) = archive.get("/api/documents/not-an-oid/raw").await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.body.contains("not a document OID"));
    let mine = archive.document(&archive.a, false).await;
    for bad in ["0", "x", "-1", "70000"] {
        let (response, _) = archive
            .get(&format!("/api/documents/{mine}/pdf/{bad}"))
            .await;
        assert_eq!(response.status, 400, "pdf/{bad}");
    }
    let rows = audit_rows(&archive.app).await;
    assert!(
        rows.iter()
            .all(|(action, ..)| !action.starts_with("document.")),
        "nothing was read: {rows:?}"
    );
    // A card linked to nothing sees nothing either.
    let none = archive
        .app
        .client(Some("archivist-4"))
        .get(&format!("/api/documents/{mine}/raw"))
        .await
        .expect("get");
    assert_eq!(none.status, 404);
    archive.stop().await;
}

#[tokio::test]
async fn the_display_rendition_is_sandboxed_and_pdfs_are_served_as_stored() {
    let archive = Archive::new().await;
    let document = archive.document(&archive.a, true).await;
    let (rendition, body) = archive
        .get(&format!("/api/documents/{document}/rendition"))
        .await;
    assert_eq!(rendition.status, 200, "{}", rendition.body);
    let csp = header(&rendition, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "img-src data:",
        "sandbox",
        "frame-ancestors 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(header(&rendition, "x-frame-options"), "SAMEORIGIN");
    assert!(
        header(&rendition, "content-type").contains("charset=utf-8"),
        "{}",
        header(&rendition, "content-type")
    );
    let stored: Vec<u8> = sqlx::query_scalar(
        "SELECT bytes FROM rendition WHERE document_oid = $1 AND kind = 'xhtml' ORDER BY position LIMIT 1",
    )
    .bind(&document)
    .fetch_one(&archive.pool)
    .await
    .expect("stored rendition");
    assert_eq!(body, stored, "exactly as archived");

    let (pdf, bytes) = archive
        .get(&format!("/api/documents/{document}/pdf/1"))
        .await;
    assert_eq!(pdf.status, 200);
    assert_eq!(header(&pdf, "content-type"), "application/pdf");
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
    assert_eq!(
        header(&pdf, "content-disposition"),
        format!("inline; filename=\"{document}-1.pdf\"")
    );
    let (second, _) = archive
        .get(&format!("/api/documents/{document}/pdf/2"))
        .await;
    assert_eq!(second.status, 404, "only one PDF");
    assert_eq!(archive.reads("document.rendition_read").await.len(), 1);
    assert_eq!(archive.reads("document.pdf_read").await.len(), 1);
    archive.stop().await;
}

#[tokio::test]
async fn large_objects_stream_whole_and_a_changed_byte_is_an_integrity_error() {
    let archive = Archive::new().await;
    let document = archive.document(&archive.a, true).await;
    // A 3 MB PDF rendition (over the 1 MiB piece size) with its digest, put in place by the
    // database owner with the immutability triggers off for the moment.
    archive
        .behind_the_archives_back(
            "rendition",
            "UPDATE rendition SET bytes = b, size = length(b), sha256 = sha256(b)
             FROM (SELECT ('\\x255044462d' || repeat('00112233445566778899aabbccddeeff', 196608))::bytea AS b) AS big
             WHERE document_oid = $1 AND kind = 'pdf'",
            &document,
        )
        .await;
    let (big, bytes) = archive
        .get(&format!("/api/documents/{document}/pdf/1"))
        .await;
    assert_eq!(big.status, 200);
    assert_eq!(bytes.len(), 5 + 16 * 196_608);
    assert_eq!(header(&big, "content-length"), bytes.len().to_string());
    assert_eq!(
        header(&big, "repr-digest"),
        format!("sha-256=:{}:", STANDARD.encode(sha256(&bytes)))
    );

    // A byte changed in the large object's first piece: the mismatch shows when the last piece
    // has been read, which is then not sent, so the download breaks short of its length.
    archive
        .behind_the_archives_back(
            "rendition",
            "UPDATE rendition SET bytes = set_byte(bytes, 10, get_byte(bytes, 10) # 1)
             WHERE document_oid = $1 AND kind = 'pdf'",
            &document,
        )
        .await;
    let broken = archive
        .app
        .client(Some("archivist-1"))
        .get(&format!("/api/documents/{document}/pdf/1"))
        .await;
    assert!(
        broken.is_err(),
        "a download that does not match its SHA-256 must not complete: {:?}",
        broken.map(|r| (r.status, r.body_bytes.len()))
    );
    let failed = vec![(Some(document.clone()), Some(archive.a.as_str().to_owned()))];
    assert_eq!(archive.reads("document.integrity_failed").await, failed);

    // One stored byte changed.
    archive
        .behind_the_archives_back(
            "stored_bytes",
            "UPDATE stored_bytes SET bytes = set_byte(bytes, 10, get_byte(bytes, 10) # 1)
             WHERE document_oid = $1 AND kind = 'cda'",
            &document,
        )
        .await;
    let (broken, _) = archive.get(&format!("/api/documents/{document}/raw")).await;
    assert_eq!(broken.status, 500);
    assert!(broken.body.contains("Integrity error"), "{}", broken.body);
    assert!(broken.body.contains(&document));
    assert_eq!(
        archive.reads("document.integrity_failed").await,
        [failed.clone(), failed].concat()
    );
    assert!(
        archive.reads("document.raw_read").await.is_empty(),
        "nothing was served"
    );
    archive.stop().await;
}

#[tokio::test]
async fn a_card_has_its_downloads_under_way_bounded_and_others_are_not_held_up() {
    let archive = Archive::with_settings(|s| s.auth.card_downloads_at_once = 1).await;
    seed::link(&archive.pool, &card("99900022B"), &archive.a).await;
    let document = archive.document(&archive.a, false).await;
    let raw = format!("/api/documents/{document}/raw");
    // With the stored bytes locked, a download stays under way in its first read.
    let mut holder = archive.app.db().await;
    for sql in ["BEGIN", "LOCK TABLE stored_bytes IN ACCESS EXCLUSIVE MODE"] {
        sqlx::query(sql).execute(&mut holder).await.expect(sql);
    }
    // A download by `card`, left to run on its own.
    let start = |card: &str| {
        let client = archive.app.client(Some(card));
        let raw = raw.clone();
        tokio::spawn(async move { client.get(&raw).await })
    };
    let first = start("archivist-1");
    assert_eq!(
        archive.app.until_waiting_on("stored_bytes", 1).await,
        1,
        "the first download waits for the bytes"
    );

    // The same card's second download is refused at once, with the page and a trace.
    let (refused, _) = archive.get(&raw).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.retry_after(), 1);
    for text in [
        "Liian monta latausta yhtä aikaa",
        "För många nedladdningar samtidigt",
        "Too many downloads at once",
    ] {
        assert!(refused.body.contains(text), "{text}: {}", refused.body);
    }
    assert!(!first.is_finished());
    let refusals: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT reason, details->>'route' FROM audit_log WHERE action = 'request.refused'",
    )
    .fetch_all(&archive.pool)
    .await
    .expect("refusals");
    assert_eq!(
        refusals,
        vec![(
            Some("too_many_downloads".to_owned()),
            Some("document_bytes".to_owned())
        )]
    );

    let (_, metrics) = archive.app.scrape().await;
    assert!(
        metrics.contains("archivist_card_downloads_refused_total"),
        "{metrics}"
    );

    // Another card is not held to the first card's count: it gets as far as the bytes.
    let other = start("archivist-2");
    assert_eq!(
        archive.app.until_waiting_on("stored_bytes", 2).await,
        2,
        "the other card's download waits for the bytes too"
    );

    // Done, the slot is given back.
    sqlx::query("COMMIT")
        .execute(&mut holder)
        .await
        .expect("commit");
    for download in [first, other] {
        let response = download.await.expect("joined").expect("answered");
        assert_eq!(response.status, 200, "{}", response.body);
    }
    let (again, _) = archive.get(&raw).await;
    assert_eq!(again.status, 200, "{}", again.body);
    archive.stop().await;
}

#[tokio::test]
async fn the_structured_rendition_is_a_labelled_tree_checked_against_its_digest() {
    let archive = Archive::new().await;
    let document = archive.document(&archive.a, false).await;
    let (page, _) = archive.get(&format!("/documents/{document}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains(r#"data-field="structured""#), "{body}");
    // Fields in stored order, labelled in Finnish with the stored name beside the label.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT bytes FROM rendition WHERE document_oid = $1 AND kind = 'json'")
            .bind(&document)
            .fetch_one(&archive.pool)
            .await
            .expect("json");
    let stored = String::from_utf8(stored).expect("utf-8");
    let order_in = |text: &str, pattern: fn(&str) -> String| {
        let mut names = [
            "asiakas",
            "sukunimi",
            "etunimet",
            "henkilotunnus",
            "kirjaus",
        ];
        names.sort_by_key(|name| text.find(&pattern(name)).expect(name));
        names
    };
    assert_eq!(
        order_in(body, |name| format!(r#"<li data-name="{name}">"#)),
        order_in(&stored, |name| format!(r#""{name}":"#)),
        "the stored order"
    );
    assert!(body.contains(
        r#"<span class="tree-label">Sukunimi</span> <code class="tree-name">sukunimi</code>"#
    ));
    // The service task is a coded value, named from the code lists (not the document's text).
    let task: (String, String) = sqlx::query_as(
        "SELECT c.code, c.display_fi FROM document_version v
         JOIN code c ON c.code_system_oid = '1.2.246.537.6.1221' AND c.code = v.service_task_code
         WHERE v.document_oid = $1",
    )
    .bind(&document)
    .fetch_one(&archive.pool)
    .await
    .expect("the task's name");
    assert!(
        body.contains(&format!(
            r#"<span data-field="code" class="tree-value">{} ({})</span>"#,
            task.1, task.0
        )),
        "{body}"
    );
    // In Swedish, the labels are Swedish.
    let swedish = archive
        .app
        .client(Some("archivist-1"))
        .request_with(
            "GET",
            &format!("/documents/{document}"),
            "",
            &[("cookie", "archivist-language=sv".to_owned())],
        )
        .await
        .expect("get");
    assert!(
        swedish
            .body
            .contains(r#"<span class="tree-label">Efternamn</span>"#)
    );

    // Stored bytes that are not JSON are shown as stored, with the reason.
    archive
        .behind_the_archives_back(
            "rendition",
            "UPDATE rendition SET bytes = b, size = length(b), sha256 = sha256(b)
             FROM (SELECT convert_to('{\"asiakas\": ', 'UTF8') AS b) AS broken
             WHERE document_oid = $1 AND kind = 'json'",
            &document,
        )
        .await;
    let (broken, _) = archive.get(&format!("/documents/{document}")).await;
    assert_eq!(broken.status, 200);
    assert!(
        broken
            .body
            .contains(r#"data-field="structured-unreadable""#)
    );
    assert!(
        broken
            .body
            .contains(r#"<pre class="mono stored-text">{"asiakas": </pre>"#),
        "{}",
        broken.body
    );

    // Bytes that no longer match their digest are an integrity error, logged and audited.
    archive
        .behind_the_archives_back(
            "rendition",
            "UPDATE rendition SET bytes = convert_to('{}', 'UTF8'), size = 2
             WHERE document_oid = $1 AND kind = 'json'",
            &document,
        )
        .await;
    let (tampered, _) = archive.get(&format!("/documents/{document}")).await;
    assert_eq!(tampered.status, 500);
    assert!(tampered.body.contains("Eheysvirhe"), "{}", tampered.body);
    assert_eq!(
        archive.reads("document.integrity_failed").await,
        vec![(Some(document.clone()), Some(archive.a.as_str().to_owned()))]
    );
    archive.stop().await;
}

#[tokio::test]
async fn the_document_page_shows_metadata_archive_data_and_versions_within_the_scope() {
    let archive = Archive::new().await;
    // A version 2 or later, so that the set has history to show.
    let document: String = sqlx::query_scalar(
        "SELECT document_oid FROM document_version
         WHERE controller_oid = $1 AND version_number > 1 ORDER BY document_oid LIMIT 1",
    )
    .bind(archive.a.as_str())
    .fetch_one(&archive.pool)
    .await
    .expect("a later version");
    let (count, set): (i64, String) = sqlx::query_as(
        "SELECT count(*), min(w.set_oid) FROM document_version v
         JOIN document_version w ON w.controller_oid = v.controller_oid AND w.set_oid = v.set_oid
         WHERE v.document_oid = $1",
    )
    .bind(&document)
    .fetch_one(&archive.pool)
    .await
    .expect("set");

    let (json, _) = archive
        .get(&format!("/api/documents/view?document_oid={document}"))
        .await;
    assert_eq!(json.status, 200, "{}", json.body);
    let view: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(view["document_oid"], document.as_str());
    assert_eq!(view["set_oid"], set.as_str());
    assert_eq!(view["controller_oid"], archive.a.as_str());
    assert_eq!(
        view["versions"].as_array().map(Vec::len),
        Some(usize::try_from(count).expect("small")),
        "every version of the set"
    );
    let numbers: Vec<i64> = view["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version_number"].as_i64())
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[0] > w[1]),
        "newest first: {numbers:?}"
    );
    let keys: Vec<&str> = view["header"]
        .as_array()
        .expect("header")
        .iter()
        .filter_map(|f| f["key"].as_str())
        .collect();
    for key in [
        "effective_time",
        "general_type",
        "service_task",
        "client_id",
        "software",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    // The signing time as the document wrote it, and the same instant for Finland's time.
    let signed = view["header"]
        .as_array()
        .expect("header")
        .iter()
        .find(|f| f["key"] == "signed_time")
        .expect("a signing time");
    let stored = signed["value"]["StoredTime"]["stored"]
        .as_str()
        .expect("a stored time");
    assert!(stored.ends_with("+0200"), "{stored}");
    assert!(
        signed["value"]["StoredTime"]["utc"]
            .as_str()
            .is_some_and(|utc| utc.ends_with('Z')),
        "{signed}"
    );
    // Codes the code lists know carry their names in all three languages.
    let named = view["header"]
        .as_array()
        .expect("header")
        .iter()
        .filter(|f| f["value"]["Code"]["names"].is_array())
        .count();
    assert!(named > 0, "{}", json.body);
    let stored_sha: String = sqlx::query_scalar(
        "SELECT encode(sha256, 'hex') FROM stored_bytes WHERE document_oid = $1 AND kind = 'cda'",
    )
    .bind(&document)
    .fetch_one(&archive.pool)
    .await
    .expect("sha");
    assert_eq!(view["raw"]["sha256"], stored_sha.as_str());
    assert!(view["archive"]["archive_id"].is_string());
    assert!(
        !view["signatures"]
            .as_array()
            .expect("signatures")
            .is_empty()
    );

    // The page itself, rendered on the server.
    let (page, _) = archive.get(&format!("/documents/{document}")).await;
    assert_eq!(page.status, 200);
    for expected in [
        format!(r#"data-document="{document}""#),
        format!(r#"src="/api/documents/{document}/rendition""#),
        r#"sandbox="""#.to_owned(),
        stored_sha.clone(),
    ] {
        assert!(page.body.contains(&expected), "{expected}");
    }
    assert_eq!(archive.reads("document.viewed").await.len(), 2);

    // Another controller's document: the same 404 as one that does not exist; a malformed
    // OID: 422 with its message. Neither is recorded as a view.
    let theirs = archive.document(&archive.b, false).await;
    let (other, _) = archive.get(&format!("/documents/{theirs}")).await;
    let (missing, _) = archive.get("/documents/1.2.246.10.99999999.10.0.1").await;
    assert_eq!(other.status, 404);
    assert_eq!(missing.status, 404);
    let (other_json, _) = archive
        .get(&format!("/api/documents/view?document_oid={theirs}"))
        .await;
    let (missing_json, _) = archive
        .get("/api/documents/view?document_oid=1.2.246.10.99999999.10.0.1")
        .await;
    assert_eq!(
        (other_json.status, &other_json.body),
        (missing_json.status, &missing_json.body)
    );
    let (malformed, _) = archive.get("/documents/x.y").await;
    assert_eq!(malformed.status, 422);
    assert!(malformed.body.contains(r#"data-field="invalid-oid""#));
    assert_eq!(archive.reads("document.viewed").await.len(), 2);
    archive.stop().await;
}

/// The `data-document` values of a results page, in order, and its next-page link.
fn results(body: &str) -> (Vec<String>, Option<String>) {
    let rows = body
        .split("<tr data-document=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    let next = body
        .split("<a href=\"")
        .filter_map(|rest| rest.split_once('"'))
        .find(|(href, rest)| {
            href.starts_with("/search?") && rest.starts_with(" data-action=\"next-page\"")
        })
        .map(|(href, _)| href.replace("&amp;", "&"));
    (rows, next)
}

#[tokio::test]
async fn search_pages_through_the_scope_by_keyset_and_checks_its_fields() {
    let archive = Archive::new().await;
    // Fifty more documents of the first controller, so that the results take two pages.
    for chunk in [2, 4, 6, 8, 10] {
        archive_chunk(&archive.pool, chunk).await;
    }
    let in_a: HashSet<String> =
        sqlx::query_scalar("SELECT document_oid FROM document_version WHERE controller_oid = $1")
            .bind(archive.a.as_str())
            .fetch_all(&archive.pool)
            .await
            .expect("oids")
            .into_iter()
            .collect();

    let (first, _) = archive.get("/search?all=1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let (page_one, next) = results(&first.body);
    assert_eq!(page_one.len(), 50);
    let next = next.expect("a next page");
    let (second, _) = archive.get(&next).await;
    let (page_two, after_two) = results(&second.body);
    assert_eq!(
        page_one.len() + page_two.len(),
        in_a.len(),
        "every version once"
    );
    assert!(after_two.is_none());
    let seen: HashSet<String> = page_one.iter().chain(&page_two).cloned().collect();
    assert_eq!(
        seen, in_a,
        "exactly the first controller's documents, none twice"
    );

    // Only current versions unless asked; a client's documents; another controller's client
    // finds nothing.
    let current: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM document_version_status WHERE controller_oid = $1 AND status = 'current'",
    )
    .bind(archive.a.as_str())
    .fetch_one(&archive.pool)
    .await
    .expect("count");
    let (current_page, _) = archive.get("/search").await;
    let (rows, _) = results(&current_page.body);
    assert_eq!(rows.len(), usize::try_from(current.min(50)).expect("small"));
    // A client of the first controller, and one that only the second controller has.
    let client_of = |controller: &ControllerOid, other: &ControllerOid| {
        let pool = archive.pool.clone();
        let controller = controller.as_str().to_owned();
        let other = other.as_str().to_owned();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT v.client_id_value FROM document_version v
                 WHERE v.controller_oid = $1
                   AND NOT EXISTS (SELECT 1 FROM document_version o
                                   WHERE o.controller_oid = $2
                                     AND o.client_id_value = v.client_id_value)
                 ORDER BY v.client_id_value LIMIT 1",
            )
            .bind(controller)
            .bind(other)
            .fetch_one(&pool)
            .await
            .expect("a client of one controller only")
        }
    };
    let mine = client_of(&archive.a, &archive.b).await;
    let (client_page, _) = archive.get(&format!("/search?client={mine}&all=1")).await;
    let (client_rows, _) = results(&client_page.body);
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM document_version WHERE controller_oid = $1 AND client_id_value = $2",
    )
    .bind(archive.a.as_str())
    .bind(&mine)
    .fetch_one(&archive.pool)
    .await
    .expect("count");
    assert_eq!(client_rows.len(), usize::try_from(expected).expect("small"));
    let theirs = client_of(&archive.b, &archive.a).await;
    let (nothing, _) = archive.get(&format!("/search?client={theirs}&all=1")).await;
    assert_eq!(nothing.status, 200, "{}", nothing.body);
    assert!(
        nothing.body.contains(r#"data-field="no-results""#),
        "{}",
        nothing.body
    );

    // Each refinement narrows to exactly what the database holds for it.
    let (set, task, replaced): (String, String, i64) = sqlx::query_as(
        "SELECT v.set_oid, v.service_task_code,
                (SELECT count(*) FROM document_version_status s
                 WHERE s.controller_oid = $1 AND s.status = 'replaced')
         FROM document_version v
         WHERE v.controller_oid = $1 AND v.version_number > 1 AND v.service_task_code IS NOT NULL
         ORDER BY v.document_oid LIMIT 1",
    )
    .bind(archive.a.as_str())
    .fetch_one(&archive.pool)
    .await
    .expect("a set with history");
    let count = |sql: &'static str, value: String| {
        let pool = archive.pool.clone();
        let controller = archive.a.as_str().to_owned();
        async move {
            let n: i64 = sqlx::query_scalar(sql)
                .bind(controller)
                .bind(value)
                .fetch_one(&pool)
                .await
                .expect("count");
            usize::try_from(n).expect("small")
        }
    };
    let versions_of_set = count(
        "SELECT count(*) FROM document_version WHERE controller_oid = $1 AND set_oid = $2",
        set.clone(),
    )
    .await;
    let (set_page, _) = archive.get(&format!("/search?set={set}&status=all")).await;
    assert_eq!(results(&set_page.body).0.len(), versions_of_set);
    let (replaced_page, _) = archive.get("/search?status=replaced").await;
    let shown = results(&replaced_page.body).0.len();
    assert_eq!(shown, usize::try_from(replaced.min(50)).expect("small"));
    assert!(!replaced_page.body.contains(r#"data-status="current""#));
    let current_of_task = count(
        "SELECT count(*) FROM document_version v JOIN document_version_status s
           ON s.controller_oid = v.controller_oid AND s.document_oid = v.document_oid
         WHERE v.controller_oid = $1 AND v.service_task_code = $2 AND s.status = 'current'",
        task.clone(),
    )
    .await;
    let (task_page, _) = archive.get(&format!("/search?task={task}")).await;
    assert_eq!(results(&task_page.body).0.len(), current_of_task.min(50));
    // The days the set's versions were archived on, as days in Finland: the search's days are
    // Finnish days, and a UTC date is the day before from 22.00 or 21.00 UTC on.
    let (first_day, last_day): (String, String) = sqlx::query_as(
        "SELECT (min(s.archived_at) AT TIME ZONE 'Europe/Helsinki')::date::text,
                (max(s.archived_at) AT TIME ZONE 'Europe/Helsinki')::date::text
         FROM archive_state s JOIN document_version v
           ON v.controller_oid = s.controller_oid AND v.document_oid = s.document_oid
         WHERE v.controller_oid = $1 AND v.set_oid = $2",
    )
    .bind(archive.a.as_str())
    .bind(&set)
    .fetch_one(&archive.pool)
    .await
    .expect("archiving days");
    let (archived_today, _) = archive
        .get(&format!(
            "/search?status=all&set={set}&archived_from={first_day}&archived_until={last_day}"
        ))
        .await;
    assert_eq!(results(&archived_today.body).0.len(), versions_of_set);
    let (archived_long_ago, _) = archive
        .get(&format!(
            "/search?status=all&set={set}&archived_until=2001-01-01"
        ))
        .await;
    assert!(
        archived_long_ago
            .body
            .contains(r#"data-field="no-results""#)
    );
    let choices = archive.get("/api/documents/search-options").await.0;
    assert_eq!(choices.status, 200, "{}", choices.body);
    assert!(
        choices.body.contains(r#""document_types":[{"code""#),
        "{}",
        choices.body
    );

    // Bad input: a clear message and 422, nothing searched.
    refused_unsearched(
        &archive,
        [
            "/search?client=131052-308U",
            "/search?from=2024-02-30",
            "/search?from=2024-03-02&until=2024-03-01",
            "/search?after=tampered",
            "/search?type=1%3B%20DROP",
            "/search?case=not-an-oid",
            "/search?set=1.2.x",
            "/search?status=deleted",
            "/search?archived_from=2024-13-01",
        ],
    )
    .await;
    archive.stop().await;
}

#[tokio::test]
async fn a_search_the_database_cancels_tells_the_archivist_to_narrow_it() {
    let archive = Archive::with_settings(|s| s.database.statement_timeout_millis = 500).await;
    // With the document sets locked, the search waits for them until the statement timeout.
    let mut holder = archive.app.db().await;
    for sql in ["BEGIN", "LOCK TABLE document_set IN ACCESS EXCLUSIVE MODE"] {
        sqlx::query(sql).execute(&mut holder).await.expect(sql);
    }
    let (page, _) = archive.get("/search?all=1").await;
    assert!(
        page.body.contains(r#"data-field="search-took-too-long""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Haku kesti liian kauan"),
        "{}",
        page.body
    );
    assert!(archive.reads("document.searched").await.is_empty());
    sqlx::query("COMMIT")
        .execute(&mut holder)
        .await
        .expect("commit");

    // The same search goes through once it can.
    let (page, _) = archive.get("/search?all=1").await;
    assert!(!page.body.contains("search-took-too-long"));
    assert!(page.body.contains("<tr data-document="), "{}", page.body);
    archive.stop().await;
}

/// Each address is refused with 422 and the search form's message, and nothing is searched.
async fn refused_unsearched(
    archive: &Archive,
    addresses: impl IntoIterator<Item = impl AsRef<str>>,
) {
    let before = archive.reads("document.searched").await.len();
    for bad in addresses {
        let bad = bad.as_ref();
        let (response, _) = archive.get(bad).await;
        assert_eq!(response.status, 422, "{bad}");
        assert!(
            response.body.contains(r#"data-field="invalid-search""#),
            "{bad}"
        );
    }
    assert_eq!(archive.reads("document.searched").await.len(), before);
}

#[tokio::test]
async fn every_order_pages_through_both_controllers_of_the_scope_in_that_order() {
    let archive = Archive::new().await;
    // Eighty versions in all: every order takes two pages.
    for chunk in [2, 4, 6, 8, 10, 12] {
        archive_chunk(&archive.pool, chunk).await;
    }
    // The scope holds both controllers, so each page merges two controllers' rows.
    seed::link(&archive.pool, &card("999000110"), &archive.b).await;
    let expected = |order_by: &'static str| {
        let pool = archive.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(&format!(
                "SELECT v.document_oid FROM document_version v
                 JOIN archive_state s
                   ON s.controller_oid = v.controller_oid AND s.document_oid = v.document_oid
                 ORDER BY {order_by}"
            ))
            .fetch_all(&pool)
            .await
            .expect("order")
        }
    };
    for (address, order_by) in [
        (
            "sort=time&order=desc",
            "v.effective_time DESC, v.document_oid DESC",
        ),
        ("sort=time&order=asc", "v.effective_time, v.document_oid"),
        (
            "sort=archived&order=desc",
            "s.archived_at DESC, v.document_oid DESC",
        ),
        ("sort=archived&order=asc", "s.archived_at, v.document_oid"),
        (
            "sort=client",
            "v.client_id_value, v.effective_time DESC, v.document_oid DESC",
        ),
        (
            "sort=client&order=desc",
            "v.client_id_value DESC, v.effective_time DESC, v.document_oid DESC",
        ),
    ] {
        let mut shown = Vec::new();
        let mut pages = 0;
        let mut next = Some(format!("/search?status=all&{address}"));
        while let Some(path) = next {
            pages += 1;
            let (page, _) = archive.get(&path).await;
            assert_eq!(page.status, 200, "{path}: {}", page.body);
            let (rows, after) = results(&page.body);
            assert!(!rows.is_empty(), "{path}");
            shown.extend(rows);
            next = after;
        }
        assert_eq!(shown, expected(order_by).await, "{address}");
        assert_eq!(pages, 2, "{address}");
    }

    // The headers sort: the sorted column says so, and each header's link starts at page one.
    let (page, _) = archive.get("/search?status=all").await;
    assert!(
        page.body
            .contains(r#"<th scope="col" aria-sort="descending"><a href="/search?"#),
        "{}",
        page.body
    );
    let client_header = page
        .body
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("sort=client"))
        .expect("a client header link")
        .replace("&amp;", "&");
    assert!(
        client_header.contains("order=asc") && client_header.ends_with("&after="),
        "{client_header}"
    );

    // A cursor belongs to its order; unknown orders are refused with a message, unsearched.
    let (newest, _) = archive.get("/search?status=all&sort=time&order=desc").await;
    let (_, next) = results(&newest.body);
    let next = next.expect("two pages");
    refused_unsearched(
        &archive,
        [
            next.replace("sort=time", "sort=client"),
            next.replace("order=desc", "order=asc"),
            "/search?sort=name".to_owned(),
            "/search?sort=time&order=up".to_owned(),
        ],
    )
    .await;
    archive.stop().await;
}

#[tokio::test]
async fn a_server_function_request_it_cannot_read_is_refused_without_internals() {
    let archive = Archive::new().await;
    let (missing, _) = archive.get("/api/documents/view").await;
    assert_eq!(refusal(&missing.body), "request", "{}", missing.body);
    assert!(!missing.body.contains("document_oid"), "{}", missing.body);
    assert_eq!(missing.status, 400, "{}", missing.body);
    archive.stop().await;
}

#[tokio::test]
async fn search_days_are_finnish_days() {
    let archive = Archive::new().await;
    // Two documents written either side of midnight in Helsinki (UTC+2 in December): one at
    // 23.30 on 30 November, one at 00.30 on 1 December, which is still 30 November in UTC. The
    // year is one the generated documents never have.
    let (before, after): (String, String) = sqlx::query_as(
        "SELECT min(document_oid), max(document_oid) FROM document_version
         WHERE controller_oid = $1 AND version_number = 1",
    )
    .bind(archive.a.as_str())
    .fetch_one(&archive.pool)
    .await
    .expect("two documents");
    assert_ne!(before, after);
    for (document, written) in [
        (&before, "2030-11-30T21:30:00Z"),
        (&after, "2030-11-30T22:30:00Z"),
    ] {
        sqlx::query(
            "UPDATE document_version SET effective_time = $2::timestamptz
             WHERE controller_oid = $1 AND document_oid = $3",
        )
        .bind(archive.a.as_str())
        .bind(written)
        .bind(document)
        .execute(&archive.pool)
        .await
        .expect("move the document's time");
    }
    let (first_of_december, _) = archive
        .get("/search?all=1&status=all&from=2030-12-01&until=2030-12-01")
        .await;
    assert_eq!(first_of_december.status, 200, "{}", first_of_december.body);
    assert_eq!(results(&first_of_december.body).0, vec![after.clone()]);
    let (thirtieth, _) = archive
        .get("/search?all=1&status=all&from=2030-11-30&until=2030-11-30")
        .await;
    assert_eq!(results(&thirtieth.body).0, vec![before.clone()]);
    archive.stop().await;
}

#[tokio::test]
async fn two_versions_compare_side_by_side_within_the_scope() {
    let archive = Archive::new().await;
    let (older, newer): (String, String) = sqlx::query_as(
        "SELECT o.document_oid, n.document_oid FROM document_version n
         JOIN document_version o ON o.controller_oid = n.controller_oid AND o.set_oid = n.set_oid
          AND o.version_number = n.version_number - 1
         WHERE n.controller_oid = $1 ORDER BY n.document_oid LIMIT 1",
    )
    .bind(archive.a.as_str())
    .fetch_one(&archive.pool)
    .await
    .expect("a set with two versions");

    // Either order: the older version is on the left.
    let (json, _) = archive
        .get(&format!("/api/documents/compare?a={newer}&b={older}"))
        .await;
    assert_eq!(json.status, 200, "{}", json.body);
    let view: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(view["older"]["document_oid"], older.as_str());
    assert_eq!(view["newer"]["document_oid"], newer.as_str());
    let header = view["header"].as_array().expect("header");
    let field = |key: &str| header.iter().find(|f| f["key"] == key).expect(key);
    assert!(field("effective_time")["older"]["Time"].is_string());
    let rows = view["display"]["Rows"].as_array().expect("display rows");
    assert!(!rows.is_empty(), "{view}");
    assert!(
        rows.iter()
            .all(|r| r["older"].is_string() || r["newer"].is_string()),
        "every row has a side"
    );
    let page = archive
        .get(&format!("/compare?a={older}&b={newer}"))
        .await
        .0;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-field="display-comparison""#));

    // Another controller's version is the same 404 as none; two sets or a malformed OID: 422.
    let theirs = archive.document(&archive.b, false).await;
    let (other, _) = archive
        .get(&format!("/api/documents/compare?a={older}&b={theirs}"))
        .await;
    let (missing, _) = archive
        .get(&format!(
            "/api/documents/compare?a={older}&b=1.2.246.10.99999999.10.0.1"
        ))
        .await;
    assert_eq!((other.status, &other.body), (missing.status, &missing.body));
    assert_eq!(other.status, 404);
    let unrelated = archive.document(&archive.a, false).await;
    let unrelated = if unrelated == older || unrelated == newer {
        sqlx::query_scalar(
            "SELECT document_oid FROM document_version v WHERE controller_oid = $1
             AND set_oid <> (SELECT set_oid FROM document_version WHERE document_oid = $2)
             ORDER BY document_oid LIMIT 1",
        )
        .bind(archive.a.as_str())
        .bind(&older)
        .fetch_one(&archive.pool)
        .await
        .expect("another set")
    } else {
        unrelated
    };
    let (other_set, _) = archive
        .get(&format!("/api/documents/compare?a={older}&b={unrelated}"))
        .await;
    assert_eq!(other_set.status, 422);
    assert!(
        refusal(&other_set.body) == "invalid:other_set",
        "{}",
        other_set.body
    );
    let (malformed, _) = archive.get(&format!("/compare?a={older}&b=x.y")).await;
    assert_eq!(malformed.status, 422);
    assert!(
        malformed
            .body
            .contains(r#"data-field="invalid-comparison""#)
    );

    let compared = archive.reads("document.compared").await;
    assert_eq!(
        compared,
        vec![(Some(newer.clone()), Some(archive.a.as_str().to_owned())); 2],
        "the two comparisons that were shown"
    );
    archive.stop().await;
}

#[tokio::test]
async fn the_client_view_groups_the_clients_sets_within_the_scope() {
    let archive = Archive::new().await;
    let client_with_most = |controller: &ControllerOid| {
        let pool = archive.pool.clone();
        let controller = controller.as_str().to_owned();
        async move {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT client_id_value, count(*) FROM document_set WHERE controller_oid = $1
                 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            )
            .bind(controller)
            .fetch_one(&pool)
            .await
            .expect("client")
        }
    };
    let (mine, sets) = client_with_most(&archive.a).await;
    let (json, _) = archive
        .get(&format!("/api/clients/documents?client={mine}"))
        .await;
    assert_eq!(json.status, 200, "{}", json.body);
    let view: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert_eq!(view["client_id"], mine.as_str());
    let cases = view["cases"].as_array().expect("cases");
    let shown: usize = cases
        .iter()
        .flat_map(|c| c["tasks"].as_array().expect("tasks"))
        .map(|t| t["sets"].as_array().expect("sets").len())
        .sum();
    assert_eq!(
        shown,
        usize::try_from(sets).expect("small"),
        "every set once"
    );
    // Each case appears once per controller, and within a task group sets are newest first.
    let mut seen = std::collections::HashSet::new();
    for case in cases {
        assert!(seen.insert(case["case_oid"].to_string()), "{case}");
        for task in case["tasks"].as_array().expect("tasks") {
            let times: Vec<&str> = task["sets"]
                .as_array()
                .expect("sets")
                .iter()
                .filter_map(|s| s["current"]["effective_time"].as_str())
                .collect();
            let mut sorted = times.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(times, sorted);
        }
    }
    let (page, _) = archive.get(&format!("/client?id={mine}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-field="client-sets""#));

    // Another controller's client: nothing, like a client who is not there; malformed: 422.
    let (theirs, _) = client_with_most(&archive.b).await;
    if theirs != mine {
        let (other, _) = archive
            .get(&format!("/api/clients/documents?client={theirs}"))
            .await;
        assert_eq!(other.status, 200);
        assert!(other.body.contains(r#""cases":[]"#), "{}", other.body);
    }
    let (malformed, _) = archive.get("/client?id=131052-308U").await;
    assert_eq!(malformed.status, 422);
    assert!(malformed.body.contains(r#"data-field="invalid-client""#));
    let viewed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'client.viewed' AND details->>'client' = $1",
    )
    .bind(&mine)
    .fetch_one(&archive.pool)
    .await
    .expect("audit");
    assert_eq!(viewed, 2, "the JSON and the page");
    archive.stop().await;
}

#[tokio::test]
async fn the_stored_cda_reads_as_highlighted_text_that_is_the_stored_text_exactly() {
    let archive = Archive::new().await;
    let document = archive.document(&archive.a, false).await;
    let stored: Vec<u8> = sqlx::query_scalar(
        "SELECT bytes FROM stored_bytes WHERE document_oid = $1 AND kind = 'cda'",
    )
    .bind(&document)
    .fetch_one(&archive.pool)
    .await
    .expect("stored");
    let (json, _) = archive
        .get(&format!(
            "/api/documents/stored-cda?document_oid={document}"
        ))
        .await;
    assert_eq!(json.status, 200, "{}", json.body);
    let view: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    let text: String = view["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["text"].as_str())
        .collect();
    let stored_text = String::from_utf8(stored.clone()).expect("UTF-8 test data");
    assert_eq!(
        text,
        stored_text.trim_start_matches('\u{feff}'),
        "the pieces are the stored text"
    );
    assert_eq!(view["sha256"], hex::encode(sha256(&stored)));
    let (page, _) = archive.get(&format!("/documents/{document}/cda")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-field="cda""#));
    assert!(page.body.contains(r#"class="xml-tag""#));

    // Another controller's: 404 like none; changed bytes: a loud integrity error, audited.
    let theirs = archive.document(&archive.b, false).await;
    let (other, _) = archive.get(&format!("/documents/{theirs}/cda")).await;
    assert_eq!(other.status, 404);
    archive
        .behind_the_archives_back(
            "stored_bytes",
            "UPDATE stored_bytes SET bytes = set_byte(bytes, 10, get_byte(bytes, 10) # 1)
             WHERE document_oid = $1 AND kind = 'cda'",
            &document,
        )
        .await;
    let (broken, _) = archive.get(&format!("/documents/{document}/cda")).await;
    assert_eq!(broken.status, 500);
    assert!(broken.body.contains(r#"data-field="integrity-error""#));
    assert_eq!(
        archive.reads("document.integrity_failed").await,
        vec![(Some(document.clone()), Some(archive.a.as_str().to_owned()))]
    );
    archive.stop().await;
}
