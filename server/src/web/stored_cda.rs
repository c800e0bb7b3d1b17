//! The stored CDA for reading: the bytes as archived, checked against their SHA-256, read as
//! text in their declared encoding and cut into highlighted pieces at the XML tokenizer's event
//! positions, so that the pieces put together are the stored text exactly. Downloads stay with
//! `/api/documents/{oid}/raw`, which serves the bytes themselves.

use app::{
    model::document::{CdaToken, StoredCdaView, TokenKind},
    ssr::ServiceError,
};
use quick_xml::{Reader, events::Event};
use serde_json::json;

use super::context::RequestContext;
use crate::{
    archive::DocumentOid,
    audit::{AuditAction, Outcome},
    store::scoped::{self, StoredPart},
};

use super::access::{ServerServices, unavailable};

/// Larger documents are not shown as text (a browser would struggle); they are downloaded.
const MAX_SHOWN_BYTES: i64 = 2 * 1024 * 1024;

impl ServerServices {
    pub(super) async fn stored_cda(
        &self,
        caller: &RequestContext,
        document_oid: String,
    ) -> Result<StoredCdaView, ServiceError> {
        let document = DocumentOid::parse(document_oid.trim())
            .map_err(|_| ServiceError::invalid("document_oid"))?;
        let scope = self.active_scope(caller).await?;
        let object = scoped::stored_object(&self.reads, &scope, &document, StoredPart::Cda)
            .await
            .map_err(unavailable)?
            .ok_or(ServiceError::NotFound)?;
        let mut view = StoredCdaView {
            document_oid: document.as_str().to_owned(),
            sha256: hex::encode(&object.sha256),
            size: object.size,
            encoding: String::new(),
            tokens: None,
        };
        if object.size > MAX_SHOWN_BYTES {
            return Ok(view);
        }
        let bytes = scoped::stored_chunk(&self.reads, &scope, &document, &object, 0, object.size)
            .await
            .map_err(unavailable)?;
        let intact = ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref() == object.sha256;
        let (action, outcome) = if intact {
            (AuditAction::DocumentRawRead, Outcome::Success)
        } else {
            tracing::error!(
                document = %document.as_str(),
                controller = %object.controller_oid,
                "INTEGRITY ERROR: stored bytes do not match the SHA-256 recorded at archiving; nothing was shown"
            );
            let reason = "sha256_mismatch";
            (
                AuditAction::DocumentIntegrityFailed,
                Outcome::Refused { reason },
            )
        };
        self.record_access(
            caller,
            action,
            outcome,
            Some(object.controller_oid.as_str()),
            Some(document.as_str()),
            Some(json!({ "view": "highlighted" })),
        )
        .await?;
        if !intact {
            return Err(ServiceError::Integrity);
        }
        let (encoding, text) = decoded(&bytes);
        view.encoding = encoding.to_owned();
        view.tokens = Some(tokens(&text));
        Ok(view)
    }
}

/// The bytes as text in the encoding their XML declaration names (UTF-8 when it names none).
/// A byte-order mark is named, not shown; bytes that are not valid in the encoding show as the
/// replacement character.
fn decoded(bytes: &[u8]) -> (&'static str, String) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return ("UTF-8 with BOM", String::from_utf8_lossy(rest).into_owned());
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    let declaration = head.split("?>").next().unwrap_or_default();
    if declaration.contains("iso-8859-1") || declaration.contains("latin1") {
        // ISO-8859-1 maps each byte to the code point of the same number.
        return ("ISO-8859-1", bytes.iter().map(|&b| char::from(b)).collect());
    }
    ("UTF-8", String::from_utf8_lossy(bytes).into_owned())
}

/// The text cut at the tokenizer's event boundaries. After an XML error the rest is one text
/// piece: the reader still sees every character.
pub(crate) fn tokens(text: &str) -> Vec<CdaToken> {
    let mut reader = Reader::from_str(text);
    let mut pieces: Vec<CdaToken> = Vec::new();
    let mut start = 0usize;
    let push = |pieces: &mut Vec<CdaToken>, kind: TokenKind, text: &str| {
        if text.is_empty() {
            return;
        }
        match pieces.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(text),
            _ => pieces.push(CdaToken {
                kind,
                text: text.to_owned(),
            }),
        }
    };
    loop {
        let event = reader.read_event();
        let end = usize::try_from(reader.buffer_position())
            .unwrap_or(text.len())
            .min(text.len());
        let kind = match &event {
            Ok(Event::Eof) | Err(_) => break,
            Ok(Event::Start(_) | Event::End(_) | Event::Empty(_)) => TokenKind::Markup,
            Ok(Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) => TokenKind::Text,
            Ok(Event::Comment(_)) => TokenKind::Comment,
            Ok(Event::Decl(_) | Event::PI(_) | Event::DocType(_)) => TokenKind::Declaration,
        };
        if let Some(piece) = text.get(start..end) {
            push(&mut pieces, kind, piece);
            start = end;
        } else {
            break;
        }
    }
    if let Some(rest) = text.get(start..) {
        push(&mut pieces, TokenKind::Text, rest);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(tokens: &[CdaToken]) -> String {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn the_pieces_are_the_text_exactly() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- huom -->\r\n\
                    <ClinicalDocument xmlns=\"urn:hl7-org:v3\" a=\"x>y\">\r\n  \
                    <title>Päätös &amp; ö</title><![CDATA[<raw>]]><br/>\r\n</ClinicalDocument>\r\n  ";
        let tokens = tokens(text);
        assert_eq!(joined(&tokens), text);
        let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
        assert_eq!(kinds.first(), Some(&TokenKind::Declaration));
        assert!(kinds.contains(&TokenKind::Comment));
        assert!(
            tokens
                .iter()
                .any(|t| t.kind == TokenKind::Markup && t.text.contains("a=\"x>y\"")),
            "{tokens:?}"
        );
    }

    #[test]
    fn broken_xml_is_still_shown_whole() {
        for text in [
            "<a><b></a>",
            "<a attr=\"unclosed>text",
            "plain text",
            "",
            "<",
        ] {
            assert_eq!(joined(&tokens(text)), text, "{text}");
        }
    }

    #[test]
    fn the_declared_encoding_is_used_and_a_bom_named() {
        assert_eq!(
            decoded(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe4</a>"),
            (
                "ISO-8859-1",
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>ä</a>".to_owned()
            )
        );
        assert_eq!(
            decoded(b"\xEF\xBB\xBF<a>\xc3\xa4</a>"),
            ("UTF-8 with BOM", "<a>ä</a>".to_owned())
        );
        assert_eq!(decoded(b"<a/>").0, "UTF-8");
    }
}
