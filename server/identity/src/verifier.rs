//! The client certificate verifier: the configured issuing CAs as trust anchors, their CRLs
//! (fresh ones only, never an older list than one already applied), and the card checks. The
//! server's handshakes, the certificates a trusted proxy forwards and `archivist-card check`
//! all verify through [`build_client_verifier`].

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use rustls::{
    RootCertStore,
    crypto::CryptoProvider,
    pki_types::CertificateRevocationListDer,
    server::{VerifierBuilderError, WebPkiClientVerifier, danger::ClientCertVerifier},
};
use time::OffsetDateTime;
use x509_parser::{
    num_bigint::BigUint, prelude::FromDer, revocation_list::CertificateRevocationList,
};

use crate::{
    card_checks::{CardCertificateVerifier, CardChecks},
    files::{self, TlsFileError},
};

/// The highest CRLNumber in use so far per issuer name. A CRL with a lower number than one
/// already applied is an older list coming back (a rollback could un-revoke cards): it is not
/// used, and its CA's cards are refused until a list at least as new is installed.
pub type CrlNumbers = HashMap<String, BigUint>;

/// The client side of the `[tls]` settings, which is all the verifier is built from.
#[derive(Clone, Copy, Debug)]
pub struct VerifierSettings<'a> {
    /// `tls.client_ca`: the issuing CAs' certificate files.
    pub client_ca: &'a [PathBuf],
    /// `tls.client_crl`: CRL files or folders of them.
    pub client_crl: &'a [PathBuf],
    /// `tls.card_policies`: the certificate policy OIDs a card certificate must carry one of.
    pub card_policies: &'a [String],
    /// `tls.crl_grace_secs`: how long a CRL stays in use after its nextUpdate.
    pub crl_grace: time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error(transparent)]
    File(#[from] TlsFileError),
    #[error("tls.client_ca: {path} holds a certificate that cannot be a trust anchor: {source}")]
    BadClientCa {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("tls.client_crl: {path} is not a certificate revocation list: {detail}")]
    BadCrl { path: PathBuf, detail: String },
    #[error("tls.client_ca / tls.client_crl: {0}")]
    Verifier(#[from] VerifierBuilderError),
    #[error("cannot make the fail-closed placeholder CRL: {0}")]
    Placeholder(String),
}

/// The crypto provider for everything TLS here. Named explicitly, because feature unification
/// could otherwise enable a second provider and make rustls refuse to pick one.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client certificate verifier of the configured issuing CAs, CRLs and card policies, and
/// what its CRLs say about time. The server's handshakes, the certificates a trusted proxy
/// forwards and `archivist-card check` all verify through this one function.
pub fn build_client_verifier(
    settings: &VerifierSettings<'_>,
    now: OffsetDateTime,
    applied: &CrlNumbers,
) -> Result<ClientVerifierBuild, VerifierError> {
    let provider = crypto_provider();

    let mut roots = RootCertStore::empty();
    let mut issuing_cas = Vec::new();
    for path in settings.client_ca {
        for ca in files::certificates("tls.client_ca", path)? {
            issuing_cas.push(ca.clone());
            roots.add(ca).map_err(|source| VerifierError::BadClientCa {
                path: path.clone(),
                source,
            })?;
        }
    }

    let grace = settings.crl_grace;
    let mut fresh = Vec::new();
    let mut stale_crls = Vec::new();
    let mut next_stale_at: Option<OffsetDateTime> = None;
    let mut rolled_back_crls = Vec::new();
    let mut crl_numbers = applied.clone();
    let mut crl_files = Vec::new();
    for entry in settings.client_crl {
        crl_files.extend(files::crl_paths("tls.client_crl", entry)?);
    }
    for path in &crl_files {
        for crl in files::revocation_lists("tls.client_crl", path)? {
            let (_, parsed) =
                CertificateRevocationList::from_der(&crl).map_err(|e| VerifierError::BadCrl {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            let issuer = parsed.issuer().to_string();
            let number = parsed.crl_number().cloned();
            if let (Some(number), Some(highest)) = (&number, applied.get(&issuer))
                && number < highest
            {
                tracing::error!(
                    crl = %path.display(),
                    %issuer,
                    %number,
                    %highest,
                    "CRL ROLLED BACK (lower CRLNumber than one already applied): cards of this CA are refused until a list at least as new is installed"
                );
                rolled_back_crls.push(issuer);
                continue;
            }
            match parsed.next_update().map(|t| t.to_datetime() + grace) {
                Some(stale_at) if now <= stale_at => {
                    next_stale_at = Some(next_stale_at.map_or(stale_at, |t| t.min(stale_at)));
                    if let Some(number) = number {
                        let highest = crl_numbers.entry(issuer).or_insert_with(|| number.clone());
                        if number > *highest {
                            *highest = number;
                        }
                    }
                    fresh.push(crl);
                }
                _ => {
                    tracing::error!(
                        crl = %path.display(),
                        %issuer,
                        "CRL IS STALE (past nextUpdate and the grace period): cards of this CA are refused until a fresh CRL is installed"
                    );
                    stale_crls.push(issuer);
                }
            }
        }
    }

    // Optional at the TLS layer: a browser without a card completes the handshake and gets the
    // guidance page. A certificate that is presented must verify, or the handshake fails.
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated();
    if settings.client_crl.is_empty() {
        tracing::warn!(
            "tls.client_crl is empty: revoked card certificates are NOT refused; configure the issuing CAs' CRLs"
        );
    } else {
        if fresh.is_empty() {
            // rustls checks no revocation at all when given no CRL; a list that matches no CA
            // keeps the check on, so every card's status is unknown and refused (fail closed).
            fresh.push(placeholder_crl(now)?);
        }
        // The trust anchors are the issuing CAs themselves, so the leaf is the only certificate
        // whose revocation a CRL of ours can speak for. A leaf from a CA without a current CRL
        // is refused.
        verifier = verifier.with_crls(fresh).only_check_end_entity_revocation();
    }
    if settings.card_policies.is_empty() {
        tracing::warn!(
            "tls.card_policies is empty: card certificates of any certificate policy are accepted; list the card policy OIDs"
        );
    }
    let verifier = Arc::new(CardCertificateVerifier::new(
        verifier.build()?,
        CardChecks::new(settings.card_policies.to_vec(), &issuing_cas),
    ));
    Ok(ClientVerifierBuild {
        verifier,
        stale_crls,
        next_stale_at,
        rolled_back_crls,
        crl_numbers,
    })
}

/// A client certificate verifier and what its revocation lists say about time.
pub struct ClientVerifierBuild {
    pub verifier: Arc<dyn ClientCertVerifier>,
    /// CRLs left out because they are past `nextUpdate` + `tls.crl_grace_secs`.
    pub stale_crls: Vec<String>,
    /// When the next included CRL goes stale.
    pub next_stale_at: Option<OffsetDateTime>,
    /// CRLs left out because their CRLNumber is lower than one already applied.
    pub rolled_back_crls: Vec<String>,
    /// The CRL numbers of the lists in use.
    pub crl_numbers: CrlNumbers,
}

/// An empty CRL from a throw-away issuer that no configured CA is.
fn placeholder_crl(
    now: OffsetDateTime,
) -> Result<CertificateRevocationListDer<'static>, VerifierError> {
    let placeholder = |e: rcgen::Error| VerifierError::Placeholder(e.to_string());
    let key = rcgen::KeyPair::generate().map_err(placeholder)?;
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "archivist: no current CRL");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    let issuer = rcgen::Issuer::new(params, key);
    let crl = rcgen::CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(1),
        next_update: now + time::Duration::days(1),
        crl_number: rcgen::SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .map_err(placeholder)?;
    Ok(crl.der().clone())
}
