//! `archivist audit verify`: recompute the chain and the tree from the rows and hold them
//! against the stored links and every signed checkpoint, from the database and from the sink
//! directories. Findings name sequence numbers, row ids and times, never what a row says.

use std::{collections::BTreeMap, path::PathBuf};

use futures::TryStreamExt;
use sqlx::{PgConnection, Row, postgres::PgRow};
use time::OffsetDateTime;

use super::{
    canonical::{self, CHAIN_START, SealedRow},
    checkpoint::{self, Checkpoint, PublicKey},
    merkle::{self, Frontier, Hash},
    seal,
};

/// Something verify found wrong. Each names where, never a row's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// Chain links `from..=to` are missing: rows were removed from the chain.
    ChainGap { from: u64, to: u64 },
    /// The row chained at `seq` is no longer in the log.
    RowDeleted { seq: u64, audit_id: i64 },
    /// The row at `seq` does not hash to its link: altered since it was sealed.
    RowAltered {
        seq: u64,
        audit_id: i64,
        occurred_at: OffsetDateTime,
    },
    /// The rows at `seq` do not follow id order: links were swapped or moved.
    OutOfOrder { seq: u64, audit_id: i64 },
    /// A row among the sealed ones that the chain does not hold: inserted afterwards.
    RowNotSealed {
        audit_id: i64,
        occurred_at: OffsetDateTime,
    },
    /// The log no longer gives the tree head (or chain hash) of a signed checkpoint: rows up to
    /// its size were rewritten (after the newest earlier checkpoint that still matches).
    CheckpointMismatch {
        tree_size: u64,
        signed_at: OffsetDateTime,
        matched_up_to: u64,
    },
    /// A signed checkpoint covers more rows than the chain now has: the newest rows are gone.
    RowsMissingAtEnd {
        tree_size: u64,
        signed_at: OffsetDateTime,
        chain_length: u64,
    },
    /// A checkpoint whose signature does not verify with any of the public keys.
    BadSignature { tree_size: u64, source: String },
    /// The sink holds a checkpoint that the database does not.
    CheckpointMissingFromDatabase { tree_size: u64, file: PathBuf },
    /// The sink's checkpoint and the database's of the same size differ.
    CheckpointReplaced { tree_size: u64, file: PathBuf },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |t: &OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        match self {
            Self::ChainGap { from, to } => write!(
                f,
                "chain links {from}..={to} are missing: rows were removed from the chain"
            ),
            Self::RowDeleted { seq, audit_id } => write!(
                f,
                "seq {seq}: row id {audit_id} was deleted from the log after it was sealed"
            ),
            Self::RowAltered {
                seq,
                audit_id,
                occurred_at,
            } => write!(
                f,
                "seq {seq}: row id {audit_id} ({}) was altered after it was sealed",
                at(occurred_at)
            ),
            Self::OutOfOrder { seq, audit_id } => write!(
                f,
                "seq {seq}: row id {audit_id} is out of order: chain links were swapped or moved"
            ),
            Self::RowNotSealed {
                audit_id,
                occurred_at,
            } => write!(
                f,
                "row id {audit_id} ({}) lies among sealed rows but is not in the chain: it was inserted afterwards",
                at(occurred_at)
            ),
            Self::CheckpointMismatch {
                tree_size,
                signed_at,
                matched_up_to,
            } => write!(
                f,
                "checkpoint of {tree_size} rows signed {}: the log no longer matches it; rows {}..={tree_size} were rewritten",
                at(signed_at),
                matched_up_to + 1
            ),
            Self::RowsMissingAtEnd {
                tree_size,
                signed_at,
                chain_length,
            } => write!(
                f,
                "checkpoint of {tree_size} rows signed {}: the chain has only {chain_length}; rows {}..={tree_size} are missing at the end",
                at(signed_at),
                chain_length + 1
            ),
            Self::BadSignature { tree_size, source } => write!(
                f,
                "checkpoint of {tree_size} rows in {source}: the signature does not verify with the public key"
            ),
            Self::CheckpointMissingFromDatabase { tree_size, file } => write!(
                f,
                "checkpoint of {tree_size} rows in {} is missing from the database",
                file.display()
            ),
            Self::CheckpointReplaced { tree_size, file } => write!(
                f,
                "checkpoint of {tree_size} rows in the database differs from {}: it was replaced",
                file.display()
            ),
        }
    }
}

/// What verify found, and what it checked.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub chain_length: u64,
    pub checkpoints_checked: usize,
    pub newest_checkpoint: Option<(u64, OffsetDateTime)>,
    /// Rows written since the last sealing round (not an error: they are sealed within seconds).
    pub unsealed: i64,
    pub oldest_unsealed: Option<OffsetDateTime>,
    pub findings: Vec<Finding>,
    /// Findings beyond those listed, by count (the first ones say where to look).
    pub more_findings: u64,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.findings.is_empty()
    }

    fn find(&mut self, finding: Finding) {
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding);
        } else {
            self.more_findings += 1;
        }
    }
}

const MAX_FINDINGS: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Sink(#[from] checkpoint::SinkError),
}

/// A checkpoint and where it came from.
struct Signed {
    checkpoint: Checkpoint,
    root: Option<Hash>,
    chain: Option<Hash>,
}

/// Verifies the whole log. Checkpoints come from the database and from each of `sinks`; only
/// those that one of `keys` signed are held against the log (more than one after a key change).
pub async fn verify(
    conn: &mut PgConnection,
    keys: &[PublicKey],
    sinks: &[PathBuf],
) -> Result<Report, VerifyError> {
    let mut report = Report::default();
    let trusted = signed_checkpoints(conn, keys, sinks, &mut report).await?;
    report.checkpoints_checked = trusted.values().map(Vec::len).sum();
    report.newest_checkpoint = trusted
        .values()
        .flatten()
        .max_by_key(|s| (s.checkpoint.tree_size, s.checkpoint.signed_at))
        .map(|s| (s.checkpoint.tree_size, s.checkpoint.signed_at));
    let max_sealed_id = walk_chain(conn, &trusted, &mut report).await?;
    find_unsealed(conn, max_sealed_id, &mut report).await?;
    Ok(report)
}

/// Checkpoints whose signature verifies, by tree size; the others and any disagreement between
/// the database and the sinks become findings.
async fn signed_checkpoints(
    conn: &mut PgConnection,
    keys: &[PublicKey],
    sinks: &[PathBuf],
    report: &mut Report,
) -> Result<BTreeMap<u64, Vec<Signed>>, VerifyError> {
    let stored = seal::checkpoints(conn, None).await?;
    let mut by_size: BTreeMap<u64, Vec<Signed>> = BTreeMap::new();
    let mut accept = |checkpoint: Checkpoint, source: &str, report: &mut Report| {
        if !keys.iter().any(|key| key.verifies(&checkpoint)) {
            report.find(Finding::BadSignature {
                tree_size: checkpoint.tree_size,
                source: source.to_owned(),
            });
            return;
        }
        let entry = by_size.entry(checkpoint.tree_size).or_default();
        if !entry.iter().any(|s| s.checkpoint == checkpoint) {
            entry.push(Signed {
                root: checkpoint.root(),
                chain: checkpoint.chain(),
                checkpoint,
            });
        }
    };
    let in_database: BTreeMap<u64, Checkpoint> =
        stored.iter().map(|c| (c.tree_size, c.clone())).collect();
    for checkpoint in stored {
        accept(checkpoint, "the database", report);
    }
    for dir in sinks {
        for (file, checkpoint) in checkpoint::read_dir(dir)? {
            match in_database.get(&checkpoint.tree_size) {
                None => report.find(Finding::CheckpointMissingFromDatabase {
                    tree_size: checkpoint.tree_size,
                    file: file.clone(),
                }),
                Some(stored) if *stored != checkpoint => report.find(Finding::CheckpointReplaced {
                    tree_size: checkpoint.tree_size,
                    file: file.clone(),
                }),
                Some(_) => {}
            }
            accept(checkpoint, &file.display().to_string(), report);
        }
    }
    Ok(by_size)
}

/// One link of the chain and the row it names (absent when the row was deleted).
struct Link {
    seq: u64,
    audit_id: i64,
    leaf_hash: Vec<u8>,
    chain_hash: Vec<u8>,
    row: Option<SealedRow>,
}

impl<'r> sqlx::FromRow<'r, PgRow> for Link {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let present: Option<i64> = row.try_get("id")?;
        let sealed = match present {
            Some(_) => Some(SealedRow::from_row(row)?),
            None => None,
        };
        Ok(Self {
            seq: row.try_get::<i64, _>("seq")? as u64,
            audit_id: row.try_get("audit_id")?,
            leaf_hash: row.try_get("leaf_hash")?,
            chain_hash: row.try_get("chain_hash")?,
            row: sealed,
        })
    }
}

/// Streams the chain in order, recomputing every link and the tree; returns the largest sealed
/// row id.
async fn walk_chain(
    conn: &mut PgConnection,
    trusted: &BTreeMap<u64, Vec<Signed>>,
    report: &mut Report,
) -> Result<i64, VerifyError> {
    let query = format!(
        "SELECT c.seq, c.audit_id, c.leaf_hash, c.chain_hash, {}
         FROM audit_chain c LEFT JOIN audit_log a ON a.id = c.audit_id
         ORDER BY c.seq",
        canonical::SELECT_COLUMNS
    );
    let mut links = sqlx::query_as::<_, Link>(&query).fetch(&mut *conn);
    let mut frontier = Frontier::default();
    // The chain as the rows give it from the start, for the checkpoints...
    let mut recomputed = CHAIN_START;
    // ...and the stored link before this one, so that one altered row is reported alone.
    let mut stored_previous = CHAIN_START;
    let mut expected_seq = 1u64;
    let mut max_id = 0i64;
    let mut matched_up_to = 0u64;
    let mut checkpoints = trusted.iter().peekable();
    while let Some(link) = links.try_next().await? {
        if link.seq != expected_seq {
            report.find(Finding::ChainGap {
                from: expected_seq,
                to: link.seq - 1,
            });
        }
        expected_seq = link.seq + 1;
        if link.audit_id <= max_id {
            report.find(Finding::OutOfOrder {
                seq: link.seq,
                audit_id: link.audit_id,
            });
        }
        max_id = max_id.max(link.audit_id);
        let leaf = match &link.row {
            None => {
                report.find(Finding::RowDeleted {
                    seq: link.seq,
                    audit_id: link.audit_id,
                });
                // The row's bytes are gone, so the chain from here on cannot be what was signed:
                // every checkpoint after it is reported as no longer matching, as it should be.
                recomputed = canonical::chain_hash(&recomputed, &[]);
                Hash::try_from(link.leaf_hash.as_slice()).unwrap_or([0; 32])
            }
            Some(row) => {
                let encoding = row.encode();
                let leaf = merkle::leaf_hash(&encoding);
                recomputed = canonical::chain_hash(&recomputed, &encoding);
                let link_hash = canonical::chain_hash(&stored_previous, &encoding);
                if leaf.as_slice() != link.leaf_hash || link_hash.as_slice() != link.chain_hash {
                    report.find(Finding::RowAltered {
                        seq: link.seq,
                        audit_id: link.audit_id,
                        occurred_at: row.occurred_at,
                    });
                }
                leaf
            }
        };
        stored_previous = Hash::try_from(link.chain_hash.as_slice()).unwrap_or([0; 32]);
        frontier.push(leaf, |_, _| {});
        report.chain_length = link.seq;
        // Checkpoints are held against the tree as it stood when it had their size.
        while let Some(&(&size, signed)) = checkpoints.peek() {
            if size > frontier.size() {
                break;
            }
            if size == frontier.size() {
                let root = frontier.root();
                for s in signed {
                    if s.root == Some(root) && s.chain == Some(recomputed) {
                        matched_up_to = matched_up_to.max(size);
                    } else {
                        report.find(Finding::CheckpointMismatch {
                            tree_size: size,
                            signed_at: s.checkpoint.signed_at,
                            matched_up_to,
                        });
                    }
                }
            }
            checkpoints.next();
        }
    }
    for (&size, signed) in checkpoints {
        if size > report.chain_length {
            for s in signed {
                report.find(Finding::RowsMissingAtEnd {
                    tree_size: size,
                    signed_at: s.checkpoint.signed_at,
                    chain_length: report.chain_length,
                });
            }
        }
    }
    Ok(max_id)
}

/// Rows with ids among the sealed ones that the chain lacks (inserted afterwards), and the rows
/// waiting for the next round.
async fn find_unsealed(
    conn: &mut PgConnection,
    max_sealed_id: i64,
    report: &mut Report,
) -> Result<(), VerifyError> {
    let forged = sqlx::query!(
        r#"SELECT a.id, a.occurred_at FROM audit_log a
           WHERE a.id <= $1
             AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.audit_id = a.id)
           ORDER BY a.id
           LIMIT 51"#,
        max_sealed_id,
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in forged {
        report.find(Finding::RowNotSealed {
            audit_id: row.id,
            occurred_at: row.occurred_at,
        });
    }
    let pending = sqlx::query!(
        r#"SELECT count(*) AS "count!", min(occurred_at) AS oldest
           FROM audit_log WHERE id > $1"#,
        max_sealed_id,
    )
    .fetch_one(&mut *conn)
    .await?;
    report.unsealed = pending.count;
    report.oldest_unsealed = pending.oldest;
    Ok(())
}
