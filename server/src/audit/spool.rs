//! The audit spool: an access's audit row, kept on the instance's own disk while no database
//! primary takes it (the seconds of a failover), and added to the log once one does.
//!
//! A row is appended to `current.spool` and fsynced before the page it audits is served, so the
//! row of a served page survives a crash of the instance as well. Each record is one line,
//! `<SHA-256 of the JSON, hex> <JSON>\n`: a line torn by a crash mid-write, or changed on disk,
//! fails its checksum and is never applied; it is moved to a `rejected-*.spool` file of its own
//! and reported. Shipping renames `current.spool` to `shipping.spool` (rows spooled meanwhile go
//! to a fresh `current.spool`), adds its rows in one transaction and removes it after the
//! commit. Every row carries an id chosen when it was spooled, which the log keeps under a
//! unique index: when the instance dies between the commit and the removal, shipping the file
//! again adds nothing twice.
//!
//! The directory is the instance's own: a lock file keeps a second process out.

use std::{
    fs::{File, OpenOptions},
    io::{self, Read, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::AuditEvent;

const CURRENT: &str = "current.spool";
const SHIPPING: &str = "shipping.spool";
const LOCK: &str = "lock";

/// The longest wait between two attempts to ship while no primary takes the rows: a failed
/// attempt costs a refused connection, and a primary that is back should have the rows soon.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(
        "the audit spool {dir} is in use by another process: each instance needs a directory of its own"
    )]
    InUse { dir: PathBuf },
    #[error("the audit spool is full ({held} of {max} bytes held, {wanted} more wanted)")]
    Full { held: u64, wanted: u64, max: u64 },
    #[error("audit spool {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("cannot encode an audit row for the spool: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("cannot add the spooled audit rows to the log: {0}")]
    Database(#[from] sqlx::Error),
}

/// An audit row as the spool keeps it: every column the log has, the time it happened (not the
/// time it was shipped) and the id that makes adding it idempotent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpooledRow {
    pub spool_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub client_address: String,
    pub certificate_subject: Option<String>,
    pub certificate_issuer: Option<String>,
    pub certificate_serial: Option<String>,
    pub public_key_sha256: Option<String>,
    pub satu: Option<String>,
    pub card_number: Option<String>,
    pub controller_oid: Option<String>,
    pub document_oid: Option<String>,
    pub details: Option<serde_json::Value>,
}

impl SpooledRow {
    /// The row of `event`, happening now.
    pub fn of(event: &AuditEvent<'_>) -> Self {
        let (outcome, reason) = event.outcome.columns();
        let cert = event.certificate;
        let text = |s: Option<&str>| s.map(str::to_owned);
        Self {
            spool_id: Uuid::now_v7(),
            occurred_at: OffsetDateTime::now_utc(),
            action: event.action.code().to_owned(),
            outcome: outcome.to_owned(),
            reason: reason.map(str::to_owned),
            client_address: event.client_address.to_string(),
            certificate_subject: cert.map(|c| c.subject.clone()),
            certificate_issuer: cert.map(|c| c.issuer.clone()),
            certificate_serial: cert.map(|c| c.serial.clone()),
            public_key_sha256: cert.map(|c| c.public_key_sha256.clone()),
            satu: cert.and_then(|c| c.satu.clone()),
            card_number: text(event.card_number),
            controller_oid: text(event.controller_oid),
            document_oid: text(event.document_oid),
            details: event.details.clone(),
        }
    }
}

/// One spool record as a line: checksum, space, JSON, newline.
pub fn encode_line(row: &SpooledRow) -> Result<Vec<u8>, serde_json::Error> {
    let json = serde_json::to_vec(row)?;
    let mut line = hex::encode(ring::digest::digest(&ring::digest::SHA256, &json)).into_bytes();
    line.push(b' ');
    line.extend_from_slice(&json);
    line.push(b'\n');
    Ok(line)
}

/// Why a line of a spool file is not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The JSON is not what the checksum was made of: torn by a crash or changed on disk.
    Checksum,
    /// The checksum holds but the JSON is not a row (a spool of another version).
    Malformed,
}

impl Rejection {
    fn code(self) -> &'static str {
        match self {
            Self::Checksum => "checksum",
            Self::Malformed => "malformed",
        }
    }
}

/// A line without its newline, as a row or the reason it is not one.
pub fn decode_line(line: &[u8]) -> Result<SpooledRow, Rejection> {
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return Err(Rejection::Checksum);
    };
    let (sum, json) = (&line[..space], &line[space + 1..]);
    let expected = hex::encode(ring::digest::digest(&ring::digest::SHA256, json));
    if sum != expected.as_bytes() {
        return Err(Rejection::Checksum);
    }
    serde_json::from_slice(json).map_err(|_| Rejection::Malformed)
}

/// What one shipping round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shipped {
    /// Rows added to the log.
    pub added: u64,
    /// Rows the log already had (a file shipped again after a crash).
    pub already_there: u64,
    /// Lines not applied; kept in a `rejected-*.spool` file.
    pub rejected: u64,
}

/// The spool of one instance. Cheap to clone: clones share the directory and its lock.
#[derive(Clone, Debug)]
pub struct Spool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    max_bytes: u64,
    state: Mutex<State>,
    /// One shipping round at a time (the shipping task and a test's call).
    shipping: tokio::sync::Mutex<()>,
    /// Held for the life of the process: the lock is released when the file is closed.
    _lock: File,
}

#[derive(Debug)]
struct State {
    current: File,
    /// Bytes of whole records in `current.spool`.
    current_len: u64,
    /// Bytes held on disk: `current.spool` and a `shipping.spool` not yet removed.
    held: u64,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Spool files hold audit rows (card numbers, document OIDs): readable by the instance's
/// account only, whatever its umask.
const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

fn open_append(path: &Path) -> Result<File, SpoolError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io_error(path))
}

/// Makes a rename or removal in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

fn file_len(path: &Path) -> Result<u64, SpoolError> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(meta.len()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(io_error(path)(error)),
    }
}

impl Spool {
    /// Opens (creating) the spool in `dir` and takes its lock. What an earlier run left there
    /// is shipped by [`Spool::run_shipping`] like any other row.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, SpoolError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
            .map_err(io_error(dir))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(FILE_MODE)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(SpoolError::InUse {
                    dir: dir.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(io_error(&lock_path)(error)),
        }
        let current_path = dir.join(CURRENT);
        let mut current = open_append(&current_path)?;
        let mut current_len = file_len(&current_path)?;
        // A crash mid-append leaves a line without its newline; the next record must not be
        // glued to it (both would fail the checksum), so the torn piece gets a line of its own.
        if current_len > 0 && !ends_with_newline(&current_path)? {
            current
                .write_all(b"\n")
                .and_then(|()| current.sync_data())
                .map_err(io_error(&current_path))?;
            current_len += 1;
        }
        let held = current_len + file_len(&dir.join(SHIPPING))?;
        Ok(Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                max_bytes,
                state: Mutex::new(State {
                    current,
                    current_len,
                    held,
                }),
                shipping: tokio::sync::Mutex::new(()),
                _lock: lock,
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Bytes on disk waiting to be shipped.
    pub fn held_bytes(&self) -> u64 {
        self.inner.state().held
    }

    /// Appends `row` and returns once it is on disk (fsynced).
    pub async fn append(&self, row: &SpooledRow) -> Result<(), SpoolError> {
        let line = encode_line(row)?;
        let appended = self.blocking(move |inner| inner.append(&line)).await;
        crate::monitoring::audit_spool(self.held_bytes(), appended.is_ok());
        appended
    }

    /// Adds every spooled row to the log, each once, and removes what was added: a file an
    /// earlier attempt took, then what was spooled since. Returns what it did; a database that
    /// still takes no writes is an error and the rows stay.
    pub async fn ship(&self, pool: &PgPool) -> Result<Shipped, SpoolError> {
        let _one_at_a_time = self.inner.shipping.lock().await;
        let mut shipped = Shipped::default();
        while let Some(round) = self.ship_one_file(pool).await? {
            shipped.added += round.added;
            shipped.already_there += round.already_there;
            shipped.rejected += round.rejected;
        }
        Ok(shipped)
    }

    async fn ship_one_file(&self, pool: &PgPool) -> Result<Option<Shipped>, SpoolError> {
        let Some(taken) = self.blocking(Inner::take).await? else {
            return Ok(None);
        };
        let mut shipped = Shipped {
            rejected: taken.rejected.len() as u64,
            ..Shipped::default()
        };
        let mut tx = pool.begin().await?;
        for row in &taken.rows {
            if insert(&mut *tx, row).await? {
                shipped.added += 1;
            } else {
                shipped.already_there += 1;
            }
        }
        tx.commit().await?;
        self.blocking(move |inner| inner.finish(taken)).await?;
        crate::monitoring::audit_spool_shipped(self.held_bytes(), &shipped);
        Ok(Some(shipped))
    }

    /// Runs `work` on the blocking pool: file writes and fsyncs would stall the runtime's
    /// threads, which serve every other request meanwhile.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, SpoolError> + Send + 'static,
    ) -> Result<T, SpoolError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .unwrap_or_else(|join| Err(io_error(&self.inner.dir)(io::Error::other(join))))
    }

    /// Ships whenever something is held, until the process ends: at once (what an earlier run
    /// left), then every `every`, backing off to 5 seconds while the database takes
    /// no writes.
    pub async fn run_shipping(self, pool: PgPool, every: Duration) {
        let mut failures: u32 = 0;
        loop {
            if self.held_bytes() > 0 {
                match self.ship(&pool).await {
                    Ok(shipped) => {
                        failures = 0;
                        if shipped != Shipped::default() {
                            tracing::info!(
                                added = shipped.added,
                                already_there = shipped.already_there,
                                rejected = shipped.rejected,
                                "spooled audit rows added to the log"
                            );
                        }
                    }
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        tracing::warn!(
                            %error,
                            held_bytes = self.held_bytes(),
                            "the audit spool waits for a database primary"
                        );
                    }
                }
            }
            let delay = every
                .saturating_mul(1 << failures.min(5))
                .min(MAX_RETRY_DELAY.max(every));
            tokio::time::sleep(delay).await;
        }
    }
}

/// Adds one spooled row unless the log has it; true when it was added.
async fn insert<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    row: &SpooledRow,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        r#"INSERT INTO audit_log
                   (spool_id, occurred_at, action, outcome, reason, client_address,
                    certificate_subject, certificate_issuer, certificate_serial,
                    public_key_sha256, satu, card_number, controller_oid, document_oid, details)
               VALUES ($1, $2, $3, $4, $5, $6::text::inet, $7, $8, $9, $10, $11, $12, $13, $14,
                       $15)
               ON CONFLICT (spool_id) WHERE spool_id IS NOT NULL DO NOTHING"#,
        row.spool_id,
        row.occurred_at,
        row.action,
        row.outcome,
        row.reason,
        row.client_address,
        row.certificate_subject,
        row.certificate_issuer,
        row.certificate_serial,
        row.public_key_sha256,
        row.satu,
        row.card_number,
        row.controller_oid,
        row.document_oid,
        row.details,
    )
    .execute(executor)
    .await?;
    Ok(added.rows_affected() == 1)
}

/// A spool file taken for shipping: its rows and the lines that are not.
struct Taken {
    path: PathBuf,
    len: u64,
    rows: Vec<SpooledRow>,
    rejected: Vec<Vec<u8>>,
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters half-updated in a way that
        // loses a row (the file is the truth), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, line: &[u8]) -> Result<(), SpoolError> {
        let path = self.dir.join(CURRENT);
        let mut state = self.state();
        let wanted = line.len() as u64;
        if state.held.saturating_add(wanted) > self.max_bytes {
            return Err(SpoolError::Full {
                held: state.held,
                wanted,
                max: self.max_bytes,
            });
        }
        let written = state
            .current
            .write_all(line)
            .and_then(|()| state.current.sync_data());
        if let Err(error) = written {
            // A part of the line may be on disk (a full disk): cut it off, or the next record
            // would be glued to it and both would be rejected.
            let cut = state.current_len;
            if let Err(cut_error) = state.current.set_len(cut) {
                tracing::error!(error = %cut_error, path = %path.display(), "cannot cut a torn audit spool record");
            }
            return Err(io_error(&path)(error));
        }
        state.current_len += wanted;
        state.held += wanted;
        Ok(())
    }

    /// The file to ship: a `shipping.spool` an earlier round or run left, or else the current
    /// file, renamed so that appends go on into a fresh one. None when nothing is held.
    fn take(&self) -> Result<Option<Taken>, SpoolError> {
        let path = self.dir.join(SHIPPING);
        if !path.exists() {
            let mut state = self.state();
            if state.current_len == 0 {
                return Ok(None);
            }
            let current = self.dir.join(CURRENT);
            std::fs::rename(&current, &path).map_err(io_error(&current))?;
            state.current = open_append(&current)?;
            state.current_len = 0;
            sync_dir(&self.dir)?;
        }
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(io_error(&path))?;
        let mut taken = Taken {
            path: path.clone(),
            len: bytes.len() as u64,
            rows: Vec::new(),
            rejected: Vec::new(),
        };
        for (number, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            match decode_line(line) {
                Ok(row) => taken.rows.push(row),
                Err(rejection) => {
                    tracing::error!(
                        path = %path.display(),
                        line = number + 1,
                        reason = rejection.code(),
                        "an audit spool record is damaged and is NOT added to the log: it is kept in a rejected-*.spool file for inspection"
                    );
                    let mut kept = line.to_vec();
                    kept.push(b'\n');
                    taken.rejected.push(kept);
                }
            }
        }
        Ok(Some(taken))
    }

    /// After the commit: keeps the rejected lines and removes the shipped file.
    fn finish(&self, taken: Taken) -> Result<(), SpoolError> {
        if !taken.rejected.is_empty() {
            let micros = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
            let path = self.dir.join(format!("rejected-{micros}.spool"));
            let mut file = OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(FILE_MODE)
                .open(&path)
                .map_err(io_error(&path))?;
            file.write_all(&taken.rejected.concat())
                .and_then(|()| file.sync_all())
                .map_err(io_error(&path))?;
        }
        std::fs::remove_file(&taken.path).map_err(io_error(&taken.path))?;
        sync_dir(&self.dir)?;
        let mut state = self.state();
        state.held = state.held.saturating_sub(taken.len);
        Ok(())
    }
}

fn ends_with_newline(path: &Path) -> Result<bool, SpoolError> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).map_err(io_error(path))?;
    let mut last = [0u8; 1];
    file.seek(SeekFrom::End(-1))
        .and_then(|_| file.read_exact(&mut last))
        .map_err(io_error(path))?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: &str) -> SpooledRow {
        SpooledRow {
            spool_id: Uuid::now_v7(),
            occurred_at: OffsetDateTime::now_utc(),
            action: action.to_owned(),
            outcome: "success".to_owned(),
            reason: None,
            client_address: "192.0.2.7".to_owned(),
            certificate_subject: Some("CN=Archivist".to_owned()),
            certificate_issuer: None,
            certificate_serial: None,
            public_key_sha256: None,
            satu: None,
            card_number: Some("9999123456".to_owned()),
            controller_oid: Some("1.2.246.10.1".to_owned()),
            document_oid: None,
            details: Some(serde_json::json!({"route": "document", "note": "line\nbreak"})),
        }
    }

    #[test]
    fn a_record_is_one_line_and_reads_back_whole() {
        let original = row("document.viewed");
        let line = encode_line(&original).expect("encodes");
        assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
        assert_eq!(line.last(), Some(&b'\n'));
        let decoded = decode_line(&line[..line.len() - 1]).expect("decodes");
        assert_eq!(decoded, original);
    }

    #[test]
    fn a_changed_or_torn_record_fails_its_checksum() {
        let line = encode_line(&row("document.viewed")).expect("encodes");
        let body = &line[..line.len() - 1];
        let mut changed = body.to_vec();
        let at = changed.len() - 5;
        changed[at] ^= 0x01;
        assert_eq!(decode_line(&changed), Err(Rejection::Checksum));
        assert_eq!(
            decode_line(&body[..body.len() / 2]),
            Err(Rejection::Checksum)
        );
        assert_eq!(decode_line(b"no checksum here"), Err(Rejection::Checksum));
        let json = b"{\"not\":\"a row\"}";
        let mut wrong_shape =
            hex::encode(ring::digest::digest(&ring::digest::SHA256, json)).into_bytes();
        wrong_shape.push(b' ');
        wrong_shape.extend_from_slice(json);
        assert_eq!(decode_line(&wrong_shape), Err(Rejection::Malformed));
    }

    #[tokio::test]
    async fn a_full_spool_refuses_a_row_and_keeps_the_ones_it_took() {
        let dir = tempfile::tempdir().expect("dir");
        // Lines differ by a few bytes (the time's fraction): measure the ones appended.
        let rows = [row("a.b"), row("a.b"), row("a.b")];
        let len = |r: &SpooledRow| encode_line(r).expect("encodes").len() as u64;
        let two = len(&rows[0]) + len(&rows[1]);
        let spool = Spool::open(dir.path(), two + len(&rows[2]) / 2).expect("opens");
        spool.append(&rows[0]).await.expect("first");
        spool.append(&rows[1]).await.expect("second");
        let refused = spool.append(&rows[2]).await;
        assert!(
            matches!(refused, Err(SpoolError::Full { .. })),
            "{refused:?}"
        );
        let on_disk = std::fs::read(dir.path().join(CURRENT)).expect("read");
        assert_eq!(on_disk.len() as u64, two);
        assert_eq!(spool.held_bytes(), two);
    }

    #[tokio::test]
    async fn the_spool_is_readable_by_its_own_account_only() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().expect("dir");
        let dir = parent.path().join("spool");
        let spool = Spool::open(&dir, 1 << 20).expect("opens");
        spool.append(&row("a.b")).await.expect("appends");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&dir.join(CURRENT)), FILE_MODE);
        assert_eq!(mode(&dir.join(LOCK)), FILE_MODE);
    }

    #[test]
    fn a_second_process_cannot_use_the_same_directory() {
        let dir = tempfile::tempdir().expect("dir");
        let _first = Spool::open(dir.path(), 1 << 20).expect("opens");
        let second = Spool::open(dir.path(), 1 << 20);
        assert!(
            matches!(second, Err(SpoolError::InUse { .. })),
            "{second:?}"
        );
    }

    #[tokio::test]
    async fn a_torn_tail_gets_a_line_of_its_own_and_the_next_record_stays_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let whole = encode_line(&row("document.viewed")).expect("encodes");
        let mut file = whole.clone();
        file.extend_from_slice(&whole[..whole.len() / 2]);
        std::fs::write(dir.path().join(CURRENT), &file).expect("write");
        let spool = Spool::open(dir.path(), 1 << 20).expect("opens");
        let next = row("document.raw_read");
        spool.append(&next).await.expect("appends");
        let taken = spool.inner.take().expect("takes").expect("something held");
        assert_eq!(taken.rows.len(), 2, "the whole record and the new one");
        assert_eq!(taken.rows[1], next);
        assert_eq!(taken.rejected.len(), 1, "the torn piece");
    }
}
