//! The identity page's server function: the verified certificate of this connection.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{error::ServiceError, model::identity::CertificateIdentity};

/// The identity of the certificate on this request's TLS connection.
#[server(endpoint = "identity", input = GetUrl)]
pub async fn current_identity() -> Result<CertificateIdentity, ServiceError> {
    let client = crate::ssr::verified_client().await?;
    Ok(client.identity().clone())
}
