//! Signed checkpoints: the Merkle tree head (size and root) and the chain hash at that size,
//! signed with an Ed25519 key that lives in a file on the serving host, never in the database.
//! Each checkpoint is stored in the database and written once to the operator's sink directory,
//! so rewriting the log means forging a signature or rewriting two stores.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use ring::{
    rand::SystemRandom,
    signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::merkle::Hash;

/// The first line of the signed text, naming what is signed and its version.
const SIGNED_TAG: &str = "kanta-archivist-audit-checkpoint/1";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the signing key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not an Ed25519 private key in PKCS#8 (made by `archivist audit new-key`)")]
    NotAKey { path: PathBuf },
    #[error("cannot write the new key {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make a key: the system's random source failed")]
    Random,
    #[error(
        "{path} is not a public key: expected one line `ed25519 <64 hex digits>` (from `archivist audit public-key`)"
    )]
    NotAPublicKey { path: PathBuf },
}

/// The key checkpoints are signed with.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public_key())
    }
}

impl SigningKey {
    /// Makes a new key and writes it to `path` (PKCS#8 v2, readable by its owner only). Refuses
    /// to replace an existing file: a lost key leaves old checkpoints verifiable by its public
    /// key, an overwritten one would not.
    pub fn generate(path: &Path) -> Result<Self, KeyError> {
        let document =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Random)?;
        let write = |source| KeyError::Write {
            path: path.to_owned(),
            source,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(write)?;
        file.write_all(document.as_ref()).map_err(write)?;
        file.sync_all().map_err(write)?;
        Self::from_pkcs8(document.as_ref(), path)
    }

    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_pkcs8(&bytes, path)
    }

    fn from_pkcs8(bytes: &[u8], path: &Path) -> Result<Self, KeyError> {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes).map_err(|_| KeyError::NotAKey {
                path: path.to_owned(),
            })?;
        Ok(Self { pair })
    }

    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(bytes)
    }

    /// Signs the tree head at `tree_size`.
    pub fn sign(
        &self,
        tree_size: u64,
        root_hash: Hash,
        chain_hash: Hash,
        signed_at: OffsetDateTime,
    ) -> Checkpoint {
        let mut checkpoint = Checkpoint {
            tree_size,
            root_hash: hex::encode(root_hash),
            chain_hash: hex::encode(chain_hash),
            signed_at,
            key_id: self.public_key().key_id(),
            signature: String::new(),
        };
        let signature = self.pair.sign(checkpoint.signed_text().as_bytes());
        checkpoint.signature = hex::encode(signature.as_ref());
        checkpoint
    }
}

/// An Ed25519 public key, written as `ed25519 <hex>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ed25519 {}", hex::encode(self.0))
    }
}

impl std::str::FromStr for PublicKey {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let hex_part = text.trim().strip_prefix("ed25519 ").ok_or(())?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part.trim(), &mut bytes).map_err(|_| ())?;
        Ok(Self(bytes))
    }
}

impl PublicKey {
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        text.parse().map_err(|()| KeyError::NotAPublicKey {
            path: path.to_owned(),
        })
    }

    /// The first 8 bytes of the key's SHA-256, in hex: names the key in each checkpoint, so that
    /// a rotated key's checkpoints are told apart.
    pub fn key_id(&self) -> String {
        hex::encode(&ring::digest::digest(&ring::digest::SHA256, &self.0).as_ref()[..8])
    }

    pub fn verifies(&self, checkpoint: &Checkpoint) -> bool {
        let Ok(signature) = hex::decode(&checkpoint.signature) else {
            return false;
        };
        checkpoint.key_id == self.key_id()
            && UnparsedPublicKey::new(&ED25519, self.0)
                .verify(checkpoint.signed_text().as_bytes(), &signature)
                .is_ok()
    }
}

/// A signed tree head. Hashes and the signature are lower-case hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tree_size: u64,
    pub root_hash: String,
    pub chain_hash: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    pub key_id: String,
    pub signature: String,
}

impl Checkpoint {
    /// The exact text that is signed (README, "Audit log integrity"): six lines, each ending
    /// in a newline.
    pub fn signed_text(&self) -> String {
        format!(
            "{SIGNED_TAG}\ntree_size {}\nroot_hash {}\nchain_hash {}\nsigned_at {}\nkey_id {}\n",
            self.tree_size,
            self.root_hash,
            self.chain_hash,
            self.signed_at.unix_timestamp_nanos() / 1_000,
            self.key_id,
        )
    }

    pub fn root(&self) -> Option<Hash> {
        decode_hash(&self.root_hash)
    }

    pub fn chain(&self) -> Option<Hash> {
        decode_hash(&self.chain_hash)
    }
}

pub fn decode_hash(text: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot write checkpoint file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint file {path} already exists with other contents")]
    Conflict { path: PathBuf },
    #[error("cannot read checkpoint directory {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a checkpoint file: {problem}")]
    Malformed { path: PathBuf, problem: String },
}

/// The file a checkpoint of `tree_size` rows is written to: the size, zero-padded, so that the
/// files list in order.
pub fn file_name(tree_size: u64) -> String {
    format!("checkpoint-{tree_size:020}.json")
}

/// Writes `checkpoint` to `dir` once: a new file, flushed to disk with its directory entry.
/// The same checkpoint already there is fine (another instance or an earlier attempt wrote it);
/// a different one is an error and nothing is overwritten. Blocking: call it off the runtime.
pub fn write_once(dir: &Path, checkpoint: &Checkpoint) -> Result<PathBuf, SinkError> {
    let path = dir.join(file_name(checkpoint.tree_size));
    let write = |source| SinkError::Write {
        path: path.clone(),
        source,
    };
    let mut text = serde_json::to_string_pretty(checkpoint).map_err(|e| write(e.into()))?;
    text.push('\n');
    match OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(mut file) => {
            file.write_all(text.as_bytes()).map_err(write)?;
            file.sync_all().map_err(write)?;
            // The directory entry too, or a crash could lose the file after we reported it.
            File::open(dir).and_then(|d| d.sync_all()).map_err(write)?;
            Ok(path)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = read_written(&path)?;
            if existing == *checkpoint {
                Ok(path)
            } else {
                Err(SinkError::Conflict { path })
            }
        }
        Err(e) => Err(write(e)),
    }
}

/// A checkpoint file that may be being written by another instance at this moment (the
/// directory may be append-only, so files are written in place, not renamed into it): one that
/// does not parse yet is read again for up to two seconds before it counts as malformed.
fn read_written(path: &Path) -> Result<Checkpoint, SinkError> {
    const ATTEMPTS: u32 = 20;
    let mut attempt = 1;
    loop {
        match read_file(path) {
            Err(SinkError::Malformed { .. }) if attempt < ATTEMPTS => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            read => return read,
        }
    }
}

fn read_file(path: &Path) -> Result<Checkpoint, SinkError> {
    let text = std::fs::read_to_string(path).map_err(|source| SinkError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| SinkError::Malformed {
        path: path.to_owned(),
        problem: e.to_string(),
    })
}

/// Every checkpoint file in `dir`, by tree size.
pub fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, Checkpoint)>, SinkError> {
    let read = |source| SinkError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        let is_checkpoint = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("checkpoint-") && n.ends_with(".json"));
        if is_checkpoint {
            let checkpoint = read_file(&path)?;
            out.push((path, checkpoint));
        }
    }
    out.sort_by_key(|(_, c)| c.tree_size);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_public_key_only_and_over_every_field() {
        let dir = tempfile::tempdir().expect("dir");
        let key = SigningKey::generate(&dir.path().join("k")).expect("key");
        let other = SigningKey::generate(&dir.path().join("other")).expect("key");
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let checkpoint = key.sign(10, [1; 32], [2; 32], at);
        assert!(key.public_key().verifies(&checkpoint));
        assert!(!other.public_key().verifies(&checkpoint));
        let mut changed = checkpoint.clone();
        changed.tree_size = 11;
        assert!(!key.public_key().verifies(&changed));
        let mut changed = checkpoint.clone();
        changed.root_hash = hex::encode([3; 32]);
        assert!(!key.public_key().verifies(&changed));
        let mut changed = checkpoint;
        changed.signed_at += time::Duration::SECOND;
        assert!(!key.public_key().verifies(&changed));
    }

    #[test]
    fn a_key_file_is_written_once_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("audit.key");
        let key = SigningKey::generate(&path).expect("key");
        assert!(matches!(
            SigningKey::generate(&path),
            Err(KeyError::Write { .. })
        ));
        assert_eq!(
            SigningKey::load(&path).expect("load").public_key(),
            key.public_key()
        );
        std::fs::write(dir.path().join("junk"), b"not a key").expect("write");
        assert!(matches!(
            SigningKey::load(&dir.path().join("junk")),
            Err(KeyError::NotAKey { .. })
        ));
        let text = key.public_key().to_string();
        assert_eq!(text.parse::<PublicKey>(), Ok(key.public_key()));
        assert!("ed25519 12".parse::<PublicKey>().is_err());
    }

    #[test]
    fn the_sink_keeps_the_first_file_and_refuses_a_different_one() {
        let dir = tempfile::tempdir().expect("dir");
        let key = SigningKey::generate(&dir.path().join("k")).expect("key");
        let sink = dir.path().join("sink");
        std::fs::create_dir(&sink).expect("sink");
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let first = key.sign(5, [1; 32], [2; 32], at);
        write_once(&sink, &first).expect("first");
        write_once(&sink, &first).expect("the same again");
        let other = key.sign(5, [9; 32], [2; 32], at);
        assert!(matches!(
            write_once(&sink, &other),
            Err(SinkError::Conflict { .. })
        ));
        let read = read_dir(&sink).expect("read");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].1, first);
    }

    #[test]
    fn a_file_another_instance_is_still_writing_is_waited_for_then_judged() {
        let dir = tempfile::tempdir().expect("dir");
        let key = SigningKey::generate(&dir.path().join("k")).expect("key");
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let checkpoint = key.sign(7, [1; 32], [2; 32], at);
        let path = dir.path().join(file_name(7));
        let text = serde_json::to_string_pretty(&checkpoint).expect("json");
        // The other instance has written half of it, and finishes a moment later.
        std::fs::write(&path, &text[..text.len() / 2]).expect("half");
        let finishing = {
            let (path, text) = (path.clone(), text.clone());
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(300));
                std::fs::write(path, text).expect("whole");
            })
        };
        write_once(dir.path(), &checkpoint).expect("the same checkpoint, once whole");
        finishing.join().expect("writer");

        // A file that never becomes a checkpoint is named as malformed, not waited on forever.
        let broken = key.sign(8, [1; 32], [2; 32], at);
        std::fs::write(dir.path().join(file_name(8)), "{").expect("broken");
        assert!(matches!(
            write_once(dir.path(), &broken),
            Err(SinkError::Malformed { .. })
        ));
    }
}
