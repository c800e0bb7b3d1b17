//! Searching the documents of the active controllers: the filter as the search page's address
//! holds it, and one page of results with the cursor to the next.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};

use crate::documents::HeaderValue;

/// The search form's fields, as typed (the server parses and checks them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// A personal identity code.
    pub client: String,
    /// Document time from this day (`YYYY-MM-DD`), inclusive.
    pub from: String,
    /// Document time to this day, inclusive.
    pub until: String,
    /// Also replaced and nullified versions (only current ones otherwise).
    pub all_versions: bool,
    /// Where the previous page ended (from [`SearchPage::next`]).
    pub after: String,
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
