//! Reading the stored Merkle tree: the hashes of perfect subtrees, from `audit_tree` for 16
//! leaves and more and from the leaf hashes in `audit_chain` below that.

use std::collections::{BTreeSet, HashMap};

use sqlx::PgConnection;

use super::merkle::{Frontier, Hash, NodeId};

/// The lowest level kept in `audit_tree`: nodes of 2^4 = 16 leaves. Smaller subtrees are hashed
/// again from at most 16 leaf hashes, which costs less than storing them (the table stays at
/// about n/8 rows instead of n).
pub const LOWEST_STORED_LEVEL: u8 = 4;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "the stored audit tree lacks {0} node(s) it should have (run `archivist audit verify`)"
    )]
    Missing(usize),
    #[error("the stored audit tree holds a hash that is not 32 bytes")]
    Malformed,
}

fn to_hash(bytes: &[u8]) -> Result<Hash, TreeError> {
    bytes.try_into().map_err(|_| TreeError::Malformed)
}

/// The hashes of `ids`, in one query for the stored levels and one for the leaves below them.
pub async fn load(
    conn: &mut PgConnection,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, TreeError> {
    let (high, low): (Vec<NodeId>, Vec<NodeId>) =
        ids.iter().partition(|id| id.level >= LOWEST_STORED_LEVEL);
    let mut nodes = HashMap::with_capacity(ids.len());
    if !high.is_empty() {
        let levels: Vec<i16> = high.iter().map(|id| i16::from(id.level)).collect();
        let indexes: Vec<i64> = high.iter().map(|id| id.index as i64).collect();
        let rows = sqlx::query!(
            r#"SELECT t.level, t.index, t.hash
               FROM audit_tree t
               JOIN unnest($1::smallint[], $2::bigint[]) AS want(level, index)
                 ON t.level = want.level AND t.index = want.index"#,
            &levels,
            &indexes,
        )
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let id = NodeId {
                level: row.level as u8,
                index: row.index as u64,
            };
            nodes.insert(id, to_hash(&row.hash)?);
        }
    }
    if !low.is_empty() {
        // seq = leaf index + 1
        let seqs: BTreeSet<i64> = low
            .iter()
            .flat_map(|id| id.leaves())
            .map(|leaf| leaf as i64 + 1)
            .collect();
        let seqs: Vec<i64> = seqs.into_iter().collect();
        let rows = sqlx::query!(
            "SELECT seq, leaf_hash FROM audit_chain WHERE seq = ANY($1)",
            &seqs,
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut leaves = HashMap::with_capacity(rows.len());
        for row in rows {
            leaves.insert(row.seq as u64 - 1, to_hash(&row.leaf_hash)?);
        }
        for id in low {
            let range = id.leaves();
            let hashes: Option<Vec<Hash>> = range.map(|i| leaves.get(&i).copied()).collect();
            if let Some(hashes) = hashes {
                let mut frontier = Frontier::default();
                for leaf in hashes {
                    frontier.push(leaf, |_, _| {});
                }
                nodes.insert(id, frontier.root());
            }
        }
    }
    let missing = ids.iter().filter(|id| !nodes.contains_key(id)).count();
    if missing > 0 {
        return Err(TreeError::Missing(missing));
    }
    Ok(nodes)
}

/// The frontier of the stored tree of `size` leaves, to go on appending to.
pub async fn frontier(conn: &mut PgConnection, size: u64) -> Result<Frontier, TreeError> {
    let ids = super::merkle::perfect_subtrees(0..size);
    let nodes = load(conn, &ids).await?;
    let roots: Vec<Hash> = ids.iter().map(|id| nodes[id]).collect();
    Frontier::from_subtrees(size, &roots).ok_or(TreeError::Malformed)
}
