//! The client page's server function.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{error::ServiceError, model::client::ClientView};

/// Every document set of one client (a personal identity code) in the active controllers
/// (audited). A malformed code: `invalid:client`.
#[server(endpoint = "clients/documents", input = GetUrl)]
pub async fn client_documents(client: String) -> Result<ClientView, ServiceError> {
    crate::ssr::serve(move |services| services.client(client)).await
}
