//! The administrators' server functions and the audit log's: every administrative one answers
//! "not found" to a card without the right; the audit search shows an archivist the rows of
//! their own controllers.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    error::ServiceError,
    model::admin::{AuditPage, CardLinkView, LinkFormOptions, LinkResult},
};
// The changes are built by the server functions' bodies, which run on the server only.
#[cfg(feature = "ssr")]
use crate::model::admin::{ControllerChange, DeploymentTestChange};

#[server(endpoint = "admin/overview", input = GetUrl)]
pub async fn admin_overview() -> Result<LinkFormOptions, ServiceError> {
    crate::ssr::serve(move |services| services.admin_overview()).await
}

/// The link history of a card number (empty: every card's).
#[server(endpoint = "admin/card-links", input = GetUrl)]
pub async fn card_links(card_number: String) -> Result<Vec<CardLinkView>, ServiceError> {
    let card_number = Some(card_number).filter(|c| !c.trim().is_empty());
    crate::ssr::serve(move |services| services.card_links(card_number)).await
}

/// Links a card number to a controller. Dates are `YYYY-MM-DD` (Finland's days) or empty;
/// `valid_until` is the last day the link is in force.
#[server(endpoint = "admin/link-card")]
pub async fn link_card(
    csrf_token: String,
    card_number: String,
    issuer: String,
    controller: String,
    valid_from: String,
    valid_until: String,
) -> Result<LinkResult, ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| {
        services.link_card(crate::ssr::LinkRequest {
            card_number,
            issuer,
            controller,
            valid_from,
            valid_until,
        })
    })
    .await
}

#[server(endpoint = "admin/unlink-card")]
pub async fn unlink_card(
    csrf_token: String,
    card_number: String,
    issuer: String,
    controller: String,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.unlink_card(card_number, issuer, controller)).await
}

/// The audit rows the caller may see that match the filter (empty fields: no filter; dates
/// `YYYY-MM-DD`, `until` inclusive).
#[server(endpoint = "audit", input = GetUrl)]
pub async fn audit_search(
    since: String,
    until: String,
    action: String,
    card_number: String,
    controller: String,
) -> Result<AuditPage, ServiceError> {
    crate::ssr::serve(move |services| {
        services.audit(crate::ssr::AuditQuery {
            since,
            until,
            action,
            card_number,
            controller,
        })
    })
    .await
}

/// Creates a controller ahead of its first document, so that cards can be linked to it.
#[server(endpoint = "admin/create-controller")]
pub async fn create_controller(
    csrf_token: String,
    oid: String,
    name: String,
) -> Result<(), ServiceError> {
    change_controller(csrf_token, ControllerChange::Create { oid, name }).await
}

#[server(endpoint = "admin/rename-controller")]
pub async fn rename_controller(
    csrf_token: String,
    oid: String,
    name: String,
) -> Result<(), ServiceError> {
    change_controller(csrf_token, ControllerChange::Rename { oid, name }).await
}

/// Merges a controller into its successor (not undone).
#[server(endpoint = "admin/merge-controller")]
pub async fn merge_controller(
    csrf_token: String,
    oid: String,
    successor: String,
) -> Result<(), ServiceError> {
    change_controller(csrf_token, ControllerChange::Merge { oid, successor }).await
}

/// Defines a controller's deployment test case, or adds to it.
#[server(endpoint = "admin/define-deployment-test")]
pub async fn define_deployment_test(
    csrf_token: String,
    controller: String,
    documents: String,
    clients: String,
) -> Result<(), ServiceError> {
    change_deployment_test(
        csrf_token,
        DeploymentTestChange::Define {
            controller,
            documents,
            clients,
        },
    )
    .await
}

/// Resets a controller's deployment test with a reason (the controller goes back to deployment).
#[server(endpoint = "admin/reset-deployment-test")]
pub async fn reset_deployment_test(
    csrf_token: String,
    controller: String,
    reason: String,
) -> Result<(), ServiceError> {
    change_deployment_test(
        csrf_token,
        DeploymentTestChange::Reset { controller, reason },
    )
    .await
}

#[cfg(feature = "ssr")]
async fn change_deployment_test(
    csrf_token: String,
    change: DeploymentTestChange,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.change_deployment_test(change)).await
}

#[cfg(feature = "ssr")]
async fn change_controller(
    csrf_token: String,
    change: ControllerChange,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.change_controller(change)).await
}
