//! Verification of the XMLDSig signatures in `hl7fi:signatureCollection`, done by the archive
//! on storage. Integrity (every reference digest and the signature value check out against the
//! embedded certificate) and trust (the certificate was issued by a configured signing CA) are
//! separate results, so that an intact document signed under an unknown CA is reported as
//! exactly that.

use std::{collections::HashMap, path::Path};

use base64::Engine;
use roxmltree::{Document, Node, NodeId};
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{
    c14n,
    xml::{HL7FI, XMLDSIG, child, children, text},
};

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// Which program version produced a verification result (stored with it).
pub const VERIFIER: &str = concat!("archivist ", env!("CARGO_PKG_VERSION"), " xmldsig");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrity {
    Valid,
    /// The digests match only when white-space-only text between elements is ignored: the
    /// content is intact, the layout changed after signing.
    ValidIgnoringWhitespace,
    Invalid,
    /// The signature cannot be checked (missing certificate, algorithm not accepted, reference
    /// not found).
    NotVerifiable,
}

impl Integrity {
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::ValidIgnoringWhitespace => "valid_ignoring_whitespace",
            Self::Invalid => "invalid",
            Self::NotVerifiable => "not_verifiable",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    Trusted,
    /// The issuer is not among the configured signing CAs.
    Unknown,
    /// The issuer is configured but the certificate does not verify or was not valid.
    Untrusted,
}

impl Trust {
    pub fn code(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::Unknown => "unknown",
            Self::Untrusted => "untrusted",
        }
    }
}

/// The signer's certificate, as far as the archive shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignerCertificate {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    #[serde(skip)]
    pub der: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    pub integrity: Integrity,
    pub integrity_detail: Option<String>,
    pub trust: Trust,
    pub trust_detail: Option<String>,
    pub certificate: Option<SignerCertificate>,
}

/// CA certificates whose signatures on signer certificates the archive trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustAnchors {
    anchors: Vec<Anchor>,
}

#[derive(Clone, Debug)]
struct Anchor {
    subject_der: Vec<u8>,
    certificate_der: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustAnchorError {
    #[error("cannot read signature trust anchor {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("signature trust anchor {path} holds no PEM certificate")]
    Empty { path: String },
    #[error("signature trust anchor {path} is not a valid certificate: {problem}")]
    Invalid { path: String, problem: String },
}

impl TrustAnchors {
    pub fn from_pem_files(paths: &[impl AsRef<Path>]) -> Result<Self, TrustAnchorError> {
        let mut anchors = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let shown = path.display().to_string();
            let pem = std::fs::read(path).map_err(|source| TrustAnchorError::Read {
                path: shown.clone(),
                source,
            })?;
            let before = anchors.len();
            for block in x509_parser::pem::Pem::iter_from_buffer(&pem) {
                let block = block.map_err(|e| TrustAnchorError::Invalid {
                    path: shown.clone(),
                    problem: e.to_string(),
                })?;
                anchors.push(Anchor::from_der(block.contents).map_err(|problem| {
                    TrustAnchorError::Invalid {
                        path: shown.clone(),
                        problem,
                    }
                })?);
            }
            if anchors.len() == before {
                return Err(TrustAnchorError::Empty { path: shown });
            }
        }
        Ok(Self { anchors })
    }

    pub fn from_der(certificates: &[Vec<u8>]) -> Result<Self, String> {
        let anchors = certificates
            .iter()
            .map(|der| Anchor::from_der(der.clone()))
            .collect::<Result<_, _>>()?;
        Ok(Self { anchors })
    }

    fn judge(&self, signer: &X509Certificate<'_>, at: OffsetDateTime) -> (Trust, Option<String>) {
        let issuer_der = signer.issuer().as_raw();
        let Some(anchor) = self.anchors.iter().find(|a| a.subject_der == issuer_der) else {
            return (
                Trust::Unknown,
                Some(format!(
                    "the issuer {} is not a configured signing CA",
                    signer.issuer()
                )),
            );
        };
        let Ok((_, ca)) = X509Certificate::from_der(&anchor.certificate_der) else {
            return (
                Trust::Untrusted,
                Some("the configured CA does not parse".into()),
            );
        };
        if signer.verify_signature(Some(ca.public_key())).is_err() {
            return (
                Trust::Untrusted,
                Some("the certificate's signature does not verify with the CA's key".into()),
            );
        }
        let validity = signer.validity();
        if at < validity.not_before.to_datetime() || at > validity.not_after.to_datetime() {
            return (
                Trust::Untrusted,
                Some(format!("the certificate was not valid at {at}")),
            );
        }
        (Trust::Trusted, None)
    }
}

impl Anchor {
    fn from_der(der: Vec<u8>) -> Result<Self, String> {
        let (_, certificate) = X509Certificate::from_der(&der).map_err(|e| e.to_string())?;
        Ok(Self {
            subject_der: certificate.subject().as_raw().to_vec(),
            certificate_der: der,
        })
    }
}

/// Checks every signature of the document. `source` is the text `document` was parsed from;
/// `at` is the time trust is judged at (the signature's time when known, else now).
pub fn verify_all(
    source: &str,
    document: &Document<'_>,
    anchors: &TrustAnchors,
    now: OffsetDateTime,
) -> Vec<SignatureCheck> {
    let Some(collection) = document
        .root_element()
        .children()
        .find(|n| {
            n.tag_name().name() == "localSocialHeader" && n.tag_name().namespace() == Some(HL7FI)
        })
        .and_then(|h| child(h, HL7FI, "signatureCollection"))
    else {
        return Vec::new();
    };
    let ids = id_index(document);
    children(collection, HL7FI, "signature")
        .map(|signature| verify_one(source, signature, &ids, anchors, now))
        .collect()
}

/// Elements by their `ID`, `Id` or `id` attribute, for resolving `#fragment` references.
fn id_index<'a, 'i>(document: &'a Document<'i>) -> HashMap<&'a str, Node<'a, 'i>> {
    let mut ids = HashMap::new();
    for node in document.descendants().filter(Node::is_element) {
        for name in ["ID", "Id", "id"] {
            if let Some(value) = node.attribute(name) {
                ids.entry(value).or_insert(node);
            }
        }
    }
    ids
}

fn verify_one(
    source: &str,
    signature: Node<'_, '_>,
    ids: &HashMap<&str, Node<'_, '_>>,
    anchors: &TrustAnchors,
    now: OffsetDateTime,
) -> SignatureCheck {
    let not_verifiable = |detail: String, certificate: Option<SignerCertificate>| SignatureCheck {
        integrity: Integrity::NotVerifiable,
        integrity_detail: Some(detail),
        trust: Trust::Unknown,
        trust_detail: None,
        certificate,
    };
    let Some(dsig) = child(signature, XMLDSIG, "Signature") else {
        return not_verifiable("no ds:Signature element".into(), None);
    };
    let Some(certificate_der) = child(dsig, XMLDSIG, "KeyInfo")
        .and_then(|k| child(k, XMLDSIG, "X509Data"))
        .and_then(|x| text(child(x, XMLDSIG, "X509Certificate")))
        .and_then(|c| decode_base64(&c))
    else {
        return not_verifiable("no signer certificate in KeyInfo/X509Data".into(), None);
    };
    let Ok((_, certificate)) = X509Certificate::from_der(&certificate_der) else {
        return not_verifiable("the signer certificate does not parse".into(), None);
    };
    let shown = SignerCertificate {
        subject: certificate.subject().to_string(),
        issuer: certificate.issuer().to_string(),
        serial: certificate.raw_serial_as_string(),
        not_before: certificate.validity().not_before.to_datetime(),
        not_after: certificate.validity().not_after.to_datetime(),
        der: certificate_der.clone(),
    };
    let signed_at = text(child(signature, HL7FI, "signatureTimestamp"))
        .and_then(|t| {
            OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
        })
        .unwrap_or(now);
    let (trust, trust_detail) = anchors.judge(&certificate, signed_at);

    let outcome =
        check_integrity(source, dsig, ids, &certificate, false).map(|()| Integrity::Valid);
    let (integrity, integrity_detail) = match outcome {
        Ok(integrity) => (integrity, None),
        Err(Failure::NotVerifiable(detail)) => (Integrity::NotVerifiable, Some(detail)),
        Err(Failure::Mismatch(detail)) => {
            match check_integrity(source, dsig, ids, &certificate, true) {
                Ok(()) => (
                    Integrity::ValidIgnoringWhitespace,
                    Some("digests match once white space between elements is ignored".into()),
                ),
                Err(_) => (Integrity::Invalid, Some(detail)),
            }
        }
    };
    SignatureCheck {
        integrity,
        integrity_detail,
        trust,
        trust_detail,
        certificate: Some(shown),
    }
}

enum Failure {
    NotVerifiable(String),
    Mismatch(String),
}

fn check_integrity(
    source: &str,
    dsig: Node<'_, '_>,
    ids: &HashMap<&str, Node<'_, '_>>,
    certificate: &X509Certificate<'_>,
    drop_whitespace_text: bool,
) -> Result<(), Failure> {
    let unverifiable = |s: &str| Failure::NotVerifiable(s.to_owned());
    let signed_info =
        child(dsig, XMLDSIG, "SignedInfo").ok_or_else(|| unverifiable("no SignedInfo"))?;
    let c14n_method = child(signed_info, XMLDSIG, "CanonicalizationMethod");
    if c14n_method.and_then(|m| m.attribute("Algorithm")) != Some(EXC_C14N) {
        return Err(unverifiable(
            "SignedInfo canonicalization is not exclusive c14n 1.0",
        ));
    }
    let method =
        child(signed_info, XMLDSIG, "SignatureMethod").and_then(|m| m.attribute("Algorithm"));
    if method != Some(RSA_SHA256) {
        return Err(Failure::NotVerifiable(format!(
            "signature method {} is not accepted (RSA-SHA256 is)",
            method.unwrap_or("(none)")
        )));
    }

    let references: Vec<Node<'_, '_>> = children(signed_info, XMLDSIG, "Reference").collect();
    if references.is_empty() {
        return Err(unverifiable("SignedInfo has no Reference"));
    }
    for reference in references {
        check_reference(source, reference, dsig.id(), ids, drop_whitespace_text)?;
    }

    let mut canonical = Vec::new();
    let prefixes = inclusive_prefixes(c14n_method);
    c14n::canonicalize(
        source,
        signed_info,
        &c14n::Options {
            inclusive_prefixes: &prefixes,
            drop_whitespace_text,
            exclude: None,
        },
        &mut canonical,
    );
    let signature_value = text(child(dsig, XMLDSIG, "SignatureValue"))
        .and_then(|v| decode_base64(&v))
        .ok_or_else(|| unverifiable("SignatureValue is missing or not base64"))?;
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        certificate.public_key().subject_public_key.data.as_ref(),
    );
    key.verify(&canonical, &signature_value).map_err(|_| {
        Failure::Mismatch("the signature value does not verify with the signer's key".into())
    })
}

fn check_reference(
    source: &str,
    reference: Node<'_, '_>,
    signature_node: NodeId,
    ids: &HashMap<&str, Node<'_, '_>>,
    drop_whitespace_text: bool,
) -> Result<(), Failure> {
    let uri = reference.attribute("URI").unwrap_or_default();
    let target = uri
        .strip_prefix('#')
        .and_then(|id| ids.get(id))
        .ok_or_else(|| {
            Failure::NotVerifiable(format!("reference {uri:?} is not found in the document"))
        })?;
    let digest_method =
        child(reference, XMLDSIG, "DigestMethod").and_then(|m| m.attribute("Algorithm"));
    if digest_method != Some(SHA256) {
        return Err(Failure::NotVerifiable(format!(
            "digest method {} is not accepted (SHA-256 is)",
            digest_method.unwrap_or("(none)")
        )));
    }
    let mut exclude = None;
    let mut prefixes = Vec::new();
    let transforms = child(reference, XMLDSIG, "Transforms");
    for transform in transforms
        .into_iter()
        .flat_map(|t| children(t, XMLDSIG, "Transform"))
    {
        match transform.attribute("Algorithm") {
            Some(ENVELOPED) => exclude = Some(signature_node),
            Some(EXC_C14N) => prefixes = inclusive_prefixes(Some(transform)),
            other => {
                return Err(Failure::NotVerifiable(format!(
                    "transform {} is not accepted",
                    other.unwrap_or("(none)")
                )));
            }
        }
    }
    let mut canonical = Vec::new();
    c14n::canonicalize(
        source,
        *target,
        &c14n::Options {
            inclusive_prefixes: &prefixes,
            drop_whitespace_text,
            exclude,
        },
        &mut canonical,
    );
    let expected = text(child(reference, XMLDSIG, "DigestValue"))
        .and_then(|v| decode_base64(&v))
        .ok_or_else(|| Failure::NotVerifiable(format!("reference {uri:?} has no DigestValue")))?;
    let actual = ring::digest::digest(&ring::digest::SHA256, &canonical);
    if actual.as_ref() == expected.as_slice() {
        Ok(())
    } else {
        Err(Failure::Mismatch(format!(
            "the digest of reference {uri:?} does not match"
        )))
    }
}

/// The `InclusiveNamespaces PrefixList` of a canonicalization method or transform.
fn inclusive_prefixes(method: Option<Node<'_, '_>>) -> Vec<String> {
    method
        .into_iter()
        .flat_map(|m| m.children())
        .filter(|n| n.tag_name().name() == "InclusiveNamespaces")
        .filter_map(|n| n.attribute("PrefixList"))
        .flat_map(|list| list.split_whitespace().map(str::to_owned))
        .collect()
}

fn decode_base64(value: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}
