//! The search page's server functions: one page of the active controllers' documents, and the code lists' choices for its form.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    error::ServiceError,
    model::search::{SearchOptions, SearchPage, SearchQuery},
};

/// One page of documents in the query's order (newest document time first by default).
#[server(endpoint = "documents/search", input = GetUrl)]
pub async fn search_documents(query: SearchQuery) -> Result<SearchPage, ServiceError> {
    crate::ssr::serve(move |services| services.search(query)).await
}

/// What the search form offers in its code fields.
#[server(endpoint = "documents/search-options", input = GetUrl)]
pub async fn search_form_choices() -> Result<SearchOptions, ServiceError> {
    crate::ssr::serve(move |services| services.search_options()).await
}
