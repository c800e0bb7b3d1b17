//! The deployment test's server functions: the tests of the active controllers, a document's check, the confirmation.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{error::ServiceError, model::deployment::DeploymentTestView};

/// The deployment tests of the active controllers (audited).
#[server(endpoint = "deployment-tests", input = GetUrl)]
pub async fn deployment_tests() -> Result<Vec<DeploymentTestView>, ServiceError> {
    crate::ssr::serve(move |services, caller| services.deployment_tests(caller)).await
}

/// Records that the archivist compared a test document with the source system.
#[server(endpoint = "deployment-tests/check")]
pub async fn check_test_document(
    csrf_token: String,
    controller: String,
    document: String,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services, caller| {
        services.check_test_document(caller, controller, document)
    })
    .await
}

/// Confirms the controller's deployment test, which moves the controller to production.
#[server(endpoint = "deployment-tests/confirm")]
pub async fn confirm_deployment_test(
    csrf_token: String,
    controller: String,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services, caller| services.confirm_deployment_test(caller, controller))
        .await
}
