//! The card number an archivist's access is linked to, and the configured rule that derives it
//! from a verified card certificate.
//!
//! Kela links access rights to the "certificate card number", but no public source says which
//! field of a DVV card certificate carries it (the number printed on the card is not known to be
//! in the certificate at all). So the rule is configuration, and a [`CardNumber`] can only come
//! out of [`CardNumberRule::derive`] or from an administrator's typed input through
//! [`CardNumber::parse`]; links are keyed by the issuing CA *and* the number ([`CardKey`]), so
//! the same string under another CA never matches.

use std::fmt;

use serde::{Deserialize, Serialize};
#[cfg(feature = "checks")]
use x509_parser::{
    certificate::X509Certificate, der_parser::asn1_rs::Any, extensions::GeneralName,
    oid_registry::Oid, prelude::FromDer,
};

/// Longest card number accepted: far above any card serial, SATU or UPN in use, and short enough
/// that nobody stores a certificate in it.
const MAX_LEN: usize = 128;

/// The subject `serialNumber` attribute, which carries the SATU on DVV personal certificates.
pub const SUBJECT_SERIAL_NUMBER: &str = "2.5.4.5";

/// A normalised card number: trimmed, upper-case ASCII letters and digits with `-._@:`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardNumber(String);

impl CardNumber {
    /// An administrator's input, or a certificate value, in the one normal form.
    pub fn parse(value: &str) -> Result<Self, CardNumberError> {
        let normal = value.trim().to_ascii_uppercase();
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._@:".contains(c);
        if normal.is_empty() || normal.len() > MAX_LEN || !normal.chars().all(allowed) {
            return Err(CardNumberError::Malformed);
        }
        Ok(Self(normal))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What access links are keyed by: the issuing CA's name and the card number under it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CardKey {
    /// The issuing CA's distinguished name, as the certificate's issuer field gives it.
    pub issuer: String,
    pub card_number: CardNumber,
}

/// Where the card number comes from (certificates.md §7). Set in `[auth.card_number_rule]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CardNumberRule {
    /// One subject attribute, by OID; the default is the SATU in `serialNumber` (2.5.4.5).
    /// The default OID is left out when serialized: settings are layered by merging
    /// dictionaries, and a default `oid` would otherwise be merged into a configured rule of
    /// another kind and refused there as an unknown field.
    SubjectAttribute {
        #[serde(
            default = "subject_serial_number",
            skip_serializing_if = "is_subject_serial_number"
        )]
        oid: String,
    },
    /// One subjectAltName otherName, by type OID (e.g. the UPN, 1.3.6.1.4.1.311.20.2.3).
    SanOtherName { type_id: String },
    /// The certificate's own serial number: one link per certificate, re-linked when a card is
    /// replaced.
    IssuerAndSerial,
    /// Looked up in the enrolled bindings (`archivist card import-enrolment`): issuer, serial
    /// number and public-key hash of the certificate → card number.
    Enrolled,
}

fn subject_serial_number() -> String {
    SUBJECT_SERIAL_NUMBER.to_owned()
}

fn is_subject_serial_number(oid: &str) -> bool {
    oid == SUBJECT_SERIAL_NUMBER
}

impl Default for CardNumberRule {
    fn default() -> Self {
        Self::SubjectAttribute {
            oid: SUBJECT_SERIAL_NUMBER.to_owned(),
        }
    }
}

/// Why a verified certificate gives no card number. Each is a refusal of sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardNumberError {
    #[error("the certificate does not carry the card number the configured rule reads")]
    Missing,
    #[error("the certificate carries the card number field more than once")]
    Repeated,
    #[error("the card number in the certificate is not in an accepted form")]
    Malformed,
    #[error("the certificate cannot be read")]
    Unreadable,
    #[error("the certificate is not enrolled to a card number")]
    NotEnrolled,
}

impl CardNumberError {
    /// Stable code for logs, the audit log and the user's error page.
    pub fn reason_code(self) -> &'static str {
        match self {
            Self::Missing => "card_number_missing",
            Self::Repeated => "card_number_repeated",
            Self::Malformed => "card_number_malformed",
            Self::Unreadable => "certificate_unreadable",
            Self::NotEnrolled => "card_not_enrolled",
        }
    }
}

#[cfg(feature = "checks")]
impl CardNumberRule {
    /// Checked once at startup, so a typo in an OID is a configuration error, not a refusal of
    /// every card.
    pub fn validate(&self) -> Result<(), &'static str> {
        let oid = match self {
            Self::SubjectAttribute { oid } => oid,
            Self::SanOtherName { type_id } => type_id,
            Self::IssuerAndSerial | Self::Enrolled => return Ok(()),
        };
        // Dotted form as the archive checks every OID, and encodable by x509-parser, which
        // compares it with the certificate's.
        if crate::oid::Oid::parse(oid).is_ok() && oid.parse::<Oid<'_>>().is_ok() {
            Ok(())
        } else {
            Err("must be a dotted OID such as 2.5.4.5")
        }
    }

    /// The card key of a certificate that the TLS layer has already verified.
    pub fn derive(&self, certificate_der: &[u8]) -> Result<CardKey, CardNumberError> {
        let (_, cert) =
            X509Certificate::from_der(certificate_der).map_err(|_| CardNumberError::Unreadable)?;
        let value = match self {
            Self::SubjectAttribute { oid } => subject_attribute(&cert, oid)?,
            Self::SanOtherName { type_id } => san_other_name(&cert, type_id)?,
            Self::IssuerAndSerial => hex::encode_upper(cert.raw_serial()),
            // Not in the certificate: the authentication layer looks the binding up.
            Self::Enrolled => return Err(CardNumberError::NotEnrolled),
        };
        if let Self::SubjectAttribute { oid } = self
            && oid == SUBJECT_SERIAL_NUMBER
            && !is_satu_shaped(&value)
        {
            return Err(CardNumberError::Malformed);
        }
        Ok(CardKey {
            issuer: cert.issuer().to_string(),
            card_number: CardNumber::parse(&value)?,
        })
    }
}

#[cfg(feature = "checks")]
fn subject_attribute(cert: &X509Certificate<'_>, oid: &str) -> Result<String, CardNumberError> {
    let oid: Oid<'_> = oid.parse().map_err(|_| CardNumberError::Missing)?;
    let values: Vec<_> = cert.subject().iter_by_oid(&oid).collect();
    match values.as_slice() {
        [] => Err(CardNumberError::Missing),
        [only] => only
            .as_str()
            .map(str::to_owned)
            .map_err(|_| CardNumberError::Malformed),
        _ => Err(CardNumberError::Repeated),
    }
}

#[cfg(feature = "checks")]
fn san_other_name(cert: &X509Certificate<'_>, type_id: &str) -> Result<String, CardNumberError> {
    let type_id: Oid<'_> = type_id.parse().map_err(|_| CardNumberError::Missing)?;
    let san = cert
        .subject_alternative_name()
        .map_err(|_| CardNumberError::Unreadable)?;
    let values: Vec<&[u8]> = san
        .iter()
        .flat_map(|ext| ext.value.general_names.iter())
        .filter_map(|name| match name {
            GeneralName::OtherName(oid, value) if *oid == type_id => Some(*value),
            _ => None,
        })
        .collect();
    match values.as_slice() {
        [] => Err(CardNumberError::Missing),
        [only] => other_name_text(only).ok_or(CardNumberError::Malformed),
        _ => Err(CardNumberError::Repeated),
    }
}

#[cfg(feature = "checks")]
/// The text inside an otherName's `[0] EXPLICIT` value: a UTF8String, PrintableString or
/// IA5String. Anything else is not a card number.
fn other_name_text(explicit: &[u8]) -> Option<String> {
    let (_, tagged) = Any::from_der(explicit).ok()?;
    let (_, inner) = Any::from_der(tagged.data).ok()?;
    const UTF8_STRING: u32 = 12;
    const PRINTABLE_STRING: u32 = 19;
    const IA5_STRING: u32 = 22;
    matches!(inner.tag().0, UTF8_STRING | PRINTABLE_STRING | IA5_STRING)
        .then(|| std::str::from_utf8(inner.data).ok().map(str::to_owned))
        .flatten()
}

#[cfg(feature = "checks")]
/// Eight digits and a check character. The check character itself is not recomputed: DVV does
/// not publish the algorithm for SATUs, and a wrong guess would lock real archivists out.
fn is_satu_shaped(value: &str) -> bool {
    let bytes = value.trim().as_bytes();
    bytes.len() == 9
        && bytes[..8].iter().all(u8::is_ascii_digit)
        && (bytes[8].is_ascii_digit() || bytes[8].is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{CardProfile, DemoCa};

    const UPN: &str = "1.3.6.1.4.1.311.20.2.3";

    fn card(profile: CardProfile) -> Vec<u8> {
        let ca = DemoCa::new().expect("demo CA");
        ca.issue_card(&profile)
            .expect("card")
            .certificate_der()
            .to_vec()
    }

    #[test]
    fn the_default_rule_reads_the_satu() {
        let der = card(CardProfile::archivist("Virtanen", "Aino", "99900011"));
        let key = CardNumberRule::default().derive(&der).expect("card key");
        assert_eq!(key.card_number.as_str(), "999000110");
        assert!(key.issuer.contains("TEST"), "{}", key.issuer);
    }

    #[test]
    fn a_certificate_without_the_attribute_is_refused() {
        let der = card(CardProfile::archivist("Nimetön", "Testi", "99900088").without_satu());
        assert_eq!(
            CardNumberRule::default().derive(&der),
            Err(CardNumberError::Missing)
        );
    }

    #[test]
    fn a_repeated_value_is_refused() {
        let der = card(CardProfile::archivist("Kaksi", "Kertaa", "99900011").with_two_upns());
        let rule = CardNumberRule::SanOtherName {
            type_id: UPN.to_owned(),
        };
        assert_eq!(rule.derive(&der), Err(CardNumberError::Repeated));
    }

    #[test]
    fn the_upn_rule_reads_the_other_name() {
        let der = card(CardProfile::archivist("Virtanen", "Aino", "99900011"));
        let rule = CardNumberRule::SanOtherName {
            type_id: UPN.to_owned(),
        };
        let key = rule.derive(&der).expect("card key");
        assert_eq!(key.card_number.as_str(), "99900011@TEONET.DEMO.INVALID");
        let missing = CardNumberRule::SanOtherName {
            type_id: "1.2.3.4".to_owned(),
        };
        assert_eq!(missing.derive(&der), Err(CardNumberError::Missing));
    }

    #[test]
    fn the_serial_rule_differs_for_every_certificate() {
        let rule = CardNumberRule::IssuerAndSerial;
        let a = rule
            .derive(&card(CardProfile::archivist("A", "A", "99900011")))
            .expect("a");
        let b = rule
            .derive(&card(CardProfile::archivist("A", "A", "99900011")))
            .expect("b");
        assert_ne!(a.card_number, b.card_number);
        assert!(
            a.card_number
                .as_str()
                .bytes()
                .all(|c| c.is_ascii_hexdigit())
        );
    }

    #[test]
    fn typed_numbers_are_normalised_and_checked() {
        assert_eq!(
            CardNumber::parse("  99900011m ").map(|n| n.to_string()),
            Ok("99900011M".to_owned())
        );
        for bad in ["", "   ", "999 000", "x'; drop", &"9".repeat(129), "ä1"] {
            assert_eq!(
                CardNumber::parse(bad),
                Err(CardNumberError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        assert_eq!(
            CardNumberRule::default().derive(b"not a certificate"),
            Err(CardNumberError::Unreadable)
        );
    }

    #[test]
    fn rules_with_broken_oids_are_configuration_errors() {
        assert!(CardNumberRule::default().validate().is_ok());
        for oid in ["", "2", "2.5.x", "2..5", "serialNumber"] {
            let rule = CardNumberRule::SubjectAttribute {
                oid: oid.to_owned(),
            };
            assert!(rule.validate().is_err(), "{oid}");
        }
    }
}
