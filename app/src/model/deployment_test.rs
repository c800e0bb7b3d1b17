//! The deployment test (käyttöönottokoe) as the archivist sees it: per controller of the
//! active scope, the state of its test, and the documents of the test case with their checks
//! (the server functions that record a check and confirm the test are in `api::deployment_test`).

use serde::{Deserialize, Serialize};

use crate::model::search::SearchRow;

/// One controller of the active scope and its deployment test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentTestView {
    pub controller_oid: String,
    pub controller_name: String,
    /// RFC 3339, UTC: since when the controller archives in production.
    pub production_since: Option<String>,
    /// `None` until an administrator defines the test case.
    pub test: Option<TestView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestView {
    pub confirmed: Option<Confirmation>,
    /// The round the test is in (a reset starts the next one).
    pub round: i32,
    pub defined_by: String,
    pub defined_at: String,
    pub last_reset: Option<Reset>,
    pub documents: Vec<TestDocument>,
}

impl TestView {
    /// Every document is archived and checked in this round, and there is at least one.
    pub fn ready(&self) -> bool {
        !self.documents.is_empty()
            && self
                .documents
                .iter()
                .all(|d| d.archived.is_some() && d.checked.is_some())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub at: String,
    pub by_name: String,
    pub by_satu: Option<String>,
    pub card_number: String,
    /// SHA-256 of the card certificate that confirmed, hex.
    pub certificate_sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reset {
    pub at: String,
    pub by: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestDocument {
    pub document_oid: String,
    /// Named by OID in the definition (otherwise a test client's document).
    pub named: bool,
    /// `None` while the document has not reached the archive.
    pub archived: Option<SearchRow>,
    pub checked: Option<Check>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub by_name: String,
    pub at: String,
}

/// The refusals of a check or a confirmation, as the server names them (`conflict:<code>`).
pub const ALREADY_CONFIRMED: &str = "already_confirmed";
pub const UNFINISHED: &str = "unfinished";
pub const EMPTY_CASE: &str = "empty_case";
