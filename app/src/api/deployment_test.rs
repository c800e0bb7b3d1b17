//! The deployment test's server functions: the tests of the active controllers, a document's check, the confirmation.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{error::ServiceError, model::deployment_test::DeploymentTestView};

/// The deployment tests of the active controllers (audited).
#[server(endpoint = "deployment-tests", input = GetUrl)]
pub async fn deployment_tests() -> Result<Vec<DeploymentTestView>, ServiceError> {
    crate::ssr::serve(move |services| services.deployment_tests()).await
}

/// Records that the archivist compared a test document with the source system.
#[server(endpoint = "deployment-tests/check")]
pub async fn check_test_document(
    csrf_token: String,
    controller: String,
    document: String,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.check_test_document(controller, document)).await
}

/// Confirms the controller's deployment test, which moves the controller to production.
#[server(endpoint = "deployment-tests/confirm")]
pub async fn confirm_deployment_test(
    csrf_token: String,
    controller: String,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.confirm_deployment_test(controller)).await
}
