//! Proofs an auditor checks offline, with nothing but the proof file and the public key:
//! that one row is in a signed checkpoint (inclusion), and that a later checkpoint's log only
//! added rows to an earlier one's (consistency). Both are RFC 9162 proofs over our tree.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::{
    canonical::{self, SealedRow},
    checkpoint::{Checkpoint, PublicKey, decode_hash},
    merkle::{self, Hash},
    seal,
    stored_tree::{self, TreeError},
};

/// A proof file. `format` names the kind and its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "format")]
pub enum Proof {
    #[serde(rename = "kanta-archivist-audit-inclusion/1")]
    Inclusion {
        /// The row's place in the chain (its leaf is seq - 1).
        seq: u64,
        /// The whole row: its canonical encoding is the leaf.
        row: Box<SealedRow>,
        /// RFC 9162 inclusion path, leaf side first, hex.
        path: Vec<String>,
        checkpoint: Checkpoint,
    },
    #[serde(rename = "kanta-archivist-audit-consistency/1")]
    Consistency {
        old: Checkpoint,
        new: Checkpoint,
        /// RFC 9162 consistency path, hex.
        path: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("no row is sealed at seq {0}")]
    NoSuchRow(u64),
    #[error("the row sealed at seq {0} is no longer in the log (run `archivist audit verify`)")]
    RowDeleted(u64),
    #[error(
        "no signed checkpoint covers seq {0} yet: checkpoints are signed every audit.checkpoint_interval_secs; try again then"
    )]
    NotYetCheckpointed(u64),
    #[error("no checkpoint of {0} rows is stored")]
    NoSuchCheckpoint(u64),
    #[error("a consistency proof needs an older checkpoint first: {0} is not below {1}")]
    NotOlder(u64, u64),
    #[error(
        "the stored tree does not lead to the checkpoint of {0} rows: the log was tampered with (run `archivist audit verify`)"
    )]
    Inconsistent(u64),
}

/// Why a proof does not hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckError {
    #[error("the checkpoint of {0} rows is not signed by this public key")]
    Signature(u64),
    #[error("the proof is malformed: {0}")]
    Malformed(&'static str),
    #[error(
        "the row is not in the checkpoint of {0} rows: the path does not lead to its tree head"
    )]
    NotIncluded(u64),
    #[error("the checkpoint of {new} rows does not extend the one of {old}: the log was rewritten")]
    NotConsistent { old: u64, new: u64 },
}

fn hex_path(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

fn parse_path(path: &[String]) -> Result<Vec<Hash>, CheckError> {
    path.iter()
        .map(|h| decode_hash(h).ok_or(CheckError::Malformed("a path hash is not 64 hex digits")))
        .collect()
}

/// The hashes of `ranges`, read from the stored tree.
async fn path_hashes(
    conn: &mut PgConnection,
    ranges: Vec<std::ops::Range<u64>>,
) -> Result<Vec<Hash>, ProveError> {
    let ids: Vec<merkle::NodeId> = ranges
        .iter()
        .flat_map(|r| merkle::perfect_subtrees(r.clone()))
        .collect();
    let nodes = stored_tree::load(conn, &ids).await?;
    ranges
        .into_iter()
        .map(|r| merkle::range_hash(r, &nodes).ok_or(ProveError::Tree(TreeError::Missing(1))))
        .collect()
}

/// The inclusion proof of the row at `seq` in the checkpoint of `checkpoint_size` rows, or in
/// the newest checkpoint.
pub async fn prove_inclusion(
    conn: &mut PgConnection,
    seq: u64,
    checkpoint_size: Option<u64>,
) -> Result<Proof, ProveError> {
    let checkpoint = match checkpoint_size {
        Some(size) => seal::checkpoints(conn, Some(size))
            .await?
            .pop()
            .ok_or(ProveError::NoSuchCheckpoint(size))?,
        None => seal::latest_checkpoint(conn)
            .await?
            .ok_or(ProveError::NotYetCheckpointed(seq))?,
    };
    if seq == 0 || seq > checkpoint.tree_size {
        return Err(match checkpoint_size {
            None if seq > 0 => ProveError::NotYetCheckpointed(seq),
            _ => ProveError::NoSuchRow(seq),
        });
    }
    let link = sqlx::query!(
        "SELECT audit_id FROM audit_chain WHERE seq = $1",
        seq as i64
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ProveError::NoSuchRow(seq))?;
    let row: SealedRow = sqlx::query_as(&format!(
        "SELECT {} FROM audit_log a WHERE a.id = $1",
        canonical::SELECT_COLUMNS
    ))
    .bind(link.audit_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ProveError::RowDeleted(seq))?;
    let path = path_hashes(
        conn,
        merkle::inclusion_ranges(seq - 1, checkpoint.tree_size),
    )
    .await?;
    let proof = Proof::Inclusion {
        seq,
        row: Box::new(row),
        path: hex_path(&path),
        checkpoint,
    };
    // A proof that would not check is not handed out: the stored tree or row was changed.
    if let Err(CheckError::NotIncluded(size)) = check_paths(&proof) {
        return Err(ProveError::Inconsistent(size));
    }
    Ok(proof)
}

/// The consistency proof between the checkpoints of `old` and `new` rows.
pub async fn prove_consistency(
    conn: &mut PgConnection,
    old: u64,
    new: u64,
) -> Result<Proof, ProveError> {
    if old == 0 || old >= new {
        return Err(ProveError::NotOlder(old, new));
    }
    let mut load = async |size| {
        seal::checkpoints(&mut *conn, Some(size))
            .await?
            .pop()
            .ok_or(ProveError::NoSuchCheckpoint(size))
    };
    let old_checkpoint = load(old).await?;
    let new_checkpoint = load(new).await?;
    let path = path_hashes(conn, merkle::consistency_ranges(old, new)).await?;
    let proof = Proof::Consistency {
        old: old_checkpoint,
        new: new_checkpoint,
        path: hex_path(&path),
    };
    if let Err(CheckError::NotConsistent { new, .. }) = check_paths(&proof) {
        return Err(ProveError::Inconsistent(new));
    }
    Ok(proof)
}

/// What a proof showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    Included {
        seq: u64,
        row: Box<SealedRow>,
        checkpoint: Checkpoint,
    },
    Consistent {
        old: Checkpoint,
        new: Checkpoint,
    },
}

/// Checks `proof` offline: the signatures with `key`, then the path.
pub fn check(proof: &Proof, key: &PublicKey) -> Result<Checked, CheckError> {
    let signed = |c: &Checkpoint| {
        if key.verifies(c) {
            Ok(())
        } else {
            Err(CheckError::Signature(c.tree_size))
        }
    };
    match proof {
        Proof::Inclusion { checkpoint, .. } => signed(checkpoint)?,
        Proof::Consistency { old, new, .. } => {
            signed(old)?;
            signed(new)?;
        }
    }
    check_paths(proof)
}

/// The path part of [`check`], without the signatures.
fn check_paths(proof: &Proof) -> Result<Checked, CheckError> {
    match proof {
        Proof::Inclusion {
            seq,
            row,
            path,
            checkpoint,
        } => {
            let root = checkpoint
                .root()
                .ok_or(CheckError::Malformed("the root hash is not 64 hex digits"))?;
            let path = parse_path(path)?;
            if *seq == 0 {
                return Err(CheckError::Malformed("seq counts from 1"));
            }
            let leaf = row.leaf_hash();
            if merkle::verify_inclusion(seq - 1, checkpoint.tree_size, &leaf, &path, &root) {
                Ok(Checked::Included {
                    seq: *seq,
                    row: row.clone(),
                    checkpoint: checkpoint.clone(),
                })
            } else {
                Err(CheckError::NotIncluded(checkpoint.tree_size))
            }
        }
        Proof::Consistency { old, new, path } => {
            let malformed = CheckError::Malformed("a root hash is not 64 hex digits");
            let old_root = old.root().ok_or(malformed)?;
            let new_root = new
                .root()
                .ok_or(CheckError::Malformed("a root hash is not 64 hex digits"))?;
            let path = parse_path(path)?;
            if merkle::verify_consistency(old.tree_size, new.tree_size, &old_root, &new_root, &path)
            {
                Ok(Checked::Consistent {
                    old: old.clone(),
                    new: new.clone(),
                })
            } else {
                Err(CheckError::NotConsistent {
                    old: old.tree_size,
                    new: new.tree_size,
                })
            }
        }
    }
}
