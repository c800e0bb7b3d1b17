//! Two versions of one document set side by side: their header fields, and line diffs of the
//! display text and of the structured (JSON) rendition, computed on the server.

use serde::{Deserialize, Serialize};

use crate::model::document::HeaderValue;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparisonView {
    /// The lower version number.
    pub older: VersionRef,
    pub newer: VersionRef,
    /// Every header field either version has, in the profile's order.
    pub header: Vec<HeaderChange>,
    /// The display rendition's text, line by line.
    pub display: TextComparison,
    /// The structured rendition's fields, one `path: value` line each.
    pub structured: TextComparison,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRef {
    pub document_oid: String,
    pub version_number: i32,
    pub status: String,
    /// RFC 3339, UTC.
    pub archived_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderChange {
    pub key: String,
    pub older: Option<HeaderValue>,
    pub newer: Option<HeaderValue>,
}

impl HeaderChange {
    pub fn changed(&self) -> bool {
        self.older != self.newer
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextComparison {
    /// Neither version has this rendition.
    Absent,
    /// A rendition is stored but cannot be read as text (not well-formed XHTML, not JSON): it is
    /// shown as stored on the document page, not compared.
    Unreadable,
    /// Larger than the server compares (the renditions stay downloadable as stored).
    TooLarge,
    Rows(Vec<DiffRow>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    pub change: Change,
    pub older: Option<String>,
    pub newer: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Same,
    Changed,
    Removed,
    Added,
}

impl Change {
    /// For `data-change` attributes and the stylesheet.
    pub fn code(self) -> &'static str {
        match self {
            Change::Same => "same",
            Change::Changed => "changed",
            Change::Removed => "removed",
            Change::Added => "added",
        }
    }
}
