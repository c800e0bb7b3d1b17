//! The comparison page's server function.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{error::ServiceError, model::compare::ComparisonView};

/// Compares two versions of one set within the active controllers (audited). Either not found
/// (or another controller's): 404; versions of different sets: 422 `invalid:other_set`.
#[server(endpoint = "documents/compare", input = GetUrl)]
pub async fn compare_versions(a: String, b: String) -> Result<ComparisonView, ServiceError> {
    crate::ssr::serve(move |services| services.compare(a, b)).await
}
