//! Revocation lists and CA files change while the server runs: new CRLs are published before
//! the old ones' `nextUpdate`. The reloader checks the files every `tls.crl_refresh_secs` and
//! swaps the TLS configuration for new connections when a file changed or a CRL went stale;
//! open connections keep theirs and are not dropped.

use std::{path::PathBuf, sync::Arc, time::SystemTime};

use rustls::server::danger::ClientCertVerifier;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use identity::verifier::CrlNumbers;

use super::{TlsConfigError, build_server_config};
use settings::TlsSettings;

type FileStamp = (PathBuf, Option<SystemTime>, Option<u64>);

/// The client certificate verifier in force, for certificates a trusted proxy forwards.
pub type CurrentVerifier = watch::Receiver<Arc<dyn ClientCertVerifier>>;

/// The state of revocation checking, for monitoring (`/metrics`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationHealth {
    /// Issuers whose CRL is past nextUpdate and the grace period: their cards are refused.
    pub stale: Vec<String>,
    /// Issuers whose CRL went back to a lower CRLNumber: their cards are refused.
    pub rolled_back: Vec<String>,
    /// When the next CRL in use goes stale.
    pub next_stale_at: Option<OffsetDateTime>,
    /// The last attempt to rebuild the configuration failed (the previous one stays in use).
    pub reload_failing: bool,
    /// When the server's own certificate expires.
    pub certificate_not_after: Option<OffsetDateTime>,
}

/// What the rest of the server reads from the reloader.
pub struct TlsHandles {
    pub acceptor: watch::Receiver<TlsAcceptor>,
    pub verifier: CurrentVerifier,
    pub revocation: watch::Receiver<RevocationHealth>,
}

pub struct TlsReloader {
    settings: TlsSettings,
    sender: watch::Sender<TlsAcceptor>,
    verifier: watch::Sender<Arc<dyn ClientCertVerifier>>,
    revocation: watch::Sender<RevocationHealth>,
    stamps: Vec<FileStamp>,
    next_stale_at: Option<OffsetDateTime>,
    /// The highest CRLNumber applied per issuer since start-up: older lists are refused.
    crl_numbers: CrlNumbers,
}

impl TlsReloader {
    /// Builds the first configuration (errors here stop start-up) and the channel the accept
    /// loop takes each new connection's acceptor from.
    pub fn start(settings: &TlsSettings) -> Result<(TlsHandles, Self), TlsConfigError> {
        let build = build_server_config(settings, OffsetDateTime::now_utc(), &CrlNumbers::new())?;
        let (revocation, revocation_health) = watch::channel(health(&build, false));
        let (sender, receiver) = watch::channel(TlsAcceptor::from(Arc::new(build.config)));
        let (verifier, current_verifier) = watch::channel(build.verifier);
        Ok((
            TlsHandles {
                acceptor: receiver,
                verifier: current_verifier,
                revocation: revocation_health,
            },
            Self {
                settings: settings.clone(),
                sender,
                verifier,
                revocation,
                stamps: stamps(settings),
                next_stale_at: build.next_stale_at,
                crl_numbers: build.crl_numbers,
            },
        ))
    }

    /// Checks every `tls.crl_refresh_secs` until the accept loop is gone.
    pub async fn run(mut self) {
        let period = std::time::Duration::from_secs(self.settings.crl_refresh_secs.max(1));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            if self.sender.is_closed() {
                return;
            }
            self.check(OffsetDateTime::now_utc());
        }
    }

    fn check(&mut self, now: OffsetDateTime) {
        let stamps = stamps(&self.settings);
        let went_stale = self.next_stale_at.is_some_and(|at| now > at);
        if stamps == self.stamps && !went_stale {
            return;
        }
        match build_server_config(&self.settings, now, &self.crl_numbers) {
            Ok(build) => {
                self.revocation.send_replace(health(&build, false));
                self.sender
                    .send_replace(TlsAcceptor::from(Arc::new(build.config)));
                self.verifier.send_replace(build.verifier);
                self.stamps = stamps;
                self.next_stale_at = build.next_stale_at;
                self.crl_numbers = build.crl_numbers;
                tracing::info!(
                    stale_crls = build.stale_crls.len(),
                    rolled_back_crls = build.rolled_back_crls.len(),
                    "TLS configuration reloaded for new connections"
                );
            }
            // Keep the stamps old, so the next tick tries again.
            Err(error) => {
                self.revocation
                    .send_modify(|health| health.reload_failing = true);
                tracing::error!(
                    %error,
                    "cannot reload the TLS configuration; new connections keep the previous one"
                );
            }
        }
    }
}

fn health(build: &super::TlsBuild, reload_failing: bool) -> RevocationHealth {
    RevocationHealth {
        stale: build.stale_crls.clone(),
        rolled_back: build.rolled_back_crls.clone(),
        next_stale_at: build.next_stale_at,
        reload_failing,
        certificate_not_after: build.certificate_not_after,
    }
}

/// Modification time and size of every file the configuration is built from.
/// A CRL directory counts with every CRL file in it, so that a file added, replaced or removed
/// there is noticed.
fn stamps(settings: &TlsSettings) -> Vec<FileStamp> {
    let crl_files = settings.client_crl.iter().flat_map(|entry| {
        let mut paths = vec![entry.clone()];
        if let Ok(files) = identity::files::crl_paths("tls.client_crl", entry) {
            paths.extend(files);
        }
        paths
    });
    settings
        .client_ca
        .iter()
        .cloned()
        .chain(crl_files)
        .chain([settings.certificate.clone(), settings.private_key.clone()])
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            (
                path,
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map(|m| m.len()),
            )
        })
        .collect()
}
