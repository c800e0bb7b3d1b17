//! The flood benchmark: one signed-in archivist opens the front page at a steady 20 requests a
//! second over a kept-alive connection, first on a quiet server, then while each attack in turn runs at full
//! speed from other loopback addresses for `--seconds` (30). The attackers come from
//! 127.1.0.0/16, spread over many /24 networks as a botnet's would be. For each round it prints
//! the archivist's success ratio, why pages failed, and p50/p99 against the quiet round, the server's CPU time and
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

#[allow(
    dead_code,
    reason = "shared by the benchmarks, each of which uses part of it"
)]
mod support;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use clap::Parser;
use tokio::io::AsyncWriteExt;

use support::{Server, cpu_seconds, get, open, peak_rss, quantile};
use test_support::TestClient;

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
    /// Only the attacks whose names contain this (after the quiet round), e.g. `idle`.
    #[arg(long)]
    only: Option<String>,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The archivist's pace.
const PAGE_INTERVAL: Duration = Duration::from_millis(50);

fn main() {
    support::block_on(run(Args::parse()));
}

async fn run(args: Args) {
    let server = Server::start(&[]).await;
    let round = Duration::from_secs(args.seconds);
    println!(
        "| round | attack managed | archivist ok | failures | p50 ms | p99 ms | server CPU s | server peak RSS MB | audit rows |"
    );
    println!("|---|---|---:|---|---:|---:|---:|---:|---:|");
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
    ]
    .into_iter()
    .filter(|attack| {
        args.only
            .as_deref()
            .is_none_or(|only| attack.name().contains(only))
    }) {
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

struct RoundResult {
    sent: u64,
    ok: u64,
    p99: f64,
    audit_rows: i64,
}

impl Server {
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
        let pages = archivist(self.addr, length).await;
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
        let sent = pages.len() as u64;
        let mut ok: Vec<f64> = pages
            .iter()
            .filter_map(|page| page.as_ref().ok())
            .copied()
            .collect();
        ok.sort_by(f64::total_cmp);
        let at = |q: f64| quantile(&ok, q);
        let result = RoundResult {
            sent,
            ok: ok.len() as u64,
            p99: at(0.99),
            audit_rows,
        };
        println!(
            "| {name} | {} | {}/{} | {} | {:.1} | {:.1} | {cpu:.1} | {peak_mb:.0} | {audit_rows} |",
            managed_text(attack, managed.load(Ordering::Relaxed)),
            result.ok,
            result.sent,
            failures_text(&pages),
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
/// server closed it), signed in once (the session cookie kept), for `length`. Each page's
/// latency in ms, or why it failed.
async fn archivist(addr: SocketAddr, length: Duration) -> Vec<Result<f64, String>> {
    let client = TestClient::new(addr, Some("archivist-1"));
    let mut connection = None;
    let mut session: Option<String> = None;
    let mut pages = Vec::new();
    let mut ticks = tokio::time::interval(PAGE_INTERVAL);
    let end = Instant::now() + length;
    while Instant::now() < end {
        ticks.tick().await;
        let started = Instant::now();
        if connection.is_none() {
            connection = open(&client).await;
        }
        let Some(sender) = connection.as_mut() else {
            pages.push(Err("no connection".to_owned()));
            continue;
        };
        match get(sender, "/", session.as_deref(), false).await {
            Some((200, _, cookie)) => {
                pages.push(Ok(started.elapsed().as_secs_f64() * 1000.0));
                session = session.or(cookie);
            }
            Some((status, _, _)) => pages.push(Err(format!("{status}"))),
            None => {
                connection = None;
                pages.push(Err("no answer".to_owned()));
            }
        }
    }
    pages
}

/// The failures of a round by kind, most frequent first: "503 ×12, no connection ×3".
fn failures_text(pages: &[Result<f64, String>]) -> String {
    let mut kinds = std::collections::BTreeMap::<&str, u64>::new();
    for failure in pages.iter().filter_map(|page| page.as_ref().err()) {
        *kinds.entry(failure).or_default() += 1;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.1));
    let text: Vec<String> = kinds
        .iter()
        .map(|(kind, n)| format!("{kind} ×{n}"))
        .collect();
    if text.is_empty() {
        "none".to_owned()
    } else {
        text.join(", ")
    }
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
