//! The rustls server configuration: our certificate, TLS 1.3 and 1.2, HTTP/2 and HTTP/1.1 by
//! ALPN, and client certificates verified against the configured issuing CAs and their CRLs.

use std::sync::Arc;

use rustls::{
    RootCertStore, ServerConfig,
    crypto::CryptoProvider,
    server::{VerifierBuilderError, WebPkiClientVerifier},
};

use super::files::{self, TlsFileError};
use crate::config::TlsSettings;

#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error(transparent)]
    File(#[from] TlsFileError),
    #[error("tls.client_ca: {path} holds a certificate that cannot be a trust anchor: {source}")]
    BadClientCa {
        path: std::path::PathBuf,
        source: rustls::Error,
    },
    #[error("tls.client_crl: {path} is not a certificate revocation list: {detail}")]
    BadCrl {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("tls.client_ca / tls.client_crl: {0}")]
    Verifier(#[from] VerifierBuilderError),
    #[error(
        "tls.certificate / tls.private_key: the key does not fit the certificate, or is not usable: {0}"
    )]
    KeyPair(rustls::Error),
    #[error("cannot set up TLS: {0}")]
    Protocol(rustls::Error),
}

/// The crypto provider for everything TLS here. Named explicitly, because feature unification
/// could otherwise enable a second provider and make rustls refuse to pick one.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn build_server_config(settings: &TlsSettings) -> Result<ServerConfig, TlsConfigError> {
    let provider = crypto_provider();

    let mut roots = RootCertStore::empty();
    for path in &settings.client_ca {
        for ca in files::certificates("tls.client_ca", path)? {
            roots
                .add(ca)
                .map_err(|source| TlsConfigError::BadClientCa {
                    path: path.clone(),
                    source,
                })?;
        }
    }
    let mut crls = Vec::new();
    for path in &settings.client_crl {
        crls.extend(files::revocation_lists("tls.client_crl", path)?);
    }

    // Optional at the TLS layer: a browser without a card completes the handshake and gets the
    // guidance page. A certificate that is presented must verify, or the handshake fails.
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated();
    if crls.is_empty() {
        tracing::warn!(
            "tls.client_crl is empty: revoked card certificates are NOT refused; configure the issuing CAs' CRLs"
        );
    } else {
        // The trust anchors are the issuing CAs themselves, so the leaf is the only certificate
        // whose revocation a CRL of ours can speak for. A leaf from a CA without a CRL is refused.
        verifier = verifier.with_crls(crls).only_check_end_entity_revocation();
    }
    let verifier = verifier.build()?;

    let chain = files::certificates("tls.certificate", &settings.certificate)?;
    let key = files::private_key("tls.private_key", &settings.private_key)?;

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsConfigError::Protocol)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(TlsConfigError::KeyPair)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
