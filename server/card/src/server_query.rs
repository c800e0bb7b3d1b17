//! `check --server URL`: asks the server what it makes of this card's certificate
//! (`POST /api/card-status` with the DER certificate). The answer holds no client data: whether
//! the certificate is accepted and the card number the server derives. How many controllers the
//! card is linked to the server tells only to a question that proves the card: with
//! `--pkcs11-module` the connection presents the card, its key signing the handshake through
//! the card's module ([`crate::pkcs11`]).

use std::{path::Path, sync::Arc, time::Duration};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Uri, body::Bytes};
use hyper_util::rt::TokioIo;
use rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, ServerName, pem::PemObject},
    sign::{CertifiedKey, SingleCertAndKey},
};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::{failure::Failure, pkcs11::CardKey};

/// The server's answer (the server's `web::card_status`).
#[derive(Debug, Deserialize)]
pub struct CardStatus {
    pub accepted: bool,
    pub refusal: Option<String>,
    pub card_number: Option<String>,
    /// Whether the server took the question as the card holder's own.
    #[serde(default)]
    pub proven: bool,
    /// Only in an answer to a proven question.
    #[serde(default)]
    pub linked_controllers: Option<u32>,
    /// The service's current notices (disruptions, maintenance), whoever asks.
    #[serde(default)]
    pub notices: Vec<ServerNotice>,
}

/// One of the service's notices as the server publishes it (its `NoticeView`).
#[derive(Debug, Deserialize)]
pub struct ServerNotice {
    pub kind: String,
    pub text_fi: String,
    pub text_sv: String,
    pub text_en: Option<String>,
    pub starts_at: String,
    pub ends_at: Option<String>,
}

impl ServerNotice {
    /// One line in `lang` (English falls back to Finnish), with its times as the server gave
    /// them (UTC, RFC 3339).
    pub fn line(&self, lang: crate::lang::Lang) -> String {
        use crate::lang::Lang;
        let text = match lang {
            Lang::Fi => &self.text_fi,
            Lang::Sv => &self.text_sv,
            Lang::En => self.text_en.as_ref().unwrap_or(&self.text_fi),
        };
        let end = self.ends_at.as_deref().unwrap_or("");
        format!(
            "[{}] {} ({} – {end})",
            self.kind,
            text.trim(),
            self.starts_at
        )
    }
}

const TIMEOUT: Duration = Duration::from_secs(20);

pub fn ask(
    server: &str,
    server_ca: Option<&Path>,
    certificate: &[u8],
    card: Option<&CardKey>,
) -> Result<CardStatus, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Reader(e.to_string()))?;
    runtime.block_on(async {
        tokio::time::timeout(TIMEOUT, request(server, server_ca, certificate, card))
            .await
            .map_err(|_| {
                Failure::ServerUnreachable(format!("no answer in {} s", TIMEOUT.as_secs()))
            })?
    })
}

async fn request(
    server: &str,
    server_ca: Option<&Path>,
    certificate: &[u8],
    card: Option<&CardKey>,
) -> Result<CardStatus, Failure> {
    let unreachable =
        |e: &dyn std::fmt::Display| Failure::ServerUnreachable(format!("{server}: {e}"));
    let uri: Uri = server.parse().map_err(|e| unreachable(&e))?;
    if uri.scheme_str() != Some("https") {
        return Err(Failure::ServerUnreachable(format!(
            "{server}: the address must start with https://"
        )));
    }
    let host = uri
        .host()
        .ok_or_else(|| unreachable(&"no host"))?
        .to_owned();
    let port = uri.port_u16().unwrap_or(443);

    let config = ClientConfig::builder_with_provider(identity::verifier::crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| unreachable(&e))?
        .with_root_certificates(roots(server_ca)?);
    let config = match card {
        Some(card) => {
            let presented = CertifiedKey::new(
                vec![CertificateDer::from(certificate.to_vec())],
                Arc::new(card.clone()),
            );
            config.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(presented)))
        }
        None => config.with_no_client_auth(),
    };
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
        .map_err(|e| unreachable(&e))?;
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| unreachable(&e))?;
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| unreachable(&e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| unreachable(&e))?;
    tokio::spawn(connection);

    let request = Request::post("/api/card-status")
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .header(hyper::header::CONTENT_TYPE, "application/pkix-cert")
        .header(hyper::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::copy_from_slice(certificate)))
        .map_err(|e| unreachable(&e))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(&e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), 64 * 1024)
        .collect()
        .await
        .map_err(|e| unreachable(&e))?
        .to_bytes();
    if !status.is_success() {
        return Err(Failure::ServerUnreachable(format!(
            "{server}: the server answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        )));
    }
    serde_json::from_slice(&body).map_err(|e| unreachable(&e))
}

/// `--server-ca` (PEM), else the system's trusted roots.
fn roots(server_ca: Option<&Path>) -> Result<RootCertStore, Failure> {
    let mut roots = RootCertStore::empty();
    match server_ca {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    Failure::Configuration(format!("--server-ca {}: {e}", path.display()))
                })?;
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(Failure::Configuration(format!(
                    "--server-ca {}: no certificate in it",
                    path.display()
                )));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn a_notice_is_one_line_in_the_readers_language_english_falling_back_to_finnish() {
        // The server's NoticeView, with fields the tool does not read.
        let status: CardStatus = serde_json::from_str(
            r#"{"accepted":true,"refusal":null,"card_number":"1","proven":false,
                "linked_controllers":null,"notices":[{"id":"3","kind":"maintenance",
                "text_fi":"Huolto","text_sv":"Service","text_en":null,"affected":"",
                "starts_at":"2026-12-05T06:00:00Z","ends_at":"2026-12-05T08:00:00Z",
                "closes_service":true,"updated_at":"2026-12-04T06:00:00Z"}]}"#,
        )
        .expect("the server's answer");
        let notice = &status.notices[0];
        assert_eq!(
            notice.line(Lang::Sv),
            "[maintenance] Service (2026-12-05T06:00:00Z – 2026-12-05T08:00:00Z)"
        );
        assert!(notice.line(Lang::En).starts_with("[maintenance] Huolto ("));
        // An older server sends no notices at all.
        let older: CardStatus =
            serde_json::from_str(r#"{"accepted":false,"refusal":"expired","card_number":null}"#)
                .expect("an older answer");
        assert!(older.notices.is_empty());
    }
}
