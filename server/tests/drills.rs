//! Fault drills for the instances behind a load balancer: Debian's HAProxy in TCP mode (the
//! card's handshake passes through to our server), PROXY protocol v2 from the balancer, health
//! checks on `/readyz`, in front of two `archivist serve` processes sharing one PostgreSQL, while
//! a load generator asks for signed-in document pages and stored CDAs at a steady rate, half of them on new TLS
//! connections and half on kept-alive ones.
//!
//! 1. **Rolling restart**: each instance in turn is stopped as systemd stops it (SIGTERM: out of
//!    rotation for `ops.drain_delay_secs`, then drained) and started again. No request may fail.
//! 2. **`kill -9` of one instance**: only requests in flight on it may fail, and requests succeed
//!    again within 2 s of the kill (on the other instance).
//!
//! Then every page that was served must have its audit row, `document.viewed` for a document
//! page and `document.raw_read` for the stored CDA's bytes (one whose answer was lost may have
//! one too), and every row must name the client's address as the PROXY header
//! gave it, never the balancer's.
//!
//! A request that found its kept-alive connection closed as it went out (the server ends idle
//! connections when it drains) is sent again once on a new connection, as browsers do with
//! idempotent requests (RFC 9112, 9.3.1); those are counted as retried, not failed.
//!
//! ```text
//! cargo test -p server --test drills     # needs haproxy (the README's test command installs it)
//! ```
//!
//! Loopback only: the clients connect from 127.0.0.1, HAProxy to the instances from 127.0.0.2.
//! Every wait is bounded; the processes started here are stopped when it ends, failed or not.

#[allow(
    dead_code,
    reason = "shared with the benchmarks, each of which uses part of it"
)]
#[path = "../benches/support/mod.rs"]
mod support;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::{
    Sender, demo_database, demo_site, free_port, get, linked_documents, open, quantile,
    serve_command, terminate, until_answered,
};
use test_support::{TestClient, drop_database, serving_database_url};

/// Pages a second, all load workers together.
const RATE: u32 = 100;
/// Load workers: half open a new connection for every page, half keep theirs.
const WORKERS: u32 = 16;
/// What the instances are given to leave the balancer's rotation before they stop accepting.
const DRAIN_DELAY_SECS: u64 = 2;
/// The address HAProxy connects to the instances from; theirs is the only PROXY header trusted.
const BALANCER: &str = "127.0.0.2";
/// How soon requests must succeed again after an instance is killed.
const KILL_BOUND: Duration = Duration::from_secs(2);
/// The card the load signs in with (linked to the controller of the pages asked for).
const CARD: &str = "archivist-1";

fn main() {
    if Command::new("haproxy").arg("-v").output().is_err() {
        eprintln!("the drills need haproxy (Debian's haproxy; `bash .ci/run` installs it)");
        std::process::exit(1);
    }
    support::block_on(run());
}

async fn run() {
    let (database, owner) = demo_database().await;
    let documents = linked_documents(&owner, 5).await;
    let serving = serving_database_url(&database).await;
    let site = demo_site();

    let mut instances = [
        Instance::start("a", free_port(), site.path(), &serving).await,
        Instance::start("b", free_port(), site.path(), &serving).await,
    ];
    let haproxy = HaProxy::start(&instances).await;
    for instance in &instances {
        haproxy.until_status(instance.name, "UP").await;
    }

    let client = TestClient::new(haproxy.front, Some(CARD));
    let cookie = sign_in(&client).await;
    let load = Load::start(client, cookie, documents);
    tokio::time::sleep(Duration::from_secs(2)).await;

    println!(
        "| drill | pages asked | a second | served | retried | failed | p50 ms | p99 ms | figures |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let quiet_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    load.report("quiet (both instances)", quiet_started, "");

    // 1. Rolling restart.
    let started = Instant::now();
    let mut figures = Vec::new();
    for instance in &mut instances {
        let stopping = Instant::now();
        instance.terminate().await;
        let stopped = stopping.elapsed();
        instance.restart(site.path(), &serving).await;
        haproxy.until_status(instance.name, "UP").await;
        figures.push(format!(
            "{}: stopped in {:.1} s, back in rotation {:.1} s after the stop signal",
            instance.name,
            stopped.as_secs_f64(),
            stopping.elapsed().as_secs_f64()
        ));
    }
    let rolling = load.report("1. rolling restart", started, &figures.join("; "));
    assert_eq!(
        rolling.failed, 0,
        "a rolling restart failed {} requests",
        rolling.failed
    );

    // 2. kill -9 of one instance.
    let killed = Instant::now();
    instances[0].kill();
    haproxy.until_status(instances[0].name, "DOWN").await;
    let marked_down = killed.elapsed();
    // Long enough for every worker to have asked again, on the other instance.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let last_failure = load.last_failure_after(killed);
    instances[0].restart(site.path(), &serving).await;
    haproxy.until_status(instances[0].name, "UP").await;
    let kill = load.report(
        "2. kill -9 of one instance",
        killed,
        &format!(
            "marked down after {:.1} s; last failed request {}; back in rotation {:.1} s after the kill",
            marked_down.as_secs_f64(),
            last_failure.map_or("none".to_owned(), |at| format!(
                "{:.2} s after the kill",
                at.as_secs_f64()
            )),
            killed.elapsed().as_secs_f64()
        ),
    );
    assert!(
        last_failure.is_none_or(|at| at <= KILL_BOUND),
        "requests still failed {last_failure:?} after the kill (bound {KILL_BOUND:?})"
    );

    let totals = load.stop().await;
    let audit = AuditCheck::read(&owner).await;
    println!(
        "\nAudit: {} pages served in all, {} document.viewed and document.raw_read rows (at most {} answers were lost), {} of them naming another address than the clients'; {} requests failed in the kill drill",
        totals.served + totals.retried,
        audit.viewed,
        totals.lost_attempts,
        audit.viewed_elsewhere,
        kill.failed
    );
    assert!(
        audit.viewed >= totals.served + totals.retried,
        "served pages without their audit rows: {} served, {} rows",
        totals.served + totals.retried,
        audit.viewed
    );
    assert!(
        audit.viewed <= totals.served + totals.retried + totals.lost_attempts,
        "more audit rows ({}) than pages asked for",
        audit.viewed
    );
    assert_eq!(
        audit.viewed_elsewhere, 0,
        "rows that name the balancer, not the client its PROXY header gave"
    );

    drop(haproxy);
    for instance in &mut instances {
        instance.terminate().await;
    }
    owner.close().await;
    drop_database(&database).await;
}

/// The session cookie of the load's card, signed in once through the balancer.
async fn sign_in(client: &TestClient) -> String {
    let mut sender = open(client).await.expect("connect through HAProxy");
    match get(&mut sender, "/", None, true).await {
        Some((200, _, Some(cookie))) => cookie,
        other => panic!("signing in through HAProxy: {other:?}"),
    }
}

/// One `archivist serve` process.
struct Instance {
    name: &'static str,
    addr: SocketAddr,
    child: Option<Child>,
}

impl Instance {
    async fn start(name: &'static str, port: u16, site: &Path, database_url: &str) -> Self {
        let mut instance = Self {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child: None,
        };
        instance.restart(site, database_url).await;
        instance
    }

    async fn restart(&mut self, site: &Path, database_url: &str) {
        let child = serve_command(self.addr, site, database_url)
            .env("ARCHIVIST_PROXY__PROTOCOL_FROM", format!("[{BALANCER}]"))
            .env(
                "ARCHIVIST_OPS__DRAIN_DELAY_SECS",
                DRAIN_DELAY_SECS.to_string(),
            )
            // Every page comes from one card and one address here: the limits against floods
            // would measure themselves.
            .env(
                "ARCHIVIST_CONNECTIONS__NEW_PER_SECOND_PER_ADDRESS",
                "1000000",
            )
            .env(
                "ARCHIVIST_CONNECTIONS__NEW_PER_SECOND_PER_NETWORK",
                "1000000",
            )
            .env("ARCHIVIST_AUTH__CARD_REQUESTS_PER_SECOND", "1000000")
            .env("ARCHIVIST_AUTH__CARD_REQUEST_BURST", "1000000")
            .env("ARCHIVIST_AUTH__CARD_DOWNLOADS_AT_ONCE", "1000")
            .spawn()
            .expect("start archivist serve");
        self.child = Some(child);
        until_answered(self.addr, "/healthz", self.name).await;
    }

    /// SIGTERM, and waits (at most a minute) for the process to end.
    async fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let waited =
            tokio::task::spawn_blocking(move || terminate(&mut child, Duration::from_secs(60)))
                .await
                .expect("waiting");
        assert!(
            waited,
            "{} did not stop within a minute of SIGTERM",
            self.name
        );
    }

    /// SIGKILL: the process ends at once, with whatever it had in flight.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A private HAProxy in the foreground, with its configuration and stats socket in a temporary
/// directory.
struct HaProxy {
    child: Child,
    front: SocketAddr,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl HaProxy {
    /// HAProxy with the deployment's configuration (`server/deploy/haproxy/haproxy.cfg`), the
    /// two instances in it.
    async fn start(instances: &[Instance; 2]) -> Self {
        let dir = tempfile::tempdir().expect("haproxy dir");
        let front = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let socket = dir.path().join("admin.sock");
        let log = std::fs::File::create(dir.path().join("haproxy.log")).expect("log");
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/deploy/haproxy/haproxy.cfg"
            ))
            .env("ARCHIVIST_FRONT", front.to_string())
            .env("ARCHIVIST_INSTANCE_A", instances[0].addr.to_string())
            .env("ARCHIVIST_INSTANCE_B", instances[1].addr.to_string())
            .env("ARCHIVIST_BALANCER_SOURCE", BALANCER)
            .env("ARCHIVIST_STATS_SOCKET", &socket)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start haproxy");
        let haproxy = Self {
            child,
            front,
            socket,
            dir,
        };
        for _ in 0..100 {
            if haproxy.stats().await.is_some() {
                return haproxy;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("haproxy did not start: {}", haproxy.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
    }

    /// `show stat` from the stats socket (CSV), or `None` when it does not answer.
    async fn stats(&self) -> Option<String> {
        let mut stream = tokio::net::UnixStream::connect(&self.socket).await.ok()?;
        stream.write_all(b"show stat\n").await.ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.ok()?;
        Some(answer)
    }

    /// The status HAProxy gives the backend's server `name` (`UP`, `DOWN`, `UP 1/2`…).
    async fn status(&self, name: &str) -> Option<String> {
        let stats = self.stats().await?;
        let mut lines = stats.lines();
        let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
        let column = header.iter().position(|field| *field == "status")?;
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .find(|fields| fields.first() == Some(&"instances") && fields.get(1) == Some(&name))
            .and_then(|fields| fields.get(column).map(|status| (*status).to_owned()))
    }

    /// Waits (at most 30 s) until the server `name` has `status`.
    async fn until_status(&self, name: &str, status: &str) {
        let end = Instant::now() + Duration::from_secs(30);
        let mut last = None;
        while Instant::now() < end {
            last = self.status(name).await;
            if last.as_deref() == Some(status) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "HAProxy did not see {name} {status} within 30 s (last: {last:?}); its log:\n{}",
            self.log()
        );
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Served,
    /// Served when sent again on a new connection.
    Retried,
    /// With the status, `None` when no answer came.
    Failed(Option<u16>),
}

struct Record {
    sent: Instant,
    outcome: Outcome,
    latency_ms: f64,
}

/// The steady load: [`WORKERS`] tasks, each asking for a page every `WORKERS / RATE` seconds.
struct Load {
    stop: Arc<AtomicBool>,
    records: Arc<Mutex<Vec<Record>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// What the whole run's load came to.
struct Totals {
    served: i64,
    retried: i64,
    /// Attempts whose answer was lost (failed, or retried): each may have left an audit row.
    lost_attempts: i64,
}

/// One drill's figures.
struct Figures {
    failed: usize,
}

impl Load {
    fn start(client: TestClient, cookie: String, documents: Vec<String>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let records = Arc::new(Mutex::new(Vec::new()));
        let period = Duration::from_secs(u64::from(WORKERS)) / RATE;
        let workers = (0..WORKERS)
            .map(|worker| {
                let (client, cookie, stop, records) = (
                    client.clone(),
                    cookie.clone(),
                    stop.clone(),
                    records.clone(),
                );
                let documents = documents.clone();
                let fresh = worker.is_multiple_of(2);
                tokio::spawn(async move {
                    let mut ticks = tokio::time::interval(period);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut connection = None;
                    // Bounded: the drills end in minutes; this stops them if they do not.
                    let end = Instant::now() + Duration::from_secs(600);
                    let mut n = worker as usize;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                        ticks.tick().await;
                        // Document pages and the stored CDA's bytes, in turn: each is audited.
                        let document = &documents[n % documents.len()];
                        let path = if n.is_multiple_of(2) {
                            format!("/documents/{document}")
                        } else {
                            format!("/api/documents/{document}/raw")
                        };
                        n += 1;
                        let sent = Instant::now();
                        let outcome = page(&client, &mut connection, fresh, &path, &cookie).await;
                        let latency_ms = sent.elapsed().as_secs_f64() * 1000.0;
                        if let Ok(mut records) = records.lock() {
                            records.push(Record {
                                sent,
                                outcome,
                                latency_ms,
                            });
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            records,
            workers,
        }
    }

    /// Prints the row of the requests sent since `since`.
    fn report(&self, name: &str, since: Instant, figures: &str) -> Figures {
        let records = self.records.lock().expect("records");
        let mine: Vec<&Record> = records.iter().filter(|r| r.sent >= since).collect();
        let count = |outcome| mine.iter().filter(|r| r.outcome == outcome).count();
        let failures: Vec<Outcome> = mine
            .iter()
            .map(|r| r.outcome)
            .filter(|outcome| matches!(outcome, Outcome::Failed(_)))
            .collect();
        let mut latencies: Vec<f64> = mine
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Failed(_)))
            .map(|r| r.latency_ms)
            .collect();
        latencies.sort_by(f64::total_cmp);
        let failed = failures.len();
        let figures = if failures.is_empty() {
            figures.to_owned()
        } else {
            // What failed, for the one reading a failed run: statuses, None for no answer.
            format!("{figures}; failures: {failures:?}")
        };
        println!(
            "| {name} | {} | {:.0} | {} | {} | {failed} | {:.1} | {:.1} | {figures} |",
            mine.len(),
            mine.len() as f64 / since.elapsed().as_secs_f64(),
            count(Outcome::Served),
            count(Outcome::Retried),
            quantile(&latencies, 0.5),
            quantile(&latencies, 0.99),
        );
        Figures { failed }
    }

    /// How long after `since` the last failed request was sent.
    fn last_failure_after(&self, since: Instant) -> Option<Duration> {
        let records = self.records.lock().expect("records");
        records
            .iter()
            .filter(|r| r.sent >= since && matches!(r.outcome, Outcome::Failed(_)))
            .map(|r| r.sent - since)
            .max()
    }

    async fn stop(self) -> Totals {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers {
            let _ = worker.await;
        }
        let records = self.records.lock().expect("records");
        let count = |wanted: fn(&Outcome) -> bool| {
            i64::try_from(records.iter().filter(|r| wanted(&r.outcome)).count()).unwrap_or(i64::MAX)
        };
        let retried = count(|o| *o == Outcome::Retried);
        Totals {
            served: count(|o| *o == Outcome::Served),
            retried,
            lost_attempts: count(|o| matches!(o, Outcome::Failed(_))) + retried,
        }
    }
}

/// One page, on a new connection (`fresh`) or on the worker's kept-alive one.
async fn page(
    client: &TestClient,
    connection: &mut Option<Sender>,
    fresh: bool,
    path: &str,
    cookie: &str,
) -> Outcome {
    let reused = !fresh && connection.is_some();
    let answer = ask(client, connection, path, cookie, fresh).await;
    match answer {
        Some(200) => Outcome::Served,
        // No answer on a kept-alive connection: it was closed as the request went out.
        None if reused => match ask(client, connection, path, cookie, false).await {
            Some(200) => Outcome::Retried,
            other => Outcome::Failed(other),
        },
        other => Outcome::Failed(other),
    }
}

/// The status of one GET, `None` when no answer came; the connection is kept only when it
/// answered and `close` was not asked for.
async fn ask(
    client: &TestClient,
    connection: &mut Option<Sender>,
    path: &str,
    cookie: &str,
    close: bool,
) -> Option<u16> {
    if connection.is_none() {
        *connection = open(client).await;
    }
    let sender = connection.as_mut()?;
    let answer = get(sender, path, Some(cookie), close).await;
    if close || answer.is_none() {
        *connection = None;
    }
    answer.map(|(status, _, _)| status)
}

/// The audit rows of the pages.
struct AuditCheck {
    viewed: i64,
    /// Of those, the rows that name another address than the clients' (127.0.0.1).
    viewed_elsewhere: i64,
}

impl AuditCheck {
    async fn read(owner: &PgPool) -> Self {
        let (viewed, viewed_elsewhere): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE host(client_address) <> '127.0.0.1')
             FROM audit_log WHERE action IN ('document.viewed', 'document.raw_read')",
        )
        .fetch_one(owner)
        .await
        .expect("audit rows");
        Self {
            viewed,
            viewed_elsewhere,
        }
    }
}
