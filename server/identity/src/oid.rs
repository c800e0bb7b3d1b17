//! Object identifiers in dotted form: what the archive keys on, and what the card number rule and
//! the card policies name.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an OID (dotted decimal arcs such as 1.2.246.10.1)")]
pub struct OidError(pub String);

/// A dotted-decimal object identifier: `0`, `1` or `2`, then at least one further arc, no
/// leading zeros, at most 256 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Oid(String);

impl Oid {
    pub fn parse(value: &str) -> Result<Self, OidError> {
        let invalid = || OidError(value.chars().take(80).collect());
        if value.is_empty() || value.len() > 256 {
            return Err(invalid());
        }
        let mut arcs = value.split('.');
        if !matches!(arcs.next(), Some("0" | "1" | "2")) {
            return Err(invalid());
        }
        let mut count = 0;
        for arc in arcs {
            let digits_only = !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit());
            if !digits_only || (arc.len() > 1 && arc.starts_with('0')) {
                return Err(invalid());
            }
            count += 1;
        }
        if count == 0 {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Oid {
    type Error = OidError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Oid> for String {
    fn from(oid: Oid) -> Self {
        oid.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_shapes() {
        for oid in [
            "1.2.246.10.32213561.95777.2026.688883.2809773",
            "2.16.840.1.113883.1.3",
            "1.2",
        ] {
            assert_eq!(Oid::parse(oid).map(|o| o.to_string()).as_deref(), Ok(oid));
        }
    }

    #[test]
    fn refuses_what_is_not_an_oid() {
        for bad in [
            "", "1", "3.1", "1..2", "1.2.", ".1.2", "1.02", "1.2a", "OID1.2", " 1.2", "1.2.-3",
        ] {
            assert!(Oid::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Oid::parse(&format!("1.{}", "2".repeat(300))).is_err());
    }
}
