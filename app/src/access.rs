//! What the signed-in card may see: its card number and the controllers linked to it.

use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};

use crate::error::ServiceError;

/// The signed-in card's access, as the authentication layer worked it out for this request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// The certificate was verified, but the configured rule finds no usable card number in it.
    /// `reason` is a stable code (`card_number_missing`, …) the page explains.
    Refused { reason: String },
    /// The card number and the controllers it is linked to now (possibly none).
    Linked {
        card_number: String,
        /// How the card number was read.
        rule: RuleView,
        administrator: bool,
        controllers: Vec<LinkedController>,
        /// The controller chosen to work in, one of `controllers`; `None`: all of them.
        active_controller: Option<String>,
    },
}

/// What the pages need of the signed-in session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Sent back with every state-changing request (the `csrf_token` argument of server
    /// functions that change something).
    pub csrf_token: String,
}

/// The configured card number rule, for the page to name in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleView {
    SubjectAttribute {
        oid: String,
    },
    SanOtherName {
        type_id: String,
    },
    IssuerAndSerial,
    /// Looked up in the enrolled bindings of certificates to card numbers.
    Enrolled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedController {
    pub oid: String,
    pub name: String,
    /// When the controller's newest document was archived (RFC 3339), if it has any.
    pub last_archived_at: Option<String>,
}

/// The access of the card on this request's TLS connection.
///
/// Reading server functions are GET requests: only POST requests change anything, and every
/// one of those is checked against cross-site forgery.
#[server(endpoint = "access", input = GetUrl)]
pub async fn current_access() -> Result<Access, ServiceError> {
    crate::ssr::serve(move |services, caller| services.access(caller)).await
}

/// The signed-in session, or `None` where there is none (the signed-out page starts none).
#[server(endpoint = "session", input = GetUrl)]
pub async fn current_session() -> Result<Option<SessionView>, ServiceError> {
    // Not `serve`: no session is an answer here, not a refusal, and must not set the status of
    // the page being rendered (the signed-out page, a 404 page).
    let caller = crate::ssr::caller().await?;
    let services = crate::ssr::services().await?;
    match services.session(&caller).await {
        Ok(view) => Ok(Some(view)),
        Err(ServiceError::NoSession) => Ok(None),
        Err(e) => Err(crate::ssr::refused(e)),
    }
}

/// Chooses the controller to work in; an empty `controller` means all linked controllers.
#[server(endpoint = "choose-controller")]
pub async fn choose_controller(csrf_token: String, controller: String) -> Result<(), ServiceError> {
    // Checked by the server's CSRF layer before this runs; named so that forms send it.
    let _ = csrf_token;
    let controller = Some(controller).filter(|c| !c.is_empty());
    crate::ssr::serve(move |services, caller| services.choose_controller(caller, controller)).await
}

/// Ends the session and shows the signed-out page.
#[server(endpoint = "sign-out")]
pub async fn sign_out(csrf_token: String) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services, caller| services.sign_out(caller)).await?;
    leptos_axum::redirect(crate::SIGNED_OUT_PATH);
    Ok(())
}
