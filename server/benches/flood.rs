//! The flood benchmark: one archivist opens the front page at a steady 20 requests a second over
//! a kept-alive connection, first on a quiet server, then while each attack in turn runs at full
//! speed from other loopback addresses for `--seconds` (30). The attackers come from
//! 127.1.0.0/16, spread over many /24 networks as a botnet's would be. For each round it prints
//! the archivist's success ratio and p50/p99 against the quiet round, the server's CPU time and
//! peak resident memory during the round, the audit rows written, and what the attack managed.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p server --bench flood
//! DATABASE_URL=… cargo bench -p server --bench flood -- --seconds 10 --idle 5000
//! ```
//!
//! The server is the release `archivist serve` binary in a process of its own (so that its CPU
//! and memory are its own), with the test PKI and a fresh database that is dropped at the end.
//! Loopback only; every loop is bounded in time and count and stops by itself. Results are in
//! `server/benches/RESULTS.md`.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;

use server::archive::ControllerOid;
use test_support::{
    TestClient, TestDatabase, card, create_database, database_url, migrate_as_owner, pki, seed,
    serving_database_url,
};

#[derive(Parser)]
struct Args {
    /// Seconds each round lasts.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Idle connections the hoarding attack holds open (the process's file limit permitting).
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Attacking tasks at once in the handshake, slow-header and reset floods.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The archivist's pace.
const PAGE_INTERVAL: Duration = Duration::from_millis(50);

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = Server::start().await;
    let round = Duration::from_secs(args.seconds);
    println!(
        "| round | attack managed | archivist ok | p50 ms | p99 ms | server CPU s | server peak RSS MB | audit rows |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let quiet = server.round("quiet", round, Attack::None, &args).await;
    let mut missed = Vec::new();
    for attack in [
        Attack::Handshakes(None),
        Attack::Handshakes(Some("archivist-3")),
        Attack::Handshakes(Some("expired")),
        Attack::SlowHeaders,
        Attack::IdleHoard,
        Attack::RapidReset,
        Attack::CardFlood,
    ] {
        let result = server.round(attack.name(), round, attack, &args).await;
        let ratio = result.p99 / quiet.p99.max(0.001);
        if result.ok < result.sent {
            missed.push(format!(
                "{}: {} of {} pages failed",
                attack.name(),
                result.sent - result.ok,
                result.sent
            ));
        }
        if ratio > 3.0 {
            missed.push(format!("{}: p99 {ratio:.1} × quiet", attack.name()));
        }
        if matches!(attack, Attack::Handshakes(Some("expired"))) && result.audit_rows >= 1_000 {
            missed.push(format!(
                "bad certificates wrote {} audit rows",
                result.audit_rows
            ));
        }
    }
    server.stop().await;
    if missed.is_empty() {
        println!(
            "\nEvery target met: every page served, p99 within 3 × quiet, bad certificates under 1,000 audit rows."
        );
    } else {
        println!("\nTargets missed:\n- {}", missed.join("\n- "));
    }
}

#[derive(Clone, Copy)]
enum Attack {
    None,
    /// Full TLS handshakes as fast as possible, then close: no certificate, a valid card that is
    /// linked to nothing, or a refused (expired) one.
    Handshakes(Option<&'static str>),
    /// Connections that finish TLS and then send a request's headers a byte at a time.
    SlowHeaders,
    /// As many idle TLS connections as `--idle` allows, held to the end of the round.
    IdleHoard,
    /// HTTP/2 streams opened and reset at once, over and over (CVE-2023-44487).
    RapidReset,
    /// Another linked card asking for pages as fast as it can, on 16 connections.
    CardFlood,
}

impl Attack {
    fn name(self) -> &'static str {
        match self {
            Self::None => "quiet",
            Self::Handshakes(None) => "handshake flood, no certificate",
            Self::Handshakes(Some("expired")) => "handshake flood, refused (expired) card",
            Self::Handshakes(Some(_)) => "handshake flood, valid card",
            Self::SlowHeaders => "slow headers (slowloris)",
            Self::IdleHoard => "idle connections hoarded",
            Self::RapidReset => "HTTP/2 rapid reset",
            Self::CardFlood => "one card over its rate",
        }
    }
}

/// The n-th attacking address: 127.1.0.1 and on, 250 to a /24.
fn attacker(n: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        1,
        (n / 250 % 250) as u8,
        (n % 250 + 1) as u8,
    ))
}

/// A TLS connection from the n-th attacking address, or `None` when it could not be made
/// within five seconds.
async fn connect(
    client: &TestClient,
    n: u64,
    alpn: &[u8],
) -> Option<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    tokio::time::timeout(
        Duration::from_secs(5),
        client.tls_from(attacker(n), &[alpn]),
    )
    .await
    .ok()?
    .ok()
}

struct Server {
    child: Child,
    addr: SocketAddr,
    database: TestDatabase,
    owner: PgPool,
    _site: tempfile::TempDir,
}

struct RoundResult {
    sent: u64,
    ok: u64,
    p99: f64,
    audit_rows: i64,
}

impl Server {
    async fn start() -> Self {
        let database = create_database().await;
        migrate_as_owner(&database).await;
        let owner = PgPool::connect(&database_url(&database))
            .await
            .expect("connect");
        let controller = ControllerOid::parse("1.2.246.10.12345670.10.0").expect("oid");
        seed::controller(&owner, &controller, "Tulvakunta").await;
        for number in ["999000110", "99900022B"] {
            seed::link(&owner, &card(number), &controller).await;
        }
        let site = tempfile::tempdir().expect("site");
        std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
        std::fs::write(site.path().join("pkg/archivist.css"), "body{}").expect("css");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let pki = pki();
        let child = Command::new(env!("CARGO_BIN_EXE_archivist"))
            .arg("serve")
            .env("ARCHIVIST_LISTEN", addr.to_string())
            .env("ARCHIVIST_METRICS__LISTEN", "off")
            .env("ARCHIVIST_SITE_ROOT", site.path())
            .env("ARCHIVIST_TLS__CERTIFICATE", pki.file("server.pem"))
            .env("ARCHIVIST_TLS__PRIVATE_KEY", pki.file("server.key"))
            .env(
                "ARCHIVIST_TLS__CLIENT_CA",
                format!("[{}]", pki.file("issuing-ca.pem").display()),
            )
            .env(
                "ARCHIVIST_TLS__CLIENT_CRL",
                format!("[{}]", pki.file("issuing-ca.crl").display()),
            )
            .env("ARCHIVIST_LOG__FILTER", "error")
            .env("DATABASE_URL", serving_database_url(&database).await)
            .stdout(Stdio::null())
            .spawn()
            .expect("start archivist serve");
        let server = Self {
            child,
            addr,
            database,
            owner,
            _site: site,
        };
        let probe = TestClient::new(addr, Some("archivist-1"));
        for _ in 0..100 {
            if probe.get("/healthz").await.is_ok_and(|r| r.status == 200) {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not start");
    }

    async fn audit_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }

    async fn round(
        &self,
        name: &str,
        length: Duration,
        attack: Attack,
        args: &Args,
    ) -> RoundResult {
        let rows_before = self.audit_rows().await;
        let cpu_before = cpu_seconds(self.child.id());
        let stop = Arc::new(AtomicBool::new(false));
        let managed = Arc::new(AtomicU64::new(0));
        let attackers = self.attack(attack, args, &stop, &managed);
        let peak = tokio::spawn(peak_rss(self.child.id(), stop.clone()));
        // The attack gets a second's start, then the archivist works through the round.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let latencies = archivist(self.addr, length).await;
        stop.store(true, Ordering::Relaxed);
        for task in attackers {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        let peak_mb = peak.await.unwrap_or(0) as f64 / 1024.0;
        let cpu = cpu_seconds(self.child.id()) - cpu_before;
        // Refused handshakes after the first of a kind are counted and written a row an
        // interval (`audit.refusal_interval_secs`, 60): wait for that round's flush.
        if matches!(attack, Attack::Handshakes(Some("expired"))) {
            tokio::time::sleep(Duration::from_secs(61)).await;
        }
        let audit_rows = self.audit_rows().await - rows_before;
        let sent = latencies.len() as u64;
        let mut ok: Vec<f64> = latencies.iter().filter_map(|l| *l).collect();
        ok.sort_by(f64::total_cmp);
        let at = |q: f64| {
            ok.get(((ok.len() as f64 * q) as usize).min(ok.len().saturating_sub(1)))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let result = RoundResult {
            sent,
            ok: ok.len() as u64,
            p99: at(0.99),
            audit_rows,
        };
        println!(
            "| {name} | {} | {}/{} | {:.1} | {:.1} | {cpu:.1} | {peak_mb:.0} | {audit_rows} |",
            managed_text(attack, managed.load(Ordering::Relaxed)),
            result.ok,
            result.sent,
            at(0.5),
            result.p99,
        );
        result
    }

    fn attack(
        &self,
        attack: Attack,
        args: &Args,
        stop: &Arc<AtomicBool>,
        managed: &Arc<AtomicU64>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let tasks = match attack {
            Attack::None => 0,
            Attack::CardFlood => 16,
            _ => args.concurrency,
        };
        let share = (args.idle / args.concurrency.max(1)) as u64;
        let open = Arc::new(AtomicU64::new(0));
        (0..tasks)
            .map(|task| {
                let (stop, managed, open) = (stop.clone(), managed.clone(), open.clone());
                let addr = self.addr;
                tokio::spawn(async move {
                    let task = task as u64;
                    match attack {
                        Attack::None => {}
                        Attack::Handshakes(card) => {
                            handshakes(addr, card, task, &stop, &managed).await;
                        }
                        Attack::SlowHeaders => slow_headers(addr, task, &stop, &managed).await,
                        Attack::IdleHoard => {
                            hoard(addr, share, task, &stop, &open, &managed).await;
                        }
                        Attack::RapidReset => rapid_reset(addr, task, &stop, &managed).await,
                        Attack::CardFlood => card_flood(addr, &stop, &managed).await,
                    }
                })
            })
            .collect()
    }

    async fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        self.owner.close().await;
        drop(self.database);
    }
}

fn managed_text(attack: Attack, count: u64) -> String {
    match attack {
        Attack::None => "–".to_owned(),
        Attack::Handshakes(_) => format!("{count} handshakes"),
        Attack::SlowHeaders => format!("{count} connections"),
        Attack::IdleHoard => format!("{count} open at most"),
        Attack::RapidReset => format!("{count} streams reset"),
        Attack::CardFlood => format!("{count} pages served"),
    }
}

/// The archivist: the front page every 50 ms over one kept-alive connection (a new one when the
/// server closed it), for `length`. Each page's latency in ms, `None` for a failure.
async fn archivist(addr: SocketAddr, length: Duration) -> Vec<Option<f64>> {
    let client = TestClient::new(addr, Some("archivist-1"));
    let mut connection = None;
    let mut latencies = Vec::new();
    let mut ticks = tokio::time::interval(PAGE_INTERVAL);
    let end = Instant::now() + length;
    while Instant::now() < end {
        ticks.tick().await;
        let started = Instant::now();
        if connection.is_none() {
            connection = client.kept_alive().await.ok();
        }
        let answer = match connection.as_mut() {
            Some(open) => open.get("/").await.ok(),
            None => None,
        };
        match answer {
            Some(page) if page.status == 200 => {
                latencies.push(Some(started.elapsed().as_secs_f64() * 1000.0));
            }
            _ => {
                connection = None;
                latencies.push(None);
            }
        }
    }
    latencies
}

async fn handshakes(
    addr: SocketAddr,
    card: Option<&'static str>,
    task: u64,
    stop: &AtomicBool,
    managed: &AtomicU64,
) {
    let client = TestClient::new(addr, card);
    let mut n = task;
    while !stop.load(Ordering::Relaxed) {
        n += 64;
        if connect(&client, n, b"http/1.1").await.is_some() {
            managed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn slow_headers(addr: SocketAddr, task: u64, stop: &AtomicBool, managed: &AtomicU64) {
    let client = TestClient::new(addr, None);
    let mut n = task;
    while !stop.load(Ordering::Relaxed) {
        n += 64;
        let Some(mut tls) = connect(&client, n, b"http/1.1").await else {
            continue;
        };
        managed.fetch_add(1, Ordering::Relaxed);
        // A byte a second until the server gives up on the headers, or the round ends.
        for byte in b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        {
            if stop.load(Ordering::Relaxed) || tls.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Keeps `share` idle TLS connections open (replacing those the server closes) until the round
/// ends; `managed` is the most that were open at once over all hoarders.
async fn hoard(
    addr: SocketAddr,
    share: u64,
    task: u64,
    stop: &AtomicBool,
    open: &Arc<AtomicU64>,
    managed: &AtomicU64,
) {
    let client = TestClient::new(addr, None);
    let mine = Arc::new(AtomicU64::new(0));
    let mut n = task;
    while !stop.load(Ordering::Relaxed) {
        if mine.load(Ordering::Relaxed) >= share {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        n += 64;
        let Some(mut tls) = connect(&client, n, b"http/1.1").await else {
            continue;
        };
        mine.fetch_add(1, Ordering::Relaxed);
        let now = open.fetch_add(1, Ordering::Relaxed) + 1;
        managed.fetch_max(now, Ordering::Relaxed);
        let (mine, open) = (mine.clone(), open.clone());
        tokio::spawn(async move {
            // Held until the server closes it or the round ends (bounded by the round).
            let mut byte = [0_u8; 1];
            let _ = tokio::time::timeout(
                Duration::from_secs(600),
                tokio::io::AsyncReadExt::read(&mut tls, &mut byte),
            )
            .await;
            mine.fetch_sub(1, Ordering::Relaxed);
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn rapid_reset(addr: SocketAddr, task: u64, stop: &AtomicBool, managed: &AtomicU64) {
    let client = TestClient::new(addr, Some("archivist-3"));
    let mut n = task;
    while !stop.load(Ordering::Relaxed) {
        n += 64;
        let Some(tls) = connect(&client, n, b"h2").await else {
            continue;
        };
        let Ok((sender, connection)) = h2::client::handshake(tls).await else {
            continue;
        };
        let connection = tokio::spawn(connection);
        for _ in 0..10_000 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let Ok(mut ready) = sender.clone().ready().await else {
                break;
            };
            let request = http::Request::get("https://localhost/")
                .body(())
                .expect("request");
            let Ok((_, mut stream)) = ready.send_request(request, true) else {
                break;
            };
            stream.send_reset(h2::Reason::CANCEL);
            managed.fetch_add(1, Ordering::Relaxed);
        }
        connection.abort();
    }
}

async fn card_flood(addr: SocketAddr, stop: &AtomicBool, managed: &AtomicU64) {
    let client = TestClient::new(addr, Some("archivist-2"));
    let mut connection = None;
    while !stop.load(Ordering::Relaxed) {
        if connection.is_none() {
            connection = client.kept_alive().await.ok();
        }
        let Some(open) = connection.as_mut() else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        match open.get("/").await {
            Ok(page) if page.status == 200 => {
                managed.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(_) => connection = None,
        }
    }
}

/// The process's user and system CPU time so far, in seconds (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The largest resident set of the process while `stop` is unset, in KiB, read every 100 ms.
async fn peak_rss(pid: u32, stop: Arc<AtomicBool>) -> u64 {
    let mut peak = 0;
    while !stop.load(Ordering::Relaxed) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        peak = peak.max(rss);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peak
}
