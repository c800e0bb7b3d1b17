//! The social welfare archive's documents: reading the CDA R2 profile and its HL7 v3 transfer
//! frame. Parsing never changes the bytes it was given; what is stored is what was received.

// The parsers read untrusted bytes: a slice or index out of range must be an error, not a panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub(crate) mod c14n;
pub mod cda;
pub mod frame;
pub mod identity_code;
pub mod ids;
mod prepare;
mod time;
mod xml;
pub mod xmldsig;

#[cfg(test)]
mod tests;

pub use cda::{ParsedDocument, Rendition, parse_document};
pub use frame::{ParsedFrame, check_frame_matches, parse_frame};
pub use identity_code::{IdentityCodeError, PersonalIdentityCode};
pub use ids::{ControllerOid, DocumentOid, Oid, OidError};
pub use prepare::{PreparedDocument, Submission, prepare, sha256};
pub use time::parse_hl7_time;

/// Why a document or frame cannot be archived. Every message names the element or value, so
/// that an import report tells the sender what to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("unsupported character encoding {0:?} (UTF-8 and ISO-8859-1 are accepted)")]
    Encoding(String),
    #[error("the root element is {found}, expected {expected}")]
    WrongRoot {
        found: String,
        expected: &'static str,
    },
    #[error("required element {0} is missing")]
    Missing(&'static str),
    #[error("{element} is not valid: {problem}")]
    Invalid {
        element: &'static str,
        problem: String,
    },
    #[error("{element}: base64 content does not decode: {problem}")]
    Base64 {
        element: &'static str,
        problem: String,
    },
    #[error("version rules: {0}")]
    Version(String),
    #[error("the transfer frame does not match the document: {0}")]
    FrameMismatch(String),
}
