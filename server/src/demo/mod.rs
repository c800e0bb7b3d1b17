//! `archivist demo`: everything a newcomer needs to try the interface on one machine.

pub mod pki;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates the demo PKI under `<dir>/pki/` unless one is there already (or `force`).
/// Returns the folder and whether a new PKI was made.
pub fn create(dir: &Path, force: bool) -> Result<(PathBuf, bool), DemoError> {
    let pki_dir = dir.join("pki");
    if !force && pki::DemoCa::exists_in(&pki_dir) {
        return Ok((pki_dir, false));
    }
    let ca = pki::DemoCa::new()?;
    ca.write_to(&pki_dir)?;
    Ok((pki_dir, true))
}
