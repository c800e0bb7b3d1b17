//! Who is on the other end of a connection: the certificate checks a card must pass, what is
//! read from a verified card certificate, and the card number its access is linked by.
//!
//! The lowest layer of the server: `tls`, `auth`, `store`, the pages (`app`) and the card tool
//! (`archivist-card`) depend on it, and it depends on none of them. Without the `checks`
//! feature only the plain types remain ([`CertificateIdentity`], [`VerifiedClient`],
//! [`CardKey`], [`CardNumber`], [`Oid`]), which is what the pages compiled for the browser need.

// Request paths report failures as errors; a panic is for tests only.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]

pub mod card_number;
pub mod certificate;
pub mod client;
pub mod enrolment;
pub mod oid;

#[cfg(feature = "checks")]
pub mod card_checks;
#[cfg(any(test, feature = "demo"))]
pub mod demo;
#[cfg(feature = "checks")]
pub mod files;
#[cfg(feature = "checks")]
pub mod refusal;
#[cfg(feature = "checks")]
pub mod verifier;

pub use card_number::{CardKey, CardNumber, CardNumberError, CardNumberRule};
pub use certificate::CertificateIdentity;
pub use client::VerifiedClient;
pub use oid::{Oid, OidError};
#[cfg(feature = "checks")]
pub use refusal::HandshakeRefusal;
