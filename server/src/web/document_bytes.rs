//! The stable endpoints for a document version's bytes, exactly as archived:
//!
//! - `GET /api/documents/{document_oid}/raw`: the stored CDA (`?download=1`: as a file);
//! - `GET /api/documents/{document_oid}/rendition`: the display rendition (XHTML), for a
//!   sandboxed iframe: no scripts, images only from `data:`, framed only by this site;
//! - `GET /api/documents/{document_oid}/pdf/{n}`: the n-th PDF rendition (from 1), inline or
//!   with `?download=1` as a file.
//!
//! Each answer is scoped to the archivist's active controllers (another controller's document
//! is the same 404 as one that does not exist), audited before the first byte, and carries
//! `Content-Length` and `Repr-Digest` (RFC 9530). The bytes are re-hashed against the SHA-256
//! recorded at archiving on every read; a mismatch is a loud integrity error (error log, audit
//! row), never a silent wrong answer:
//!
//! - an object of one piece (1 MiB; nearly every CDA) is checked before anything is sent, and a
//!   mismatch is an error page;
//! - a larger one is read once, a piece at a time (two pieces read at once, ahead of the one
//!   being sent), hashed in order; the last piece is sent only when the whole matches, so a
//!   mismatch breaks the response short of its `Content-Length` (and the browser's download
//!   fails) instead of completing it. Reading it twice, to check before the first byte, made
//!   downloads ten times slower than a static file server's.
//!
//! Memory does not grow with size. One card may have `auth.card_downloads_at_once` of these
//! under way ([`super::download_slots`]); one more is 429 before anything is read.

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use futures::StreamExt;
use ring::digest::{Context, SHA256};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::{
    archive::DocumentOid,
    audit::{AuditAction, AuditEvent, AuditLog, Outcome},
    auth::{ControllerScope, SignInError},
    store::scoped::{self, StoredObject, StoredPart},
};

use super::{
    context::{RequestContext, ScopeError},
    download_slots::{DownloadSlots, Slot},
    errors,
    notices::shown,
    refusals::RefusalLog,
};

/// Bytes read from the database at a time.
const PIECE: i64 = 1024 * 1024;

/// The display rendition may style itself and show inline images, nothing else; `sandbox`
/// also gives it an opaque origin, so it can reach nothing of this site.
const RENDITION_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
                             sandbox; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

#[derive(Clone)]
pub struct DocumentBytes {
    /// Where the stored bytes are read from (`database.read_url`, else the primary).
    pub reads: PgPool,
    pub audit: AuditLog,
    pub refusals: RefusalLog,
    pub slots: DownloadSlots,
}

/// Who is asking, and whether as a file.
pub struct Reader {
    caller: RequestContext,
    download: bool,
}

impl Reader {
    fn new(caller: RequestContext, query: &HashMap<String, String>) -> Self {
        Self {
            caller,
            download: query.get("download").is_some_and(|v| v == "1"),
        }
    }
}

/// `raw` (the stored CDA) or `rendition` (the display form).
pub async fn stored(
    State(state): State<DocumentBytes>,
    caller: RequestContext,
    Path((document, part)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let part = match part.as_str() {
        "raw" => StoredPart::Cda,
        "rendition" => StoredPart::Display,
        _ => return errors::not_found(),
    };
    let reader = Reader::new(caller, &query);
    serve(&state, reader, &document, part).await
}

pub async fn pdf(
    State(state): State<DocumentBytes>,
    caller: RequestContext,
    Path((document, n)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(n) = n.parse::<u16>().ok().filter(|n| *n >= 1) else {
        return bad_request("the PDF number is a whole number from 1");
    };
    let reader = Reader::new(caller, &query);
    serve(&state, reader, &document, StoredPart::Pdf(n)).await
}

async fn serve(
    state: &DocumentBytes,
    reader: Reader,
    document: &str,
    part: StoredPart,
) -> Response {
    let Ok(document) = DocumentOid::parse(document) else {
        let asked: String = document.chars().take(256).collect();
        state
            .refusals
            .record(
                &reader.caller,
                "document_bytes",
                "invalid:document",
                Some(&asked),
            )
            .await;
        return bad_request("this is not a document OID (digits separated by dots)");
    };
    let Some(slot) = state
        .slots
        .take(&reader.caller.client().identity().public_key_sha256)
    else {
        state
            .refusals
            .record(&reader.caller, "document_bytes", "too_many_downloads", None)
            .await;
        crate::monitoring::card_download_refused();
        return too_many_downloads(state.slots.per_card());
    };
    let scope = match reader.caller.active_scope().await {
        Ok(scope) => scope,
        // The session layer signs every card in before a request gets here.
        Err(ScopeError::NoSession | ScopeError::SignIn(SignInError::CardNumber(_))) => {
            return errors::not_found();
        }
        Err(ScopeError::Session(error)) => {
            tracing::error!(%error, "cannot read the session");
            return errors::unavailable();
        }
        Err(ScopeError::SignIn(SignInError::Database(error))) => {
            return errors::database_failed(&error, "document bytes");
        }
    };
    let object = match scoped::stored_object(&state.reads, &scope, &document, part).await {
        Ok(Some(object)) => object,
        Ok(None) => {
            state
                .refusals
                .record(
                    &reader.caller,
                    "document_bytes",
                    "not_found",
                    Some(document.as_str()),
                )
                .await;
            return errors::not_found();
        }
        Err(error) => return errors::database_failed(&error, "document bytes"),
    };
    let download = reader.download;
    let body = if object.size <= PIECE {
        // One read, checked before anything is sent.
        let bytes =
            match scoped::stored_chunk(&state.reads, &scope, &document, &object, 0, PIECE).await {
                Ok(bytes) => bytes,
                Err(error) => return errors::database_failed(&error, "document bytes"),
            };
        let digest = ring::digest::digest(&SHA256, &bytes);
        let length_ok = i64::try_from(bytes.len()).is_ok_and(|n| n == object.size);
        if digest.as_ref() != object.sha256.as_slice() || !length_ok {
            return integrity_failure(state, &reader, &document, &object, part).await;
        }
        if let Err(error) = record(state, &reader, &document, &object, part, success(part)).await {
            return errors::database_failed(&error, "document bytes");
        }
        Body::from(bytes)
    } else {
        if let Err(error) = record(state, &reader, &document, &object, part, success(part)).await {
            return errors::database_failed(&error, "document bytes");
        }
        let (sender, pieces) = mpsc::channel(READ_AHEAD);
        let download = Download {
            state: state.clone(),
            reader,
            scope,
            document: document.clone(),
            object: object.clone(),
            part,
            _slot: slot,
        };
        tokio::spawn(download.read(sender));
        Body::from_stream(futures::stream::unfold(pieces, |mut pieces| async move {
            pieces.recv().await.map(|piece| (piece, pieces))
        }))
    };
    let mut response = (StatusCode::OK, body).into_response();
    set_headers(response.headers_mut(), &document, &object, part, download);
    response
}

/// Pieces read ahead of the one being sent.
const READ_AHEAD: usize = 1;

/// Pieces of one download read from the database at once. A piece's read takes 4-5 ms, most of it
/// not the server's CPU (PostgreSQL finds the slice in 0.6 ms), so reads side by side are faster
/// than one after another; each holds a pooled connection only while it runs.
const READS_AT_ONCE: usize = 2;

type Piece = Result<Bytes, std::io::Error>;

/// A large object on its way to the client. The card's download slot is held until the last
/// piece is sent or the client is gone (the body, and with it the channel, dropped).
struct Download {
    state: DocumentBytes,
    reader: Reader,
    scope: ControllerScope,
    document: DocumentOid,
    object: StoredObject,
    part: StoredPart,
    _slot: Slot,
}

impl Download {
    /// Reads the object a piece at a time, each in its own scoped transaction (a slow client
    /// holds no database connection), [`READS_AT_ONCE`] pieces at once, hashing them in order,
    /// and sends the last piece only when the whole is what was archived. The length was
    /// promised in the headers, so any error sent here breaks the response.
    async fn read(self, pieces: mpsc::Sender<Piece>) {
        let size = self.object.size;
        let count = u64::try_from(size)
            .unwrap_or(0)
            .div_ceil(PIECE.unsigned_abs());
        // Each piece at its place by the recorded size, the last one unclamped: bytes past the
        // recorded size are hashed too, and so are caught.
        let reads = futures::stream::iter(0..count)
            .map(|index| {
                let offset = i64::try_from(index)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(PIECE);
                let (pool, scope, document, object) = (
                    self.state.reads.clone(),
                    self.scope.clone(),
                    self.document.clone(),
                    self.object.clone(),
                );
                // A task each, so that the reads go on while a piece waits to be sent.
                tokio::spawn(async move {
                    scoped::stored_chunk(&pool, &scope, &document, &object, offset, PIECE).await
                })
            })
            .buffered(READS_AT_ONCE);
        tokio::pin!(reads);
        let mut context = Context::new(&SHA256);
        let mut read = 0_i64;
        let mut index = 0;
        while let Some(piece) = reads.next().await {
            index += 1;
            // The read failed, or its task did.
            let piece = piece
                .map_err(std::io::Error::other)
                .and_then(|read| read.map_err(std::io::Error::other));
            let piece = match piece {
                Ok(piece) => piece,
                Err(error) => {
                    tracing::error!(%error, document = %self.document.as_str(), "reading stored bytes failed mid-download");
                    let _ = pieces.send(Err(error)).await;
                    return;
                }
            };
            context.update(&piece);
            read = read.saturating_add(i64::try_from(piece.len()).unwrap_or(PIECE));
            // A shorter object than recorded comes short, a longer one long; either fails here.
            if index == count
                && (read != size
                    || context.clone().finish().as_ref() != self.object.sha256.as_slice())
            {
                report_integrity_failure(
                    &self.state,
                    &self.reader,
                    &self.document,
                    &self.object,
                    self.part,
                )
                .await;
                let _ = pieces
                    .send(Err(std::io::Error::other(
                        "stored bytes fail their SHA-256",
                    )))
                    .await;
                return;
            }
            if pieces.send(Ok(Bytes::from(piece))).await.is_err() {
                // The client is gone.
                return;
            }
        }
    }
}

fn set_headers(
    headers: &mut HeaderMap,
    document: &DocumentOid,
    object: &StoredObject,
    part: StoredPart,
    download: bool,
) {
    let mut insert = |name: HeaderName, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    insert(header::CONTENT_TYPE, content_type(&object.media_type));
    insert(header::CONTENT_LENGTH, object.size.to_string());
    insert(
        HeaderName::from_static("repr-digest"),
        format!("sha-256=:{}:", STANDARD.encode(&object.sha256)),
    );
    // Client data: never kept by the browser or anything between.
    insert(header::CACHE_CONTROL, "no-store".to_owned());
    let file = match part {
        StoredPart::Cda => format!("{}.xml", document.as_str()),
        StoredPart::Display => format!("{}.html", document.as_str()),
        StoredPart::Pdf(n) => format!("{}-{n}.pdf", document.as_str()),
    };
    let disposition = if download { "attachment" } else { "inline" };
    insert(
        header::CONTENT_DISPOSITION,
        format!("{disposition}; filename=\"{file}\""),
    );
    if part == StoredPart::Display {
        insert(header::CONTENT_SECURITY_POLICY, RENDITION_CSP.to_owned());
        insert(header::X_FRAME_OPTIONS, "SAMEORIGIN".to_owned());
    }
}

/// The stored media type; text without a charset is UTF-8 (the renditions are decoded from
/// base64 as UTF-8 XHTML, and browsers would otherwise guess).
fn content_type(media_type: &str) -> String {
    let textual = media_type.starts_with("text/") || media_type.contains("xhtml");
    if textual && !media_type.to_ascii_lowercase().contains("charset=") {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.to_owned()
    }
}

fn success(part: StoredPart) -> AuditAction {
    match part {
        StoredPart::Cda => AuditAction::DocumentRawRead,
        StoredPart::Display => AuditAction::DocumentRenditionRead,
        StoredPart::Pdf(_) => AuditAction::DocumentPdfRead,
    }
}

async fn record(
    state: &DocumentBytes,
    reader: &Reader,
    document: &DocumentOid,
    object: &StoredObject,
    part: StoredPart,
    action: AuditAction,
) -> Result<(), sqlx::Error> {
    let outcome = if action == AuditAction::DocumentIntegrityFailed {
        Outcome::Refused {
            reason: "sha256_mismatch",
        }
    } else {
        Outcome::Success
    };
    let detail = match part {
        StoredPart::Pdf(n) => json!({ "pdf": n, "download": reader.download }),
        _ => json!({ "download": reader.download }),
    };
    state
        .audit
        .record(AuditEvent {
            action,
            outcome,
            client_address: reader.caller.address(),
            certificate: Some(reader.caller.client().identity()),
            card_number: reader.caller.card_number().await.map(|n| n.as_str()),
            controller_oid: Some(&object.controller_oid),
            document_oid: Some(document.as_str()),
            details: Some(detail),
        })
        .await
}

/// The error log line and audit row of bytes that do not match their recorded SHA-256.
async fn report_integrity_failure(
    state: &DocumentBytes,
    reader: &Reader,
    document: &DocumentOid,
    object: &StoredObject,
    part: StoredPart,
) {
    tracing::error!(
        document = %document.as_str(),
        controller = %object.controller_oid,
        ?part,
        "INTEGRITY ERROR: stored bytes do not match the SHA-256 recorded at archiving"
    );
    if let Err(error) = record(
        state,
        reader,
        document,
        object,
        part,
        AuditAction::DocumentIntegrityFailed,
    )
    .await
    {
        tracing::error!(%error, "cannot write the integrity failure to the audit log");
    }
}

/// The error page of an object checked before anything was sent.
async fn integrity_failure(
    state: &DocumentBytes,
    reader: &Reader,
    document: &DocumentOid,
    object: &StoredObject,
    part: StoredPart,
) -> Response {
    report_integrity_failure(state, reader, document, object, part).await;
    let page = format!(
        "<!DOCTYPE html><html lang=\"fi\"><head><meta charset=\"utf-8\"><title>Eheysvirhe / Integritetsfel / Integrity error</title></head><body>\
         <main><h1>Eheysvirhe · Integritetsfel · Integrity error</h1>\
         <p lang=\"fi\">Asiakirjan {oid} tallennetut tiedot eivät vastaa arkistoinnissa kirjattua tiivistettä (SHA-256). Mitään ei näytetty. Virhe on kirjattu; ilmoita arkiston ylläpidolle.</p>\
         <p lang=\"sv\">De lagrade uppgifterna för dokument {oid} motsvarar inte kontrollsumman (SHA-256) som registrerades vid arkiveringen. Ingenting visades. Felet har loggats; meddela arkivets administration.</p>\
         <p lang=\"en\">The stored bytes of document {oid} do not match the SHA-256 recorded when it was archived. Nothing was served. The error has been logged; tell the archive's operators.</p>\
         </main></body></html>",
        oid = document.as_str()
    );
    (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response()
}

fn too_many_downloads(at_once: u32) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        // A download takes as long as it takes: a second is a hint, not a promise.
        [(header::RETRY_AFTER, "1")],
        Html(app::status_pages::too_many_downloads(at_once, &shown())),
    )
        .into_response()
}

fn bad_request(message: &'static str) -> Response {
    (StatusCode::BAD_REQUEST, format!("{message}\n")).into_response()
}
