//! Administration and the audit log as the pages see them: card links with their history, the
//! changes an administrator makes, and audit rows. The server decides who may see what; these are
//! only the shapes of its answers and the server functions that ask for them.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

/// What the administration page offers: the issuing CAs and every controller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFormOptions {
    /// The issuing CAs card numbers can be linked under (`tls.client_ca`).
    pub issuers: Vec<String>,
    pub controllers: Vec<ControllerRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerRow {
    pub oid: String,
    pub name: String,
    /// The controller it was merged into; its material is the successor's now.
    pub successor_oid: Option<String>,
    pub in_production: bool,
}

/// A change to a controller, as the administration page asks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerChange {
    Create { oid: String, name: String },
    Rename { oid: String, name: String },
    Merge { oid: String, successor: String },
}

/// One row of a card's link history. Times are RFC 3339 in UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardLinkView {
    pub issuer: String,
    pub card_number: String,
    pub controller_oid: String,
    pub controller_name: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub linked_at: String,
    pub linked_by: String,
    pub unlinked_at: Option<String>,
    pub unlinked_by: Option<String>,
    /// Not unlinked (the validity period may still lie ahead).
    pub live: bool,
    pub in_force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkResult {
    Linked,
    AlreadyLinked,
}

/// What the audit page shows: the newest matching rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    /// `true` for an administrator (every row); `false` for an archivist, who sees the rows about
    /// their own controllers' material.
    pub whole_log: bool,
    pub rows: Vec<AuditEntry>,
    /// More rows matched than are shown.
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub occurred_at: String,
    pub action: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub client_address: Option<String>,
    /// The card number, or the operator's account for changes made from a shell.
    pub actor: String,
    pub satu: Option<String>,
    pub controller_oid: Option<String>,
    pub document_oid: Option<String>,
    pub details: Option<String>,
}

#[server(endpoint = "admin/overview", input = GetUrl)]
pub async fn admin_overview() -> Result<LinkFormOptions, ServiceError> {
    crate::ssr::serve(move |services, caller| services.admin_overview(caller)).await
}

/// The link history of a card number (empty: every card's).
#[server(endpoint = "admin/card-links", input = GetUrl)]
pub async fn card_links(card_number: String) -> Result<Vec<CardLinkView>, ServiceError> {
    let card_number = Some(card_number).filter(|c| !c.trim().is_empty());
    crate::ssr::serve(move |services, caller| services.card_links(caller, card_number)).await
}

/// Links a card number to a controller. Dates are `YYYY-MM-DD` (UTC) or empty; `valid_until`
/// is the last day the link is in force.
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
    crate::ssr::serve(move |services, caller| {
        services.link_card(
            caller,
            crate::ssr::LinkRequest {
                card_number,
                issuer,
                controller,
                valid_from,
                valid_until,
            },
        )
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
    crate::ssr::serve(move |services, caller| {
        services.unlink_card(caller, card_number, issuer, controller)
    })
    .await
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
    crate::ssr::serve(move |services, caller| {
        services.audit(
            caller,
            crate::ssr::AuditQuery {
                since,
                until,
                action,
                card_number,
                controller,
            },
        )
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

/// An administrator's change to a controller's deployment test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentTestChange {
    /// Creates the test if there is none and adds to its case: document OIDs and test client
    /// identifiers, one per line (or separated by spaces or commas).
    Define {
        controller: String,
        documents: String,
        clients: String,
    },
    /// Starts the test again, with the reason on record.
    Reset { controller: String, reason: String },
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
    crate::ssr::serve(move |services, caller| services.change_deployment_test(caller, change)).await
}

#[cfg(feature = "ssr")]
async fn change_controller(
    csrf_token: String,
    change: ControllerChange,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services, caller| services.change_controller(caller, change)).await
}
