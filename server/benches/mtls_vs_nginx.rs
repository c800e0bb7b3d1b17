//! Mutual TLS against the reference server: Debian's nginx with `ssl_verify_client on`, the same
//! server certificate and client CA, TLS 1.3 only, no session resumption, two worker processes
//! (one per core, as our runtime has two worker threads), measured side by side in one run.
//! Rounds alternate between the two servers, so that the machine's noise falls on both; the
//! table gives the median of the rounds and our ratio.
//!
//! ```text
//! bash server/benches/mtls-vs-nginx.sh                     # installs nginx when missing
//! cargo bench -p server --bench mtls_vs_nginx -- --seconds 5 --rounds 3
//! cargo bench -p server --bench mtls_vs_nginx -- --only downloads
//! ```
//!
//! Measured, each with a demo card's ECDSA certificate:
//! - a full handshake and one GET of a 2 KB static file, a new connection each time, 8 and 64
//!   clients at once;
//! - the same GET over kept-alive connections;
//! - 20 MiB and 100 MiB downloads over one connection: our byte endpoint serving an archived
//!   document's stored bytes (random, as a PDF's are: stored uncompressed), nginx the same bytes
//!   from a file;
//! - ours only: the signed-in front page and a document page on kept-alive connections.
//!
//! Both servers run on this machine's two cores beside the load generator. Our accept-time caps
//! and per-card rate are raised for the run: they are there against floods, and here they would
//! measure themselves. Loopback only; every loop is bounded in time and count.

#[allow(
    dead_code,
    reason = "shared by the benchmarks, each of which uses part of it"
)]
mod support;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;

use support::{Server, get, linked_documents, open, quantile, terminate, until_answered};
use test_support::{TestClient, pki};

#[derive(Parser)]
struct Args {
    /// Seconds each measured round lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rounds per measurement and server, alternating between the servers.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Only this part of the measurements (all of them when not given).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// Ignored: `cargo bench` passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// The 2 KB GET, on new and on kept-alive connections.
    Requests,
    /// The 20 and 100 MiB downloads.
    Downloads,
    /// Our signed-in pages.
    Pages,
}

/// The static file's size: what the reference measurement asks for.
const SMALL: usize = 2048;
const MIB: usize = 1024 * 1024;
/// The card every client presents.
const CARD: &str = "archivist-1";

fn main() {
    support::block_on(run(Args::parse()));
}

async fn run(args: Args) {
    let ours = Server::start(&[
        (
            "ARCHIVIST_CONNECTIONS__NEW_PER_SECOND_PER_ADDRESS",
            "1000000",
        ),
        (
            "ARCHIVIST_CONNECTIONS__NEW_PER_SECOND_PER_NETWORK",
            "1000000",
        ),
        ("ARCHIVIST_AUTH__CARD_REQUESTS_PER_SECOND", "1000000"),
        ("ARCHIVIST_AUTH__CARD_REQUEST_BURST", "1000000"),
    ])
    .await;
    let small: Vec<u8> = (0..SMALL).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(ours.site().join("pkg/small.txt"), &small).expect("small file");
    let archive = Archive::set_up(&ours).await;
    let nginx = Nginx::start(&small, &archive.large).await;
    // Full handshakes on both sides: the reference has resumption off, and the client does not
    // offer it (our server would resume a TLS 1.3 session from its memory).
    let ours_client = TestClient::new(ours.addr, Some(CARD)).full_handshakes();
    let nginx_client = TestClient::new(nginx.addr, Some(CARD)).full_handshakes();
    let length = Duration::from_secs(args.seconds);
    let measures = |part: Part| args.only.is_none_or(|only| only == part);

    println!(
        "| measurement | nginx | ours | ours / nginx | nginx p99 ms | ours p99 ms |\n|---|---:|---:|---:|---:|---:|"
    );
    for clients in [8, 64].into_iter().filter(|_| measures(Part::Requests)) {
        for (name, fresh) in [
            ("new connection + GET 2 KB", true),
            ("kept-alive GET 2 KB", false),
        ] {
            let mut both = [Vec::new(), Vec::new()];
            for round in 0..args.rounds {
                // Alternating which goes first, so that neither always follows the other.
                for turn in 0..2 {
                    let server = (round + turn) % 2;
                    let (client, path) = match server {
                        0 => (&nginx_client, "/small.txt"),
                        _ => (&ours_client, "/pkg/small.txt"),
                    };
                    let load = Load {
                        client,
                        path,
                        expect: SMALL,
                        fresh,
                        cookie: false,
                    };
                    both[server].push(load.run(clients, length).await);
                }
            }
            report(&format!("{name}, {clients} clients (requests/s)"), &both);
        }
    }
    let downloads = [
        ("download 20 MiB (MiB/s)", &archive.medium_oid, 20 * MIB),
        ("download 100 MiB (MiB/s)", &archive.large_oid, 100 * MIB),
    ];
    for (name, document, size) in downloads.into_iter().filter(|_| measures(Part::Downloads)) {
        let mut both = [Vec::new(), Vec::new()];
        for round in 0..args.rounds {
            for turn in 0..2 {
                let server = (round + turn) % 2;
                let (client, path) = match server {
                    0 => (&nginx_client, format!("/{}", file_name(size))),
                    _ => (&ours_client, format!("/api/documents/{document}/raw")),
                };
                both[server].push(download(client, &path, size).await);
            }
        }
        report(name, &both);
    }
    for clients in [8, 64].into_iter().filter(|_| measures(Part::Pages)) {
        for (name, path) in [
            ("front page", "/".to_owned()),
            ("document page", format!("/documents/{}", archive.page_oid)),
        ] {
            let mut rounds = Vec::new();
            for _ in 0..args.rounds {
                let load = Load {
                    client: &ours_client,
                    path: &path,
                    expect: 0,
                    fresh: false,
                    cookie: true,
                };
                rounds.push(load.run(clients, length).await);
            }
            let (rate, p99) = medians(&rounds);
            println!(
                "| {name}, signed in, kept-alive, {clients} clients (requests/s) | | {rate:.0} | | | {p99:.1} |"
            );
        }
    }
    drop(nginx);
    ours.stop().await;
}

/// One round's result: the rate (requests or MiB a second) and the p99 latency in ms.
struct Round {
    rate: f64,
    p99: f64,
}

fn medians(rounds: &[Round]) -> (f64, f64) {
    let mut rates: Vec<f64> = rounds.iter().map(|r| r.rate).collect();
    let mut p99s: Vec<f64> = rounds.iter().map(|r| r.p99).collect();
    rates.sort_by(f64::total_cmp);
    p99s.sort_by(f64::total_cmp);
    (quantile(&rates, 0.5), quantile(&p99s, 0.5))
}

fn report(name: &str, both: &[Vec<Round>; 2]) {
    let (nginx, nginx_p99) = medians(&both[0]);
    let (ours, ours_p99) = medians(&both[1]);
    println!(
        "| {name} | {nginx:.0} | {ours:.0} | {:.2} | {nginx_p99:.1} | {ours_p99:.1} |",
        ours / nginx
    );
}

/// Requests from `clients` tasks at once for a round's length.
struct Load<'a> {
    client: &'a TestClient,
    path: &'a str,
    /// The body's length every answer must have; 0: any length.
    expect: usize,
    /// A new connection for every request, or one kept-alive connection per task.
    fresh: bool,
    /// Keep the session cookie the first answer sets (pages sign in once, not every time).
    cookie: bool,
}

impl Load<'_> {
    async fn run(&self, clients: usize, length: Duration) -> Round {
        let end = Instant::now() + length;
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (client, path) = (self.client.clone(), self.path.to_owned());
                let (expect, fresh, cookie) = (self.expect, self.fresh, self.cookie);
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut failures = 0u64;
                    let mut connection = None;
                    let mut session = None;
                    while Instant::now() < end {
                        let started = Instant::now();
                        if connection.is_none() {
                            connection = open(&client).await;
                        }
                        let Some(sender) = connection.as_mut() else {
                            failures += 1;
                            continue;
                        };
                        match get(sender, &path, session.as_deref(), fresh).await {
                            Some((200, got, set_cookie)) if expect == 0 || got == expect => {
                                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                                if cookie && session.is_none() {
                                    session = set_cookie;
                                }
                            }
                            _ => {
                                failures += 1;
                                connection = None;
                            }
                        }
                        if fresh {
                            connection = None;
                        }
                    }
                    (latencies, failures)
                })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut failures = 0;
        for task in tasks {
            if let Ok((task_latencies, task_failures)) = task.await {
                latencies.extend(task_latencies);
                failures += task_failures;
            }
        }
        assert_eq!(
            failures,
            0,
            "{} failed on {}",
            self.path,
            self.client.origin()
        );
        latencies.sort_by(f64::total_cmp);
        Round {
            rate: latencies.len() as f64 / length.as_secs_f64(),
            p99: quantile(&latencies, 0.99),
        }
    }
}

/// One download over a new connection, in MiB/s.
async fn download(client: &TestClient, path: &str, size: usize) -> Round {
    let started = Instant::now();
    let mut sender = open(client).await.expect("connect for the download");
    let answer = get(&mut sender, path, None, true).await;
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        matches!(answer, Some((200, got, _)) if got == size),
        "{path} on {}: {answer:?}",
        client.origin()
    );
    Round {
        rate: size as f64 / MIB as f64 / seconds,
        p99: seconds * 1000.0,
    }
}

fn file_name(size: usize) -> String {
    format!("{}mib.bin", size / MIB)
}

/// The archive the pages and downloads read: generated documents of a controller linked to the
/// card, two of them given large stored bytes.
struct Archive {
    page_oid: String,
    medium_oid: String,
    large_oid: String,
    /// Each large document's bytes, to serve from nginx's files: (size, bytes).
    large: Vec<(usize, Vec<u8>)>,
}

impl Archive {
    async fn set_up(server: &Server) -> Self {
        let documents = linked_documents(&server.owner, 3).await;
        let [page_oid, medium_oid, large_oid] = <[String; 3]>::try_from(documents).expect("three");
        let mut large = Vec::new();
        for (oid, size) in [(&medium_oid, 20 * MIB), (&large_oid, 100 * MIB)] {
            large.push((size, replace_stored_bytes(server, oid, size).await));
        }
        Self {
            page_oid,
            medium_oid,
            large_oid,
            large,
        }
    }
}

/// Gives a stored document `size` random bytes, with their hash and size, as an import of a
/// large document would have stored them. Only a benchmark does this: the stored bytes are
/// immutable, so their trigger is switched off for the change (as the owner may).
async fn replace_stored_bytes(server: &Server, oid: &str, size: usize) -> Vec<u8> {
    let mut transaction = server.owner.begin().await.expect("begin");
    for statement in [
        "ALTER TABLE stored_bytes DISABLE TRIGGER stored_bytes_immutable",
        "UPDATE stored_bytes SET bytes = b, size = length(b), sha256 = sha256(b)
         FROM (SELECT decode(string_agg(md5(random()::text) || md5(random()::text), ''), 'hex') AS b
               FROM generate_series(1, $2::int / 32)) AS big
         WHERE document_oid = $1 AND kind = 'cda'",
        "ALTER TABLE stored_bytes ENABLE TRIGGER stored_bytes_immutable",
    ] {
        let query = sqlx::query(statement);
        let query = if statement.starts_with("UPDATE") {
            query.bind(oid).bind(i32::try_from(size).expect("fits"))
        } else {
            query
        };
        query.execute(&mut *transaction).await.expect(statement);
    }
    let bytes: Vec<u8> = sqlx::query_scalar(
        "SELECT bytes FROM stored_bytes WHERE document_oid = $1 AND kind = 'cda'",
    )
    .bind(oid)
    .fetch_one(&mut *transaction)
    .await
    .expect("the new bytes");
    transaction.commit().await.expect("commit");
    assert_eq!(bytes.len(), size);
    bytes
}

/// A private nginx: its own prefix directory and configuration, in the foreground.
struct Nginx {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    async fn start(small: &[u8], large: &[(usize, Vec<u8>)]) -> Self {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect(
                "nginx is not installed: run server/benches/mtls-vs-nginx.sh, which installs it",
            );
        let dir = tempfile::tempdir().expect("nginx dir");
        let root = dir.path().join("www");
        std::fs::create_dir_all(root.join("tmp")).expect("www");
        std::fs::write(root.join("small.txt"), small).expect("small");
        for (size, bytes) in large {
            std::fs::write(root.join(file_name(*size)), bytes).expect("large");
        }
        // OpenSSL, unlike our verifier, wants the chain up to a self-signed root.
        let pki = pki();
        let mut cas = std::fs::read(pki.file("root-ca.pem")).expect("root");
        cas.extend(std::fs::read(pki.file("issuing-ca.pem")).expect("issuing"));
        std::fs::write(dir.path().join("client-ca.pem"), cas).expect("CA bundle");
        // Workers run as `nobody` when the master is root: they must be able to read the files.
        for path in [dir.path(), &root] {
            set_mode(path, 0o755);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config = dir.path().join("nginx.conf");
        std::fs::write(&config, nginx_config(dir.path(), &root, addr)).expect("config");
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Self {
            child,
            addr,
            _dir: dir,
        };
        until_answered(addr, "/small.txt", "nginx").await;
        nginx
    }
}

impl Drop for Nginx {
    /// SIGTERM, on which the master process stops its workers and exits (SIGKILL would leave
    /// the workers running, listening); SIGKILL only when it has not ended within 10 s.
    fn drop(&mut self) {
        terminate(&mut self.child, Duration::from_secs(10));
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn nginx_config(dir: &Path, root: &Path, addr: SocketAddr) -> String {
    let pki = pki();
    let (dir, root) = (dir.display(), root.display());
    let certificate = pki.file("server.pem");
    let key = pki.file("server.key");
    format!(
        r#"daemon off;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    keepalive_requests 1000000;
    server {{
        listen {addr} ssl;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        ssl_verify_client on;
        ssl_client_certificate {dir}/client-ca.pem;
        ssl_verify_depth 2;
        ssl_session_cache off;
        ssl_session_tickets off;
        root {root};
    }}
}}
"#,
        certificate = certificate.display(),
        key = key.display(),
    )
}
