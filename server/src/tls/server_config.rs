//! The rustls server configuration: our certificate, TLS 1.3 and 1.2, HTTP/2 and HTTP/1.1 by
//! ALPN, and client certificates verified by [`identity::verifier`].

use std::sync::Arc;

use identity::{
    files::{self, TlsFileError},
    verifier::{
        ClientVerifierBuild, CrlNumbers, VerifierError, build_client_verifier, crypto_provider,
    },
};
use rustls::{ServerConfig, server::danger::ClientCertVerifier};
use settings::TlsSettings;

use super::presented::NotingVerifier;
use time::OffsetDateTime;
use x509_parser::{certificate::X509Certificate, prelude::FromDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error(transparent)]
    File(#[from] TlsFileError),
    #[error(transparent)]
    Verifier(#[from] VerifierError),
    #[error(
        "tls.certificate / tls.private_key: the key does not fit the certificate, or is not usable: {0}"
    )]
    KeyPair(rustls::Error),
    #[error("cannot set up TLS: {0}")]
    Protocol(rustls::Error),
}

/// A server configuration and what its revocation lists say about time.
pub struct TlsBuild {
    pub config: ServerConfig,
    /// CRLs left out because they are past `nextUpdate` + `tls.crl_grace_secs`: cards of their
    /// CAs are refused until a fresh CRL is installed.
    pub stale_crls: Vec<String>,
    /// When the next included CRL goes stale: the configuration must be rebuilt by then.
    pub next_stale_at: Option<OffsetDateTime>,
    /// CRLs left out because their CRLNumber is lower than one already applied.
    pub rolled_back_crls: Vec<String>,
    /// The CRL numbers of the lists this configuration uses, to carry into the next build.
    pub crl_numbers: CrlNumbers,
    /// The configuration's client certificate verifier, for chains a trusted proxy forwards.
    pub verifier: Arc<dyn ClientCertVerifier>,
    /// When the server's own certificate expires (`None` if it cannot be read, which rustls
    /// would have refused already).
    pub certificate_not_after: Option<OffsetDateTime>,
}

pub fn build_server_config(
    settings: &TlsSettings,
    now: OffsetDateTime,
    applied: &CrlNumbers,
) -> Result<TlsBuild, TlsConfigError> {
    let ClientVerifierBuild {
        verifier,
        stale_crls,
        next_stale_at,
        rolled_back_crls,
        crl_numbers,
    } = build_client_verifier(&settings.verifier(), now, applied)?;
    let provider = crypto_provider();
    let chain = files::certificates("tls.certificate", &settings.certificate)?;
    let certificate_not_after = chain.first().and_then(|leaf| {
        let (_, certificate) = X509Certificate::from_der(leaf).ok()?;
        Some(certificate.validity().not_after.to_datetime())
    });
    let key = files::private_key("tls.private_key", &settings.private_key)?;

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsConfigError::Protocol)?
        .with_client_cert_verifier(Arc::new(NotingVerifier(verifier.clone())))
        .with_single_cert(chain, key)
        .map_err(TlsConfigError::KeyPair)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsBuild {
        config,
        stale_crls,
        next_stale_at,
        rolled_back_crls,
        crl_numbers,
        verifier,
        certificate_not_after,
    })
}
