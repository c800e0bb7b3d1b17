//! Administration and the audit log as the pages see them: card links with their history, the
//! changes an administrator makes, and audit rows. The server decides who may see what; these are
//! only the shapes of its answers (the server functions are in `api::admin`).

use serde::{Deserialize, Serialize};

/// What the administration page offers: the issuing CAs and every controller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFormOptions {
    /// The issuing CAs card numbers can be linked under (`tls.client_ca`).
    pub issuers: Vec<String>,
    pub controllers: Vec<ControllerRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerRow {
    pub oid: String,
    pub name: String,
    /// The controller it was merged into; its material is the successor's now.
    pub successor_oid: Option<String>,
    pub in_production: bool,
}

/// A change to a controller, as the administration page asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerChange {
    Create { oid: String, name: String },
    Rename { oid: String, name: String },
    Merge { oid: String, successor: String },
}

/// One row of a card's link history. Times are RFC 3339 in UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardLinkView {
    pub issuer: String,
    pub card_number: String,
    pub controller_oid: String,
    pub controller_name: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub linked_at: String,
    pub linked_by: String,
    pub unlinked_at: Option<String>,
    pub unlinked_by: Option<String>,
    /// Not unlinked (the validity period may still lie ahead).
    pub live: bool,
    pub in_force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkResult {
    Linked,
    AlreadyLinked,
}

/// What the audit page shows: the newest matching rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// `true` for an administrator (every row); `false` for an archivist, who sees the rows about
    /// their own controllers' material.
    pub whole_log: bool,
    pub rows: Vec<AuditEntry>,
    /// More rows matched than are shown.
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: String,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub client_address: Option<String>,
    /// The card number, or the operator's account for changes made from a shell.
    pub actor: String,
    pub satu: Option<String>,
    pub controller_oid: Option<String>,
    pub document_oid: Option<String>,
    pub details: Option<String>,
}

/// An administrator's change to a controller's deployment test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentTestChange {
    /// Creates the test if there is none and adds to its case: document OIDs and test client
    /// identifiers, one per line (or separated by spaces or commas).
    Define {
        controller: String,
        documents: String,
        clients: String,
    },
    /// Starts the test again, with the reason on record.
    Reset { controller: String, reason: String },
}
