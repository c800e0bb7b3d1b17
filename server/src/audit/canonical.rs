//! The canonical encoding of an audit row: the bytes that the hash chain and the Merkle tree
//! hash. It is defined here and nowhere else (the sealer, `archivist audit verify` and
//! `check-proof` all call [`SealedRow::encode`]), and the README's "Audit log integrity" section
//! states it for auditors who write their own verifier.
//!
//! Version 1, in this order:
//! 1. the tag `kanta-archivist-audit-row/1` (27 bytes), so that no other structure hashes alike;
//! 2. the row's `id` as a signed 64-bit big-endian integer;
//! 3. `occurred_at` as microseconds since 1970-01-01T00:00:00Z, signed 64-bit big-endian;
//! 4. fourteen text fields, each either the byte 0x00 (absent, SQL NULL) or the byte 0x01, the
//!    UTF-8 length as an unsigned 32-bit big-endian integer, and the UTF-8 bytes: action,
//!    outcome, reason, client_address (PostgreSQL's text form of the `inet`), operator,
//!    card_number, satu, certificate_subject, certificate_issuer, certificate_serial,
//!    public_key_sha256, controller_oid, document_oid, details (PostgreSQL's text form of the
//!    `jsonb`, which orders keys and spaces them the same way every time).

use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::merkle::{self, Hash};

const TAG: &[u8] = b"kanta-archivist-audit-row/1";

/// The hash before the first row: 32 zero bytes.
pub const CHAIN_START: Hash = [0; 32];

/// One audit row, every field that the encoding covers. Read from the database by the sealer
/// and the verifier, and carried whole in an inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SealedRow {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub client_address: Option<String>,
    pub operator: Option<String>,
    pub card_number: Option<String>,
    pub satu: Option<String>,
    pub certificate_subject: Option<String>,
    pub certificate_issuer: Option<String>,
    pub certificate_serial: Option<String>,
    pub public_key_sha256: Option<String>,
    pub controller_oid: Option<String>,
    pub document_oid: Option<String>,
    pub details: Option<String>,
}

/// The columns of `audit_log` in the form [`SealedRow`] reads them, for queries that select
/// rows to hash (the table alias is `a`).
pub const SELECT_COLUMNS: &str = "a.id, a.occurred_at, a.action, a.outcome, a.reason, \
     a.client_address::text AS client_address, a.operator, a.card_number, a.satu, \
     a.certificate_subject, a.certificate_issuer, a.certificate_serial, a.public_key_sha256, \
     a.controller_oid, a.document_oid, a.details::text AS details";

impl SealedRow {
    /// Microseconds since the Unix epoch, the precision PostgreSQL stores.
    pub fn occurred_at_micros(&self) -> i64 {
        (self.occurred_at.unix_timestamp_nanos() / 1_000) as i64
    }

    pub fn encode(&self) -> Vec<u8> {
        let texts = [
            Some(self.action.as_str()),
            Some(self.outcome.as_str()),
            self.reason.as_deref(),
            self.client_address.as_deref(),
            self.operator.as_deref(),
            self.card_number.as_deref(),
            self.satu.as_deref(),
            self.certificate_subject.as_deref(),
            self.certificate_issuer.as_deref(),
            self.certificate_serial.as_deref(),
            self.public_key_sha256.as_deref(),
            self.controller_oid.as_deref(),
            self.document_oid.as_deref(),
            self.details.as_deref(),
        ];
        let length: usize = texts.iter().map(|t| 5 + t.map_or(0, str::len)).sum();
        let mut out = Vec::with_capacity(TAG.len() + 16 + length);
        out.extend_from_slice(TAG);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.occurred_at_micros().to_be_bytes());
        for text in texts {
            match text {
                None => out.push(0x00),
                Some(text) => {
                    out.push(0x01);
                    // A text longer than 4 GiB cannot be in a PostgreSQL row (1 GB limit).
                    out.extend_from_slice(&(text.len() as u32).to_be_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        out
    }

    /// The row's leaf in the Merkle tree.
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.encode())
    }
}

/// The next link of the hash chain: `SHA-256(previous || encoding)`.
pub fn chain_hash(previous: &Hash, encoding: &[u8]) -> Hash {
    let mut context = Context::new(&SHA256);
    context.update(previous);
    context.update(encoding);
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> SealedRow {
        SealedRow {
            id: 258,
            occurred_at: OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000)
                .expect("time"),
            action: "document.viewed".into(),
            outcome: "success".into(),
            reason: None,
            client_address: Some("127.0.0.1".into()),
            operator: None,
            card_number: Some("9876543210".into()),
            satu: None,
            certificate_subject: None,
            certificate_issuer: None,
            certificate_serial: None,
            public_key_sha256: None,
            controller_oid: None,
            document_oid: None,
            details: Some(r#"{"a": 1}"#.into()),
        }
    }

    #[test]
    fn the_encoding_is_the_documented_byte_layout() {
        let bytes = row().encode();
        let mut expected = b"kanta-archivist-audit-row/1".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        expected.extend_from_slice(&1_700_000_000_123_456i64.to_be_bytes());
        expected.extend_from_slice(&[1, 0, 0, 0, 15]);
        expected.extend_from_slice(b"document.viewed");
        expected.extend_from_slice(&[1, 0, 0, 0, 7]);
        expected.extend_from_slice(b"success");
        expected.push(0); // reason
        expected.extend_from_slice(&[1, 0, 0, 0, 9]);
        expected.extend_from_slice(b"127.0.0.1");
        expected.push(0); // operator
        expected.extend_from_slice(&[1, 0, 0, 0, 10]);
        expected.extend_from_slice(b"9876543210");
        expected.extend_from_slice(&[0; 7]); // satu .. document_oid
        expected.extend_from_slice(&[1, 0, 0, 0, 8]);
        expected.extend_from_slice(br#"{"a": 1}"#);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn an_absent_field_and_an_empty_one_encode_differently() {
        let mut empty = row();
        empty.reason = Some(String::new());
        assert_ne!(empty.encode(), row().encode());
        // Moving text between neighbouring fields changes the encoding too.
        let mut moved = row();
        moved.action = "document.viewedsuccess".into();
        moved.outcome = String::new();
        assert_ne!(moved.encode(), row().encode());
    }

    #[test]
    fn every_field_is_covered() {
        let base = row().encode();
        let mut changed = row();
        changed.occurred_at += time::Duration::microseconds(1);
        assert_ne!(changed.encode(), base);
        let mut changed = row();
        changed.id += 1;
        assert_ne!(changed.encode(), base);
        let mut changed = row();
        changed.document_oid = Some("1.2.3".into());
        assert_ne!(changed.encode(), base);
    }
}
