//! Searching the documents of the active controllers: the filter as the search page's address
//! holds it, and one page of results with the cursor to the next.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};

use crate::documents::HeaderValue;

/// The search form's fields, as typed (the server parses and checks them). Empty fields do not
/// filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// A personal identity code.
    pub client: String,
    /// Document time from this day (`YYYY-MM-DD`), inclusive.
    pub from: String,
    /// Document time to this day, inclusive.
    pub until: String,
    /// Archived from this day, inclusive.
    pub archived_from: String,
    /// Archived to this day, inclusive.
    pub archived_until: String,
    /// A document type code (general or specific).
    pub document_type: String,
    /// A service task code.
    pub service_task: String,
    /// A register code.
    pub register: String,
    /// A document group code.
    pub document_group: String,
    /// A case OID.
    pub case: String,
    /// A document set OID (every version of one document).
    pub set: String,
    /// `""` current versions only, `all`, `replaced` or `nullified`.
    pub status: String,
    /// Also replaced and nullified versions: the older form of `status=all`, kept so that
    /// bookmarks made with it still work.
    pub all_versions: bool,
    /// Where the previous page ended (from [`SearchPage::next`]).
    pub after: String,
}

/// The address parameters of the search page, in the order of the form, with the query's field
/// for each.
pub const SEARCH_PARAMETERS: [&str; 13] = [
    "client",
    "from",
    "until",
    "archived_from",
    "archived_until",
    "type",
    "task",
    "register",
    "group",
    "case",
    "set",
    "status",
    "after",
];

impl SearchQuery {
    /// The query from the page address's parameters (`get` reads one by name).
    pub fn from_parameters(get: impl Fn(&str) -> String) -> Self {
        Self {
            client: get("client"),
            from: get("from"),
            until: get("until"),
            archived_from: get("archived_from"),
            archived_until: get("archived_until"),
            document_type: get("type"),
            service_task: get("task"),
            register: get("register"),
            document_group: get("group"),
            case: get("case"),
            set: get("set"),
            status: get("status"),
            all_versions: get("all") == "1",
            after: get("after"),
        }
    }

    /// The value of one address parameter.
    pub fn parameter(&self, name: &str) -> &str {
        match name {
            "client" => &self.client,
            "from" => &self.from,
            "until" => &self.until,
            "archived_from" => &self.archived_from,
            "archived_until" => &self.archived_until,
            "type" => &self.document_type,
            "task" => &self.service_task,
            "register" => &self.register,
            "group" => &self.document_group,
            "case" => &self.case,
            "set" => &self.set,
            "status" if self.status.is_empty() && self.all_versions => "all",
            "status" => &self.status,
            "after" => &self.after,
            _ => "",
        }
    }
}

/// The choices of the search form's code fields, from the code lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchOptions {
    pub document_types: Vec<CodeOption>,
    pub service_tasks: Vec<CodeOption>,
    pub registers: Vec<CodeOption>,
    pub document_groups: Vec<CodeOption>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeOption {
    pub code: String,
    /// Finnish, Swedish and English.
    pub names: [String; 3],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPage {
    pub rows: Vec<SearchRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRow {
    pub document_oid: String,
    pub version_number: i32,
    pub status: String,
    /// RFC 3339, UTC.
    pub effective_time: String,
    pub document_type: Option<HeaderValue>,
    pub service_task: Option<HeaderValue>,
    pub client_id: String,
    pub client_name: Option<String>,
    pub controller_name: String,
}

/// One page of documents, newest document time first.
#[server(endpoint = "documents/search", input = GetUrl)]
pub async fn search_documents(query: SearchQuery) -> Result<SearchPage, ServerFnError> {
    let caller = crate::ssr::caller().await?;
    let services = crate::ssr::services().await?;
    services
        .search(&caller, query)
        .await
        .map_err(crate::ssr::server_fn_error)
}

/// What the search form offers in its code fields.
#[server(endpoint = "documents/search-options", input = GetUrl)]
pub async fn search_form_choices() -> Result<SearchOptions, ServerFnError> {
    let caller = crate::ssr::caller().await?;
    let services = crate::ssr::services().await?;
    services
        .search_options(&caller)
        .await
        .map_err(crate::ssr::server_fn_error)
}

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

/// Every document set of one client (a personal identity code) in the active controllers
/// (audited). A malformed code: `invalid:client`.
#[server(endpoint = "clients/documents", input = GetUrl)]
pub async fn client_documents(client: String) -> Result<ClientView, ServerFnError> {
    let caller = crate::ssr::caller().await?;
    let services = crate::ssr::services().await?;
    services
        .client(&caller, client)
        .await
        .map_err(crate::ssr::server_fn_error)
}
