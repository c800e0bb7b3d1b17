//! `archivist demo`: everything a newcomer needs to try the interface on one machine. The demo
//! PKI is `identity::demo`, beside the certificate checks it is made to pass and to fail.

pub mod documents;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Pki(#[from] identity::demo::PkiError),
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
    let created = force || !identity::demo::DemoCa::exists_in(&pki_dir);
    if created {
        identity::demo::DemoCa::new()?.write_to(&pki_dir)?;
    }
    // The signing CA of the demo documents is fixed (documents are reproducible); written every
    // time so that older demo folders get it too.
    let signing_ca = pki_dir.join("signing-ca.pem");
    std::fs::write(&signing_ca, documents::SIGNING_CA_PEM).map_err(|source| DemoError::Write {
        path: signing_ca,
        source,
    })?;
    Ok((pki_dir, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_pki_is_kept_unless_forced() {
        let dir = tempfile::tempdir().expect("dir");
        let (pki_dir, created) = create(dir.path(), false).expect("first run");
        assert!(created);
        let root = std::fs::read(pki_dir.join("root-ca.pem")).expect("root");

        let (_, created) = create(dir.path(), false).expect("second run");
        assert!(
            !created,
            "browsers keep working with the imported certificates"
        );
        assert_eq!(
            std::fs::read(pki_dir.join("root-ca.pem")).expect("root"),
            root
        );

        let (_, created) = create(dir.path(), true).expect("forced run");
        assert!(created);
        assert_ne!(
            std::fs::read(pki_dir.join("root-ca.pem")).expect("root"),
            root
        );
    }

    #[test]
    fn an_unwritable_folder_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, "x").expect("write");
        let error = create(&file, false).expect_err("cannot write under a file");
        assert!(error.to_string().contains("not-a-folder"), "{error}");
    }
}
