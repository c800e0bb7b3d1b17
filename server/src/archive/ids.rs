//! The archive's identifiers: each an ISO OID in dotted form ([`Oid`]), typed by what it names.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use identity::oid::{Oid, OidError};

macro_rules! oid_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Oid);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, OidError> {
                Oid::parse(value).map(Self)
            }

            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            pub fn oid(&self) -> &Oid {
                &self.0
            }
        }

        impl From<Oid> for $name {
            fn from(oid: Oid) -> Self {
                Self(oid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

oid_newtype!(
    /// Identifies one version of a document (`ClinicalDocument/id/@root`).
    DocumentOid
);
oid_newtype!(
    /// Identifies a controller (rekisterinpitäjä): its SOTE organisation register OID.
    ControllerOid
);
