//! The Merkle tree over the sealed audit rows, as RFC 9162 (Certificate Transparency 2.0,
//! section 2.1) defines it: leaves hashed with a 0x00 prefix, interior nodes with 0x01, the tree
//! split at the largest power of two below its size. Proofs are the RFC's inclusion and
//! consistency proofs, so any RFC 9162 verifier checks ours and ours checks theirs.
//!
//! Pure functions, no database: a proof is first described as the leaf ranges whose subtree
//! hashes it needs ([`inclusion_ranges`], [`consistency_ranges`]), those ranges are split into
//! the aligned perfect subtrees that are stored ([`perfect_subtrees`]), and the hashes fetched in
//! one query are folded back ([`range_hash`]).

use std::{collections::HashMap, ops::Range};

use ring::digest::{Context, SHA256};

pub type Hash = [u8; 32];

/// A perfect subtree: leaves `index * 2^level .. (index + 1) * 2^level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn leaves(self) -> Range<u64> {
        let start = self.index << self.level;
        start..start + (1u64 << self.level)
    }
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// RFC 9162: `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    sha256(&[&[0x00], leaf])
}

/// RFC 9162: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[0x01], left, right])
}

/// The root of the empty tree: the hash of the empty string.
pub fn empty_root() -> Hash {
    sha256(&[])
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The aligned perfect subtrees that make up `range`, left to right. Every range the RFC's
/// recursion visits starts at a multiple of a power of two at least its length, so the greedy
/// split below is exactly the RFC's split.
pub fn perfect_subtrees(range: Range<u64>) -> Vec<NodeId> {
    let mut nodes = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let remaining = range.end - start;
        let mut level = 63 - remaining.leading_zeros();
        if start != 0 {
            level = level.min(start.trailing_zeros());
        }
        nodes.push(NodeId {
            level: level as u8,
            index: start >> level,
        });
        start += 1u64 << level;
    }
    nodes
}

/// The RFC's hash of the subtree over `range`: the perfect subtrees folded from the right.
/// `None` when a node is not in `nodes`.
pub fn range_hash(range: Range<u64>, nodes: &HashMap<NodeId, Hash>) -> Option<Hash> {
    let parts = perfect_subtrees(range);
    let mut iter = parts.iter().rev();
    let mut acc = *nodes.get(iter.next()?)?;
    for node in iter {
        acc = node_hash(nodes.get(node)?, &acc);
    }
    Some(acc)
}

/// The leaf ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size`
/// leaves (RFC 9162 2.1.3.1), from the leaf's sibling up to the root's child.
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<Range<u64>> {
    fn path(index: u64, range: Range<u64>, out: &mut Vec<Range<u64>>) {
        let n = range.end - range.start;
        if n <= 1 {
            return;
        }
        let middle = range.start + split_point(n);
        if index < middle {
            path(index, range.start..middle, out);
            out.push(middle..range.end);
        } else {
            path(index, middle..range.end, out);
            out.push(range.start..middle);
        }
    }
    let mut out = Vec::new();
    if index < size {
        path(index, 0..size, &mut out);
    }
    out
}

/// The leaf ranges whose hashes form the consistency proof between the trees of `old` and
/// `new` leaves (RFC 9162 2.1.4.1), for `0 < old <= new`.
pub fn consistency_ranges(old: u64, new: u64) -> Vec<Range<u64>> {
    fn subproof(m: u64, range: Range<u64>, whole: bool, out: &mut Vec<Range<u64>>) {
        let n = range.end - range.start;
        if m == n {
            if !whole {
                out.push(range);
            }
            return;
        }
        let k = split_point(n);
        let middle = range.start + k;
        if m <= k {
            subproof(m, range.start..middle, whole, out);
            out.push(middle..range.end);
        } else {
            subproof(m - k, middle..range.end, false, out);
            out.push(range.start..middle);
        }
    }
    let mut out = Vec::new();
    if 0 < old && old < new {
        subproof(old, 0..new, true, &mut out);
    }
    out
}

/// RFC 9162 2.1.3.2: does `path` lead from the leaf at `index` to `root` in a tree of `size`?
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// RFC 9162 2.1.4.2: does `path` show that the tree of `old` leaves with root `old_root` is a
/// prefix of the tree of `new` leaves with root `new_root`?
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    path: &[Hash],
) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return path.is_empty() && old_root == new_root;
    }
    let mut nodes: Vec<Hash> = Vec::with_capacity(path.len() + 1);
    if old.is_power_of_two() {
        nodes.push(*old_root);
    }
    nodes.extend_from_slice(path);
    let Some((first, rest)) = nodes.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && fr == *old_root && sr == *new_root
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first. Appending
/// a leaf merges equal subtrees, so the tree of `n` leaves is kept in at most 64 hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    nodes: Vec<(u8, Hash)>,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves, from the roots of [`perfect_subtrees`]`(0..size)`
    /// in that order. `None` when they do not fit `size`.
    pub fn from_subtrees(size: u64, roots: &[Hash]) -> Option<Self> {
        let ids = perfect_subtrees(0..size);
        if ids.len() != roots.len() {
            return None;
        }
        let nodes = ids
            .iter()
            .zip(roots)
            .map(|(id, h)| (id.level, *h))
            .collect();
        Some(Self { size, nodes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf; calls `completed` with each perfect subtree of two or more leaves that the
    /// leaf completes (the nodes worth storing for proofs).
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(NodeId, Hash)) {
        let index = self.size;
        self.size += 1;
        let mut level = 0u8;
        let mut hash = leaf;
        while let Some(&(top, left)) = self.nodes.last() {
            if top != level {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            level += 1;
            completed(
                NodeId {
                    level,
                    index: index >> level,
                },
                hash,
            );
        }
        self.nodes.push((level, hash));
    }

    /// The tree head: RFC 9162's root of the tree of [`Self::size`] leaves.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, left) in iter {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's MTH, written out recursively as the RFC states it.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    /// Every node of the tree (as the sealer stores them), plus the leaves themselves.
    fn stored_nodes(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        let mut nodes = HashMap::new();
        let mut frontier = Frontier::default();
        for (i, leaf) in leaves.iter().enumerate() {
            nodes.insert(
                NodeId {
                    level: 0,
                    index: i as u64,
                },
                *leaf,
            );
            frontier.push(*leaf, |id, h| {
                nodes.insert(id, h);
            });
        }
        nodes
    }

    #[test]
    fn the_frontier_root_is_the_rfc_tree_head_at_every_size() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), mth(&[]));
        for n in 1..=all.len() {
            frontier.push(all[n - 1], |_, _| {});
            assert_eq!(frontier.root(), mth(&all[..n]), "size {n}");
            assert_eq!(frontier.size(), n as u64);
        }
    }

    #[test]
    fn a_frontier_rebuilt_from_stored_subtrees_continues_the_same_tree() {
        let all = leaves(45);
        let nodes = stored_nodes(&all);
        for n in 0..all.len() as u64 {
            let roots: Vec<Hash> = perfect_subtrees(0..n).iter().map(|id| nodes[id]).collect();
            let mut frontier = Frontier::from_subtrees(n, &roots).expect("fits");
            for leaf in &all[n as usize..] {
                frontier.push(*leaf, |_, _| {});
            }
            assert_eq!(frontier.root(), mth(&all), "rebuilt at {n}");
        }
        assert!(Frontier::from_subtrees(3, &[[0; 32]]).is_none());
    }

    #[test]
    fn stored_nodes_are_the_rfc_subtree_hashes() {
        let all = leaves(37);
        for (id, hash) in stored_nodes(&all) {
            let range = id.leaves();
            assert_eq!(
                hash,
                mth(&all[range.start as usize..range.end as usize]),
                "{id:?}"
            );
        }
    }

    #[test]
    fn inclusion_proofs_verify_for_every_leaf_and_size_and_fail_when_changed() {
        let all = leaves(40);
        let nodes = stored_nodes(&all);
        for size in 1..=all.len() as u64 {
            let root = mth(&all[..size as usize]);
            for index in 0..size {
                let path: Vec<Hash> = inclusion_ranges(index, size)
                    .into_iter()
                    .map(|r| range_hash(r, &nodes).expect("stored"))
                    .collect();
                let leaf = all[index as usize];
                assert!(
                    verify_inclusion(index, size, &leaf, &path, &root),
                    "{index} in {size}"
                );
                // Another leaf, another position, a damaged path: each is refused.
                assert!(!verify_inclusion(index, size, &[7; 32], &path, &root));
                if size > 1 {
                    let other = (index + 1) % size;
                    assert!(!verify_inclusion(other, size, &leaf, &path, &root));
                    let mut damaged = path.clone();
                    damaged[0][0] ^= 1;
                    assert!(!verify_inclusion(index, size, &leaf, &damaged, &root));
                    assert!(!verify_inclusion(index, size, &leaf, &path[1..], &root));
                }
            }
            assert!(!verify_inclusion(size, size, &[0; 32], &[], &root));
        }
    }

    #[test]
    fn consistency_proofs_verify_for_every_pair_of_sizes_and_fail_when_changed() {
        let all = leaves(40);
        let nodes = stored_nodes(&all);
        for new in 1..=all.len() as u64 {
            let new_root = mth(&all[..new as usize]);
            for old in 1..=new {
                let old_root = mth(&all[..old as usize]);
                let path: Vec<Hash> = consistency_ranges(old, new)
                    .into_iter()
                    .map(|r| range_hash(r, &nodes).expect("stored"))
                    .collect();
                assert!(
                    verify_consistency(old, new, &old_root, &new_root, &path),
                    "{old} -> {new}"
                );
                if old < new {
                    // A rewritten old tree is not a prefix of the new one.
                    let forged_old = node_hash(&old_root, &old_root);
                    assert!(!verify_consistency(old, new, &forged_old, &new_root, &path));
                    let mut damaged = path.clone();
                    damaged[0][0] ^= 1;
                    assert!(!verify_consistency(
                        old, new, &old_root, &new_root, &damaged
                    ));
                }
            }
        }
        assert!(!verify_consistency(0, 3, &[0; 32], &[0; 32], &[]));
        assert!(!verify_consistency(4, 3, &[0; 32], &[0; 32], &[]));
    }

    #[test]
    fn a_range_is_split_into_aligned_perfect_subtrees() {
        assert_eq!(
            perfect_subtrees(0..13),
            vec![
                NodeId { level: 3, index: 0 },
                NodeId { level: 2, index: 2 },
                NodeId {
                    level: 0,
                    index: 12
                },
            ]
        );
        assert_eq!(
            perfect_subtrees(8..11),
            vec![
                NodeId { level: 1, index: 4 },
                NodeId {
                    level: 0,
                    index: 10
                }
            ]
        );
        assert!(perfect_subtrees(5..5).is_empty());
    }
}
