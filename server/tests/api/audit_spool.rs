//! The audit spool: while no database primary takes an access's audit row (a failover), the
//! row is kept on the instance's disk before the page is served and added to the log once a
//! primary is back, each row once. A full spool or a damaged record loses nothing already
//! acknowledged.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use server::{
    archive::ControllerOid,
    audit::spool::{Shipped, Spool, SpooledRow, encode_line},
};
use sqlx::PgPool;

use crate::helpers::{
    Cuttable, Session, TestApp, card, database_url, seed, serving_database_url, set_read_only,
    two_controllers, two_controllers_with_files,
};

/// Archivist-1 linked to the first of two controllers with documents, the server spooling into
/// a directory of the test's own.
struct Spooling {
    app: TestApp,
    pool: PgPool,
    spool: tempfile::TempDir,
    document: String,
    /// Signed in before the primary goes: a new session is a write, reads are not.
    session: Session,
}

impl Spooling {
    async fn start(max_bytes: u64) -> Self {
        Self::start_with(max_bytes, |_| {}).await
    }

    async fn start_with(max_bytes: u64, adjust: impl FnOnce(&mut settings::Settings)) -> Self {
        let spool = tempfile::tempdir().expect("spool dir");
        let dir = spool.path().to_owned();
        let app = TestApp::spawn_with(|s| {
            s.audit.spool_dir = Some(dir);
            s.audit.spool_max_bytes = max_bytes;
            adjust(s);
        })
        .await;
        let ((a, _), _) = two_controllers_with_files(&app.database).await;
        let pool = PgPool::connect(&database_url(&app.database))
            .await
            .expect("connect");
        seed::link(&pool, &card("999000110"), &a).await;
        let document = sqlx::query_scalar(
            "SELECT document_oid FROM document_version WHERE controller_oid = $1
             ORDER BY document_oid LIMIT 1",
        )
        .bind(a.as_str())
        .fetch_one(&pool)
        .await
        .expect("a document");
        let session = Session::start(&app, "archivist-1").await;
        Self {
            app,
            pool,
            spool,
            document,
            session,
        }
    }

    async fn read_raw(&self) -> u16 {
        self.session
            .get(&format!("/api/documents/{}/raw", self.document))
            .await
            .status
    }

    /// The `document.raw_read` rows as (came through the spool, occurred at).
    async fn raw_reads(&self) -> Vec<(bool, time::OffsetDateTime)> {
        sqlx::query_as(
            "SELECT spool_id IS NOT NULL, occurred_at FROM audit_log
             WHERE action = 'document.raw_read' AND document_oid = $1 ORDER BY id",
        )
        .bind(&self.document)
        .fetch_all(&self.pool)
        .await
        .expect("audit")
    }

    /// Waits (at most ten seconds) until the spool has shipped all it held (its files go only
    /// after their rows are committed), then reads the `document.raw_read` rows.
    async fn once_shipped(&self) -> Vec<(bool, time::OffsetDateTime)> {
        let end = Instant::now() + Duration::from_secs(10);
        while self.spool_lines() > 0 && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.raw_reads().await
    }

    fn spool_lines(&self) -> usize {
        spool_lines(self.spool.path())
    }

    /// The `document.viewed` rows that came through the spool.
    async fn spooled_views(&self) -> usize {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_log WHERE action = 'document.viewed' AND spool_id IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await
        .expect("count");
        usize::try_from(count).unwrap_or_default()
    }

    async fn stop(self) {
        self.pool.close().await;
        self.app.stop().await;
    }
}

/// Records in the spool's files that wait to be shipped.
fn spool_lines(dir: &Path) -> usize {
    ["current.spool", "shipping.spool"]
        .iter()
        .filter_map(|name| std::fs::read(dir.join(name)).ok())
        .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count())
        .sum()
}

#[tokio::test]
async fn a_read_without_a_primary_is_served_spooled_and_added_to_the_log_once() {
    let spooling = Spooling::start(1 << 20).await;
    assert_eq!(spooling.read_raw().await, 200);
    assert_eq!(spooling.raw_reads().await.len(), 1);

    set_read_only(&spooling.app.database, true).await;
    let before = time::OffsetDateTime::now_utc();
    assert_eq!(
        spooling.read_raw().await,
        200,
        "served: its row is on the spool's disk"
    );
    assert_eq!(spooling.spool_lines(), 1);
    assert_eq!(spooling.raw_reads().await.len(), 1, "not in the log yet");
    // The document's page and its data the same way.
    for path in [
        format!("/documents/{}", spooling.document),
        format!("/api/documents/view?document_oid={}", spooling.document),
    ] {
        let page = spooling.session.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(page.body.contains(&spooling.document), "{path}");
    }
    let viewed = spooling.spool_lines() - 1;
    assert!(viewed >= 1, "the views' rows are spooled");
    let (_, metrics) = spooling.app.scrape().await;
    assert!(
        metrics.contains("archivist_audit_spooled_total{outcome=\"spooled\"}"),
        "{metrics}"
    );

    tokio::time::sleep(Duration::from_millis(300)).await;
    set_read_only(&spooling.app.database, false).await;
    let rows = spooling.once_shipped().await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(spooling.spooled_views().await, viewed);
    let (spooled, at) = rows[1];
    assert!(spooled, "the second row came through the spool");
    assert!(
        at >= before && at < before + Duration::from_millis(300),
        "the row keeps the time of the read ({at}), not of its shipping"
    );
    // Shipped and gone from the disk; nothing comes a second time.
    assert_eq!(spooling.spool_lines(), 0);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(spooling.raw_reads().await.len(), 2);
    spooling.stop().await;
}

#[tokio::test]
async fn with_a_read_url_reads_go_on_while_the_primary_is_gone() {
    // The primary reached through a forwarder the test cuts; reads straight to the server, as
    // `database.read_url` reaches the standby through a failover.
    let primary = Cuttable::to_database().await;
    let spooling = Spooling::start_with(1 << 20, |s| {
        let direct = s.database.url.clone().expect("the serving URL");
        s.database.url = Some(primary.url_through(&direct));
        s.database.read_url = Some(direct);
    })
    .await;
    assert_eq!(spooling.read_raw().await, 200);

    primary.cut();
    let document_page = format!("/documents/{}", spooling.document);
    for path in [
        format!("/api/documents/{}/raw", spooling.document),
        document_page.clone(),
        "/search".to_owned(),
    ] {
        let page = spooling.session.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }
    assert!(spooling.spool_lines() >= 2, "the reads' rows are spooled");
    let readiness = spooling
        .app
        .client(None)
        .get("/readyz")
        .await
        .expect("readyz");
    assert_eq!(
        (readiness.status, readiness.body.as_str()),
        (503, "no database that takes writes\n")
    );
    // Alive all the same: the load balancer may send it archivists while no instance is ready.
    let alive = spooling
        .app
        .client(None)
        .get("/healthz")
        .await
        .expect("healthz");
    assert_eq!(alive.status, 200, "{}", alive.body);
    let signed_out = spooling.session.post("/api/sign-out", "").await;
    assert_eq!(signed_out.status, 503, "a change needs the primary");

    primary.restore();
    let rows = spooling.once_shipped().await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[1].0,
        "the read during the outage came through the spool"
    );
    assert_eq!(spooling.spool_lines(), 0);
    assert_eq!(spooling.session.get(&document_page).await.status, 200);
    spooling.stop().await;
}

#[tokio::test]
async fn a_change_without_a_primary_is_refused_with_retry_after_and_not_spooled() {
    let spooling = Spooling::start(1 << 20).await;
    set_read_only(&spooling.app.database, true).await;
    let signed_out = spooling.session.post("/api/sign-out", "").await;
    assert_eq!(signed_out.status, 503, "{}", signed_out.body);
    assert_eq!(
        signed_out
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert_eq!(
        crate::helpers::refusal(&signed_out.body),
        "unavailable",
        "the page shows its own words for it, in the reader's language"
    );
    assert_eq!(
        spooling.spool_lines(),
        0,
        "a change's row is not spooled: it did not happen"
    );

    set_read_only(&spooling.app.database, false).await;
    // The session outlived the spell: it still reads, and its sign-out works now.
    assert_eq!(spooling.read_raw().await, 200);
    let signed_out = spooling.session.post("/api/sign-out", "").await;
    assert!(
        signed_out.status == 200 || signed_out.status == 302,
        "{}",
        signed_out.status
    );
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'session.signed_out'")
            .fetch_one(&spooling.pool)
            .await
            .expect("count");
    assert_eq!(rows, 1, "one sign-out, the one that happened");
    spooling.stop().await;
}

/// Moves every session's last renewal `secs` back, as if its archivist had paused: the store
/// keeps the session as MessagePack, where `last_seen` is a 32-bit unsigned integer (0xce) after
/// its 9-byte name (0xa9).
async fn age_sessions(app: &TestApp, secs: u32) {
    let mut db = app.db().await;
    let sessions: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT id, data FROM tower_sessions.session")
            .fetch_all(&mut db)
            .await
            .expect("sessions");
    assert!(!sessions.is_empty(), "no session to age");
    for (id, mut data) in sessions {
        let marker = b"\xa9last_seen\xce";
        let at = data
            .windows(marker.len())
            .position(|w| w == marker)
            .expect("last_seen in the session")
            + marker.len();
        let seen = u32::from_be_bytes(data[at..at + 4].try_into().expect("four bytes"));
        data[at..at + 4].copy_from_slice(&(seen - secs).to_be_bytes());
        sqlx::query("UPDATE tower_sessions.session SET data = $1 WHERE id = $2")
            .bind(&data)
            .bind(&id)
            .execute(&mut db)
            .await
            .expect("age");
    }
}

#[tokio::test]
async fn a_session_due_for_renewal_keeps_reading_without_a_primary() {
    let spooling = Spooling::start(1 << 20).await;
    age_sessions(&spooling.app, 120).await;
    let data_before: Vec<u8> = sqlx::query_scalar("SELECT data FROM tower_sessions.session")
        .fetch_one(&spooling.pool)
        .await
        .expect("session");
    set_read_only(&spooling.app.database, true).await;
    assert_eq!(
        spooling.read_raw().await,
        200,
        "the renewal waits; the read is served"
    );
    set_read_only(&spooling.app.database, false).await;
    let unchanged: Vec<u8> = sqlx::query_scalar("SELECT data FROM tower_sessions.session")
        .fetch_one(&spooling.pool)
        .await
        .expect("session");
    assert_eq!(unchanged, data_before, "nothing was written meanwhile");
    // With a primary back, the next request renews it.
    assert_eq!(spooling.read_raw().await, 200);
    let renewed: Vec<u8> = sqlx::query_scalar("SELECT data FROM tower_sessions.session")
        .fetch_one(&spooling.pool)
        .await
        .expect("session");
    assert_ne!(renewed, data_before, "renewed once writes are taken");
    spooling.stop().await;
}

#[tokio::test]
async fn a_full_spool_refuses_with_503_and_keeps_every_row_it_took() {
    let spooling = Spooling::start(4096).await;
    set_read_only(&spooling.app.database, true).await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let status = spooling.read_raw().await;
        statuses.push(status);
        if status != 200 {
            break;
        }
    }
    let served = statuses.iter().filter(|&&s| s == 200).count();
    assert!(served >= 1, "the spool took nothing: {statuses:?}");
    assert_eq!(
        statuses.last(),
        Some(&503),
        "a row the spool cannot take is not served: {statuses:?}"
    );
    assert_eq!(spooling.spool_lines(), served);

    set_read_only(&spooling.app.database, false).await;
    let rows = spooling.once_shipped().await;
    assert_eq!(rows.len(), served, "every served read has its row once");
    assert!(rows.iter().all(|(spooled, _)| *spooled));
    spooling.stop().await;
}

fn row(controller: &ControllerOid) -> SpooledRow {
    SpooledRow {
        spool_id: uuid::Uuid::now_v7(),
        occurred_at: time::OffsetDateTime::now_utc(),
        action: "document.viewed".to_owned(),
        outcome: "success".to_owned(),
        reason: None,
        client_address: "192.0.2.10".to_owned(),
        certificate_subject: Some("CN=Test".to_owned()),
        certificate_issuer: None,
        certificate_serial: None,
        public_key_sha256: None,
        satu: None,
        card_number: Some("999000110".to_owned()),
        controller_oid: Some(controller.as_str().to_owned()),
        document_oid: Some("1.2.246.10.99.1".to_owned()),
        details: None,
    }
}

#[tokio::test]
async fn a_spool_shipped_again_after_a_crash_adds_nothing_twice_and_a_damaged_record_never() {
    let app = TestApp::spawn().await;
    let (a, _) = two_controllers(&app.database).await;
    let pool = PgPool::connect(&serving_database_url(&app.database).await)
        .await
        .expect("connect as the server");
    let dir = tempfile::tempdir().expect("spool dir");
    let rows = [row(&a), row(&a), row(&a)];

    let spool = Spool::open(dir.path(), 1 << 20).expect("opens");
    for r in &rows {
        spool.append(r).await.expect("spooled");
    }
    // What a crash after the commit and before the removal leaves: the same file again.
    let file = std::fs::read(dir.path().join("current.spool")).expect("spool file");
    assert_eq!(
        spool.ship(&pool).await.expect("shipped"),
        Shipped {
            added: 3,
            already_there: 0,
            rejected: 0
        }
    );
    drop(spool);

    let damaged = {
        let mut line = encode_line(&row(&a)).expect("encodes");
        let at = line.len() - 10;
        line[at] ^= 0x20;
        line
    };
    let mut left = file.clone();
    left.extend_from_slice(&damaged);
    std::fs::write(dir.path().join("shipping.spool"), &left).expect("left behind");
    let spool = Spool::open(dir.path(), 1 << 20).expect("opens again");
    assert_eq!(spool.held_bytes(), left.len() as u64);
    assert_eq!(
        spool.ship(&pool).await.expect("shipped again"),
        Shipped {
            added: 0,
            already_there: 3,
            rejected: 1
        }
    );
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.spool_id).collect();
    let in_log: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE spool_id = ANY($1)")
        .bind(&ids)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(in_log, 3);
    let all_spooled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE spool_id IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(all_spooled, 3, "the damaged record is not in the log");
    // It is kept aside for whoever investigates, byte for byte.
    let rejected: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("rejected-"))
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        std::fs::read(rejected[0].path()).expect("read"),
        damaged,
        "the damaged line kept as it was"
    );
    assert_eq!(spool_lines(dir.path()), 0);
    assert_eq!(spool.held_bytes(), 0);
    pool.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_spool_directory_another_instance_holds_stops_the_start() {
    let dir = tempfile::tempdir().expect("spool dir");
    let _held = Spool::open(dir.path(), 1 << 20).expect("the first instance's");
    let database = crate::helpers::create_database().await;
    let site = tempfile::tempdir().expect("site");
    let mut settings = crate::helpers::settings(&database, site.path());
    settings.audit.spool_dir = Some(dir.path().to_owned());
    let error = match server::startup::Application::build(&settings).await {
        Ok(_) => panic!("started on a spool another instance holds"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("audit.spool_dir") && error.contains("in use by another process"),
        "{error}"
    );
}
