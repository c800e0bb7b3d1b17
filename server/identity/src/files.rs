//! Reading PEM and DER files, with errors that name the file and the setting.

use std::path::{Path, PathBuf};

use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, pem::PemObject,
};

#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    #[error("{setting}: cannot read {path}: {source}")]
    Read {
        setting: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{setting}: {path} is not valid PEM: {detail}")]
    Pem {
        setting: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("{setting}: {path} contains no certificates")]
    NoCertificates {
        setting: &'static str,
        path: PathBuf,
    },
    #[error("{setting}: {path} contains no private key")]
    NoPrivateKey {
        setting: &'static str,
        path: PathBuf,
    },
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(path).map_err(|source| TlsFileError::Read {
        setting,
        path: path.to_owned(),
        source,
    })
}

fn pem_error(setting: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsFileError {
    TlsFileError::Pem {
        setting,
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

/// All certificates in a PEM file, in file order; at least one.
pub fn certificates(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let bytes = read(setting, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(setting, path, e))?;
    if certs.is_empty() {
        return Err(TlsFileError::NoCertificates {
            setting,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file.
pub fn private_key(
    setting: &'static str,
    path: &Path,
) -> Result<PrivateKeyDer<'static>, TlsFileError> {
    let bytes = read(setting, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsFileError::NoPrivateKey {
            setting,
            path: path.to_owned(),
        },
        other => pem_error(setting, path, other),
    })
}

/// The CRLs in a file: PEM (one or more `X509 CRL` blocks) or a single DER CRL.
/// The CRL files a `tls.client_crl` entry names: the file itself, or every `.crl`, `.pem` and
/// `.der` file in a directory (not hidden ones), in name order, so that a CA's new list can be
/// dropped in beside the others without a configuration change.
pub fn crl_paths(setting: &'static str, path: &Path) -> Result<Vec<PathBuf>, TlsFileError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let read_error = |source| TlsFileError::Read {
        setting,
        path: path.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let file = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let is_crl = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "crl" | "pem" | "der"));
        if !hidden && is_crl && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

pub fn revocation_lists(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsFileError> {
    let bytes = read(setting, path)?;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![CertificateRevocationListDer::from(bytes)]);
    }
    let crls = CertificateRevocationListDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(setting, path, e))?;
    if crls.is_empty() {
        return Err(pem_error(setting, path, "no X509 CRL block found"));
    }
    Ok(crls)
}
