//! A document version as the document page shows it: its header fields with code display
//! names, the data the archive added, the versions of its set and what is stored. The server
//! reads it within the archivist's scope; another controller's document is "not found", like
//! one that does not exist.

use serde::{Deserialize, Serialize};

use crate::i18n::Language;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentView {
    pub document_oid: String,
    pub set_oid: String,
    pub version_number: i32,
    /// `current`, `replaced` or `nullified`.
    pub status: String,
    pub controller_oid: String,
    pub controller_name: String,
    /// The specific document type, else the general one.
    pub title: Option<HeaderValue>,
    /// Every header field the document has, in the order of the profile.
    pub header: Vec<HeaderField>,
    /// Header elements the parser does not know, as stored (pretty-printed JSON).
    pub unknown_header: Option<String>,
    pub archive: ArchiveData,
    pub signatures: Vec<SignatureView>,
    pub events: Vec<ArchiveEventView>,
    /// All versions of the set, newest first.
    pub versions: Vec<VersionRow>,
    pub raw: StoredInfo,
    pub renditions: Vec<RenditionInfo>,
    /// The structured (JSON) rendition as a tree. The document page reads it; views that do
    /// not show it (comparing versions) leave it [`StructuredRendition::Absent`].
    pub structured: StructuredRendition,
}

/// The structured rendition as the document page shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StructuredRendition {
    /// The version has none.
    #[default]
    Absent,
    /// Larger than the page shows as a tree (it is in the stored CDA, which can be read whole).
    TooLarge,
    /// Stored, but not JSON (or nested deeper than the page follows): shown as stored text,
    /// with the reason.
    Unreadable {
        reason: String,
        text: String,
    },
    Tree(StructuredValue),
}

/// A JSON value with its fields in stored order, and coded values (`{system, code, display}`)
/// recognised so that they can be named from the code lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StructuredValue {
    Null,
    Bool(bool),
    /// As written in the document (no float rounding).
    Number(String),
    Text(String),
    Code(CodedValue),
    List(Vec<StructuredValue>),
    Object(Vec<StructuredField>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructuredField {
    /// The field's name as stored.
    pub name: String,
    pub value: StructuredValue,
}

impl StructuredValue {
    /// Every coded value in the tree, to be named from the code lists.
    pub fn codes_mut(&mut self) -> Vec<&mut CodedValue> {
        let mut codes = Vec::new();
        let mut stack = vec![self];
        while let Some(value) = stack.pop() {
            match value {
                Self::Code(code) => codes.push(code),
                Self::List(items) => stack.extend(items.iter_mut()),
                Self::Object(fields) => stack.extend(fields.iter_mut().map(|f| &mut f.value)),
                Self::Null | Self::Bool(_) | Self::Number(_) | Self::Text(_) => {}
            }
        }
        codes
    }
}

/// One header field: `key` names it (labels in `i18n::header_label`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    pub key: String,
    pub value: HeaderValue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeaderValue {
    Text(String),
    /// Times are RFC 3339 in UTC.
    Time(String),
    /// A time the document gave in HL7's form with its zone (the signing time): `utc` is the
    /// same instant in RFC 3339, shown in Finland's time with the stored value beside it.
    StoredTime {
        utc: String,
        stored: String,
    },
    Code(CodedValue),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodedValue {
    pub code: String,
    pub system: Option<String>,
    /// From the code lists, in Finnish, Swedish and English, when the code is known there.
    pub names: Option<[String; 3]>,
    /// The display name the document itself gave.
    pub document_name: Option<String>,
}

impl CodedValue {
    /// The display name in `language`: the code list's, else the document's own.
    pub fn name(&self, language: Language) -> Option<&str> {
        let index = match language {
            Language::Fi => 0,
            Language::Sv => 1,
            Language::En => 2,
        };
        self.names
            .as_ref()
            .map(|names| names[index].as_str())
            .or(self.document_name.as_deref())
    }
}

impl HeaderValue {
    pub fn display(&self, language: Language) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Time(time) => crate::local_time::display(language, time),
            Self::StoredTime { utc, stored } => {
                format!("{} ({stored})", crate::local_time::display(language, utc))
            }
            Self::Code(coded) => match coded.name(language) {
                Some(name) => format!("{name} ({})", coded.code),
                None => coded.code.clone(),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveData {
    pub archive_id: String,
    pub archived_at: String,
    pub storage_code: String,
    pub completion_code: String,
    /// `None` for permanent retention or while the rule's anchor event is not known.
    pub retention_end: Option<String>,
    pub retention_rule: String,
    /// The rule's description in Finnish, Swedish and English.
    pub retention_rule_names: [String; 3],
    pub active_controller_oid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureView {
    /// `valid`, `valid_ignoring_whitespace`, `invalid` or `not_verifiable`.
    pub integrity: String,
    pub integrity_detail: Option<String>,
    /// `trusted`, `unknown` or `untrusted`.
    pub trust: String,
    pub trust_detail: Option<String>,
    pub signer_subject: Option<String>,
    pub signer_issuer: Option<String>,
    pub signature_timestamp: Option<String>,
    pub verified_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveEventView {
    pub occurred_at: String,
    pub event: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    pub document_oid: String,
    pub version_number: i32,
    pub status: String,
    pub archived_at: String,
    pub software: Option<String>,
    pub correction_reason: Option<HeaderValue>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInfo {
    pub size: i64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenditionInfo {
    /// `xhtml`, `pdf`, `json` or `other`.
    pub kind: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    /// For PDFs: the n of `/api/documents/{oid}/pdf/{n}`.
    pub pdf_number: Option<u16>,
}

/// The stored CDA as text for reading, cut into highlighted pieces whose concatenation is the
/// stored text exactly. The bytes themselves are served by `/api/documents/{oid}/raw`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCdaView {
    pub document_oid: String,
    /// Hex; checked against the bytes just read.
    pub sha256: String,
    pub size: i64,
    /// How the bytes were read as text (`UTF-8`, `UTF-8 with BOM`, `ISO-8859-1`).
    pub encoding: String,
    /// `None` when the document is larger than the page shows (download it instead).
    pub tokens: Option<Vec<CdaToken>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdaToken {
    pub kind: TokenKind,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// Start, end and empty-element tags.
    Markup,
    Text,
    Comment,
    /// The XML declaration, processing instructions, a DOCTYPE.
    Declaration,
}

impl TokenKind {
    /// The class of the piece in the stylesheet.
    pub fn class(self) -> &'static str {
        match self {
            TokenKind::Markup => "xml-tag",
            TokenKind::Text => "xml-text",
            TokenKind::Comment => "xml-comment",
            TokenKind::Declaration => "xml-decl",
        }
    }
}
