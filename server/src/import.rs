//! Importing documents into the archive from files, directories or standard input. A file is
//! a CDA document or an HL7 v3 transfer frame; a frame is paired with the document it names
//! (by document id, within the same directory), whatever the files are called. Each document
//! is stored in its own transaction, so a refusal never affects another document.
//!
//! Directories are searched recursively; hidden files and directories (names starting with a
//! dot) are skipped. Independent of the command line: the caller gives the sources and an
//! observer for progress.

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
    sync::Arc,
};

use futures::{StreamExt, stream};
use time::OffsetDateTime;

use crate::{
    archive::{PreparedDocument, Submission, parse_frame, prepare, xmldsig::TrustAnchors},
    store::{ArchiveError, ArchiveStore, Archived},
};

/// Larger files are refused without being read: no real document comes near it, and reading
/// one must not take the importer's memory.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;

/// Where documents come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file, or a directory searched recursively.
    Path(PathBuf),
    /// One document (or frame-less CDA) read from standard input.
    Stdin,
}

/// The result for one document or file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Archived,
    AlreadyArchived,
    Refused(String),
}

/// Told about every finished item, for progress bars and logs.
pub trait Observer: Send + Sync {
    fn total(&self, _files: u64) {}
    fn finished(&self, _name: &str, _outcome: &Outcome, _files: u64) {}
}

/// An observer that watches nothing.
pub struct Silent;
impl Observer for Silent {}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub archived: u64,
    pub already_archived: u64,
    /// (file name, reason)
    pub refused: Vec<(String, String)>,
}

impl Summary {
    fn add(&mut self, name: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Archived => self.archived += 1,
            Outcome::AlreadyArchived => self.already_archived += 1,
            Outcome::Refused(reason) => self.refused.push((name.to_owned(), reason.clone())),
        }
    }
}

#[derive(Clone)]
pub struct Importer {
    store: ArchiveStore,
    anchors: Arc<TrustAnchors>,
    concurrency: usize,
    /// Documents archived by this importer, for refreshing the planner's statistics.
    archived: Arc<std::sync::atomic::AtomicU64>,
}

/// After this many documents (and at each doubling), the archive's statistics are refreshed.
/// A fresh archive grows from empty during an import, and query plans made while its tables
/// were small would otherwise be kept by every connection until autovacuum gets round to it.
const ANALYZE_FIRST_AT: u64 = 500;

/// One CDA waiting to be archived, with the frame that came with it, if any.
struct Item {
    name: String,
    origin: ItemOrigin,
    frame: Option<Vec<u8>>,
}

impl Item {
    /// How many files the item stands for: the document and its frame.
    fn files(&self) -> u64 {
        1 + u64::from(self.frame.is_some())
    }
}

enum ItemOrigin {
    File(PathBuf),
    Bytes(Vec<u8>),
}

/// What the importer learnt about a file from its first bytes.
#[derive(Debug, PartialEq, Eq)]
enum FileKind {
    Document,
    Frame,
    Other(String),
}

impl Importer {
    pub fn new(store: ArchiveStore, anchors: TrustAnchors, concurrency: usize) -> Self {
        Self {
            store,
            anchors: Arc::new(anchors),
            concurrency: concurrency.max(1),
            archived: Arc::default(),
        }
    }

    /// Imports every source. Refusals are collected, never fatal; an error of the database
    /// itself refuses the document it happened to, with the reason.
    pub async fn import(&self, sources: &[Source], observer: &dyn Observer) -> Summary {
        let total = sources
            .iter()
            .map(|s| match s {
                Source::Path(p) => count_files(p),
                Source::Stdin => 1,
            })
            .sum();
        observer.total(total);
        let mut summary = Summary::default();
        for source in sources {
            match source {
                Source::Stdin => {
                    let outcome = match read_stdin() {
                        Ok(bytes) => {
                            let item = Item {
                                name: "(standard input)".to_owned(),
                                origin: ItemOrigin::Bytes(bytes),
                                frame: None,
                            };
                            self.run_batch(vec![item], observer, &mut summary).await;
                            continue;
                        }
                        Err(reason) => Outcome::Refused(reason),
                    };
                    observer.finished("(standard input)", &outcome, 1);
                    summary.add("(standard input)", &outcome);
                }
                Source::Path(path) if path.is_dir() => {
                    for directory in directories(path) {
                        let items = self.directory_items(&directory, observer, &mut summary);
                        self.run_batch(items, observer, &mut summary).await;
                    }
                }
                Source::Path(path) => {
                    let items = self.file_items(vec![path.clone()], observer, &mut summary);
                    self.run_batch(items, observer, &mut summary).await;
                }
            }
        }
        summary
    }

    fn directory_items(
        &self,
        directory: &Path,
        observer: &dyn Observer,
        summary: &mut Summary,
    ) -> Vec<Item> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(directory) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                // Hidden files (editor backups, .DS_Store, markers) are not documents.
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect(),
            Err(e) => {
                let name = directory.display().to_string();
                let outcome = Outcome::Refused(format!("cannot read the directory: {e}"));
                observer.finished(&name, &outcome, 0);
                summary.add(&name, &outcome);
                return Vec::new();
            }
        };
        files.sort();
        self.file_items(files, observer, summary)
    }

    /// Sorts files into documents and frames and pairs each frame with its document.
    fn file_items(
        &self,
        files: Vec<PathBuf>,
        observer: &dyn Observer,
        summary: &mut Summary,
    ) -> Vec<Item> {
        let mut refuse = |name: &str, reason: String| {
            let outcome = Outcome::Refused(reason);
            observer.finished(name, &outcome, 1);
            summary.add(name, &outcome);
        };
        let mut documents = Vec::new();
        let mut frames: HashMap<String, (String, Vec<u8>)> = HashMap::new();
        for path in files {
            let name = path.display().to_string();
            match sniff(&path) {
                Err(reason) => refuse(&name, reason),
                Ok(FileKind::Other(root)) => refuse(
                    &name,
                    format!(
                        "the root element is {root}, expected ClinicalDocument (a CDA document) \
                         or RCMR_IN200002FI01 (a transfer frame)"
                    ),
                ),
                Ok(FileKind::Document) => documents.push((name, path)),
                Ok(FileKind::Frame) => match read_limited(&path) {
                    Err(reason) => refuse(&name, reason),
                    Ok(bytes) => match parse_frame(&bytes) {
                        Err(e) => refuse(&name, format!("transfer frame: {e}")),
                        Ok(frame) => {
                            let oid = frame.document_oid.to_string();
                            match frames.entry(oid) {
                                std::collections::hash_map::Entry::Occupied(e) => refuse(
                                    &name,
                                    format!("a second transfer frame for document {}", e.key()),
                                ),
                                std::collections::hash_map::Entry::Vacant(e) => {
                                    e.insert((name, bytes));
                                }
                            }
                        }
                    },
                },
            }
        }
        // Pairing needs the document's id, which only parsing tells; ids are read cheaply
        // from the first bytes here so that frames travel with their document.
        let mut items: Vec<Item> = documents
            .into_iter()
            .map(|(name, path)| {
                let frame = document_id(&path)
                    .and_then(|oid| frames.remove(&oid))
                    .map(|(_, bytes)| bytes);
                Item {
                    name,
                    origin: ItemOrigin::File(path),
                    frame,
                }
            })
            .collect();
        let mut orphans: Vec<(String, String)> = frames
            .into_iter()
            .map(|(oid, (name, _))| (name, oid))
            .collect();
        orphans.sort();
        for (name, oid) in orphans {
            refuse(
                &name,
                format!("transfer frame for document {oid}, which is not among the imported files"),
            );
        }
        items.shrink_to_fit();
        items
    }

    /// Archives the items concurrently. A version whose predecessor is not archived yet is
    /// retried after the others, so that files may come in any order.
    async fn run_batch(
        &self,
        mut items: Vec<Item>,
        observer: &dyn Observer,
        summary: &mut Summary,
    ) {
        loop {
            let attempted = items.len();
            let mut deferred = Vec::new();
            let results: Vec<(Item, Result<Outcome, Outcome>)> = stream::iter(items)
                .map(|item| self.archive_item(item))
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            for (item, result) in results {
                match result {
                    Ok(outcome) => {
                        observer.finished(&item.name, &outcome, item.files());
                        summary.add(&item.name, &outcome);
                    }
                    Err(outcome) => deferred.push((item, outcome)),
                }
            }
            if deferred.is_empty() {
                return;
            }
            if deferred.len() == attempted {
                // No progress: the predecessors are truly missing.
                for (item, outcome) in deferred {
                    observer.finished(&item.name, &outcome, item.files());
                    summary.add(&item.name, &outcome);
                }
                return;
            }
            items = deferred.into_iter().map(|(item, _)| item).collect();
        }
    }

    /// `Err` holds a refusal that may go away once other documents are archived.
    async fn archive_item(&self, item: Item) -> (Item, Result<Outcome, Outcome>) {
        let bytes = match &item.origin {
            ItemOrigin::Bytes(bytes) => Ok(bytes.clone()),
            ItemOrigin::File(path) => read_limited(path),
        };
        let cda = match bytes {
            Ok(cda) => cda,
            Err(reason) => return (item, Ok(Outcome::Refused(reason))),
        };
        let submission = Submission {
            cda,
            frame: item.frame.clone(),
        };
        let anchors = Arc::clone(&self.anchors);
        let prepared = tokio::task::spawn_blocking(move || {
            prepare(submission, &anchors, OffsetDateTime::now_utc())
        })
        .await;
        let prepared: PreparedDocument = match prepared {
            Ok(Ok(prepared)) => prepared,
            Ok(Err(e)) => return (item, Ok(Outcome::Refused(e.to_string()))),
            Err(e) => return (item, Ok(Outcome::Refused(format!("internal error: {e}")))),
        };
        let outcome = match self
            .store
            .archive(&prepared, OffsetDateTime::now_utc())
            .await
        {
            Ok(Archived::Stored { .. }) => {
                let count = self
                    .archived
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                if count.is_multiple_of(ANALYZE_FIRST_AT)
                    && (count / ANALYZE_FIRST_AT).is_power_of_two()
                {
                    self.store.refresh_statistics().await;
                }
                Ok(Outcome::Archived)
            }
            Ok(Archived::AlreadyArchived) => Ok(Outcome::AlreadyArchived),
            Err(e @ ArchiveError::UnknownReplaced(_)) => Err(Outcome::Refused(e.to_string())),
            Err(e) => {
                if !e.is_refusal() {
                    tracing::error!(file = %item.name, error = %e, "the archive could not store a document");
                }
                Ok(Outcome::Refused(e.to_string()))
            }
        };
        (item, outcome)
    }
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

fn count_files(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_entry(|e| !is_hidden(e))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count() as u64
}

/// The directory and every directory below it, in name order.
fn directories(root: &Path) -> impl Iterator<Item = PathBuf> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_hidden(e))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
}

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read the file: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or_default());
    // The limit holds even if the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

fn too_large(size: u64) -> String {
    format!(
        "the file is {} MB, more than the {} MB limit",
        size / 1_000_000,
        MAX_FILE_BYTES / 1_000_000
    )
}

/// The first 64 KiB of a file: enough for the root element and, in a CDA, the document id.
fn head(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(64 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    Ok(bytes)
}

fn sniff(path: &Path) -> Result<FileKind, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the file: {e}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(too_large(size));
    }
    let head = head(path)?;
    let Some(root) = root_element_name(&head) else {
        return Err("not well-formed XML: no root element".to_owned());
    };
    Ok(match root.as_str() {
        "ClinicalDocument" => FileKind::Document,
        "RCMR_IN200002FI01" => FileKind::Frame,
        _ => FileKind::Other(root),
    })
}

/// The local name of the first element, skipping a byte-order mark, the XML declaration,
/// comments and processing instructions.
fn root_element_name(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head));
    let mut rest = text.as_ref();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix('<') {
            let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
            let qname = &after[..end];
            let local = qname.rsplit(':').next()?;
            return (!local.is_empty()).then(|| local.to_owned());
        } else {
            return None;
        }
    }
}

/// The `root` of the CDA's own `id` (the first `id` child of the root element), read from the
/// file's head. Used only to pair a frame; the full parse checks everything again.
fn document_id(path: &Path) -> Option<String> {
    let head = head(path).ok()?;
    let text = String::from_utf8_lossy(&head);
    let mut depth = 0usize;
    let mut rest = text.as_ref();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        if let Some(closing) = rest.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            rest = closing;
            continue;
        }
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next()?;
        if depth == 1 && name.rsplit(':').next() == Some("id") {
            let root = tag.split("root=").nth(1)?;
            let quote = root.chars().next()?;
            return root.get(1..)?.split(quote).next().map(str::to_owned);
        }
        if !tag.ends_with('/') {
            depth += 1;
        }
        rest = &rest[end..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_element_is_found_after_the_prologue() {
        assert_eq!(
            root_element_name(b"\xEF\xBB\xBF<?xml version='1.0'?>\r\n<!-- c --><?pi x?>\n<v3:ClinicalDocument xmlns:v3='urn:hl7-org:v3'>"),
            Some("ClinicalDocument".to_owned())
        );
        assert_eq!(
            root_element_name(b"<RCMR_IN200002FI01>"),
            Some("RCMR_IN200002FI01".to_owned())
        );
        assert_eq!(root_element_name(b"not xml"), None);
    }

    #[test]
    fn the_document_id_is_the_root_elements_own() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("d.xml");
        std::fs::write(
            &path,
            "<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\"><typeId root=\"2.16\"/>\
             <recordTarget><id root=\"1.2.246.21\"/></recordTarget><id root=\"1.2.3.4\"/></ClinicalDocument>",
        )
        .expect("write");
        assert_eq!(document_id(&path), Some("1.2.3.4".to_owned()));
    }
}
