//! `archivist crl status`: what the configured revocation lists say and whether they can be
//! trusted now — issuer, number, validity, how many certificates they revoke, and whether a
//! configured CA signed them.

use std::path::PathBuf;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use x509_parser::{prelude::FromDer, revocation_list::CertificateRevocationList};

use identity::{files, verifier::VerifierError};

use super::TlsConfigError;
use settings::TlsSettings;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlStatus {
    pub path: PathBuf,
    pub issuer: String,
    pub number: Option<String>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub revoked: usize,
    /// The signature verifies with the key of one of `tls.client_ca`.
    pub signed_by_configured_ca: bool,
}

impl CrlStatus {
    /// Usable at `now`: signed by a configured CA and not past its next update. A CRL without
    /// a next update is treated as stale, since nothing says how long it holds.
    pub fn is_current(&self, now: OffsetDateTime) -> bool {
        self.signed_by_configured_ca && self.next_update.is_some_and(|next| now <= next)
    }

    /// A multi-line report for operators.
    pub fn report(&self, now: OffsetDateTime) -> String {
        let time = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
        let next = match self.next_update {
            None => "none given: treated as stale".to_owned(),
            Some(next) if now <= next => {
                format!("{} (in {} h)", time(next), (next - now).whole_hours())
            }
            Some(next) => format!(
                "{} (STALE for {} h: get a new CRL from the CA)",
                time(next),
                (now - next).whole_hours()
            ),
        };
        format!(
            "{path}\n  issuer:      {issuer}\n  number:      {number}\n  this update: {this}\n  next update: {next}\n  revoked:     {revoked}\n  signature:   {signature}\n",
            path = self.path.display(),
            issuer = self.issuer,
            number = self.number.as_deref().unwrap_or("none"),
            this = time(self.this_update),
            revoked = self.revoked,
            signature = if self.signed_by_configured_ca {
                "verified with a tls.client_ca certificate"
            } else {
                "NOT signed by any tls.client_ca certificate"
            },
        )
    }
}

/// Reads every `tls.client_crl` file and checks each CRL against `tls.client_ca`.
pub fn crl_status(settings: &TlsSettings) -> Result<Vec<CrlStatus>, TlsConfigError> {
    let mut cas = Vec::new();
    for path in &settings.client_ca {
        cas.extend(files::certificates("tls.client_ca", path)?);
    }
    let mut statuses = Vec::new();
    let mut crl_files = Vec::new();
    for entry in &settings.client_crl {
        crl_files.extend(files::crl_paths("tls.client_crl", entry)?);
    }
    for path in &crl_files {
        for der in files::revocation_lists("tls.client_crl", path)? {
            let bad = |detail: String| {
                TlsConfigError::Verifier(VerifierError::BadCrl {
                    path: path.clone(),
                    detail,
                })
            };
            let (_, crl) =
                CertificateRevocationList::from_der(&der).map_err(|e| bad(e.to_string()))?;
            let signed_by_configured_ca = cas.iter().any(|ca| {
                x509_parser::parse_x509_certificate(ca).is_ok_and(|(_, ca)| {
                    ca.subject() == crl.issuer() && crl.verify_signature(ca.public_key()).is_ok()
                })
            });
            statuses.push(CrlStatus {
                path: path.clone(),
                issuer: crl.issuer().to_string(),
                number: crl.crl_number().map(|n| n.to_string()),
                this_update: crl.last_update().to_datetime(),
                next_update: crl.next_update().map(|t| t.to_datetime()),
                revoked: crl.iter_revoked_certificates().count(),
                signed_by_configured_ca,
            });
        }
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity::demo::DemoCa;
    use time::Duration;

    /// A demo PKI written to a fresh folder, as if made at `made`.
    fn demo_pki(made: OffsetDateTime) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("dir");
        DemoCa::at(made)
            .expect("ca")
            .write_to(dir.path())
            .expect("write");
        dir
    }

    fn settings(dir: &std::path::Path, ca: &str) -> TlsSettings {
        TlsSettings {
            client_ca: vec![dir.join(ca)],
            client_crl: vec![dir.join("issuing-ca.crl")],
            ..TlsSettings::default()
        }
    }

    #[test]
    fn a_fresh_crl_from_the_configured_ca_is_current() {
        let dir = demo_pki(OffsetDateTime::now_utc());
        let statuses = crl_status(&settings(dir.path(), "issuing-ca.pem")).expect("status");
        let [status] = statuses.as_slice() else {
            panic!("one CRL expected: {statuses:?}");
        };
        assert!(status.signed_by_configured_ca);
        assert_eq!(status.revoked, 1, "the demo CRL revokes one card");
        assert_eq!(status.number.as_deref(), Some("1"));
        assert!(
            status.issuer.contains("Professional CA"),
            "{}",
            status.issuer
        );
        let now = OffsetDateTime::now_utc();
        assert!(status.is_current(now));
        assert!(
            status
                .report(now)
                .contains("verified with a tls.client_ca certificate")
        );
    }

    #[test]
    fn a_crl_past_its_next_update_is_stale() {
        let dir = demo_pki(OffsetDateTime::now_utc() - Duration::days(400));
        let statuses = crl_status(&settings(dir.path(), "issuing-ca.pem")).expect("status");
        let now = OffsetDateTime::now_utc();
        assert!(statuses.iter().all(|s| !s.is_current(now)));
        assert!(statuses[0].report(now).contains("STALE"));
    }

    #[test]
    fn a_crl_not_signed_by_a_configured_ca_is_not_current() {
        let dir = demo_pki(OffsetDateTime::now_utc());
        let statuses = crl_status(&settings(dir.path(), "foreign-ca.pem")).expect("status");
        assert!(!statuses[0].signed_by_configured_ca);
        assert!(!statuses[0].is_current(OffsetDateTime::now_utc()));
    }

    #[test]
    fn a_crl_signed_by_another_key_under_the_same_name_is_not_trusted() {
        // Every demo hierarchy uses the same names, with its own keys.
        let ours = demo_pki(OffsetDateTime::now_utc());
        let forged = demo_pki(OffsetDateTime::now_utc());
        let settings = TlsSettings {
            client_ca: vec![ours.path().join("issuing-ca.pem")],
            client_crl: vec![forged.path().join("issuing-ca.crl")],
            ..TlsSettings::default()
        };
        let statuses = crl_status(&settings).expect("status");
        assert!(!statuses[0].signed_by_configured_ca);
    }

    #[test]
    fn a_damaged_crl_is_named() {
        let dir = demo_pki(OffsetDateTime::now_utc());
        std::fs::write(
            dir.path().join("issuing-ca.crl"),
            [0x30, 0x03, 0x02, 0x01, 0x01],
        )
        .expect("write");
        let error = crl_status(&settings(dir.path(), "issuing-ca.pem")).expect_err("damaged");
        assert!(error.to_string().contains("issuing-ca.crl"), "{error}");
    }
}
