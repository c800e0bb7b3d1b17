//! The sealer: once a second, it extends the hash chain and the Merkle tree over the audit rows
//! written since, and signs a checkpoint when one is due. Requests never wait for it: they
//! insert their row as before, and sealing happens behind them in id order.
//!
//! Every instance runs a sealer; a transaction-level advisory lock lets one of them work at a
//! time and the others skip the round, so two instances keep one chain and neither needs the
//! other. The chain's state is read from the database every round: nothing is kept in memory
//! that the other instance would need.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sqlx::{Connection, PgConnection, PgPool};
use time::OffsetDateTime;

use super::{
    canonical::{self, CHAIN_START, SealedRow},
    checkpoint::{self, Checkpoint, SigningKey},
    merkle::{Hash, NodeId},
    stored_tree::{self, LOWEST_STORED_LEVEL, TreeError},
};

/// Taken shared by every insert into the log (a trigger) and exclusively by the sealer for a
/// moment; see the migration `audit_log_seal`.
const INSERT_BARRIER_LOCK: i64 = 7_349_812_001;
/// Held by the instance that is sealing.
const SEALER_LOCK: i64 = 7_349_812_002;

#[derive(Clone, Debug)]
pub struct SealSettings {
    /// Without a key, the chain and tree grow but no checkpoint is signed.
    pub key: Option<Arc<SigningKey>>,
    /// Where each checkpoint is also written once.
    pub sink: Option<PathBuf>,
    /// A checkpoint at least this often while rows come in...
    pub checkpoint_interval: Duration,
    /// ...and after at most this many rows.
    pub checkpoint_rows: u64,
    /// Rows hashed per transaction.
    pub batch: i64,
}

impl SealSettings {
    pub fn from_settings(settings: &settings::AuditSettings) -> Result<Self, checkpoint::KeyError> {
        let key = settings
            .signing_key_file
            .as_deref()
            .map(SigningKey::load)
            .transpose()?
            .map(Arc::new);
        Ok(Self {
            key,
            sink: settings.checkpoint_dir.clone(),
            checkpoint_interval: settings.checkpoint_interval(),
            checkpoint_rows: settings.checkpoint_rows,
            batch: 10_000,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("the last chain row holds a hash that is not 32 bytes")]
    Malformed,
    #[error(transparent)]
    Sink(#[from] checkpoint::SinkError),
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sealed: u64,
    pub chain_length: u64,
    pub checkpoints: Vec<u64>,
    /// Another instance was sealing.
    pub skipped: bool,
}

#[derive(Clone, Debug)]
pub struct Sealer {
    pool: PgPool,
    settings: SealSettings,
    /// The largest checkpoint known to be in the sink, so that it is not read back every round.
    in_sink: Arc<AtomicU64>,
}

impl Sealer {
    pub fn new(pool: PgPool, settings: SealSettings) -> Self {
        Self {
            pool,
            settings,
            in_sink: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Seals every row committed before the round began.
    pub async fn seal(&self) -> Result<Round, SealError> {
        let mut conn = self.pool.acquire().await?;
        let upto = settled_id(&mut conn).await?;
        let mut round = Round::default();
        loop {
            let Some(batch) = self.seal_batch(&mut conn, upto).await? else {
                round.skipped = true;
                break;
            };
            round.sealed += batch.sealed;
            round.chain_length = batch.chain_length;
            round.checkpoints.extend(batch.checkpoint);
            if batch.sealed < self.settings.batch as u64 {
                break;
            }
        }
        if !round.skipped {
            crate::monitoring::audit_sealed(round.sealed, round.chain_length);
        }
        self.sink_latest(&mut conn).await?;
        Ok(round)
    }

    /// Seals once a second until the task is dropped; failures are logged and counted, and the
    /// rows wait for the next round.
    pub async fn run(self, interval: Duration) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = self.seal().await {
                crate::monitoring::audit_seal_failed();
                tracing::error!(%error, "cannot seal the audit log this round");
            }
        }
    }

    /// One transaction: up to `batch` rows chained, their tree nodes stored, a checkpoint signed
    /// if due. `None` when another instance holds the sealer's lock.
    async fn seal_batch(
        &self,
        conn: &mut PgConnection,
        upto: i64,
    ) -> Result<Option<Batch>, SealError> {
        let mut tx = conn.begin().await?;
        let ours = sqlx::query_scalar!(
            r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#,
            SEALER_LOCK
        )
        .fetch_one(&mut *tx)
        .await?;
        if !ours {
            return Ok(None);
        }
        let last = sqlx::query!(
            "SELECT seq, audit_id, chain_hash FROM audit_chain ORDER BY seq DESC LIMIT 1"
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (size, last_id, mut chain) = match last {
            Some(row) => (
                row.seq as u64,
                row.audit_id,
                Hash::try_from(row.chain_hash.as_slice()).map_err(|_| SealError::Malformed)?,
            ),
            None => (0, 0, CHAIN_START),
        };
        let rows: Vec<SealedRow> = sqlx::query_as(&format!(
            "SELECT {} FROM audit_log a WHERE a.id > $1 AND a.id <= $2 ORDER BY a.id LIMIT $3",
            canonical::SELECT_COLUMNS
        ))
        .bind(last_id)
        .bind(upto)
        .bind(self.settings.batch)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            let checkpoint = self.checkpoint_if_due(&mut tx, size, chain, None).await?;
            tx.commit().await?;
            return Ok(Some(Batch {
                sealed: 0,
                chain_length: size,
                checkpoint,
            }));
        }
        let mut frontier = stored_tree::frontier(&mut tx, size).await?;
        let mut seqs = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        let mut leaves = Vec::with_capacity(rows.len());
        let mut links = Vec::with_capacity(rows.len());
        let mut nodes: Vec<(NodeId, Hash)> = Vec::new();
        for row in &rows {
            let encoding = row.encode();
            let leaf = super::merkle::leaf_hash(&encoding);
            chain = canonical::chain_hash(&chain, &encoding);
            frontier.push(leaf, |id, hash| {
                if id.level >= LOWEST_STORED_LEVEL {
                    nodes.push((id, hash));
                }
            });
            seqs.push(frontier.size() as i64);
            ids.push(row.id);
            leaves.push(leaf.to_vec());
            links.push(chain.to_vec());
        }
        sqlx::query!(
            "INSERT INTO audit_chain (seq, audit_id, leaf_hash, chain_hash)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])",
            &seqs,
            &ids,
            &leaves,
            &links,
        )
        .execute(&mut *tx)
        .await?;
        if !nodes.is_empty() {
            let levels: Vec<i16> = nodes.iter().map(|(id, _)| i16::from(id.level)).collect();
            let indexes: Vec<i64> = nodes.iter().map(|(id, _)| id.index as i64).collect();
            let hashes: Vec<Vec<u8>> = nodes.iter().map(|(_, h)| h.to_vec()).collect();
            sqlx::query!(
                "INSERT INTO audit_tree (level, index, hash)
                 SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
                &levels,
                &indexes,
                &hashes,
            )
            .execute(&mut *tx)
            .await?;
        }
        let new_size = frontier.size();
        let checkpoint = self
            .checkpoint_if_due(&mut tx, new_size, chain, Some(frontier.root()))
            .await?;
        tx.commit().await?;
        Ok(Some(Batch {
            sealed: rows.len() as u64,
            chain_length: new_size,
            checkpoint,
        }))
    }

    /// Signs and stores a checkpoint of the tree of `size` rows when enough rows or time have
    /// passed since the last one. `root` is the tree head when the caller has it at hand.
    async fn checkpoint_if_due(
        &self,
        conn: &mut PgConnection,
        size: u64,
        chain: Hash,
        root: Option<Hash>,
    ) -> Result<Option<u64>, SealError> {
        let Some(key) = &self.settings.key else {
            return Ok(None);
        };
        if size == 0 {
            return Ok(None);
        }
        let last = sqlx::query!(
            "SELECT tree_size, signed_at FROM audit_checkpoint ORDER BY tree_size DESC LIMIT 1"
        )
        .fetch_optional(&mut *conn)
        .await?;
        let now = OffsetDateTime::now_utc();
        let due = match &last {
            None => true,
            Some(last) => {
                let since = (size as i64).saturating_sub(last.tree_size);
                let interval = time::Duration::try_from(self.settings.checkpoint_interval)
                    .unwrap_or(time::Duration::MINUTE);
                since > 0
                    && (since as u64 >= self.settings.checkpoint_rows
                        || now - last.signed_at >= interval)
            }
        };
        if !due {
            return Ok(None);
        }
        let root = match root {
            Some(root) => root,
            None => stored_tree::frontier(conn, size).await?.root(),
        };
        let checkpoint = key.sign(size, root, chain, now);
        sqlx::query!(
            "INSERT INTO audit_checkpoint
                 (tree_size, root_hash, chain_hash, signed_at, key_id, signature)
             VALUES ($1, $2, $3, $4, $5, $6)",
            checkpoint.tree_size as i64,
            checkpoint.root_hash,
            checkpoint.chain_hash,
            checkpoint.signed_at,
            checkpoint.key_id,
            checkpoint.signature,
        )
        .execute(&mut *conn)
        .await?;
        Ok(Some(size))
    }

    /// Writes the newest checkpoint to the sink if it is not there yet: after the commit, so
    /// the sink never holds a checkpoint the database lost; and again next round if it failed.
    async fn sink_latest(&self, conn: &mut PgConnection) -> Result<(), SealError> {
        let Some(dir) = &self.settings.sink else {
            return Ok(());
        };
        let Some(latest) = latest_checkpoint(conn).await? else {
            return Ok(());
        };
        if latest.tree_size <= self.in_sink.load(Ordering::Relaxed) {
            return Ok(());
        }
        let dir = dir.clone();
        let size = latest.tree_size;
        let written = tokio::task::spawn_blocking(move || checkpoint::write_once(&dir, &latest))
            .await
            .map_err(|e| checkpoint::SinkError::Write {
                path: PathBuf::new(),
                source: std::io::Error::other(e),
            })?;
        crate::monitoring::audit_checkpoint(written.is_ok());
        written?;
        self.in_sink.fetch_max(size, Ordering::Relaxed);
        Ok(())
    }
}

struct Batch {
    sealed: u64,
    chain_length: u64,
    checkpoint: Option<u64>,
}

/// The largest id below which every row is committed for good: taken while holding the insert
/// barrier exclusively, when no inserting transaction is open. The wait is bounded so that a
/// stuck transaction delays sealing, not the requests queued behind the barrier.
async fn settled_id(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    let mut tx = hold_insert_barrier(conn).await?;
    // A statement of its own: in READ COMMITTED it takes a snapshot after the lock was granted.
    let upto = sqlx::query_scalar!(r#"SELECT coalesce(max(id), 0) AS "id!" FROM audit_log"#)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(upto)
}

/// Opens a transaction holding the log's insert barrier exclusively: no transaction that
/// inserted a row is open while it is held, and new inserts wait until it ends.
///
/// Every insert on every instance waits while the barrier is held, so the transaction carries
/// its own bounds: it gives up waiting for the lock after 2 s, and if this process stalls while
/// holding it (a frozen VM, a blocked thread), PostgreSQL ends the session after 3 s idle and
/// the writers go on, rather than waiting until TCP notices the process is gone.
pub async fn hold_insert_barrier(
    conn: &mut PgConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query!(
        "SELECT set_config('lock_timeout', '2s', true) AS lock_timeout,
                set_config('idle_in_transaction_session_timeout', '3s', true) AS idle_timeout"
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", INSERT_BARRIER_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The newest checkpoint stored in the database.
pub async fn latest_checkpoint(conn: &mut PgConnection) -> Result<Option<Checkpoint>, sqlx::Error> {
    let row =
        sqlx::query!("SELECT tree_size FROM audit_checkpoint ORDER BY tree_size DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some(row) => Ok(checkpoints(conn, Some(row.tree_size as u64)).await?.pop()),
        None => Ok(None),
    }
}

/// Checkpoints stored in the database, by tree size; only the one of `size` when given.
pub async fn checkpoints(
    conn: &mut PgConnection,
    size: Option<u64>,
) -> Result<Vec<Checkpoint>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT tree_size, root_hash, chain_hash, signed_at, key_id, signature
         FROM audit_checkpoint
         WHERE $1::bigint IS NULL OR tree_size = $1
         ORDER BY tree_size",
        size.map(|s| s as i64),
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Checkpoint {
            tree_size: r.tree_size as u64,
            root_hash: r.root_hash,
            chain_hash: r.chain_hash,
            signed_at: r.signed_at,
            key_id: r.key_id,
            signature: r.signature,
        })
        .collect())
}
