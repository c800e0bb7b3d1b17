//! What the signed-in card may see: its card number and the controllers linked to it.

use serde::{Deserialize, Serialize};

/// The signed-in card's access, as the authentication layer worked it out for this request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// The certificate was verified, but the configured rule finds no usable card number in it.
    /// `reason` is a stable code (`card_number_missing`, …) the page explains.
    Refused { reason: String },
    /// The card number and the controllers it is linked to now (possibly none).
    Linked {
        card_number: String,
        /// How the card number was read.
        rule: RuleView,
        administrator: bool,
        controllers: Vec<LinkedController>,
        /// The controller chosen to work in, one of `controllers`; `None`: all of them.
        active_controller: Option<String>,
    },
}

/// What the pages need of the signed-in session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Sent back with every state-changing request (the `csrf_token` argument of server
    /// functions that change something).
    pub csrf_token: String,
}

/// The configured card number rule, for the page to name in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleView {
    SubjectAttribute {
        oid: String,
    },
    SanOtherName {
        type_id: String,
    },
    IssuerAndSerial,
    /// Looked up in the enrolled bindings of certificates to card numbers.
    Enrolled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedController {
    pub oid: String,
    pub name: String,
    /// When the controller's newest document was archived (RFC 3339), if it has any.
    pub last_archived_at: Option<String>,
}
