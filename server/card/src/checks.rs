//! The server's own checks, run on the certificate read from the card: the same verifier
//! (`identity::verifier::build_client_verifier`: chain to the configured issuing CAs, validity,
//! revocation by the configured CRLs, key usage, certificate policies) and the same card
//! number rule, from the same configuration file.

use std::path::Path;

use identity::{
    CardNumberError, CardNumberRule, HandshakeRefusal,
    verifier::{CrlNumbers, build_client_verifier},
};
use rustls::pki_types::{CertificateDer, UnixTime};
use settings::Settings;
use time::OffsetDateTime;

use crate::failure::Failure;

pub fn load_settings(config: Option<&Path>) -> Result<Settings, Failure> {
    Settings::load(config).map_err(|e| Failure::Configuration(e.to_string()))
}

/// What the checks found besides success or failure, for the report.
#[derive(Debug, Default)]
pub struct CheckNotes {
    /// No CRL is configured: revocation was not checked.
    pub revocation_unchecked: bool,
    /// Configured CRLs left out because they are past their next update (and grace).
    pub stale_crls: Vec<String>,
}

/// Verifies the card's certificate exactly as the server's TLS layer would at `now`.
pub fn verify(settings: &Settings, der: &[u8], now: OffsetDateTime) -> Result<CheckNotes, Failure> {
    let build = build_client_verifier(&settings.tls.verifier(), now, &CrlNumbers::default())
        .map_err(|e| Failure::Configuration(e.to_string()))?;
    let seconds = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds));
    build
        .verifier
        .verify_client_cert(&CertificateDer::from(der), &[], at)
        .map_err(|e| match HandshakeRefusal::from_tls_error(&e) {
            Some(
                HandshakeRefusal::CertificateExpired | HandshakeRefusal::CertificateNotYetValid,
            ) => Failure::Expired,
            Some(HandshakeRefusal::CertificateRevoked) => Failure::Revoked,
            Some(HandshakeRefusal::UnknownIssuer) => Failure::UnknownIssuer,
            Some(HandshakeRefusal::BadCertificate) => Failure::damaged(e.to_string()),
            Some(refusal) => Failure::Refused {
                code: refusal.code().to_owned(),
            },
            None => Failure::Reader(e.to_string()),
        })?;
    Ok(CheckNotes {
        revocation_unchecked: settings.tls.client_crl.is_empty(),
        stale_crls: build.stale_crls,
    })
}

/// The card number the server's configured rule derives, or `None` under the enrolled rule,
/// where only the server's bindings know it.
pub fn derived_card_number(rule: &CardNumberRule, der: &[u8]) -> Result<Option<String>, Failure> {
    match rule.derive(der) {
        Ok(key) => Ok(Some(key.card_number.to_string())),
        Err(CardNumberError::NotEnrolled) => Ok(None),
        Err(e) => Err(Failure::NoCardNumber(format!("{e} ({})", e.reason_code()))),
    }
}
