//! Settings: built-in defaults, then the TOML file given with `--config`, then environment
//! variables (`ARCHIVIST_…`, nested keys joined with `__`, and `DATABASE_URL`).
//! Every setting and its default is listed in the README. The server and the card tool read
//! them through this one crate, so the tool can never disagree with the server about a card.

// Settings errors are reported, never panicked on.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

use identity::{CardNumberRule, Oid, verifier::VerifierSettings};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port the HTTPS server listens on.
    pub listen: SocketAddr,
    /// The site's own origins (`https://host[:port]`), as browsers name them in `Origin`: a
    /// state-changing request from any other is refused. Empty: every DNS name and address of
    /// the server certificate with the port listened on. Set it when browsers reach the site
    /// under another name or port (a load balancer's). Never taken from the request.
    pub origins: Vec<String>,
    /// Folder of the compiled site (`pkg/` with the WebAssembly, script and style sheet).
    pub site_root: PathBuf,
    pub log: LogSettings,
    pub tls: TlsSettings,
    pub database: DatabaseSettings,
    pub archive: ArchiveSettings,
    pub auth: AuthSettings,
    pub session: SessionSettings,
    pub proxy: ProxySettings,
    pub audit: AuditSettings,
    pub connections: ConnectionSettings,
    pub metrics: MetricsSettings,
    pub ops: OpsSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpsSettings {
    /// A TOML file with one notice (README: "Notices"), shown and published without the
    /// database; read again when it changes. Unset: none.
    pub notice_file: Option<PathBuf>,
    /// Seconds between reads of the stored notices and the notice file: how soon a change made
    /// on another instance or with `archivist notice …` shows here.
    pub notice_refresh_secs: u64,
    /// Hours ahead of its window that a maintenance notice shows in the banner.
    pub maintenance_notice_hours: u64,
    /// Seconds between the stop signal and the end of accepting connections, during which
    /// `/readyz` answers 503 and requests are still served: time for a load balancer's health
    /// checks to send new connections to the other instance. 0: stop accepting at once.
    pub drain_delay_secs: u64,
}

/// The longest `ops.drain_delay_secs`: with the 30 seconds that open requests then have, a stop
/// ends within systemd's default stop timeout (90 s) rather than being killed.
const MAX_DRAIN_DELAY_SECS: u64 = 60;

impl Default for OpsSettings {
    fn default() -> Self {
        Self {
            notice_file: None,
            notice_refresh_secs: 5,
            maintenance_notice_hours: 24,
            drain_delay_secs: 0,
        }
    }
}

impl OpsSettings {
    pub fn notice_refresh(&self) -> Duration {
        Duration::from_secs(self.notice_refresh_secs)
    }

    pub fn drain_delay(&self) -> Duration {
        Duration::from_secs(self.drain_delay_secs)
    }

    /// How long ahead of its window a maintenance notice shows.
    pub fn maintenance_lead(&self) -> Duration {
        Duration::from_secs(self.maintenance_notice_hours.saturating_mul(3600))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where the Prometheus metrics are served, in plain HTTP and apart from the public port:
    /// an address (`127.0.0.1:9464`, the default) or `off`.
    pub listen: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".to_owned(),
        }
    }
}

impl MetricsSettings {
    /// The listener's address, `None` when it is off (or not an address, which `validate`
    /// refuses first).
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen.trim().parse().ok()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxySettings {
    /// Addresses of TLS-terminating load balancers whose RFC 9440 `Client-Cert` and
    /// `Client-Cert-Chain` headers are verified and used. Empty (the default): the headers are
    /// removed from every request.
    pub trusted: Vec<std::net::IpAddr>,
    /// Addresses of TCP-mode load balancers (HAProxy `send-proxy-v2`) whose connections begin
    /// with a PROXY protocol v2 header naming the client: that address is the connection's for
    /// the accept-time caps, the logs and the audit. A connection from a listed address without
    /// a valid header is closed. Empty (the default): no connection may begin with one.
    pub protocol_from: Vec<std::net::IpAddr>,
}

/// What one address, one network (/24, /56) and everyone together may hold open and open anew,
/// checked at accept time before any TLS work; over a cap the connection is closed at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionSettings {
    /// Open connections in all; the accept loop closes new ones at this count.
    pub max_open: u32,
    /// Open connections from one address (an organisation's NAT may carry many archivists).
    pub max_open_per_address: u32,
    /// Open connections from one /24 (IPv4) or /56 (IPv6).
    pub max_open_per_network: u32,
    /// New connections a second from one address (GCRA; bursts of four seconds' worth).
    pub new_per_second_per_address: u32,
    /// New connections a second from one network.
    pub new_per_second_per_network: u32,
    /// TLS handshakes in progress at once; more wait within the handshake deadline. 0: 64 per
    /// core.
    pub max_concurrent_handshakes: u32,
    /// Requests worked on at once; one more is answered 503 with `Retry-After` at once rather
    /// than queued (load shedding).
    pub max_requests_in_flight: u32,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            max_open: 20_000,
            max_open_per_address: 512,
            max_open_per_network: 2_048,
            new_per_second_per_address: 50,
            new_per_second_per_network: 200,
            max_concurrent_handshakes: 0,
            max_requests_in_flight: 256,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Seconds over which refused requests of one kind (card, address, route, reason) after
    /// the first are counted into one `request.refused` row.
    pub refusal_interval_secs: u64,
    /// The Ed25519 private key (PKCS#8, from `archivist audit new-key`) that signs the audit
    /// log's checkpoints. Kept on the serving host, never in the database. Unset: the log is
    /// hash-chained but no checkpoint is signed (a warning at start).
    pub signing_key_file: Option<PathBuf>,
    /// A directory each signed checkpoint is also written to, once (point it at write-once
    /// storage). Needs `signing_key_file`.
    pub checkpoint_dir: Option<PathBuf>,
    /// A checkpoint at least this often while rows come in.
    pub checkpoint_interval_secs: u64,
    /// A checkpoint after at most this many rows.
    pub checkpoint_rows: u64,
    /// How often new rows are added to the hash chain.
    pub seal_interval_millis: u64,
    /// A `tls.client_authenticated` row for every TLS connection with a card, written before it
    /// is served. Off (the default), sign-ins are audited once a session (`session.started`)
    /// and every access as it happens: a row a connection would let anyone with a valid card
    /// make the server write to the database at its handshake rate.
    pub connections: bool,
    /// A directory of this instance's own (never shared) where an access's audit row is kept,
    /// fsynced before the page is served, while no database primary takes it (a failover), and
    /// from which it is added to the log once one does. Unset: such a request is answered 503.
    pub spool_dir: Option<PathBuf>,
    /// The most the spool holds; a row that would not fit is refused like an unwritable one
    /// (503), so a long outage fills a bounded amount of disk.
    pub spool_max_bytes: u64,
}

/// The smallest spool worth having: room for a few rows.
pub const MIN_SPOOL_BYTES: u64 = 4096;

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            refusal_interval_secs: 60,
            signing_key_file: None,
            checkpoint_dir: None,
            checkpoint_interval_secs: 60,
            checkpoint_rows: 10_000,
            seal_interval_millis: 1_000,
            connections: false,
            spool_dir: None,
            spool_max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl AuditSettings {
    pub fn refusal_interval(&self) -> Duration {
        Duration::from_secs(self.refusal_interval_secs)
    }

    pub fn checkpoint_interval(&self) -> Duration {
        Duration::from_secs(self.checkpoint_interval_secs)
    }

    pub fn seal_interval(&self) -> Duration {
        Duration::from_millis(self.seal_interval_millis)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSettings {
    /// Seconds without a request after which a session ends.
    pub idle_timeout_secs: u64,
    /// Seconds after sign-in after which a session ends however active it is.
    pub absolute_timeout_secs: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 15 * 60,
            absolute_timeout_secs: 10 * 60 * 60,
        }
    }
}

impl SessionSettings {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn absolute_timeout(&self) -> Duration {
        Duration::from_secs(self.absolute_timeout_secs)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Where the card number that access is linked to comes from: `{ kind = "subject_attribute",
    /// oid = "2.5.4.5" }` (the default, the SATU), `{ kind = "san_other_name", type_id = "…" }`
    /// or `{ kind = "issuer_and_serial" }`.
    pub card_number_rule: CardNumberRule,
    /// Questions one address may send to `/api/card-status` a minute (as many at once); more
    /// get 429 with `Retry-After`.
    pub card_status_per_minute: u32,
    /// Requests one card (one certificate key) may send a second, sustained, to everything but
    /// the site's own files; more get 429 with `Retry-After` and are audited as refusals.
    pub card_requests_per_second: u32,
    /// How many of those may come at once (a page and its server functions).
    pub card_request_burst: u32,
    /// Downloads of stored bytes (CDA, renditions, PDFs) one card may have under way at once;
    /// one more gets 429. A large PDF holds a database connection a piece at a time for as long
    /// as the client takes to read it.
    pub card_downloads_at_once: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            card_number_rule: CardNumberRule::default(),
            card_status_per_minute: 20,
            card_requests_per_second: 20,
            card_request_burst: 120,
            card_downloads_at_once: 4,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveSettings {
    /// PEM files with the CA certificates whose signer certificates the archive trusts when it
    /// verifies document signatures. A signature under another issuer is checked for integrity
    /// and reported with trust "unknown".
    pub signature_ca: Vec<PathBuf>,
    /// Documents `archivist import` prepares and stores at the same time.
    pub import_concurrency: usize,
}

impl Default for ArchiveSettings {
    fn default() -> Self {
        Self {
            signature_ca: vec![PathBuf::from("demo/pki/signing-ca.pem")],
            import_concurrency: 8,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `human` (readable lines) or `json` (one object a line, for log collectors).
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `info,server=debug`; `RUST_LOG` overrides it.
    pub filter: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file with the server certificate first, then its intermediates.
    pub certificate: PathBuf,
    /// PEM file with the server's private key (PKCS#8, SEC1 or PKCS#1).
    pub private_key: PathBuf,
    /// PEM files with the CA certificates that issue archivists' card certificates. Only
    /// certificates issued by these are accepted; list the issuing CAs, not the roots.
    pub client_ca: Vec<PathBuf>,
    /// PEM or DER files with the certificate revocation lists of those CAs, or directories of
    /// them (every `.crl`, `.pem` and `.der` file, hidden ones skipped).
    pub client_crl: Vec<PathBuf>,
    /// Certificate policy OIDs of card certificates; a card must carry one of them. Empty: the
    /// policy is not checked (with a warning at startup).
    pub card_policies: Vec<String>,
    /// Seconds between checks of the CA and CRL files; a changed file, or a CRL going stale,
    /// takes effect for new connections without a restart.
    pub crl_refresh_secs: u64,
    /// Seconds a CRL stays in use after its nextUpdate; after that, cards of its CA are refused.
    pub crl_grace_secs: u64,
    /// Seconds a client has to finish the TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Seconds a client has to send a request's headers, and its first bytes after the
    /// handshake.
    pub header_read_timeout_secs: u64,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// PostgreSQL connection URL; `DATABASE_URL` sets it too.
    pub url: Option<String>,
    /// `serve` only: where archivists' pages, searches, sign-in lookups and sessions are read
    /// from; changes and audit rows always go to `url`. Point it at a router that sends reads
    /// to the primary while there is one and to the synchronous standby while there is not
    /// (server/deploy/haproxy/database.cfg), so that reads go on through a failover. Unset:
    /// everything uses `url`.
    pub read_url: Option<String>,
    pub max_connections: u32,
    /// Seconds to wait for a connection from the pool (and for the first connection).
    pub acquire_timeout_secs: u64,
    /// `serve` only: any statement running longer is cancelled by PostgreSQL, so that an
    /// expensive search cannot hold a connection and a core. 0: no limit. The audit log's CSV
    /// download and the migrations at start are exempt.
    pub statement_timeout_millis: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            origins: Vec::new(),
            site_root: PathBuf::from("target/site"),
            log: LogSettings::default(),
            tls: TlsSettings::default(),
            database: DatabaseSettings::default(),
            archive: ArchiveSettings::default(),
            auth: AuthSettings::default(),
            session: SessionSettings::default(),
            proxy: ProxySettings::default(),
            audit: AuditSettings::default(),
            connections: ConnectionSettings::default(),
            metrics: MetricsSettings::default(),
            ops: OpsSettings::default(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info,sqlx::postgres::notice=warn".to_owned(),
        }
    }
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            certificate: PathBuf::from("demo/pki/server.pem"),
            private_key: PathBuf::from("demo/pki/server.key"),
            client_ca: vec![PathBuf::from("demo/pki/issuing-ca.pem")],
            client_crl: vec![PathBuf::from("demo/pki/issuing-ca.crl")],
            card_policies: Vec::new(),
            crl_refresh_secs: 60,
            crl_grace_secs: 0,
            handshake_timeout_secs: 10,
            header_read_timeout_secs: 10,
        }
    }
}

impl TlsSettings {
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.handshake_timeout_secs)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// What the client certificate verifier is built from.
    pub fn verifier(&self) -> VerifierSettings<'_> {
        VerifierSettings {
            client_ca: &self.client_ca,
            client_crl: &self.client_crl,
            card_policies: &self.card_policies,
            crl_grace: time::Duration::seconds(
                i64::try_from(self.crl_grace_secs).unwrap_or(i64::MAX),
            ),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            read_url: None,
            max_connections: 10,
            acquire_timeout_secs: 5,
            statement_timeout_millis: 30_000,
        }
    }
}

impl DatabaseSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.acquire_timeout_secs)
    }
}

/// The URL may hold a password: it never reaches a log line through `Debug`.
impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.url.as_ref().map(|_| "<set>"))
            .field("read_url", &self.read_url.as_ref().map(|_| "<set>"))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_secs", &self.acquire_timeout_secs)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: log.filter {filter:?} is not a tracing filter: {problem}")]
    LogFilter { filter: String, problem: String },
    #[error("invalid configuration: {setting} {problem}")]
    Value {
        setting: &'static str,
        problem: &'static str,
    },
}

impl Settings {
    /// Defaults, then `file`, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, Env::prefixed("ARCHIVIST_").split("__"))
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            // figment skips a missing file silently; a named file that is not there is an error.
            std::fs::File::open(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(Toml::file_exact(path));
        }
        let settings: Settings = figment
            .merge(env)
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database.url".into()),
            )
            .extract()
            .map_err(Box::new)?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let problem = |setting, problem| Err(ConfigError::Value { setting, problem });
        if !self.origins.iter().all(|o| is_https_origin(o)) {
            return problem(
                "origins",
                "must list origins such as https://archive.example:3443 (https, a host and an optional port, nothing else)",
            );
        }
        let metrics = self.metrics.listen.trim();
        if metrics != "off" && metrics.parse::<SocketAddr>().is_err() {
            return problem(
                "metrics.listen",
                "must be an address such as 127.0.0.1:9464, or off",
            );
        }
        if self.auth.card_status_per_minute == 0 {
            return problem("auth.card_status_per_minute", "must be at least 1");
        }
        if self.auth.card_requests_per_second == 0 {
            return problem("auth.card_requests_per_second", "must be at least 1");
        }
        if self.auth.card_request_burst == 0 {
            return problem("auth.card_request_burst", "must be at least 1");
        }
        if self.auth.card_downloads_at_once == 0 {
            return problem("auth.card_downloads_at_once", "must be at least 1");
        }
        if self.ops.notice_refresh_secs == 0 {
            return problem("ops.notice_refresh_secs", "must be at least 1");
        }
        if self.ops.maintenance_notice_hours > 24 * 366 {
            return problem(
                "ops.maintenance_notice_hours",
                "must be at most a year (8784)",
            );
        }
        if self.ops.drain_delay_secs > MAX_DRAIN_DELAY_SECS {
            return problem(
                "ops.drain_delay_secs",
                "must be at most 60 (with the 30-second drain after it, a stop stays within systemd's 90-second stop timeout)",
            );
        }
        if self.audit.refusal_interval_secs == 0 {
            return problem("audit.refusal_interval_secs", "must be at least 1");
        }
        if self.audit.spool_max_bytes < MIN_SPOOL_BYTES {
            return problem(
                "audit.spool_max_bytes",
                "must be at least 4096 (a few rows; a failover's worth is megabytes)",
            );
        }
        let c = &self.connections;
        for (setting, value) in [
            ("connections.max_open", c.max_open),
            ("connections.max_open_per_address", c.max_open_per_address),
            ("connections.max_open_per_network", c.max_open_per_network),
            (
                "connections.new_per_second_per_address",
                c.new_per_second_per_address,
            ),
            (
                "connections.new_per_second_per_network",
                c.new_per_second_per_network,
            ),
            (
                "connections.max_requests_in_flight",
                c.max_requests_in_flight,
            ),
        ] {
            if value == 0 {
                return problem(setting, "must be at least 1");
            }
        }
        if self.audit.checkpoint_interval_secs == 0 {
            return problem("audit.checkpoint_interval_secs", "must be at least 1");
        }
        if self.audit.checkpoint_rows == 0 {
            return problem("audit.checkpoint_rows", "must be at least 1");
        }
        if !(10..=60_000).contains(&self.audit.seal_interval_millis) {
            return problem("audit.seal_interval_millis", "must be between 10 and 60000");
        }
        if self.audit.checkpoint_dir.is_some() && self.audit.signing_key_file.is_none() {
            return problem(
                "audit.checkpoint_dir",
                "needs audit.signing_key_file: only signed checkpoints are written",
            );
        }
        if self.tls.client_ca.is_empty() {
            return problem(
                "tls.client_ca",
                "must name at least one CA certificate file",
            );
        }
        if self.tls.handshake_timeout_secs == 0 {
            return problem("tls.handshake_timeout_secs", "must be at least 1");
        }
        if self.tls.crl_refresh_secs == 0 {
            return problem("tls.crl_refresh_secs", "must be at least 1");
        }
        if self.tls.header_read_timeout_secs == 0 {
            return problem("tls.header_read_timeout_secs", "must be at least 1");
        }
        if self.session.idle_timeout_secs == 0 {
            return problem("session.idle_timeout_secs", "must be at least 1");
        }
        if self.session.absolute_timeout_secs < self.session.idle_timeout_secs {
            return problem(
                "session.absolute_timeout_secs",
                "must be at least session.idle_timeout_secs",
            );
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            return Err(ConfigError::LogFilter {
                filter: self.log.filter.clone(),
                problem: e.to_string(),
            });
        }
        if self.database.max_connections == 0 {
            return problem("database.max_connections", "must be at least 1");
        }
        if self
            .tls
            .card_policies
            .iter()
            .any(|oid| Oid::parse(oid).is_err())
        {
            return problem(
                "tls.card_policies",
                "must list dotted OIDs such as 1.2.246.517.1.10.1",
            );
        }
        if let Err(why) = self.auth.card_number_rule.validate() {
            return problem("auth.card_number_rule", why);
        }
        Ok(())
    }
}

/// `https://` and a host with an optional port: no path, query, user or white space.
fn is_https_origin(origin: &str) -> bool {
    origin.strip_prefix("https://").is_some_and(|authority| {
        !authority.is_empty()
            && !authority.contains(['/', '?', '#', '@'])
            && !authority.chars().any(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_https_hosts_with_an_optional_port() {
        for good in [
            "https://archive.example",
            "https://archive.example:3443",
            "https://[::1]:3443",
        ] {
            assert!(is_https_origin(good), "{good}");
        }
        for bad in [
            "",
            "https://",
            "http://archive.example",
            "archive.example",
            "https://archive.example/",
            "https://archive.example/path",
            "https://user@archive.example",
            "https://archive.example ",
        ] {
            assert!(!is_https_origin(bad), "{bad}");
        }
    }
    use std::io::Write;

    fn no_env() -> Env {
        Env::prefixed("ARCHIVIST_TEST_UNUSED_PREFIX_")
    }

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(contents.as_bytes()).expect("write");
        f
    }

    #[test]
    fn defaults_need_no_file() {
        let s = Settings::load_from(None, no_env()).expect("defaults are valid");
        assert_eq!(s.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
        assert_eq!(s.tls.handshake_timeout(), Duration::from_secs(10));
        assert_eq!(s.tls.header_read_timeout(), Duration::from_secs(10));
    }

    #[test]
    fn file_overrides_defaults() {
        let f = file("listen = \"0.0.0.0:8443\"\n[tls]\nhandshake_timeout_secs = 3\n");
        let s = Settings::load_from(Some(f.path()), no_env()).expect("valid");
        assert_eq!(s.listen.port(), 8443);
        assert_eq!(s.tls.handshake_timeout_secs, 3);
        assert_eq!(
            s.tls.header_read_timeout_secs, 10,
            "unset keys keep defaults"
        );
    }

    #[test]
    fn missing_file_names_the_file() {
        let err = Settings::load_from(Some(Path::new("/nonexistent/archivist.toml")), no_env())
            .expect_err("must fail");
        assert!(
            err.to_string().contains("/nonexistent/archivist.toml"),
            "{err}"
        );
    }

    #[test]
    fn malformed_file_names_the_file() {
        let f = file("listen = [unclosed\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        // figment shows the path relative to the working directory, which the figment::Jail of
        // another test may change meanwhile; the file's own name is in the message either way.
        let name = f
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        assert!(err.to_string().contains(&name.unwrap_or_default()), "{err}");
    }

    #[test]
    fn wrong_type_names_the_setting() {
        let f = file("[tls]\nhandshake_timeout_secs = \"ten\"\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("handshake_timeout_secs"), "{err}");
    }

    #[test]
    fn a_broken_log_filter_is_refused() {
        let f = file("[log]\nfilter = \"server=loud\"\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("log.filter"), "{err}");
    }

    #[test]
    fn unknown_setting_is_refused() {
        let f = file("[tls]\nhandshake_timeout = 10\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("handshake_timeout"), "{err}");
    }

    #[test]
    fn the_card_number_rule_is_read_and_checked() {
        let f = file(
            "[auth.card_number_rule]\nkind = \"san_other_name\"\ntype_id = \"1.3.6.1.4.1.311.20.2.3\"\n",
        );
        let s = Settings::load_from(Some(f.path()), no_env()).expect("valid");
        assert_eq!(
            s.auth.card_number_rule,
            CardNumberRule::SanOtherName {
                type_id: "1.3.6.1.4.1.311.20.2.3".to_owned()
            }
        );
        let f =
            file("[auth.card_number_rule]\nkind = \"subject_attribute\"\noid = \"serialNumber\"\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("auth.card_number_rule"), "{err}");
        let f = file("[auth.card_number_rule]\nkind = \"printed_number\"\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("printed_number"), "{err}");
    }

    #[test]
    fn origins_must_be_https_origins() {
        let f = file("origins = [\"https://archive.example\", \"http://archive.example\"]\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("origins"), "{err}");
        let f = file("origins = [\"https://archive.example:8443\"]\n");
        let s = Settings::load_from(Some(f.path()), no_env()).expect("valid");
        assert_eq!(s.origins, ["https://archive.example:8443"]);
    }

    #[test]
    fn card_policies_must_be_oids() {
        let f = file("[tls]\ncard_policies = [\"1.2.246.517.1.10.1\", \"sote card\"]\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("tls.card_policies"), "{err}");
    }

    #[test]
    fn zero_timeout_is_refused() {
        let f = file("[tls]\nheader_read_timeout_secs = 0\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(
            err.to_string().contains("tls.header_read_timeout_secs"),
            "{err}"
        );
    }

    #[test]
    fn the_drain_delay_is_bounded() {
        let f = file("[ops]\ndrain_delay_secs = 61\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("ops.drain_delay_secs"), "{err}");
        let f = file("[ops]\ndrain_delay_secs = 5\n");
        let s = Settings::load_from(Some(f.path()), no_env()).expect("valid");
        assert_eq!(s.ops.drain_delay(), Duration::from_secs(5));
    }

    #[test]
    fn a_spool_too_small_for_a_few_rows_is_refused() {
        let f = file("[audit]\nspool_dir = \"/var/spool/archivist\"\nspool_max_bytes = 100\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("audit.spool_max_bytes"), "{err}");
        let f = file("[audit]\nspool_dir = \"/var/spool/archivist\"\n");
        let s = Settings::load_from(Some(f.path()), no_env()).expect("valid");
        assert_eq!(s.audit.spool_max_bytes, 64 * 1024 * 1024);
    }

    #[test]
    fn the_metrics_listener_is_an_address_or_off() {
        let s = Settings::load_from(None, no_env()).expect("defaults");
        assert_eq!(
            s.metrics.listen_addr(),
            Some("127.0.0.1:9464".parse().expect("address"))
        );
        let off = file("[metrics]\nlisten = \"off\"\n");
        let s = Settings::load_from(Some(off.path()), no_env()).expect("off");
        assert_eq!(s.metrics.listen_addr(), None);
        let bad = file("[metrics]\nlisten = \"localhost\"\n");
        let err = Settings::load_from(Some(bad.path()), no_env()).expect_err("must fail");
        assert!(err.to_string().contains("metrics.listen"), "{err}");
    }

    #[test]
    fn a_card_status_limit_of_zero_is_refused() {
        let s = Settings::load_from(None, no_env()).expect("defaults");
        assert_eq!(s.auth.card_status_per_minute, 20);
        let f = file("[auth]\ncard_status_per_minute = 0\n");
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(
            err.to_string().contains("auth.card_status_per_minute"),
            "{err}"
        );
    }

    #[test]
    fn session_timeouts_are_checked() {
        let s = Settings::load_from(None, no_env()).expect("defaults");
        assert_eq!(s.session.idle_timeout().as_secs(), 900);
        assert_eq!(s.session.absolute_timeout().as_secs(), 36_000);
        let f = file(
            "[session]
idle_timeout_secs = 0
",
        );
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(
            err.to_string().contains("session.idle_timeout_secs"),
            "{err}"
        );
        let f = file(
            "[session]
idle_timeout_secs = 600
absolute_timeout_secs = 300
",
        );
        let err = Settings::load_from(Some(f.path()), no_env()).expect_err("must fail");
        assert!(
            err.to_string().contains("session.absolute_timeout_secs"),
            "{err}"
        );
    }

    #[test]
    #[allow(clippy::result_large_err, reason = "figment::Jail's own error type")]
    fn environment_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("ARCHIVIST_TLS__HANDSHAKE_TIMEOUT_SECS", "7");
            jail.set_env("DATABASE_URL", "postgres://u:secret@db/archive");
            let f = file("[tls]\nhandshake_timeout_secs = 3\n");
            let s = Settings::load(Some(f.path())).expect("valid");
            assert_eq!(s.tls.handshake_timeout_secs, 7);
            assert_eq!(
                s.database.url.as_deref(),
                Some("postgres://u:secret@db/archive")
            );
            assert!(
                !format!("{:?}", s.database).contains("secret"),
                "Debug hides the URL"
            );
            Ok(())
        });
    }
}
