//! Why a client certificate was refused in the handshake, as a stable code for logs and the
//! audit log.

use rustls::{CertificateError, Error as TlsError};

use crate::card_checks::CardRefusal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeRefusal {
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    UnknownIssuer,
    WrongKeyPurpose,
    RevocationStatusUnknown,
    RevocationListExpired,
    BadSignature,
    BadCertificate,
    /// Passed path validation, refused by our card checks.
    Card(CardRefusal),
}

impl HandshakeRefusal {
    /// The refusal, when the handshake failed because of the client's certificate. Other
    /// handshake failures (scanners, protocol mismatches, timeouts) are not refusals of a card.
    pub fn from_handshake_error(error: &std::io::Error) -> Option<Self> {
        Self::from_tls_error(error.get_ref()?.downcast_ref::<TlsError>()?)
    }

    /// The refusal a certificate verifier's error stands for (also for certificates forwarded
    /// by a trusted proxy, which are verified outside a handshake).
    pub fn from_tls_error(tls: &TlsError) -> Option<Self> {
        let TlsError::InvalidCertificate(cert) = tls else {
            return None;
        };
        Some(match cert {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                Self::CertificateExpired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Self::CertificateNotYetValid
            }
            CertificateError::Revoked => Self::CertificateRevoked,
            CertificateError::UnknownIssuer => Self::UnknownIssuer,
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                Self::WrongKeyPurpose
            }
            CertificateError::UnknownRevocationStatus => Self::RevocationStatusUnknown,
            CertificateError::ExpiredRevocationList
            | CertificateError::ExpiredRevocationListContext { .. } => Self::RevocationListExpired,
            CertificateError::BadSignature => Self::BadSignature,
            CertificateError::Other(other) => other
                .0
                .downcast_ref::<CardRefusal>()
                .map_or(Self::BadCertificate, |refusal| Self::Card(*refusal)),
            _ => Self::BadCertificate,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::CertificateExpired => "certificate_expired",
            Self::CertificateNotYetValid => "certificate_not_yet_valid",
            Self::CertificateRevoked => "certificate_revoked",
            Self::UnknownIssuer => "unknown_issuer",
            Self::WrongKeyPurpose => "wrong_key_purpose",
            Self::RevocationStatusUnknown => "revocation_status_unknown",
            Self::RevocationListExpired => "revocation_list_expired",
            Self::BadSignature => "bad_signature",
            Self::BadCertificate => "bad_certificate",
            Self::Card(refusal) => refusal.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn io_error(e: TlsError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn certificate_errors_are_refusals() {
        let cases = [
            (CertificateError::Expired, "certificate_expired"),
            (CertificateError::Revoked, "certificate_revoked"),
            (CertificateError::UnknownIssuer, "unknown_issuer"),
            (CertificateError::InvalidPurpose, "wrong_key_purpose"),
        ];
        for (error, code) in cases {
            let refusal = HandshakeRefusal::from_handshake_error(&io_error(
                TlsError::InvalidCertificate(error),
            ));
            assert_eq!(refusal.map(HandshakeRefusal::code), Some(code));
        }
    }

    #[test]
    fn card_check_refusals_keep_their_reason() {
        let error = TlsError::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            std::sync::Arc::new(CardRefusal::PolicyNotAllowed),
        )));
        let refusal = HandshakeRefusal::from_handshake_error(&io_error(error));
        assert_eq!(
            refusal.map(HandshakeRefusal::code),
            Some("policy_not_allowed")
        );
    }

    #[test]
    fn other_failures_are_not_refusals() {
        let not_tls = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(HandshakeRefusal::from_handshake_error(&not_tls), None);
        let protocol = io_error(TlsError::General("no shared cipher".into()));
        assert_eq!(HandshakeRefusal::from_handshake_error(&protocol), None);
    }
}
