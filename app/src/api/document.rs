//! The document page's server functions: a version within the active controllers, and its stored CDA as text.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    error::ServiceError,
    model::document::{DocumentView, StoredCdaView},
};

/// One document version, within the active controllers.
#[server(endpoint = "documents/view", input = GetUrl)]
pub async fn open_document(document_oid: String) -> Result<DocumentView, ServiceError> {
    crate::ssr::serve(move |services| services.document(document_oid)).await
}

/// The stored CDA of one version, readable and highlighted (audited as a read of the raw CDA).
/// Bytes that no longer match their SHA-256: `integrity`.
#[server(endpoint = "documents/stored-cda", input = GetUrl)]
pub async fn stored_cda(document_oid: String) -> Result<StoredCdaView, ServiceError> {
    crate::ssr::serve(move |services| services.stored_cda(document_oid)).await
}
