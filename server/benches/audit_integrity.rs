//! The tamper-evident audit log's costs, on a database of its own:
//!
//! 1. **Writes with the seal**: two "instances" (two connection pools, each with its own
//!    sealer signing checkpoints into a directory) write audit rows through the server's own
//!    write path (`audit::record_in`) from 8 tasks each, for `--write-secs`; alternated in one
//!    run with rounds that write the same way with the insert barrier switched off and no
//!    sealer, so the seal's cost is measured side by side. Reports rows/s, the write latency's
//!    p50/p99 and how far sealing lags behind.
//! 2. **Verify**: the log filled to `--verify-rows` rows (bulk insert, then sealed), verified
//!    from start to end; rows/s.
//! 3. **Proofs**: the log filled to `--proof-rows` rows; `--proofs` inclusion proofs of random
//!    rows in the newest checkpoint, each made from the database and checked; p50/p99/max.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p server --bench
//! audit_integrity` (a database `archivist_bench_audit` is created and dropped again). Every loop
//! is bounded in count and time. The results go into `server/benches/RESULTS.md` by hand.

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Parser;
use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};

use server::audit::{
    self, AuditAction, AuditEvent, Outcome,
    checkpoint::SigningKey,
    proof,
    seal::{SealSettings, Sealer},
    verify,
};

#[derive(Parser)]
struct Args {
    /// Seconds per write round (two rounds with the seal, two without, alternating).
    #[arg(long, default_value_t = 15)]
    write_secs: u64,
    #[arg(long, default_value_t = 1_000_000)]
    verify_rows: i64,
    #[arg(long, default_value_t = 10_000_000)]
    proof_rows: i64,
    #[arg(long, default_value_t = 1_000)]
    proofs: usize,
    /// Ignored: cargo bench passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

const DATABASE: &str = "archivist_bench_audit";

fn url(database: &str) -> String {
    let base = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        eprintln!("set DATABASE_URL to a PostgreSQL server where the bench may create a database");
        std::process::exit(2)
    });
    let mut url = url::Url::parse(&base).unwrap_or_else(|e| {
        eprintln!("DATABASE_URL: {e}");
        std::process::exit(2)
    });
    url.set_path(&format!("/{database}"));
    url.to_string()
}

async fn admin() -> PgConnection {
    PgConnection::connect(&std::env::var("DATABASE_URL").unwrap_or_default())
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot connect to DATABASE_URL: {e}");
            std::process::exit(2)
        })
}

async fn exec(pool: &PgPool, sql: &str) {
    if let Err(e) = sqlx::query(sql).execute(pool).await {
        eprintln!("{sql}: {e}");
        std::process::exit(1);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct WriteRound {
    rows: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
    /// From the writers' end until the chain held every row.
    seal_lag: Option<Duration>,
}

async fn write_round(pools: &[PgPool; 2], sealers: Option<&[Sealer; 2]>, secs: u64) -> WriteRound {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let seal_tasks: Vec<_> = sealers
        .map(|s| {
            s.iter()
                .map(|sealer| tokio::spawn(sealer.clone().run(Duration::from_secs(1))))
                .collect()
        })
        .unwrap_or_default();
    let started = Instant::now();
    let mut writers = Vec::new();
    for pool in pools {
        for task in 0..8u8 {
            let pool = pool.clone();
            writers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let details = serde_json::json!({ "controllers": ["1.2.246.10.1"], "rows": 20 });
                // Bounded by time and by count.
                while Instant::now() < deadline && latencies.len() < 1_000_000 {
                    let t = Instant::now();
                    let written = audit::record_in(
                        &pool,
                        &AuditEvent {
                            action: AuditAction::DocumentViewed,
                            outcome: Outcome::Success,
                            client_address: IpAddr::V4(Ipv4Addr::new(10, 0, 0, task)),
                            certificate: None,
                            card_number: Some("9999000001"),
                            controller_oid: Some("1.2.246.10.1"),
                            document_oid: Some("1.2.246.10.1.99.2026.123456"),
                            details: Some(details.clone()),
                        },
                    )
                    .await;
                    if written.is_ok() {
                        latencies.push(t.elapsed());
                    }
                }
                latencies
            }));
        }
    }
    let mut latencies = Vec::new();
    for writer in writers {
        latencies.extend(writer.await.unwrap_or_default());
    }
    let secs_taken = started.elapsed().as_secs_f64();
    let ended = Instant::now();
    let mut seal_lag = None;
    if sealers.is_some() {
        for _ in 0..600 {
            let (rows, links): (i64, i64) = sqlx::query_as(
                "SELECT (SELECT coalesce(max(id), 0) FROM audit_log),
                        (SELECT coalesce(max(audit_id), 0) FROM audit_chain)",
            )
            .fetch_one(&pools[0])
            .await
            .unwrap_or((1, 0));
            if rows == links {
                seal_lag = Some(ended.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    for task in seal_tasks {
        task.abort();
    }
    latencies.sort();
    WriteRound {
        rows: latencies.len() as u64,
        secs: secs_taken,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        seal_lag,
    }
}

/// Adds rows up to `total` with realistic contents, in bulk, then seals them.
async fn fill(pool: &PgPool, sealer: &Sealer, total: i64) -> Duration {
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap_or(0);
    let mut start = have;
    while start < total {
        let end = (start + 500_000).min(total);
        exec(
            pool,
            &format!(
                "INSERT INTO audit_log (occurred_at, action, outcome, client_address, card_number,
                                        controller_oid, document_oid, details, certificate_subject,
                                        public_key_sha256)
                 SELECT now() - make_interval(secs => {total} - g), 'document.viewed', 'success',
                        '10.1.2.3', '99990000' || (g % 500), '1.2.246.10.' || (g % 7),
                        '1.2.246.10.1.99.2026.' || g,
                        jsonb_build_object('controllers', jsonb_build_array('1.2.246.10.' || (g % 7))),
                        'CN=Archivist ' || (g % 500) || ',C=FI',
                        md5(g::text) || md5((g + 1)::text)
                 FROM generate_series({start} + 1, {end}) g"
            ),
        )
        .await;
        start = end;
    }
    let began = Instant::now();
    // Bounded: each round seals at least one batch, and the log is finite.
    for _ in 0..10_000 {
        match sealer.seal().await {
            Ok(round) if round.chain_length >= total as u64 => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("sealing failed: {e}");
                std::process::exit(1);
            }
        }
    }
    began.elapsed()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut admin = admin().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
    if let Err(e) = sqlx::query(&format!("CREATE DATABASE {DATABASE}"))
        .execute(&mut admin)
        .await
    {
        eprintln!("cannot create {DATABASE}: {e}");
        std::process::exit(2);
    }
    let database_url = url(DATABASE);
    let connect = || {
        PgPoolOptions::new()
            .max_connections(10)
            .connect(&database_url)
    };
    let (Ok(a), Ok(b)) = (connect().await, connect().await) else {
        eprintln!("cannot connect to {DATABASE}");
        std::process::exit(2);
    };
    if let Err(e) = server::db::migrate(&a).await {
        eprintln!("cannot migrate: {e}");
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("temporary directory: {e}");
        std::process::exit(2)
    });
    let key = Arc::new(
        SigningKey::generate(&dir.path().join("signing.key")).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
    );
    let seal_settings = SealSettings {
        key: Some(key.clone()),
        sink: Some(dir.path().to_owned()),
        checkpoint_interval: Duration::from_secs(60),
        checkpoint_rows: 10_000,
        batch: 10_000,
    };
    let pools = [a.clone(), b.clone()];
    let sealers = [
        Sealer::new(a.clone(), seal_settings.clone()),
        Sealer::new(b.clone(), seal_settings.clone()),
    ];

    println!(
        "## writes: two instances, 8 writers each, {} s rounds",
        args.write_secs
    );
    println!("| round | rows/s | write p50 | write p99 | sealed all within |");
    println!("|---|---:|---:|---:|---:|");
    for round in 0..4 {
        let sealed = round % 2 == 1;
        let trigger = if sealed { "ENABLE" } else { "DISABLE" };
        exec(
            &a,
            &format!("ALTER TABLE audit_log {trigger} TRIGGER audit_log_seal_barrier"),
        )
        .await;
        let result = write_round(&pools, sealed.then_some(&sealers), args.write_secs).await;
        if !sealed {
            // The rows written without a sealer join the chain before the next round is timed.
            fill(&a, &sealers[0], 0).await;
        }
        println!(
            "| {} | {:.0} | {} | {} | {} |",
            if sealed {
                "with the seal (barrier + two sealers)"
            } else {
                "without (barrier off, no sealer)"
            },
            result.rows as f64 / result.secs,
            ms(result.p50),
            ms(result.p99),
            result.seal_lag.map(ms).unwrap_or_else(|| if sealed {
                "not in 30 s".into()
            } else {
                "-".into()
            })
        );
    }
    exec(
        &a,
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_seal_barrier",
    )
    .await;

    let took = fill(&a, &sealers[0], args.verify_rows).await;
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_chain")
        .fetch_one(&a)
        .await
        .unwrap_or(0);
    println!(
        "\n## verify at {have} rows (bulk-sealed in {:.1} s)",
        took.as_secs_f64()
    );
    let mut conn = match a.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    for _ in 0..2 {
        let began = Instant::now();
        let report = verify::verify(&mut conn, &[key.public_key()], &[dir.path().to_owned()])
            .await
            .unwrap_or_else(|e| {
                eprintln!("verify: {e}");
                std::process::exit(1)
            });
        let secs = began.elapsed().as_secs_f64();
        println!(
            "verify: {} rows in {secs:.2} s = {:.0} rows/s, {} checkpoints, intact: {}",
            report.chain_length,
            report.chain_length as f64 / secs,
            report.checkpoints_checked,
            report.intact()
        );
        if !report.intact() {
            eprintln!("{:?}", report.findings);
            std::process::exit(1);
        }
    }
    drop(conn);

    let took = fill(&a, &sealers[0], args.proof_rows).await;
    let mut conn = match a.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let size: i64 = sqlx::query_scalar("SELECT max(tree_size) FROM audit_checkpoint")
        .fetch_one(&mut *conn)
        .await
        .unwrap_or(1);
    println!(
        "\n## proofs at {size} rows (filled and sealed in {:.1} s)",
        took.as_secs_f64()
    );
    let mut times = Vec::with_capacity(args.proofs);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..args.proofs {
        // xorshift: a spread of rows without a dependency for randomness.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let seq = state % size as u64 + 1;
        let began = Instant::now();
        let made = proof::prove_inclusion(&mut conn, seq, None).await;
        let elapsed = began.elapsed();
        match made.map(|p| proof::check(&p, &key.public_key())) {
            Ok(Ok(_)) => times.push(elapsed),
            other => {
                eprintln!("proof of {seq}: {other:?}");
                std::process::exit(1);
            }
        }
    }
    times.sort();
    println!(
        "inclusion proof (made from the database): p50 {}, p99 {}, max {} over {} proofs",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(times.last().copied().unwrap_or_default()),
        times.len()
    );
    let size_mb: i64 = sqlx::query_scalar(
        "SELECT (pg_total_relation_size('audit_chain') + pg_total_relation_size('audit_tree')
                 + pg_total_relation_size('audit_checkpoint')) / 1048576",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap_or(0);
    let log_mb: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('audit_log') / 1048576")
        .fetch_one(&mut *conn)
        .await
        .unwrap_or(0);
    println!("storage: the log {log_mb} MB, the seal's tables {size_mb} MB");
    drop(conn);
    a.close().await;
    b.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
}
