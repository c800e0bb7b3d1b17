//! XML plumbing shared by the document and frame readers: character decoding (for parsing
//! only; the stored bytes stay as received), safe parser options, namespace-aware navigation.

use std::borrow::Cow;

use base64::Engine;
use roxmltree::{Document, Node, ParsingOptions};

use super::ParseError;

pub const HL7: &str = "urn:hl7-org:v3";
pub const HL7FI: &str = "urn:hl7finland";
pub const XMLDSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The text to parse. A UTF-8 byte-order mark is skipped; ISO-8859-1 (declared in the XML
/// declaration) is decoded; anything else must be UTF-8.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match declared_encoding(bytes)
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("utf-8" | "utf8") => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|e| ParseError::Xml(format!("not valid UTF-8: {e}"))),
        Some("iso-8859-1" | "latin1" | "latin-1" | "iso_8859-1") => {
            // ISO-8859-1 maps each byte to the code point of the same number.
            let text: String = bytes.iter().map(|&b| char::from(b)).collect();
            Ok(Cow::Owned(without_declaration(&text).to_owned()))
        }
        Some(other) => Err(ParseError::Encoding(other.to_owned())),
    }
}

/// The value of `encoding="…"` in a leading `<?xml …?>` declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(256))?;
    let head = String::from_utf8_lossy(head);
    let declaration = head.strip_prefix("<?xml")?.split("?>").next()?;
    let rest = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest.get(1..)?.split(quote).next()?;
    Some(value.to_owned())
}

/// The parser reads the decoded text, whose encoding is no longer the declared one.
fn without_declaration(text: &str) -> &str {
    match text.strip_prefix("<?xml").and_then(|_| text.find("?>")) {
        Some(end) => &text[end + 2..],
        None => text,
    }
}

/// Parses with no DTD (no entity expansion: CDA has no use for one) and a node limit, so a
/// hostile file cannot exhaust memory.
pub fn parse(text: &str) -> Result<Document<'_>, ParseError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: 5_000_000,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| ParseError::Xml(e.to_string()))
}

pub fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

pub fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
    })
}

/// Follows a path of HL7 v3 elements.
pub fn path<'a, 'i>(node: Node<'a, 'i>, steps: &[&str]) -> Option<Node<'a, 'i>> {
    steps.iter().try_fold(node, |n, step| child(n, HL7, step))
}

pub fn attr(node: Option<Node<'_, '_>>, name: &str) -> Option<String> {
    node?.attribute(name).map(str::to_owned)
}

/// The element's text with surrounding white space removed; `None` when empty.
pub fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    let text: String = node?
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect();
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Decodes base64 content that may be wrapped over many lines.
pub fn base64(element: &'static str, content: &str) -> Result<Vec<u8>, ParseError> {
    let compact: Vec<u8> = content
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| ParseError::Base64 {
            element,
            problem: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_declared_encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").expect("bom").as_ref(), "<a/>");
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE4</a>";
        assert_eq!(decode(latin1).expect("latin1").as_ref(), "<a>ä</a>");
        assert!(matches!(
            decode(b"<?xml version='1.0' encoding='UTF-16'?><a/>"),
            Err(ParseError::Encoding(e)) if e == "utf-16"
        ));
        assert!(matches!(decode(b"<a>\xE4</a>"), Err(ParseError::Xml(_))));
    }

    #[test]
    fn refuses_a_dtd() {
        let bomb = r#"<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;</a>"#;
        assert!(matches!(parse(bomb), Err(ParseError::Xml(_))));
    }

    #[test]
    fn base64_ignores_line_breaks_and_reports_garbage() {
        assert_eq!(
            base64("text", "aGVs\r\n  bG8=\n").expect("decodes"),
            b"hello"
        );
        assert!(matches!(
            base64("text", "not*base64"),
            Err(ParseError::Base64 {
                element: "text",
                ..
            })
        ));
    }
}
