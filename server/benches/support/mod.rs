//! What the benchmarks that run the server in a process of its own share: starting the release
//! `archivist serve` with the test PKI and a fresh database, stopping it, and reading its CPU
//! time and memory from `/proc`. Each benchmark uses part of it.

use std::{
    future::poll_fn,
    net::SocketAddr,
    path::Path,
    pin::Pin,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use hyper::body::Body as _;
use hyper_util::rt::TokioIo;
use sqlx::PgPool;

use server::archive::ControllerOid;
use test_support::{
    TestClient, TestDatabase, card, create_database, database_url, migrate_as_owner, pki, seed,
    serving_database_url,
};

/// The demo cards the benchmarks sign in with, linked to [`CONTROLLER`].
pub const CARDS: [&str; 2] = ["999000110", "99900022B"];
pub const CONTROLLER: &str = "1.2.246.10.12345670.10.0";

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    database: TestDatabase,
    /// The database's owner, for setting up data and counting audit rows.
    pub owner: PgPool,
    site: tempfile::TempDir,
}

impl Server {
    /// The server on a free loopback port, `settings` added to its environment
    /// (`ARCHIVIST_…` variables), [`CARDS`] linked to [`CONTROLLER`].
    pub async fn start(settings: &[(&str, &str)]) -> Self {
        let (database, owner) = demo_database().await;
        let site = demo_site();
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = serve_command(addr, site.path(), &serving_database_url(&database).await)
            .envs(settings.iter().copied())
            .spawn()
            .expect("start archivist serve");
        let server = Self {
            child,
            addr,
            database,
            owner,
            site,
        };
        until_answered(addr, "/healthz", "the server").await;
        server
    }

    /// The site root the server serves `/pkg/…` from.
    pub fn site(&self) -> &Path {
        self.site.path()
    }

    pub async fn audit_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log")
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }

    /// Stops the server as an operator would (SIGTERM, its drain) and drops its database.
    pub async fn stop(mut self) {
        terminate(&mut self.child, Duration::from_secs(60));
        self.owner.close().await;
    }
}

impl Drop for Server {
    /// A benchmark that panics must not leave its server running (after `stop`, a no-op).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database, migrated, with [`CARDS`] linked to [`CONTROLLER`], and its owner's pool.
pub async fn demo_database() -> (TestDatabase, PgPool) {
    let database = create_database().await;
    migrate_as_owner(&database).await;
    let owner = PgPool::connect(&database_url(&database))
        .await
        .expect("connect");
    link_cards(&owner).await;
    (database, owner)
}

/// A site root with the style sheet the pages link to.
pub fn demo_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("site");
    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg");
    std::fs::write(site.path().join("pkg/archivist.css"), "body{}").expect("css");
    site
}

/// A free loopback port (bound and released: the server binds it a moment later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `archivist serve` on `addr` with the test PKI, the site at `site`, the database at
/// `database_url`, no metrics listener, errors only on its log, output dropped.
pub fn serve_command(addr: SocketAddr, site: &Path, database_url: &str) -> Command {
    let pki = pki();
    let mut command = Command::new(env!("CARGO_BIN_EXE_archivist"));
    command
        .arg("serve")
        .env("ARCHIVIST_LISTEN", addr.to_string())
        .env("ARCHIVIST_METRICS__LISTEN", "off")
        .env("ARCHIVIST_SITE_ROOT", site)
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
        .env("DATABASE_URL", database_url)
        .stdout(Stdio::null());
    command
}

/// [`CONTROLLER`], with [`CARDS`] linked to it.
pub async fn link_cards(owner: &PgPool) {
    let controller = ControllerOid::parse(CONTROLLER).expect("oid");
    seed::controller(owner, &controller, "Tulvakunta").await;
    for number in CARDS {
        seed::link(owner, &card(number), &controller).await;
    }
}

/// Archives generated documents and returns `count` of one controller's, that controller
/// linked to [`CARDS`]' first card (after [`link_cards`]).
pub async fn linked_documents(owner: &PgPool, count: usize) -> Vec<String> {
    test_support::archive_chunk(owner, 0).await;
    let documents: Vec<(String, String)> = sqlx::query_as(
        "SELECT controller_oid, document_oid FROM stored_bytes
         WHERE kind = 'cda' AND controller_oid =
               (SELECT min(controller_oid) FROM stored_bytes WHERE kind = 'cda')
         ORDER BY document_oid LIMIT $1",
    )
    .bind(i64::try_from(count).expect("a small count"))
    .fetch_all(owner)
    .await
    .expect("documents");
    assert_eq!(
        documents.len(),
        count,
        "{count} documents of one controller"
    );
    let controller = ControllerOid::parse(&documents[0].0).expect("oid");
    if controller.as_str() != CONTROLLER {
        seed::link(owner, &card(CARDS[0]), &controller).await;
    }
    documents
        .into_iter()
        .map(|(_, document)| document)
        .collect()
}

/// Stops a process as an operator would: SIGTERM, then waits for it to end, and SIGKILL only
/// when it has not within `bound`. Whether it ended by itself.
pub fn terminate(child: &mut Child, bound: Duration) -> bool {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let end = std::time::Instant::now() + bound;
    while std::time::Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// Waits (up to ten seconds) until a server that is starting answers `path` with 200 to a demo
/// card, or panics naming `what` did not start.
pub async fn until_answered(addr: SocketAddr, path: &str, what: &str) {
    let probe = TestClient::new(addr, Some("archivist-1"));
    for _ in 0..100 {
        if probe.get(path).await.is_ok_and(|r| r.status == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not start");
}

/// Runs a benchmark's main future on a multi-threaded runtime (one worker a core, as the
/// server's), with rustls' ring provider installed for its clients.
pub fn block_on<F: std::future::Future>(benchmark: F) -> F::Output {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(benchmark)
}

/// A process's user and system CPU time so far, in seconds (clock ticks of 1/100 s).
pub fn cpu_seconds(pid: u32) -> f64 {
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
pub async fn peak_rss(pid: u32, stop: Arc<AtomicBool>) -> u64 {
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

/// The value at quantile `q` of sorted `values`; NaN when there are none.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

pub type Sender = hyper::client::conn::http1::SendRequest<String>;

/// A new HTTP/1.1 connection: TCP, the full TLS handshake with the card, HTTP/1.1 by ALPN.
pub async fn open(client: &TestClient) -> Option<Sender> {
    let tls = tokio::time::timeout(Duration::from_secs(10), client.tls(&[b"http/1.1"]))
        .await
        .ok()?
        .ok()?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .ok()?;
    tokio::spawn(connection);
    Some(sender)
}

/// One GET (with the session `cookie`, if any; asking the server to close the connection after
/// it, if `close`): its status, body length and the session cookie it set, if any. `None` when
/// no whole answer came within 30 seconds.
pub async fn get(
    sender: &mut Sender,
    path: &str,
    cookie: Option<&str>,
    close: bool,
) -> Option<(u16, usize, Option<String>)> {
    let mut request = hyper::Request::get(path).header("host", "localhost");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if close {
        request = request.header("connection", "close");
    }
    let request = request.body(String::new()).ok()?;
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        // The connection's own task must have finished the previous exchange before the next
        // request goes out; when it lags (the benchmark's runtime is busy with attackers),
        // sending at once fails on the client's side with "connection was not ready".
        sender.ready().await.ok()?;
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        let set_cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|v| v.starts_with(&format!("{}=", test_support::COOKIE)))
            .map(str::to_owned);
        let mut body = response.into_body();
        let mut length = 0;
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            if let Ok(data) = frame.ok()?.into_data() {
                length += data.len();
            }
        }
        Some((status, length, set_cookie))
    });
    answer.await.ok().flatten()
}
