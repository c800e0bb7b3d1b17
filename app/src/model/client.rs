//! A client's document sets in the active controllers, as the client page shows them.

use serde::{Deserialize, Serialize};

use crate::model::{document::HeaderValue, search::SearchRow};

/// A client's document sets in the active controllers, grouped by controller and case, then by
/// service task; groups and sets newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    pub client_name: Option<String>,
    pub cases: Vec<CaseGroup>,
    /// More sets than the page shows (the newest are shown).
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseGroup {
    pub controller_name: String,
    /// `None`: documents that name no case.
    pub case_oid: Option<String>,
    pub tasks: Vec<TaskGroup>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskGroup {
    pub service_task: Option<HeaderValue>,
    pub sets: Vec<ClientSet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSet {
    pub set_oid: String,
    pub version_count: i32,
    /// The set's current (or nullifying) version.
    pub current: SearchRow,
}
