//! The tests' shared fixtures: starting a server for one test on a database of its own (dropped
//! by a guard even when the test fails), the demo PKI, and a small HTTPS client that presents a
//! card certificate; archived demo documents of two controllers. The server's integration tests
//! and the card tool's tests use them.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
    time::Duration,
};

use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, Version, body::Bytes};
use hyper_util::rt::{TokioExecutor, TokioIo};
use identity::{CardKey, CardNumber};
use rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject},
};
use server::{
    archive::{ControllerOid, xmldsig::TrustAnchors},
    demo::documents::{self, Signer},
    import::{Importer, Silent, Source},
    startup::Application,
    store::ArchiveStore,
};
use settings::{DatabaseSettings, Settings, TlsSettings};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::{net::TcpStream, sync::oneshot, task::JoinHandle};
use tokio_rustls::TlsConnector;

/// The demo PKI, made once for the whole test binary.
pub struct TestPki {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    /// The CA that made the files, for tests that issue new CRLs.
    pub ca: identity::demo::DemoCa,
}

pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("pki");
        let ca = identity::demo::DemoCa::new().expect("demo CA");
        ca.write_to(&path).expect("write demo PKI");
        TestPki {
            _dir: dir,
            path,
            ca,
        }
    })
}

impl TestPki {
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The certificate serial number of a demo card, big-endian bytes.
    pub fn serial(&self, stem: &str) -> Vec<u8> {
        let der = CertificateDer::from_pem_file(self.file(&format!("{stem}.pem"))).expect("cert");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parse");
        cert.raw_serial().to_vec()
    }
}

/// The administrative database URL: `DATABASE_URL`, which the test command always sets.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point to a PostgreSQL server where tests may create databases")
}

pub fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&admin_url()).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// One test's own database. It is dropped when the guard goes out of scope, so also when the
/// test fails half-way (a panic unwinds through the guard); dropping it earlier on purpose
/// ([`drop_database`]) is harmless.
pub struct TestDatabase {
    name: String,
}

impl std::ops::Deref for TestDatabase {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be the one unwinding: the database is
        // dropped from a thread of its own with a runtime of its own. A failure is reported,
        // never raised (a panic while unwinding would abort every other test).
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(try_drop_database(&name))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop a test database: {error}"),
            Err(_) => eprintln!("could not drop a test database: the dropping thread panicked"),
        }
    }
}

/// The login `archivist serve` uses in the tests, as `.ci/lib.sh` makes one for the demo: a
/// member of `archivist_server` (which the migrations create), owning nothing.
pub const SERVING_LOGIN: &str = "archivist_web";

/// Applies the migrations to `database` as its owner (the administrative login).
pub async fn migrate_as_owner(database: &str) {
    let pool = PgPool::connect(&database_url(database))
        .await
        .expect("connect to the test database");
    server::db::migrate(&pool).await.expect("migrations apply");
    pool.close().await;
}

/// `database`'s URL for [`SERVING_LOGIN`], creating the login once per cluster (tests race to).
pub async fn serving_database_url(database: &str) -> String {
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("connect to DATABASE_URL");
    sqlx::query(&format!(
        "DO $$ BEGIN CREATE ROLE {SERVING_LOGIN} LOGIN IN ROLE archivist_server;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    ))
    .execute(&mut admin)
    .await
    .expect("create the serving login");
    let mut url = url::Url::parse(&database_url(database)).expect("a URL");
    url.set_username(SERVING_LOGIN).expect("a user name");
    url.set_password(None).expect("no password");
    url.to_string()
}

/// A fresh, empty database for one test.
pub async fn create_database() -> TestDatabase {
    let name = format!("archivist_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("connect to DATABASE_URL");
    sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
        .execute(&mut admin)
        .await
        .expect("create test database");
    TestDatabase { name }
}

async fn try_drop_database(name: &str) -> Result<(), String> {
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Drops a test's database now (the server under test may still be running: its connections
/// are ended).
pub async fn drop_database(name: &str) {
    try_drop_database(name).await.expect("drop test database");
}

/// Settings for a test server: the shared demo PKI, port 0, a site folder with a style sheet.
pub fn settings(database: &str, site_root: &Path) -> Settings {
    let pki = pki();
    let defaults = Settings::default();
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        site_root: site_root.to_owned(),
        tls: TlsSettings {
            certificate: pki.file("server.pem"),
            private_key: pki.file("server.key"),
            client_ca: vec![pki.file("issuing-ca.pem")],
            client_crl: vec![pki.file("issuing-ca.crl")],
            ..defaults.tls
        },
        database: DatabaseSettings {
            url: Some(database_url(database)),
            ..defaults.database
        },
        metrics: settings::MetricsSettings {
            listen: "127.0.0.1:0".to_owned(),
        },
        // Changes made from the command line show within a second, not five.
        ops: settings::OpsSettings {
            notice_refresh_secs: 1,
            ..defaults.ops
        },
        ..defaults
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// The metrics listener, unless a test turned it off.
    pub metrics_addr: Option<SocketAddr>,
    pub database: TestDatabase,
    _site: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let database = create_database().await;
        let site = tempfile::tempdir().expect("site dir");
        std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
        std::fs::write(site.path().join("pkg/archivist.css"), "body{}").expect("css");
        let mut settings = settings(&database, site.path());
        // As deployed: the owner migrates, the server logs in with a role that owns nothing.
        migrate_as_owner(&database).await;
        settings.database.url = Some(serving_database_url(&database).await);
        adjust(&mut settings);
        let app = Application::build(&settings).await.expect("server starts");
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let (tx, rx) = oneshot::channel();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Self {
            addr,
            metrics_addr,
            database,
            _site: site,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn client(&self, card: Option<&str>) -> TestClient {
        TestClient::new(self.addr, card)
    }

    /// `GET /metrics` from the metrics listener (plain HTTP): the status and the body.
    pub async fn scrape(&self) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.metrics_addr.expect("the metrics listener is on");
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the metrics listener");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: monitoring\r\nConnection: close\r\n\r\n")
            .await
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("a status");
        (status, body.to_owned())
    }

    /// A connection to this test's database, as the tests' own observer.
    pub async fn db(&self) -> PgConnection {
        PgConnection::connect(&database_url(&self.database))
            .await
            .expect("connect to the test database")
    }

    /// Waits (up to ten seconds) until `n` statements mentioning `table` wait for a lock in this
    /// app's database, as requests held up behind a test's `LOCK TABLE` do; how many waited at
    /// the last look.
    pub async fn until_waiting_on(&self, table: &str, n: i64) -> i64 {
        let mut db = self.db().await;
        let mut waiting = 0;
        for _ in 0..200 {
            waiting = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'
                   AND query LIKE '%' || $1 || '%'",
            )
            .bind(table)
            .fetch_one(&mut db)
            .await
            .expect("waiting statements");
            if waiting == n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        waiting
    }

    /// Sends the stop signal (what SIGTERM does) without waiting for the server to end:
    /// [`Self::stop`] then waits for it.
    pub fn signal_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server (letting requests finish) and drops the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        drop_database(&self.database).await;
    }
}

pub struct TestResponse {
    pub status: u16,
    pub version: Version,
    pub headers: hyper::HeaderMap,
    pub content_type: String,
    pub body: String,
    pub body_bytes: Vec<u8>,
}

impl TestResponse {
    /// The `Retry-After` header in seconds; panics when it is missing or not a number.
    pub fn retry_after(&self) -> u64 {
        self.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds")
    }
}

/// An HTTPS client that trusts the demo root and presents `card` (a demo PKI file stem).
/// How long a test waits for one answer; far beyond any healthy request on a busy machine.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone)]
pub struct TestClient {
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    /// Through a TCP load balancer: its (loopback) address and the bytes it sends first.
    balancer: Option<(std::net::IpAddr, Arc<[u8]>)>,
}

/// A PROXY protocol v2 header as HAProxy's `send-proxy-v2` writes it for a TCP connection from
/// `client` to `server`.
pub fn proxy_header(client: SocketAddr, server: SocketAddr) -> Vec<u8> {
    ppp::v2::Builder::with_addresses(0x21, ppp::v2::Protocol::Stream, (client, server))
        .build()
        .expect("PROXY header")
}

impl TestClient {
    pub fn new(addr: SocketAddr, card: Option<&str>) -> Self {
        let pki = pki();
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(pki.file("root-ca.pem")).expect("root") {
            roots.add(cert.expect("root cert")).expect("add root");
        }
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots);
        let config = match card {
            None => builder.with_no_client_auth(),
            Some(stem) => {
                let mut chain: Vec<CertificateDer<'static>> =
                    CertificateDer::pem_file_iter(pki.file(&format!("{stem}.pem")))
                        .expect("card cert")
                        .collect::<Result<_, _>>()
                        .expect("card cert pem");
                let cas: Vec<CertificateDer<'static>> =
                    CertificateDer::pem_file_iter(pki.file(&format!("{stem}.chain.pem")))
                        .expect("chain")
                        .collect::<Result<_, _>>()
                        .expect("chain pem");
                chain.extend(cas);
                let key = PrivateKeyDer::from_pem_file(pki.file(&format!("{stem}.key")))
                    .expect("card key");
                builder
                    .with_client_auth_cert(chain, key)
                    .expect("client auth")
            }
        };
        Self {
            addr,
            config: Arc::new(config),
            balancer: None,
        }
    }

    /// The same client reaching the server through a TCP load balancer at `balancer` (another
    /// loopback address) that begins every connection with `header` (a PROXY header, or
    /// whatever bytes a test sends in its place).
    pub fn through_balancer(&self, balancer: std::net::IpAddr, header: Vec<u8>) -> Self {
        Self {
            balancer: Some((balancer, header.into())),
            ..self.clone()
        }
    }

    /// The same client without TLS session resumption: every connection makes a full
    /// handshake (what a benchmark of handshakes measures).
    pub fn full_handshakes(&self) -> Self {
        let mut config = (*self.config).clone();
        config.resumption = rustls::client::Resumption::disabled();
        Self {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn tls(
        &self,
        alpn: &[&[u8]],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        match &self.balancer {
            None => {
                let tcp = TcpStream::connect(self.addr).await?;
                self.handshake(tcp, alpn).await
            }
            Some((balancer, header)) => {
                use tokio::io::AsyncWriteExt;
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(SocketAddr::new(*balancer, 0))?;
                let mut tcp = socket.connect(self.addr).await?;
                tcp.write_all(header).await?;
                self.handshake(tcp, alpn).await
            }
        }
    }

    /// A connection from `source` (another loopback address, 127.0.0.0/8), then TLS.
    pub async fn tls_from(
        &self,
        source: std::net::IpAddr,
        alpn: &[&[u8]],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source, 0))?;
        let tcp = socket.connect(self.addr).await?;
        self.handshake(tcp, alpn).await
    }

    async fn handshake(
        &self,
        tcp: TcpStream,
        alpn: &[&[u8]],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let mut config = (*self.config).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
    }

    /// One request over a new HTTP/1.1 connection.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<TestResponse, String> {
        self.request_with(method, path, body, &[]).await
    }

    pub async fn get(&self, path: &str) -> Result<TestResponse, String> {
        self.request("GET", path, "").await
    }

    /// One request over a new HTTP/1.1 connection with extra headers (a cookie, an origin).
    pub async fn request_with(
        &self,
        method: &str,
        path: &str,
        body: &str,
        headers: &[(&str, String)],
    ) -> Result<TestResponse, String> {
        self.request_bytes(method, path, body.as_bytes(), headers)
            .await
    }

    /// One request with a body of any bytes (a DER certificate) over a new HTTP/1.1 connection;
    /// `headers` replace the defaults. A server that does not answer within
    /// [`REQUEST_DEADLINE`] fails the request instead of hanging the test run.
    pub async fn request_bytes(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, String)],
    ) -> Result<TestResponse, String> {
        tokio::time::timeout(
            REQUEST_DEADLINE,
            self.request_unbounded(method, path, body, headers),
        )
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer to {method} {path} within {REQUEST_DEADLINE:?}"
            ))
        })
    }

    async fn request_unbounded(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, String)],
    ) -> Result<TestResponse, String> {
        let tls = self.tls(&[b"http/1.1"]).await.map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut request = self.build(method, path, body);
        for (name, value) in headers {
            request.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                hyper::header::HeaderValue::from_str(value).expect("header value"),
            );
        }
        send(&mut sender, request).await
    }

    /// A kept-alive HTTP/1.1 connection, for requests one after another on it.
    pub async fn kept_alive(&self) -> Result<KeptAlive, String> {
        let tls = self.tls(&[b"http/1.1"]).await.map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(KeptAlive {
            client: self.clone(),
            sender,
        })
    }

    /// The origin a browser sends with this server's own pages' requests.
    pub fn origin(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// One GET over a new connection that negotiates HTTP/2 by ALPN.
    pub async fn get_h2(&self, path: &str) -> Result<TestResponse, String> {
        let tls = self.tls(&[b"h2"]).await.map_err(|e| e.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let response = sender
            .send_request(self.build("GET", path, b""))
            .await
            .map_err(|e| e.to_string())?;
        collect(response).await
    }

    fn build(&self, method: &str, path: &str, body: &[u8]) -> Request<Full<Bytes>> {
        Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("localhost:{}", self.addr.port()))
            .header("content-type", "application/x-www-form-urlencoded")
            // A server function answers a browser's form post (Accept: text/html) with a
            // redirect; the hydrated page asks for JSON, as do these tests.
            .header(
                "accept",
                if method == "GET" && !path.starts_with("/api/") {
                    "text/html"
                } else {
                    "application/json"
                },
            )
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("request")
    }
}

/// One HTTP/1.1 connection kept open between requests ([`TestClient::kept_alive`]).
pub struct KeptAlive {
    client: TestClient,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeptAlive {
    /// GET on this connection, bounded by [`REQUEST_DEADLINE`].
    pub async fn get(&mut self, path: &str) -> Result<TestResponse, String> {
        let request = self.client.build("GET", path, b"");
        tokio::time::timeout(REQUEST_DEADLINE, send(&mut self.sender, request))
            .await
            .unwrap_or_else(|_| Err(format!("no answer to GET {path}")))
    }

    /// Whether the server has closed the connection, waiting up to ten seconds for it.
    pub async fn closed_by_server(&self) -> bool {
        for _ in 0..200 {
            if self.sender.is_closed() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<TestResponse, String> {
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    collect(response).await
}

async fn collect(response: Response<hyper::body::Incoming>) -> Result<TestResponse, String> {
    let status = response.status().as_u16();
    let version = response.version();
    let headers = response.headers().clone();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(TestResponse {
        status,
        version,
        headers,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
        body_bytes: body.to_vec(),
    })
}

/// The issuing CA's name as the card certificates carry it.
pub fn issuer() -> String {
    let der = CertificateDer::from_pem_file(pki().file("issuing-ca.pem")).expect("CA");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parse");
    cert.subject().to_string()
}

/// The SHA-256 of a demo card's public key, computed here from the certificate file.
pub fn public_key_sha256(stem: &str) -> String {
    let der = CertificateDer::from_pem_file(pki().file(&format!("{stem}.pem"))).expect("cert");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("parse");
    hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        cert.public_key().raw,
    ))
}

/// Audit rows of the test database as (action, outcome, reason, satu), oldest first.
pub async fn audit_rows(app: &TestApp) -> Vec<(String, String, Option<String>, Option<String>)> {
    let mut db = app.db().await;
    sqlx::query_as("SELECT action, outcome, reason, satu FROM audit_log ORDER BY id")
        .fetch_all(&mut db)
        .await
        .expect("read audit log")
}

/// The audit rows once there are at least `count`: a refused handshake is recorded by the
/// server after the client has already seen the refusal, so the test waits (at most 5 s).
pub async fn audit_rows_at_least(
    app: &TestApp,
    count: usize,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    for _ in 0..50 {
        let rows = audit_rows(app).await;
        if rows.len() >= count {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    audit_rows(app).await
}

/// Waits (for at most five seconds) until the test database's audit log has a row of
/// `action`: some rows are written after the client has had its answer, a refused handshake's
/// for one. Panics with the rows there are when it does not come.
pub async fn until_audited(app: &TestApp, action: &str) {
    for _ in 0..50 {
        if audit_rows(app).await.iter().any(|row| row.0 == action) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "no {action} row on the audit log: {:?}",
        audit_rows(app).await
    );
}

/// What a standby looks like to the server: every new session read-only. (A real standby is in
/// recovery, which the same check reads; a test cannot make one of its own database.)
pub async fn set_read_only(database: &str, on: bool) {
    let mut admin = PgConnection::connect(&admin_url()).await.expect("admin");
    let change = if on {
        format!(r#"ALTER DATABASE "{database}" SET default_transaction_read_only = on"#)
    } else {
        format!(r#"ALTER DATABASE "{database}" RESET default_transaction_read_only"#)
    };
    sqlx::query(&change)
        .execute(&mut admin)
        .await
        .expect(&change);
    // The server's open sessions end, so that its next ones get the database's setting.
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(database)
        .execute(&mut admin)
        .await
        .expect("terminate");
}

/// The client address on the test database's sign-in row (`session.started`), as the audit log
/// recorded it.
pub async fn sign_in_address(app: &TestApp) -> String {
    let mut db = app.db().await;
    sqlx::query_scalar(
        "SELECT host(client_address) FROM audit_log WHERE action = 'session.started'",
    )
    .fetch_one(&mut db)
    .await
    .expect("sign-in row")
}

/// The session cookie's name.
pub const COOKIE: &str = "__Host-archivist-session";

/// A signed-in browser session of one card: its cookie and CSRF token, for server functions.
pub struct Session {
    pub client: TestClient,
    pub cookie: String,
    pub token: String,
}

impl Session {
    pub async fn start(app: &TestApp, card: &str) -> Self {
        let client = app.client(Some(card));
        let front = client.get("/").await.expect("front page");
        let cookie = front
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{COOKIE}=")))
            .and_then(|rest| rest.split(';').next())
            .expect("session cookie")
            .to_owned();
        let mut session = Self {
            client,
            cookie,
            token: String::new(),
        };
        let view: serde_json::Value =
            serde_json::from_str(&session.get("/api/session").await.body).expect("json");
        session.token = view["csrf_token"].as_str().expect("token").to_owned();
        session
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.client
            .request_with(
                "GET",
                path,
                "",
                &[("cookie", format!("{COOKIE}={}", self.cookie))],
            )
            .await
            .expect("get")
    }

    pub async fn post(&self, path: &str, form: &str) -> TestResponse {
        self.client
            .request_with(
                "POST",
                path,
                &format!("csrf_token={}&{form}", self.token),
                &[
                    ("cookie", format!("{COOKIE}={}", self.cookie)),
                    ("origin", self.client.origin()),
                ],
            )
            .await
            .expect("post")
    }
}

/// A server function's refusal as `kind:code` (`invalid:card_number`, `conflict:unfinished`) or
/// `kind` (`not_found`), read from its JSON body; a body that is not one is returned whole, so
/// that a failing assertion shows what came instead.
pub fn refusal(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_owned();
    };
    let kind = value["error"].as_str().map(str::to_owned);
    match (kind, value["code"].as_str()) {
        (Some(kind), Some(code)) => format!("{kind}:{code}"),
        (Some(kind), None) => kind,
        _ => body.to_owned(),
    }
}

/// The card key of a demo card number under the demo issuing CA.
pub fn card(number: &str) -> CardKey {
    CardKey {
        issuer: issuer(),
        card_number: CardNumber::parse(number).expect("card number"),
    }
}

/// A test's starting state written straight to the store, by "test" and without audit rows.
/// Changes under test go through `server::administration`, which records them.
pub mod seed {
    use identity::CardKey;
    use server::{
        archive::ControllerOid,
        store::{
            cards::{self, Validity},
            controllers,
        },
    };
    use sqlx::PgPool;

    /// `card` linked to `controller` from now on, with no end.
    pub async fn link(pool: &PgPool, card: &CardKey, controller: &ControllerOid) {
        let mut connection = pool.acquire().await.expect("connection");
        cards::link(
            &mut connection,
            card,
            controller,
            Validity::default(),
            "test",
        )
        .await
        .expect("link");
    }

    /// `card` an administrator.
    pub async fn administrator(pool: &PgPool, card: &CardKey) {
        let mut connection = pool.acquire().await.expect("connection");
        cards::grant_administrator(&mut connection, card, "test")
            .await
            .expect("grant");
    }

    /// A controller ahead of its first document.
    pub async fn controller(pool: &PgPool, oid: &ControllerOid, name: &str) {
        let mut connection = pool.acquire().await.expect("connection");
        controllers::create(&mut connection, oid, name)
            .await
            .expect("create");
    }
}

/// Archives chunk `chunk` of the test data set (ten documents of controller `chunk % 2`);
/// the files as they were imported.
pub async fn archive_chunk(pool: &PgPool, chunk: u64) -> Vec<documents::File> {
    let dir = tempfile::tempdir().expect("dir");
    let options = documents::Options {
        seed: 11,
        controllers: 2,
        clients: 5,
        documents: 40,
    };
    let signer = Signer::demo().expect("signer");
    let folder = dir.path().join(format!("chunk-{chunk}"));
    std::fs::create_dir_all(&folder).expect("folder");
    let files = documents::generate_chunk(&options, &signer, chunk, 10);
    for file in &files {
        std::fs::write(folder.join(&file.name), &file.bytes).expect("write");
    }
    let anchors = TrustAnchors::from_pem_files(&[demo_ca_file(dir.path())]).expect("anchors");
    let store = ArchiveStore::new(pool.clone()).await.expect("store");
    let summary = Importer::new(store, anchors, 2)
        .import(&[Source::Path(folder)], &Silent)
        .await;
    assert_eq!(summary.refused, vec![]);
    files
}

/// Archives ten generated documents for each of two controllers; their OIDs, in that order.
pub async fn two_controllers(database: &str) -> (ControllerOid, ControllerOid) {
    two_controllers_with_files(database).await.0
}

/// [`two_controllers`], with the files that were imported.
pub async fn two_controllers_with_files(
    database: &str,
) -> ((ControllerOid, ControllerOid), Vec<documents::File>) {
    let pool = PgPool::connect(&database_url(database))
        .await
        .expect("connect");
    let mut controllers = Vec::new();
    let mut files = Vec::new();
    for chunk in 0..2 {
        files.extend(archive_chunk(&pool, chunk).await);
        let oid: String = sqlx::query_scalar(
            "SELECT controller_oid FROM document_version GROUP BY 1 ORDER BY min(document_oid) \
             OFFSET $1 LIMIT 1",
        )
        .bind(i64::try_from(chunk).expect("small"))
        .fetch_one(&pool)
        .await
        .expect("controller");
        controllers.push(ControllerOid::parse(&oid).expect("oid"));
    }
    pool.close().await;
    let b = controllers.pop().expect("two");
    let a = controllers.pop().expect("two");
    assert_ne!(a, b);
    ((a, b), files)
}

/// The demo documents' signing CA, written into `dir`, for an importer's trust anchors.
pub fn demo_ca_file(dir: &Path) -> PathBuf {
    let path = dir.join("signing-ca.pem");
    std::fs::write(&path, documents::SIGNING_CA_PEM).expect("write the demo signing CA");
    path
}

/// A TCP forwarder to the tests' PostgreSQL server that a test can cut: what a primary that
/// has gone looks like to an instance (its connections broken, new ones closed at once),
/// without touching the database, which the test goes on reading directly.
pub struct Cuttable {
    pub addr: SocketAddr,
    cut: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl Cuttable {
    /// Forwards a loopback port to the PostgreSQL server of `DATABASE_URL`.
    pub async fn to_database() -> Self {
        let url = url::Url::parse(&admin_url()).expect("DATABASE_URL is a URL");
        let target = format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accept = {
            let (cut, open) = (cut.clone(), open.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if cut.load(std::sync::atomic::Ordering::SeqCst) {
                        continue;
                    }
                    let target = target.clone();
                    let forwarding = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    open.lock()
                        .expect("not poisoned")
                        .push(forwarding.abort_handle());
                }
            })
        };
        Self {
            addr,
            cut,
            open,
            accept,
        }
    }

    /// `url` with its host and port replaced by this forwarder's.
    pub fn url_through(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).expect("a URL");
        url.set_host(Some(&self.addr.ip().to_string()))
            .expect("a host");
        url.set_port(Some(self.addr.port())).expect("a port");
        url.to_string()
    }

    /// Breaks every forwarded connection and closes new ones until [`Cuttable::restore`].
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for connection in self.open.lock().expect("not poisoned").drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Cuttable {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
