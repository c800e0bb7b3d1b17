//! Putting the server together: TLS, database, router, listener, in the order that reports a
//! broken setting before anything starts.

use std::{future::Future, net::SocketAddr, sync::Arc};

use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

use settings::Settings;

use crate::{
    audit::{
        AuditLog,
        seal::{SealSettings, Sealer},
        spool::Spool,
    },
    auth::Authenticator,
    db::{self, DbError},
    monitoring::listener::{self, MetricsState},
    notices::board::NoticeBoard,
    tls::{
        AcceptLoop, TlsConfigError, TlsReloader, forwarded::ForwardedCertificates,
        proxy_header::ProxyProtocol,
    },
    web::{
        self, AppState, Connections, ServerServices,
        csrf::SiteOrigins,
        handshake_refusals::HandshakeRefusals,
        health::{Draining, Readiness},
        refusals::RefusalLog,
        tally::{Flush, spawn_flushing},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Tls(#[from] TlsConfigError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("listen: cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("origins: {0}")]
    Origins(String),
    #[error("audit.signing_key_file: {0}")]
    AuditKey(#[from] crate::audit::checkpoint::KeyError),
    #[error("audit.checkpoint_dir: {path} is not a directory this process can write to: {source}")]
    CheckpointDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("audit.spool_dir: {0}")]
    Spool(#[from] crate::audit::spool::SpoolError),
    #[error("metrics.listen: cannot listen on {addr}: {source}")]
    MetricsListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server bound to its port, not yet serving.
pub struct Application {
    local_addr: SocketAddr,
    accept: AcceptLoop<Connections>,
    reloader: TlsReloader,
    pool: sqlx::PgPool,
    refusals: RefusalLog,
    handshake_refusals: HandshakeRefusals,
    refusal_interval: std::time::Duration,
    metrics: Option<(TcpListener, MetricsState)>,
    notices: NoticeBoard,
    notice_refresh: std::time::Duration,
    sealer: Sealer,
    seal_interval: std::time::Duration,
    draining: Draining,
    drain_delay: std::time::Duration,
    spool: Option<Spool>,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let (tls, reloader) = TlsReloader::start(&settings.tls)?;
        // A key or checkpoint directory that does not work is found now, not at the first
        // checkpoint a minute into serving.
        let seal_settings = SealSettings::from_settings(&settings.audit)?;
        if let Some(dir) = &settings.audit.checkpoint_dir {
            check_writable(dir).map_err(|source| StartupError::CheckpointDir {
                path: dir.clone(),
                source,
            })?;
        }
        if seal_settings.key.is_none() {
            tracing::warn!(
                "audit.signing_key_file is not set: the audit log is hash-chained, but no checkpoint is signed, so a database superuser could rewrite it unnoticed"
            );
        }
        // Taken before the database is reached: a spool another process holds is a
        // configuration mistake to stop on, whatever the database's state.
        let spool = settings
            .audit
            .spool_dir
            .as_deref()
            .map(|dir| Spool::open(dir, settings.audit.spool_max_bytes))
            .transpose()?;
        // Recording starts before the first connection, so nothing goes uncounted.
        crate::monitoring::handle();
        let pool = db::connect_for_serving(&settings.database).await?;
        db::migrate_if_pending(&pool).await?;
        let reads =
            db::connect_reads_for_serving(&settings.database)?.unwrap_or_else(|| pool.clone());

        let leptos_options = LeptosOptions::builder()
            .output_name(app::SITE_OUTPUT_NAME)
            .site_root(settings.site_root.to_string_lossy().as_ref())
            .site_addr(settings.listen)
            .build();
        // Sign-in reads the card's links on every request: through a failover too.
        let authenticator =
            Authenticator::new(reads.clone(), settings.auth.card_number_rule.clone());
        // The TLS configuration above has read the same files, so this does not fail in practice.
        let issuers = crate::admin_commands::configured_issuers(settings).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot name the issuing CAs for the administrators' pages");
            Vec::new()
        });
        let audit = AuditLog::new(pool.clone()).with_spool(spool.clone());
        let refusals = RefusalLog::new(audit.clone());
        let handshake_refusals = HandshakeRefusals::new(audit.clone());
        let notices = NoticeBoard::new(
            pool.clone(),
            settings.ops.notice_file.clone(),
            time::Duration::try_from(settings.ops.maintenance_lead())
                .unwrap_or(time::Duration::DAY),
        );
        // The first request already shows the notices (and finds the service closed if it is).
        notices.refresh().await;
        let services = ServerServices::new(
            pool.clone(),
            reads.clone(),
            authenticator.clone(),
            audit.clone(),
            issuers,
            refusals.clone(),
            notices.clone(),
        );
        let guard = web::session::SessionGuard {
            audit: audit.clone(),
            absolute_timeout: settings.session.absolute_timeout(),
            pool: pool.clone(),
        };
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Listen {
                    addr: settings.listen,
                    source,
                })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartupError::Listen {
                addr: settings.listen,
                source,
            })?;
        // The origins state-changing requests must come from: never the request's own Host.
        let origins = if settings.origins.is_empty() {
            SiteOrigins::of_certificate(&settings.tls.certificate, local_addr.port())
                .map_err(StartupError::Origins)?
        } else {
            SiteOrigins::new(settings.origins.iter().cloned())
        };
        tracing::info!(origins = ?origins.as_slice(), "forms are accepted from these origins");
        let draining = Draining::default();
        let readiness = Readiness::new(pool.clone(), tls.revocation.clone(), draining.clone());
        let router = web::router(
            AppState {
                leptos_options,
                pool: pool.clone(),
                reads,
                services: Arc::new(services),
                notices: notices.clone(),
                readiness: readiness.clone(),
            },
            guard,
            origins,
            settings,
            ForwardedCertificates::new(settings.proxy.trusted.clone(), tls.verifier, audit.clone()),
        );
        if !settings.proxy.trusted.is_empty() {
            tracing::warn!(
                trusted = ?settings.proxy.trusted,
                "card certificates forwarded by these load balancers (Client-Cert) are accepted"
            );
        }

        if !settings.proxy.protocol_from.is_empty() {
            tracing::warn!(
                balancers = ?settings.proxy.protocol_from,
                "client addresses in PROXY protocol headers from these load balancers are used"
            );
        }

        let metrics = match settings.metrics.listen_addr() {
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::MetricsListen { addr, source })?;
                let state = MetricsState {
                    pool: pool.clone(),
                    revocation: tls.revocation,
                    notices: notices.clone(),
                    readiness,
                };
                Some((listener, state))
            }
            None => None,
        };
        let accept = AcceptLoop::new(
            listener,
            tls.acceptor,
            Connections::new(
                router,
                audit,
                authenticator,
                handshake_refusals.clone(),
                notices.clone(),
                settings.audit.connections,
            ),
            crate::tls::admission::Admission::new(&settings.connections),
            ProxyProtocol::new(settings.proxy.protocol_from.clone()),
            settings.tls.handshake_timeout(),
            settings.tls.header_read_timeout(),
        );
        Ok(Self {
            local_addr,
            accept,
            reloader,
            refusals,
            handshake_refusals,
            refusal_interval: settings.audit.refusal_interval(),
            metrics,
            notices,
            notice_refresh: settings.ops.notice_refresh(),
            sealer: Sealer::new(pool.clone(), seal_settings),
            pool,
            seal_interval: settings.audit.seal_interval(),
            draining,
            drain_delay: settings.ops.drain_delay(),
            spool,
        })
    }

    /// The metrics listener's bound address, when it is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// The bound address; with port 0 in the settings, the port the system chose.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        tracing::info!(address = %self.local_addr, "serving https");
        let reloader = tokio::spawn(self.reloader.run());
        let sessions = tokio::spawn(web::session::delete_expired(self.pool.clone()));
        let refusals = spawn_flushing(&self.refusals, self.refusal_interval);
        let handshake_refusals = spawn_flushing(&self.handshake_refusals, self.refusal_interval);
        let notices = tokio::spawn(self.notices.run(self.notice_refresh));
        let sealer = tokio::spawn(self.sealer.clone().run(self.seal_interval));
        let shipping = self
            .spool
            .clone()
            .map(|spool| tokio::spawn(spool.run_shipping(self.pool.clone(), SHIP_EVERY)));
        let metrics = self.metrics.map(|(listener, state)| {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "serving metrics (plain HTTP)");
            }
            // Stopped below, once the last HTTPS request has drained.
            tokio::spawn(listener::serve(listener, state, std::future::pending()))
        });
        let (draining, delay) = (self.draining, self.drain_delay);
        let shutdown = async move {
            shutdown.await;
            // Out of the load balancer's rotation first, still serving, then stop accepting.
            draining.start();
            if !delay.is_zero() {
                tracing::info!(
                    seconds = delay.as_secs(),
                    "draining: /readyz answers 503 and requests are still served until the load balancer has moved on"
                );
                tokio::time::sleep(delay).await;
            }
        };
        self.accept.run(shutdown).await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        reloader.abort();
        sessions.abort();
        refusals.abort();
        handshake_refusals.abort();
        notices.abort();
        sealer.abort();
        if let Some(shipping) = shipping {
            shipping.abort();
        }
        // The refusals counted since the last row are not lost with the process.
        self.refusals.flush().await;
        self.handshake_refusals.flush().await;
        // Spooled rows reach the log now if a primary takes them; else the next start ships them.
        if let Some(spool) = &self.spool
            && spool.held_bytes() > 0
            && let Err(error) = spool.ship(&self.pool).await
        {
            tracing::warn!(%error, held_bytes = spool.held_bytes(), "audit rows stay in the spool until the next start");
        }
        // And the last rows join the chain now rather than at the other instance's next round.
        if let Err(error) = self.sealer.seal().await {
            tracing::warn!(%error, "cannot seal the audit log at shutdown; the next round will");
        }
    }
}

/// How often the spool looks for a primary to ship to while it holds rows.
const SHIP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Creates and removes a file in `dir`, as the sealer will write checkpoints there.
fn check_writable(dir: &std::path::Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".archivist-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

/// Completes on Ctrl-C or SIGTERM (what systemd and orchestrators send before a restart).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
