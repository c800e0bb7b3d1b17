//! The archive store against a real PostgreSQL: byte-exact round trips, idempotency, concurrent
//! imports, immutability enforced by the database, version statuses in any arrival order, and
//! damaged input refused without storing anything of it.

use std::path::{Path, PathBuf};

use server::{
    archive::{sha256, xmldsig::TrustAnchors},
    db,
    demo::documents::{self, Signer},
    import::{Importer, Silent, Source, Summary},
    store::{ArchiveStore, operator},
};
use sqlx::{Connection, PgConnection, PgPool};

use crate::helpers::{TestDatabase, create_database, database_url, demo_ca_file, drop_database};

/// A migrated database of its own, an importer trusting the demo signing CA, a scratch folder.
struct TestArchive {
    name: TestDatabase,
    pool: PgPool,
    importer: Importer,
    dir: tempfile::TempDir,
}

impl TestArchive {
    async fn new() -> Self {
        let name = create_database().await;
        let pool = PgPool::connect(&database_url(&name))
            .await
            .expect("connect");
        db::migrate(&pool).await.expect("migrate");
        let store = ArchiveStore::new(pool.clone()).await.expect("store");
        let dir = tempfile::tempdir().expect("temp dir");
        let anchors = TrustAnchors::from_pem_files(&[demo_ca_file(dir.path())]).expect("anchors");
        Self {
            name,
            pool,
            importer: Importer::new(store, anchors, 4),
            dir,
        }
    }

    /// A folder under the scratch folder with the given files.
    fn folder(&self, name: &str, files: &[(String, Vec<u8>)]) -> PathBuf {
        let folder = self.dir.path().join(name);
        std::fs::create_dir_all(&folder).expect("folder");
        for (file, bytes) in files {
            std::fs::write(folder.join(file), bytes).expect("write");
        }
        folder
    }

    async fn import(&self, path: &Path) -> Summary {
        self.importer
            .import(&[Source::Path(path.to_owned())], &Silent)
            .await
    }

    async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }

    async fn finish(self) {
        self.pool.close().await;
        drop_database(&self.name).await;
    }
}

/// The generator's first chunk: `(name, bytes)` of every document and frame.
pub(crate) fn generated(documents: u64) -> Vec<(String, Vec<u8>)> {
    let options = documents::Options {
        seed: 7,
        controllers: 1,
        clients: 10,
        documents,
    };
    let signer = Signer::demo().expect("signer");
    documents::generate_chunk(&options, &signer, 0, documents)
        .into_iter()
        .map(|f| (f.name, f.bytes))
        .collect()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} is generated"))
        .1
}

/// The `root` of the document's own `id`.
fn document_oid(cda: &[u8]) -> String {
    server::archive::parse_document(cda)
        .expect("parses")
        .document_oid
        .to_string()
}

fn to_lf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8(bytes.to_vec())
        .expect("utf-8")
        .replace("\r\n", "\n")
        .into_bytes()
}

fn to_latin1(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8").replacen(
        r#"encoding="UTF-8""#,
        r#"encoding="ISO-8859-1""#,
        1,
    );
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("the document is Latin-1"))
        .collect()
}

#[tokio::test]
async fn stored_bytes_come_back_identical_whatever_the_encoding_and_signatures_still_verify() {
    let archive = TestArchive::new().await;
    let files = generated(10);
    let lf = to_lf(file(&files, "v1-0000.xml"));
    let crlf = String::from_utf8(to_lf(file(&files, "v1-0001.xml")))
        .expect("utf-8")
        .replace('\n', "\r\n")
        .into_bytes();
    let bom = [b"\xEF\xBB\xBF".as_slice(), file(&files, "v1-0002.xml")].concat();
    let latin1 = to_latin1(file(&files, "v1-0003.xml"));
    let trailing = [file(&files, "v1-0004.xml"), b"\r\n\n \t \n".as_slice()].concat();
    let variants = [
        ("lf.xml", lf),
        ("crlf.xml", crlf),
        ("bom.xml", bom),
        ("latin1.xml", latin1),
        ("trailing.xml", trailing),
    ];
    let files: Vec<(String, Vec<u8>)> = variants
        .iter()
        .map(|(n, b)| ((*n).to_owned(), b.clone()))
        .collect();
    let folder = archive.folder("variants", &files);

    let summary = archive.import(&folder).await;
    assert_eq!(summary.refused, vec![]);
    assert_eq!(summary.archived, 5);

    for (name, bytes) in &variants {
        let oid = document_oid(bytes);
        let stored = operator::stored_part(&archive.pool, &oid, "cda")
            .await
            .expect("stored");
        assert_eq!(
            sha256(&stored.bytes),
            sha256(bytes),
            "{name}: the stored bytes are the received bytes"
        );
        let (integrity, trust): (String, String) =
            sqlx::query_as("SELECT integrity, trust FROM signature WHERE document_oid = $1")
                .bind(&oid)
                .fetch_one(&archive.pool)
                .await
                .expect("signature row");
        assert_eq!(
            (integrity.as_str(), trust.as_str()),
            ("valid", "trusted"),
            "{name}: canonical XML does not depend on encoding or line endings"
        );
    }
    archive.finish().await;
}

#[tokio::test]
async fn reimporting_changes_nothing_and_other_bytes_under_a_known_id_are_refused() {
    let archive = TestArchive::new().await;
    let files = generated(20);
    let folder = archive.folder("batch", &files);

    let first = archive.import(&folder).await;
    assert_eq!((first.archived, first.refused.len()), (20, 0));
    let events = archive.count("archive_event").await;

    let again = archive.import(&folder).await;
    assert_eq!(
        (again.archived, again.already_archived, again.refused.len()),
        (0, 20, 0)
    );
    assert_eq!(archive.count("archive_event").await, events);
    assert_eq!(
        archive.count("stored_bytes").await,
        40,
        "CDA and frame each"
    );

    let mut changed = file(&files, "v1-0000.xml").to_vec();
    changed.extend_from_slice(b"<!-- edited after archiving -->");
    let folder = archive.folder("changed", &[("changed.xml".to_owned(), changed)]);
    let summary = archive.import(&folder).await;
    assert_eq!(summary.refused.len(), 1);
    assert!(
        summary.refused[0]
            .1
            .contains("already archived with different content"),
        "{:?}",
        summary.refused
    );
    archive.finish().await;
}

#[tokio::test]
async fn two_concurrent_imports_store_each_document_once() {
    let archive = TestArchive::new().await;
    let files = generated(40);
    let folder = archive.folder("batch", &files);

    let (a, b) = tokio::join!(archive.import(&folder), archive.import(&folder));
    assert_eq!(a.refused, vec![]);
    assert_eq!(b.refused, vec![]);
    assert_eq!(a.archived + b.archived, 40);
    assert_eq!(a.already_archived + b.already_archived, 40);
    assert_eq!(archive.count("document_version").await, 40);
    assert_eq!(archive.count("archive_state").await, 40);
    archive.finish().await;
}

#[tokio::test]
async fn the_database_refuses_to_change_stored_bytes() {
    let archive = TestArchive::new().await;
    let folder = archive.folder("one", &generated(1));
    assert_eq!(archive.import(&folder).await.archived, 1);

    let mut connection = PgConnection::connect(&database_url(&archive.name))
        .await
        .expect("connect");
    // The application's role has no UPDATE or DELETE privilege on stored bytes at all ...
    let mut tx = connection.begin().await.expect("begin");
    sqlx::query("SET LOCAL ROLE archivist_app")
        .execute(&mut *tx)
        .await
        .expect("become the application role");
    let error = sqlx::query("UPDATE stored_bytes SET bytes = 'x'::bytea")
        .execute(&mut *tx)
        .await
        .expect_err("the application role may not update stored bytes");
    assert!(error.to_string().contains("permission denied"), "{error}");
    tx.rollback().await.expect("rollback");

    // ... and even the owner is stopped by the triggers.
    for statement in [
        "UPDATE stored_bytes SET bytes = 'x'::bytea",
        "DELETE FROM stored_bytes",
        "TRUNCATE stored_bytes CASCADE",
        "UPDATE rendition SET bytes = 'x'::bytea",
        "DELETE FROM archive_event",
    ] {
        let error = sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("is immutable") || error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert_eq!(archive.count("stored_bytes").await, 2);
    archive.finish().await;
}

/// The first set of the generated chunk with at least `versions` versions: its file stems in
/// version order.
fn set_with_versions(files: &[(String, Vec<u8>)], versions: u32) -> Vec<String> {
    let index = files
        .iter()
        .find_map(|(name, _)| {
            name.strip_prefix(&format!("v{versions}-"))
                .and_then(|rest| rest.strip_suffix(".xml"))
                .filter(|rest| !rest.ends_with(".frame"))
                .map(str::to_owned)
        })
        .expect("a set with enough versions");
    (1..=versions).map(|v| format!("v{v}-{index}")).collect()
}

async fn statuses(pool: &PgPool, oids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for oid in oids {
        out.push(
            sqlx::query_scalar(
                "SELECT status FROM document_version_status WHERE document_oid = $1",
            )
            .bind(oid)
            .fetch_one(pool)
            .await
            .expect("status"),
        );
    }
    out
}

#[tokio::test]
async fn versions_get_their_status_whatever_order_they_arrive_in() {
    let archive = TestArchive::new().await;
    let files = generated(300);
    let stems = set_with_versions(&files, 3);
    let pair = |stem: &str, as_name: &str| {
        vec![
            (
                format!("{as_name}.xml"),
                file(&files, &format!("{stem}.xml")).to_vec(),
            ),
            (
                format!("{as_name}.frame.xml"),
                file(&files, &format!("{stem}.frame.xml")).to_vec(),
            ),
        ]
    };
    let oids: Vec<String> = stems
        .iter()
        .map(|s| document_oid(file(&files, &format!("{s}.xml"))))
        .collect();

    // Version 3 alone: the version it replaces is not archived, so it is refused.
    let lonely = archive.folder("v3-alone", &pair(&stems[2], "v3"));
    let summary = archive.import(&lonely).await;
    assert_eq!(summary.refused.len(), 1);
    assert!(
        summary.refused[0].1.contains("is not in the archive"),
        "{:?}",
        summary.refused
    );
    assert_eq!(
        archive.count("document_version").await,
        0,
        "nothing of it is stored"
    );

    // All three, named so that the newest comes first: the importer retries until they fit.
    let mut reversed = pair(&stems[2], "a");
    reversed.extend(pair(&stems[1], "b"));
    reversed.extend(pair(&stems[0], "c"));
    let folder = archive.folder("reversed", &reversed);
    let summary = archive.import(&folder).await;
    assert_eq!(summary.refused, vec![]);
    assert_eq!(summary.archived, 3);
    let nullified = String::from_utf8_lossy(file(&files, &format!("{}.frame.xml", stems[2])))
        .contains(r#"completionCode code="NU""#);
    let expected = if nullified {
        ["nullified", "nullified", "nullified"]
    } else {
        ["replaced", "replaced", "current"]
    };
    assert_eq!(statuses(&archive.pool, &oids).await, expected);

    // Each change of status is an archive event of the version it happened to.
    let first_events: Vec<String> = sqlx::query_scalar(
        "SELECT event FROM archive_event WHERE document_oid = $1 ORDER BY occurred_at, id",
    )
    .bind(&oids[0])
    .fetch_all(&archive.pool)
    .await
    .expect("events");
    let expected_events: &[&str] = if nullified {
        &["archived", "replaced", "nullified"]
    } else {
        &["archived", "replaced"]
    };
    assert_eq!(first_events, expected_events);

    let (set_status, current): (String, String) =
        sqlx::query_as("SELECT status, current_document_oid FROM document_set WHERE set_oid = $1")
            .bind(&oids[0])
            .fetch_one(&archive.pool)
            .await
            .expect("set");
    assert_eq!(current, oids[2]);
    assert_eq!(set_status, if nullified { "nullified" } else { "current" });
    archive.finish().await;
}

#[tokio::test]
async fn a_nullification_nullifies_the_whole_set() {
    let archive = TestArchive::new().await;
    let files = generated(1000);
    let nullifying = files
        .iter()
        .find(|(name, bytes)| {
            name.ends_with(".frame.xml")
                && String::from_utf8_lossy(bytes).contains(r#"completionCode code="NU""#)
        })
        .map(|(name, _)| name.trim_end_matches(".frame.xml").to_owned())
        .expect("the generator nullifies some sets");
    let folder = archive.folder("all", &files);
    assert_eq!(archive.import(&folder).await.refused, vec![]);
    let oid = document_oid(file(&files, &format!("{nullifying}.xml")));
    let (set_status, versions): (String, Vec<String>) = sqlx::query_as(
        "SELECT d.status, array_agg(v.status ORDER BY v.version_number)
         FROM document_version_status v JOIN document_set d USING (controller_oid, set_oid)
         WHERE d.set_oid = (SELECT set_oid FROM document_version WHERE document_oid = $1)
         GROUP BY d.status",
    )
    .bind(&oid)
    .fetch_one(&archive.pool)
    .await
    .expect("set");
    assert_eq!(set_status, "nullified");
    assert!(versions.iter().all(|s| s == "nullified"), "{versions:?}");
    let completion: String =
        sqlx::query_scalar("SELECT completion_code FROM archive_state WHERE document_oid = $1")
            .bind(&oid)
            .fetch_one(&archive.pool)
            .await
            .expect("state");
    assert_eq!(completion, "NU");
    archive.finish().await;
}

fn replace_once(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

#[tokio::test]
async fn damaged_files_are_refused_by_name_and_the_rest_is_archived() {
    let archive = TestArchive::new().await;
    let files = generated(300);
    let good = file(&files, "v1-0000.xml").to_vec();
    let good_frame = file(&files, "v1-0000.frame.xml").to_vec();
    let base = file(&files, "v1-0001.xml");
    let oid = document_oid(base);
    let v2_stem = &set_with_versions(&files, 2)[1];
    let v2_alone = file(&files, &format!("{v2_stem}.xml")).to_vec();
    let disagreeing = (
        file(&files, "v1-0002.xml").to_vec(),
        replace_once(
            file(&files, "v1-0002.frame.xml"),
            r#"<versionNumber value="1"/>"#,
            r#"<versionNumber value="9"/>"#,
        ),
    );
    let xhtml_start = String::from_utf8_lossy(file(&files, "v1-0003.xml"))
        .split(r#"representation="B64">"#)
        .nth(1)
        .map(|rest| rest[..8].to_owned())
        .expect("base64");

    let damaged = vec![
        ("00-good.xml".to_owned(), good),
        ("00-good.frame.xml".to_owned(), good_frame),
        (
            "01-truncated.xml".to_owned(),
            base[..base.len() / 2].to_vec(),
        ),
        (
            "02-wrong-root.xml".to_owned(),
            b"<html><body>not a document</body></html>".to_vec(),
        ),
        (
            "03-no-id.xml".to_owned(),
            replace_once(base, &format!(r#"<id root="{oid}"/>"#), ""),
        ),
        (
            "04-bad-base64.xml".to_owned(),
            replace_once(file(&files, "v1-0003.xml"), &xhtml_start, "*!*!*!*!"),
        ),
        ("05-unknown-predecessor.xml".to_owned(), v2_alone),
        ("06-disagreeing.xml".to_owned(), disagreeing.0),
        ("06-disagreeing.frame.xml".to_owned(), disagreeing.1),
    ];
    let folder = archive.folder("damaged", &damaged);
    // A 200 MB file (sparse: it takes no disk space) is refused before it is read.
    let huge = std::fs::File::create(folder.join("07-huge.xml")).expect("create");
    huge.set_len(200 * 1024 * 1024).expect("grow");

    let summary = archive.import(&folder).await;
    assert_eq!(summary.archived, 1, "{:?}", summary.refused);
    let reason = |name: &str| {
        summary
            .refused
            .iter()
            .find(|(file, _)| file.ends_with(name))
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| panic!("{name} is reported: {:?}", summary.refused))
    };
    assert!(reason("01-truncated.xml").contains("not well-formed XML"));
    assert!(reason("02-wrong-root.xml").contains("root element is html"));
    assert!(reason("03-no-id.xml").contains("ClinicalDocument/id"));
    assert!(reason("04-bad-base64.xml").contains("base64"));
    assert!(reason("05-unknown-predecessor.xml").contains("is not in the archive"));
    assert!(reason("06-disagreeing.xml").contains("versionNumber"));
    assert!(reason("07-huge.xml").contains("limit"));
    assert_eq!(summary.refused.len(), 7, "{:?}", summary.refused);

    // An unreadable path is refused too, and nothing of any refused file was stored.
    let missing = archive.dir.path().join("no-such-file.xml");
    let summary = archive.import(&missing).await;
    assert!(
        summary.refused[0].1.contains("cannot read the file"),
        "{:?}",
        summary.refused
    );
    for table in [
        "document_version",
        "document_set",
        "archive_state",
        "archive_event",
    ] {
        assert_eq!(archive.count(table).await, 1, "{table}");
    }
    assert_eq!(archive.count("stored_bytes").await, 2);
    archive.finish().await;
}

#[tokio::test]
async fn a_database_that_goes_away_refuses_each_document_with_the_reason() {
    let archive = TestArchive::new().await;
    let folder = archive.folder("batch", &generated(5));
    // The database disappears under the importer (its connections are terminated).
    drop_database(&archive.name).await;

    let summary = archive.import(&folder).await;
    assert_eq!(summary.archived, 0);
    assert_eq!(summary.refused.len(), 5, "{:?}", summary.refused);
    assert!(
        summary
            .refused
            .iter()
            .all(|(_, reason)| reason.starts_with("the database refused the document")),
        "{:?}",
        summary.refused
    );
    archive.pool.close().await;
}
