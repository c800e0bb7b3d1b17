//! Who the signed-in person is, as read from the verified client certificate.

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
