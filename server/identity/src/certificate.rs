//! Who the signed-in person is, as read from a certificate the handshake verified.

use serde::{Deserialize, Serialize};

/// What the first page shows of the certificate that authenticated the TLS connection.
/// Every value comes from the certificate that the server verified; none from the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateIdentity {
    /// The subject's common name: "Surname Given-names SATU" on DVV cards.
    pub holder_name: String,
    /// The subject `serialNumber` attribute (OID 2.5.4.5), which carries the SATU on DVV
    /// personal certificates. `None` when the certificate has none.
    pub satu: Option<String>,
    /// The whole subject distinguished name, RFC 4514 style.
    pub subject: String,
    /// The issuer distinguished name, RFC 4514 style.
    pub issuer: String,
    /// The certificate serial number as colon-separated upper-case hex.
    pub serial: String,
    /// Start of validity, RFC 3339 in UTC.
    pub not_before: String,
    /// End of validity, RFC 3339 in UTC.
    pub not_after: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex: stays the same for the
    /// card's key whatever the certificate's other fields are.
    pub public_key_sha256: String,
}

#[cfg(feature = "checks")]
pub use reading::{IdentityError, read_identity, sha256_hex};

#[cfg(feature = "checks")]
mod reading {
    use time::format_description::well_known::Rfc3339;
    use x509_parser::{
        certificate::X509Certificate, oid_registry::OID_X509_SERIALNUMBER, prelude::FromDer,
        x509::X509Name,
    };

    use super::CertificateIdentity;

    #[derive(Debug, thiserror::Error)]
    pub enum IdentityError {
        #[error("the certificate cannot be parsed: {0}")]
        Parse(String),
        #[error("the certificate's validity cannot be formatted")]
        Time,
    }

    /// The identity shown to the archivist, from a DER certificate.
    pub fn read_identity(der: &[u8]) -> Result<CertificateIdentity, IdentityError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| IdentityError::Parse(e.to_string()))?;
        let subject = cert.subject();
        let format = |t: x509_parser::time::ASN1Time| {
            t.to_datetime()
                .format(&Rfc3339)
                .map_err(|_| IdentityError::Time)
        };
        Ok(CertificateIdentity {
            holder_name: single_attribute(subject, |n| n.iter_common_name().collect())
                .unwrap_or_else(|| subject.to_string()),
            satu: single_attribute(subject, |n| n.iter_by_oid(&OID_X509_SERIALNUMBER).collect()),
            subject: subject.to_string(),
            issuer: cert.issuer().to_string(),
            serial: colon_hex(cert.raw_serial()),
            not_before: format(cert.validity().not_before)?,
            not_after: format(cert.validity().not_after)?,
            public_key_sha256: sha256_hex(cert.public_key().raw),
        })
    }

    /// The value of an attribute that occurs exactly once. A repeated attribute is ambiguous, and
    /// an ambiguous identity is shown as absent rather than guessed.
    fn single_attribute<'a>(
        name: &'a X509Name<'a>,
        select: impl Fn(&'a X509Name<'a>) -> Vec<&'a x509_parser::x509::AttributeTypeAndValue<'a>>,
    ) -> Option<String> {
        match select(name).as_slice() {
            [only] => only.as_str().ok().map(str::to_owned),
            _ => None,
        }
    }

    fn colon_hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    pub fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{CardProfile, DemoCa};

    #[test]
    fn reads_a_card_certificate() {
        let ca = DemoCa::new().expect("demo CA");
        let card = ca
            .issue_card(&CardProfile::archivist("Virtanen", "Aino", "99900001"))
            .expect("card");
        let id = read_identity(card.certificate_der()).expect("identity");
        assert_eq!(
            id.holder_name,
            format!("Virtanen Aino {}", card.satu().unwrap_or_default())
        );
        assert_eq!(id.satu.as_deref(), card.satu());
        assert!(id.issuer.contains("TEST"), "{}", id.issuer);
        assert!(id.not_before.ends_with('Z') && id.not_after.ends_with('Z'));
        assert_eq!(id.public_key_sha256.len(), 64);
        assert!(id.serial.chars().all(|c| c.is_ascii_hexdigit() || c == ':'));
    }

    #[test]
    fn missing_serial_number_is_absent() {
        let ca = DemoCa::new().expect("demo CA");
        let card = ca
            .issue_card(&CardProfile::archivist("Nimetön", "Testi", "99900002").without_satu())
            .expect("card");
        let id = read_identity(card.certificate_der()).expect("identity");
        assert_eq!(id.satu, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_identity(b"not a certificate").is_err());
        assert!(read_identity(&[0x30, 0x82, 0xff, 0xff]).is_err());
    }
}
