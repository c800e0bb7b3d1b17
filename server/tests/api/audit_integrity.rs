//! The tamper-evident audit log: a superuser's every way of changing the record is found by
//! `verify`, proofs check offline, and two sealers with writers around them keep one chain.
//! Each tampering is done the way an insider with the database's superuser login would: with
//! the append-only triggers switched off for the session.

use std::{path::Path, sync::Arc, time::Duration};

use sqlx::{PgConnection, PgPool};

use server::audit::{
    checkpoint::{self, SigningKey},
    proof::{self, CheckError, Proof},
    seal::{SealSettings, Sealer},
    verify::{self, Finding, Report},
};

use crate::helpers::{
    TestApp, TestDatabase, archivist, create_database, database_url, migrate_as_owner,
    serving_database_url,
};

struct Log {
    database: TestDatabase,
    pool: PgPool,
    dir: tempfile::TempDir,
    key: Arc<SigningKey>,
}

impl Log {
    /// `rows` audit rows (ids 1..=half and 1001.., a gap as a rolled-back insert leaves),
    /// sealed with a checkpoint every 10 rows, the checkpoints also in `sink()`.
    async fn sealed(rows: i64) -> Self {
        let database = create_database().await;
        let pool = PgPool::connect(&database_url(&database))
            .await
            .expect("connect");
        server::db::migrate(&pool).await.expect("migrate");
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("sink")).expect("sink");
        let key = Arc::new(SigningKey::generate(&dir.path().join("signing.key")).expect("key"));
        let log = Self {
            database,
            pool,
            dir,
            key,
        };
        log.write(rows / 2).await;
        sqlx::query("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), 1000)")
            .execute(&log.pool)
            .await
            .expect("gap");
        log.write(rows - rows / 2).await;
        let round = log.sealer(10).seal().await.expect("seal");
        assert_eq!(round.chain_length, rows as u64);
        log
    }

    fn sink(&self) -> std::path::PathBuf {
        self.dir.path().join("sink")
    }

    fn sealer(&self, batch: i64) -> Sealer {
        Sealer::new(
            self.pool.clone(),
            SealSettings {
                key: Some(self.key.clone()),
                sink: Some(self.sink()),
                checkpoint_interval: Duration::from_secs(3600),
                checkpoint_rows: 10,
                batch,
            },
        )
    }

    async fn write(&self, rows: i64) {
        sqlx::query(
            "INSERT INTO audit_log (action, outcome, operator, card_number, details)
             SELECT 'document.viewed', 'success', 'tester', '99900000' || g,
                    jsonb_build_object('client', 'secret-client-' || g)
             FROM generate_series(1, $1) g",
        )
        .bind(rows)
        .execute(&self.pool)
        .await
        .expect("write rows");
    }

    /// A superuser's session with the triggers off.
    async fn insider(&self) -> PgConnection {
        let mut conn = sqlx::Connection::connect(&database_url(&self.database))
            .await
            .expect("connect");
        sqlx::query("SET session_replication_role = replica")
            .execute(&mut conn)
            .await
            .expect("triggers off");
        conn
    }

    async fn verify(&self) -> Report {
        let mut conn = self.pool.acquire().await.expect("conn");
        verify::verify(&mut conn, &[self.key.public_key()], &[self.sink()])
            .await
            .expect("verify runs")
    }

    async fn run(&self, conn: &mut PgConnection, sql: &str) {
        sqlx::query(sql).execute(&mut *conn).await.expect(sql);
    }
}

fn has(report: &Report, wanted: impl Fn(&Finding) -> bool) -> bool {
    report.findings.iter().any(wanted)
}

#[tokio::test]
async fn an_untouched_log_verifies_and_its_proofs_check_offline() {
    let log = Log::sealed(60).await;
    let report = log.verify().await;
    assert!(report.intact(), "{:?}", report.findings);
    assert_eq!(report.chain_length, 60);
    // 10, 20, ... 60: in the database and in the sink, the same ones.
    assert_eq!(report.checkpoints_checked, 6);
    assert_eq!(checkpoint::read_dir(&log.sink()).expect("sink").len(), 1);
    assert_eq!(report.newest_checkpoint.map(|c| c.0), Some(60));

    let mut conn = log.pool.acquire().await.expect("conn");
    let key = log.key.public_key();
    for seq in [1, 7, 31, 60] {
        let made = proof::prove_inclusion(&mut conn, seq, None)
            .await
            .expect("prove");
        let text = serde_json::to_string(&made).expect("json");
        let read: Proof = serde_json::from_str(&text).expect("read back");
        proof::check(&read, &key).expect("the proof holds");
    }
    let made = proof::prove_inclusion(&mut conn, 31, Some(40))
        .await
        .expect("prove in an older checkpoint");
    proof::check(&made, &key).expect("holds");
    // A row changed in the proof, or another key: refused.
    let Proof::Inclusion {
        seq,
        mut row,
        path,
        checkpoint,
    } = made
    else {
        panic!("an inclusion proof");
    };
    row.card_number = Some("someone-else".into());
    let forged = Proof::Inclusion {
        seq,
        row,
        path,
        checkpoint,
    };
    assert_eq!(
        proof::check(&forged, &key),
        Err(CheckError::NotIncluded(40))
    );
    let stranger = SigningKey::generate(&log.dir.path().join("stranger")).expect("key");
    let honest = proof::prove_inclusion(&mut conn, 3, None)
        .await
        .expect("prove");
    assert_eq!(
        proof::check(&honest, &stranger.public_key()),
        Err(CheckError::Signature(60))
    );

    for (old, new) in [(10, 60), (20, 30), (30, 50)] {
        let made = proof::prove_consistency(&mut conn, old, new)
            .await
            .expect("prove consistency");
        proof::check(&made, &key).expect("the log only grew");
    }
    assert!(
        proof::prove_inclusion(&mut conn, 61, None).await.is_err(),
        "a row beyond the newest checkpoint has no proof yet"
    );
}

#[tokio::test]
async fn an_altered_field_of_an_old_row_is_found() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    log.run(
        &mut insider,
        "UPDATE audit_log SET card_number = '11111111' WHERE id = 5",
    )
    .await;
    let report = log.verify().await;
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::RowAltered {
                seq: 5,
                audit_id: 5,
                ..
            }
        )),
        "{:?}",
        report.findings
    );
    assert!(has(&report, |f| matches!(
        f,
        Finding::CheckpointMismatch { tree_size: 10, .. }
    )));
    // Where, never what: no row's contents in the findings.
    let text: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert!(!text.join("\n").contains("11111111"), "{text:?}");
}

#[tokio::test]
async fn a_row_deleted_in_the_middle_is_found() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    log.run(&mut insider, "DELETE FROM audit_log WHERE id = 1003")
        .await;
    let report = log.verify().await;
    // ids 1..=20 are seq 1..=20, id 1003 is seq 23.
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::RowDeleted {
                seq: 23,
                audit_id: 1003
            }
        )),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn the_newest_rows_deleted_with_their_links_are_found_against_the_checkpoint() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    log.run(&mut insider, "DELETE FROM audit_chain WHERE seq > 35")
        .await;
    log.run(&mut insider, "DELETE FROM audit_log WHERE id > 1015")
        .await;
    let report = log.verify().await;
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::RowsMissingAtEnd {
                tree_size: 40,
                chain_length: 35,
                ..
            }
        )),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn a_forged_row_among_sealed_ones_is_found() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    log.run(
        &mut insider,
        "INSERT INTO audit_log (id, occurred_at, action, outcome, operator)
         OVERRIDING SYSTEM VALUE
         VALUES (500, now() - interval '1 day', 'document.viewed', 'success', 'alibi')",
    )
    .await;
    let report = log.verify().await;
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::RowNotSealed { audit_id: 500, .. }
        )),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn two_rows_with_swapped_sequence_numbers_are_found() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    log.run(
        &mut insider,
        "UPDATE audit_chain SET seq = 999999 WHERE seq = 12",
    )
    .await;
    log.run(
        &mut insider,
        "UPDATE audit_chain SET seq = 12 WHERE seq = 17",
    )
    .await;
    log.run(
        &mut insider,
        "UPDATE audit_chain SET seq = 17 WHERE seq = 999999",
    )
    .await;
    let report = log.verify().await;
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::OutOfOrder {
                seq: 13,
                audit_id: 13
            }
        )),
        "{:?}",
        report.findings
    );
    assert!(has(&report, |f| matches!(
        f,
        Finding::RowAltered { seq: 12, .. }
    )));
}

#[tokio::test]
async fn a_range_rewritten_with_a_recomputed_chain_is_caught_by_the_signed_checkpoints() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    // The insider rewrites rows 15..=25 and rebuilds the chain and tree with our own sealer;
    // only the key is out of reach, so no new checkpoint can be signed.
    log.run(
        &mut insider,
        "UPDATE audit_log SET details = '{\"client\": \"nobody\"}' WHERE id BETWEEN 15 AND 1005",
    )
    .await;
    log.run(&mut insider, "DELETE FROM audit_chain").await;
    log.run(&mut insider, "DELETE FROM audit_tree").await;
    let rebuilt = Sealer::new(
        log.pool.clone(),
        SealSettings {
            key: None,
            sink: None,
            checkpoint_interval: Duration::from_secs(3600),
            checkpoint_rows: 10,
            batch: 1000,
        },
    )
    .seal()
    .await
    .expect("reseal");
    assert_eq!(rebuilt.chain_length, 40);
    let report = log.verify().await;
    // The chain is consistent in itself: no row is flagged on its own...
    assert!(
        !has(&report, |f| matches!(f, Finding::RowAltered { .. })),
        "{:?}",
        report.findings
    );
    // ...but every checkpoint from 20 rows on no longer matches, and the first still does.
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::CheckpointMismatch {
                tree_size: 20,
                matched_up_to: 10,
                ..
            }
        )),
        "{:?}",
        report.findings
    );
    assert!(!has(&report, |f| matches!(
        f,
        Finding::CheckpointMismatch { tree_size: 10, .. }
    )));
}

#[tokio::test]
async fn a_replaced_checkpoint_is_caught_by_its_signature_and_the_sink() {
    let log = Log::sealed(40).await;
    let mut insider = log.insider().await;
    // The sink holds the newest checkpoint (40); the insider replaces that one in the database,
    // once with a bare new root and once signed with a key of their own.
    log.run(
        &mut insider,
        "UPDATE audit_checkpoint SET root_hash = repeat('ab', 32) WHERE tree_size = 40",
    )
    .await;
    let report = log.verify().await;
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::BadSignature { tree_size: 40, source } if source == "the database"
        )),
        "{:?}",
        report.findings
    );
    assert!(has(&report, |f| matches!(
        f,
        Finding::CheckpointReplaced { tree_size: 40, .. }
    )));

    let own = SigningKey::generate(&log.dir.path().join("insider.key")).expect("key");
    let forged = own.sign(40, [7; 32], [7; 32], time::OffsetDateTime::now_utc());
    sqlx::query(
        "UPDATE audit_checkpoint SET root_hash = $1, chain_hash = $2, key_id = $3,
                signature = $4 WHERE tree_size = 40",
    )
    .bind(&forged.root_hash)
    .bind(&forged.chain_hash)
    .bind(&forged.key_id)
    .bind(&forged.signature)
    .execute(&mut insider)
    .await
    .expect("forge");
    let report = log.verify().await;
    assert!(
        has(&report, |f| matches!(
            f,
            Finding::BadSignature { tree_size: 40, .. }
        )),
        "{:?}",
        report.findings
    );
}

/// A sealing round that gave up waiting for the insert barrier (`lock_timeout`), or whose
/// session PostgreSQL ended while it held the barrier idle (`idle_in_transaction_session_timeout`).
fn gave_up_waiting(error: &server::audit::seal::SealError) -> bool {
    let server::audit::seal::SealError::Database(error) = error else {
        return false;
    };
    let code = error.as_database_error().and_then(|e| e.code());
    matches!(code.as_deref(), Some("55P03" | "25P03"))
}

#[tokio::test]
async fn two_sealers_among_concurrent_writers_keep_one_gapless_chain_in_id_order() {
    let log = Log::sealed(2).await;
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let pool = log.pool.clone();
            tokio::spawn(async move {
                for _ in 0..150 {
                    // Some in transactions that write more after the row (as changes do).
                    let mut tx = pool.begin().await.expect("begin");
                    sqlx::query(
                        "INSERT INTO audit_log (action, outcome, operator)
                         VALUES ('document.viewed', 'success', 'w')",
                    )
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                    tokio::task::yield_now().await;
                    tx.commit().await.expect("commit");
                }
            })
        })
        .collect();
    let sealers: Vec<_> = (0..2)
        .map(|_| {
            let sealer = log.sealer(37);
            tokio::spawn(async move {
                for _ in 0..40 {
                    // A round that cannot take the barrier within its 2 s (the writers' threads
                    // starved on a loaded machine) gives up and the next round goes on, as in
                    // the server; any other failure is a failure.
                    if let Err(error) = sealer.seal().await {
                        assert!(gave_up_waiting(&error), "{error}");
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    for task in writers {
        task.await.expect("writer");
    }
    for task in sealers {
        task.await.expect("sealer");
    }
    log.sealer(1000).seal().await.expect("last round");
    let (rows, links, ordered): (i64, i64, bool) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM audit_log),
                (SELECT count(*) FROM audit_chain),
                (SELECT bool_and(ordered) FROM (
                    SELECT audit_id > coalesce(lag(audit_id) OVER (ORDER BY seq), 0)
                           AND seq = row_number() OVER (ORDER BY seq) AS ordered
                    FROM audit_chain) s)",
    )
    .fetch_one(&log.pool)
    .await
    .expect("count");
    assert_eq!(rows, 602);
    assert_eq!(links, 602);
    assert!(ordered, "seq 1..n without gaps, ids rising");
    let report = log.verify().await;
    assert!(report.intact(), "{:?}", report.findings);
}

#[tokio::test]
async fn a_sealer_stalled_on_the_insert_barrier_holds_writers_up_for_seconds_only() {
    let log = Log::sealed(4).await;
    let mut stalled: PgConnection = sqlx::Connection::connect(&database_url(&log.database))
        .await
        .expect("connect");
    let barrier = server::audit::seal::hold_insert_barrier(&mut stalled)
        .await
        .expect("barrier");
    // The holder now does nothing, as a frozen process would. The guard only keeps a broken
    // bound from hanging the suite; the bound itself is the server's 3 s idle limit.
    let written = tokio::time::timeout(Duration::from_secs(30), log.write(1)).await;
    assert!(
        written.is_ok(),
        "a writer still waits behind a stalled barrier"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&log.pool)
        .await
        .expect("count");
    assert_eq!(rows, 5);
    // PostgreSQL ended the stalled session: its transaction cannot commit.
    assert!(barrier.commit().await.is_err());
}

async fn run_audit(database: &str, config: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config", config.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    archivist(database, &all).await
}

#[tokio::test]
async fn the_commands_give_documented_exit_codes_and_name_no_contents() {
    let log = Log::sealed(30).await;
    let key_file = log.dir.path().join("signing.key");
    let config = log.dir.path().join("archivist.toml");
    std::fs::write(
        &config,
        format!(
            "[audit]\nsigning_key_file = {:?}\ncheckpoint_dir = {:?}\n",
            key_file.display().to_string(),
            log.sink().display().to_string()
        ),
    )
    .expect("config");
    let printed = run_audit(&log.database, &config, &["audit", "public-key"]).await;
    assert!(printed.status.success());
    let public_key = log.dir.path().join("audit.pub");
    std::fs::write(&public_key, &printed.stdout).expect("public key");
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout).trim(),
        log.key.public_key().to_string()
    );

    let intact = run_audit(&log.database, &config, &["audit", "verify"]).await;
    let out = String::from_utf8_lossy(&intact.stdout);
    assert_eq!(intact.status.code(), Some(0), "{out}");
    assert!(out.contains("intact") && out.contains("30 rows"), "{out}");

    let proved = run_audit(&log.database, &config, &["audit", "prove", "7"]).await;
    assert!(
        proved.status.success(),
        "{}",
        String::from_utf8_lossy(&proved.stderr)
    );
    let proof_file = log.dir.path().join("proof.json");
    std::fs::write(&proof_file, &proved.stdout).expect("proof");
    let pk = public_key.to_str().expect("utf-8");
    let pf = proof_file.to_str().expect("utf-8");
    let checked = run_audit(
        &log.database,
        &config,
        &["audit", "check-proof", pf, "--public-key", pk],
    )
    .await;
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{out}");
    assert!(out.contains("holds: row seq 7"), "{out}");
    let doctored = String::from_utf8_lossy(&proved.stdout).replace("99900000", "88800000");
    std::fs::write(&proof_file, doctored).expect("doctored");
    let refused = run_audit(
        &log.database,
        &config,
        &["audit", "check-proof", pf, "--public-key", pk],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not hold"));

    let mut insider = log.insider().await;
    log.run(
        &mut insider,
        "UPDATE audit_log SET operator = 'someone' WHERE id = 3",
    )
    .await;
    let tampered = run_audit(&log.database, &config, &["audit", "verify"]).await;
    let out = String::from_utf8_lossy(&tampered.stdout);
    assert_eq!(tampered.status.code(), Some(1), "{out}");
    assert!(out.contains("TAMPERED: seq 3: row id 3"), "{out}");
    assert!(
        !out.contains("secret-client") && !out.contains("99900000"),
        "{out}"
    );

    let missing_key = run_audit(
        &log.database,
        &config,
        &["audit", "verify", "--public-key", "/nonexistent/audit.pub"],
    )
    .await;
    assert_eq!(missing_key.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing_key.stderr).contains("/nonexistent/audit.pub"));
}

#[tokio::test]
async fn a_serving_instance_seals_its_rows_and_writes_checkpoints_to_the_sink() {
    let dir = tempfile::tempdir().expect("dir");
    let key_file = dir.path().join("signing.key");
    let key = SigningKey::generate(&key_file).expect("key");
    let sink = dir.path().join("sink");
    std::fs::create_dir(&sink).expect("sink");
    let (k, s) = (key_file.clone(), sink.clone());
    let app = TestApp::spawn_with(move |settings| {
        settings.audit.signing_key_file = Some(k);
        settings.audit.checkpoint_dir = Some(s);
        settings.audit.seal_interval_millis = 50;
        settings.audit.checkpoint_interval_secs = 1;
    })
    .await;
    for _ in 0..3 {
        let response = app.client(Some("archivist-1")).get("/").await.expect("get");
        assert_eq!(response.status, 200);
    }
    let mut db = app.db().await;
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert!(written >= 1);
    // Bounded wait for the next rounds (50 ms apart) and a checkpoint (1 s apart).
    let mut sealed = 0;
    for _ in 0..100 {
        let files = checkpoint::read_dir(&sink).expect("sink");
        if files
            .last()
            .is_some_and(|(_, c)| c.tree_size >= written as u64)
        {
            sealed = files.last().map(|(_, c)| c.tree_size).unwrap_or_default();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        sealed >= written as u64,
        "no checkpoint covered the rows in 10 s"
    );
    let report = verify::verify(&mut db, &[key.public_key()], &[sink])
        .await
        .expect("verify");
    assert!(report.intact(), "{:?}", report.findings);
    app.stop().await;
}

/// The SQLSTATE of a statement that must fail.
async fn refused(conn: &mut PgConnection, sql: &str) -> String {
    match sqlx::query(sql).execute(&mut *conn).await {
        Ok(_) => panic!("the serving login may: {sql}"),
        Err(e) => e
            .as_database_error()
            .and_then(|d| d.code().map(|c| c.into_owned()))
            .unwrap_or_else(|| e.to_string()),
    }
}

#[tokio::test]
async fn the_serving_login_owns_nothing_and_can_only_add_to_the_log() {
    let database = create_database().await;
    migrate_as_owner(&database).await;
    let mut conn: PgConnection = sqlx::Connection::connect(&serving_database_url(&database).await)
        .await
        .expect("the serving login connects");
    let owned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
         WHERE r.rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count");
    assert_eq!(owned, 0, "the serving login owns a table");
    sqlx::query(
        "INSERT INTO audit_log (action, outcome, operator) VALUES ('document.viewed', 'success', 'x')",
    )
    .execute(&mut conn)
    .await
    .expect("it adds to the log");
    const DENIED: &str = "42501";
    for sql in [
        "UPDATE audit_log SET operator = 'y'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DELETE FROM audit_chain",
        "UPDATE audit_checkpoint SET root_hash = root_hash",
        "DROP TRIGGER audit_log_seal_barrier ON audit_log",
        // Client data only through archivist_app, in a scoped transaction.
        "SELECT * FROM document_version",
        "SELECT * FROM stored_bytes",
    ] {
        assert_eq!(refused(&mut conn, sql).await, DENIED, "{sql}");
    }
    let mut tx = sqlx::Connection::begin(&mut conn).await.expect("begin");
    sqlx::query("SET LOCAL ROLE archivist_app")
        .execute(&mut *tx)
        .await
        .expect("it may take the archivists' role");
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM document_version")
        .fetch_one(&mut *tx)
        .await
        .expect("scoped read");
    assert_eq!(visible, 0, "no scope set, nothing shown");
    tx.rollback().await.expect("rollback");

    // A schema that is behind: the serving login says what to do instead of half-migrating.
    let behind = create_database().await;
    let site = tempfile::tempdir().expect("site");
    let mut settings = crate::helpers::settings(&behind, site.path());
    settings.database.url = Some(serving_database_url(&behind).await);
    let error = match server::startup::Application::build(&settings).await {
        Ok(_) => panic!("the server started on an unmigrated database"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("not applied") && error.contains("archivist migrate"),
        "{error}"
    );
}
