//! The checks a card certificate gets after rustls' path validation, modelled on Web eID
//! (certificates.md §5): webpki has already checked the chain to a configured issuing CA, the
//! leaf's validity, the signature, the extended key usage (absent, or with clientAuth) and
//! revocation; this adds what it does not check for client certificates.
//!
//! - key usage present with digitalSignature (the TLS handshake signs with the card's key);
//! - the certificate policy on the configured allowlist, when one is configured;
//! - the issuing CA itself valid at the time of use (webpki does not check trust anchors'
//!   validity, and our anchors are the issuing CAs).

use std::sync::Arc;

use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error as TlsError, OtherError,
    SignatureScheme,
    client::danger::HandshakeSignatureValid,
    pki_types::{CertificateDer, UnixTime},
    server::danger::{ClientCertVerified, ClientCertVerifier},
};
use x509_parser::{
    certificate::X509Certificate,
    extensions::{ParsedExtension, X509Extension},
    oid_registry::OID_X509_EXT_CERTIFICATE_POLICIES,
    prelude::FromDer,
};

/// Why a card certificate that passed path validation is still refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardRefusal {
    #[error("the certificate's key usage does not include digitalSignature")]
    KeyUsageNotDigitalSignature,
    #[error("the certificate carries no certificate policy on the allowlist")]
    PolicyNotAllowed,
    #[error("the issuing CA's certificate is not valid at this time")]
    IssuerNotValid,
    #[error("the certificate cannot be read")]
    Unreadable,
}

impl CardRefusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::KeyUsageNotDigitalSignature => "key_usage_not_digital_signature",
            Self::PolicyNotAllowed => "policy_not_allowed",
            Self::IssuerNotValid => "issuer_not_valid",
            Self::Unreadable => "bad_certificate",
        }
    }
}

/// The validity of one configured issuing CA, found by its subject name.
#[derive(Clone, Debug)]
struct Issuer {
    subject: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

#[derive(Clone, Debug, Default)]
pub struct CardChecks {
    /// Policy OIDs in dotted form; empty means the policy is not checked.
    allowed_policies: Vec<String>,
    issuers: Vec<Issuer>,
}

impl CardChecks {
    /// `issuing_cas` are the DER certificates of `tls.client_ca`.
    pub fn new(allowed_policies: Vec<String>, issuing_cas: &[CertificateDer<'_>]) -> Self {
        let issuers = issuing_cas
            .iter()
            .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
            .map(|ca| Issuer {
                subject: ca.subject().as_raw().to_vec(),
                not_before: ca.validity().not_before.timestamp(),
                not_after: ca.validity().not_after.timestamp(),
            })
            .collect();
        Self {
            allowed_policies,
            issuers,
        }
    }

    /// `now` in seconds since the Unix epoch (the handshake's clock).
    pub fn check(&self, leaf: &[u8], now: i64) -> Result<(), CardRefusal> {
        let (_, cert) = X509Certificate::from_der(leaf).map_err(|_| CardRefusal::Unreadable)?;
        let key_usage = cert.key_usage().map_err(|_| CardRefusal::Unreadable)?;
        if !key_usage.is_some_and(|ku| ku.value.digital_signature()) {
            return Err(CardRefusal::KeyUsageNotDigitalSignature);
        }
        if !self.allowed_policies.is_empty() {
            let extension = cert
                .get_extension_unique(&OID_X509_EXT_CERTIFICATE_POLICIES)
                .map_err(|_| CardRefusal::Unreadable)?;
            let policies: Vec<String> = match extension.map(X509Extension::parsed_extension) {
                Some(ParsedExtension::CertificatePolicies(policies)) => policies
                    .iter()
                    .map(|p| p.policy_id.to_id_string())
                    .collect(),
                Some(_) => return Err(CardRefusal::Unreadable),
                None => Vec::new(),
            };
            if !policies.iter().any(|p| self.allowed_policies.contains(p)) {
                return Err(CardRefusal::PolicyNotAllowed);
            }
        }
        let issuer = cert.issuer().as_raw();
        let valid_issuer = self
            .issuers
            .iter()
            .filter(|ca| ca.subject == issuer)
            .any(|ca| ca.not_before <= now && now <= ca.not_after);
        if !valid_issuer {
            return Err(CardRefusal::IssuerNotValid);
        }
        Ok(())
    }
}

/// rustls' verifier, then [`CardChecks`]. A refusal travels inside rustls' error as
/// `CertificateError::Other`, where `tls::refusal` finds it again for the log and audit log.
#[derive(Debug)]
pub struct CardCertificateVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    checks: CardChecks,
}

impl CardCertificateVerifier {
    pub fn new(inner: Arc<dyn ClientCertVerifier>, checks: CardChecks) -> Self {
        Self { inner, checks }
    }
}

impl ClientCertVerifier for CardCertificateVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        self.checks.check(end_entity, seconds).map_err(|refusal| {
            TlsError::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(refusal))))
        })?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{CardProfile, DEMO_CARD_POLICY, DEMO_OTHER_POLICY, DemoCa};
    use rustls::pki_types::pem::PemObject;

    fn ca_der(ca: &DemoCa) -> Vec<CertificateDer<'static>> {
        vec![CertificateDer::from_pem_slice(ca.issuing_ca_pem().as_bytes()).expect("CA")]
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    #[test]
    fn a_demo_card_passes() {
        let ca = DemoCa::new().expect("CA");
        let card = ca
            .issue_card(&CardProfile::archivist("A", "A", "99900011"))
            .expect("card");
        let checks = CardChecks::new(vec![DEMO_CARD_POLICY.to_owned()], &ca_der(&ca));
        assert_eq!(checks.check(card.certificate_der(), now()), Ok(()));
    }

    #[test]
    fn key_usage_without_digital_signature_is_refused() {
        let ca = DemoCa::new().expect("CA");
        let card = ca
            .issue_card(&CardProfile::archivist("A", "A", "99900011").without_digital_signature())
            .expect("card");
        let checks = CardChecks::new(Vec::new(), &ca_der(&ca));
        assert_eq!(
            checks.check(card.certificate_der(), now()),
            Err(CardRefusal::KeyUsageNotDigitalSignature)
        );
    }

    #[test]
    fn the_policy_allowlist_applies_only_when_configured() {
        let ca = DemoCa::new().expect("CA");
        let card = ca
            .issue_card(
                &CardProfile::archivist("A", "A", "99900011").with_policy(DEMO_OTHER_POLICY),
            )
            .expect("card");
        let strict = CardChecks::new(vec![DEMO_CARD_POLICY.to_owned()], &ca_der(&ca));
        assert_eq!(
            strict.check(card.certificate_der(), now()),
            Err(CardRefusal::PolicyNotAllowed)
        );
        let open = CardChecks::new(Vec::new(), &ca_der(&ca));
        assert_eq!(open.check(card.certificate_der(), now()), Ok(()));
    }

    #[test]
    fn an_issuing_ca_outside_its_validity_is_refused() {
        // A hierarchy made 25 years ago: its issuing CA (ten years) has expired.
        let then = time::OffsetDateTime::now_utc() - time::Duration::days(25 * 365);
        let old = DemoCa::at(then).expect("CA");
        let card = old
            .issue_card(&CardProfile::archivist("A", "A", "99900011"))
            .expect("card");
        let checks = CardChecks::new(Vec::new(), &ca_der(&old));
        assert_eq!(
            checks.check(card.certificate_der(), then.unix_timestamp()),
            Ok(()),
            "valid when it was made"
        );
        assert_eq!(
            checks.check(card.certificate_der(), now()),
            Err(CardRefusal::IssuerNotValid)
        );
        let unknown = CardChecks::new(Vec::new(), &[]);
        assert_eq!(
            unknown.check(card.certificate_der(), then.unix_timestamp()),
            Err(CardRefusal::IssuerNotValid),
            "an issuer that is not configured is never valid"
        );
    }

    #[test]
    fn garbage_is_unreadable() {
        let checks = CardChecks::default();
        assert_eq!(checks.check(b"junk", now()), Err(CardRefusal::Unreadable));
    }
}
