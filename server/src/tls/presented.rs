//! What a refused client presented: the subject, issuer, serial, validity and key hash of a
//! certificate that the verifier turned down (revoked, expired, a foreign CA), for the
//! `tls.certificate_refused` row that an investigation reads. rustls drops the certificate
//! with the failed handshake, so a wrapping verifier notes it in a task-local slot that the
//! connection's task reads once the handshake has failed; the handshake runs in that task, so
//! no other connection's certificate can land there.
//!
//! The fields are what the client *claimed*: nothing about them was verified, and the row's own
//! certificate and card columns stay empty so that no one reads it as the holder's act.

use std::{cell::Cell, future::Future, sync::Arc};

use rustls::{
    DigitallySignedStruct, DistinguishedName, SignatureScheme,
    client::danger::HandshakeSignatureValid,
    pki_types::{CertificateDer, UnixTime},
    server::danger::{ClientCertVerified, ClientCertVerifier},
};
use serde::Serialize;

use identity::certificate::{CertificateIdentity, read_identity, sha256_hex};

tokio::task_local! {
    static REFUSED: Cell<Option<Presented>>;
}

/// The refused certificate's fields as the client sent them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Presented {
    /// SHA-256 of the whole DER certificate, lower-case hex: finds the very certificate again.
    pub certificate_sha256: String,
    /// Subject, issuer, serial, validity, key hash; `None` when the bytes are not a certificate
    /// that can be read.
    #[serde(flatten)]
    pub fields: Option<CertificateIdentity>,
}

impl Presented {
    pub fn from_der(certificate: &CertificateDer<'_>) -> Self {
        Self {
            certificate_sha256: sha256_hex(certificate.as_ref()),
            fields: read_identity(certificate).ok(),
        }
    }
}

/// Runs a handshake and returns, beside its result, the certificate the verifier refused in it.
pub async fn noting_refusal<F: Future>(handshake: F) -> (F::Output, Option<Presented>) {
    REFUSED
        .scope(Cell::new(None), async move {
            let output = handshake.await;
            (output, REFUSED.with(Cell::take))
        })
        .await
}

/// The configured verifier, noting what it refuses.
#[derive(Debug)]
pub struct NotingVerifier(pub Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for NotingVerifier {
    fn offer_client_auth(&self) -> bool {
        self.0.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.0.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verdict = self.0.verify_client_cert(end_entity, intermediates, now);
        if verdict.is_err() {
            // Outside a handshake of the accept loop (no slot) there is no one to tell.
            let _ = REFUSED.try_with(|slot| slot.set(Some(Presented::from_der(end_entity))));
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.0.requires_raw_public_keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_certificate_is_named_by_its_hash() {
        let presented = Presented::from_der(&CertificateDer::from(b"not a certificate".to_vec()));
        assert_eq!(presented.fields, None);
        assert_eq!(presented.certificate_sha256.len(), 64);
        let details = serde_json::to_value(&presented).expect("json");
        assert_eq!(
            details["certificate_sha256"],
            presented.certificate_sha256.as_str()
        );
        assert!(details.get("subject").is_none(), "{details}");
    }

    #[tokio::test]
    async fn the_slot_is_the_handshakes_own() {
        let refused = CertificateDer::from(b"x".to_vec());
        let (_, noted) = noting_refusal(async {
            let _ = REFUSED.try_with(|slot| slot.set(Some(Presented::from_der(&refused))));
        })
        .await;
        assert!(noted.is_some());
        let (_, other) = noting_refusal(async {}).await;
        assert_eq!(other, None, "another handshake starts empty");
    }
}
