//! The server functions of access: the card's access, the session, the controller to work in, signing out.

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{
    error::ServiceError,
    model::access::{Access, SessionView},
};

/// The access of the card on this request's TLS connection.
///
/// Reading server functions are GET requests: only POST requests change anything, and every
/// one of those is checked against cross-site forgery.
#[server(endpoint = "access", input = GetUrl)]
pub async fn current_access() -> Result<Access, ServiceError> {
    crate::ssr::serve(move |services| services.access()).await
}

/// The signed-in session, or `None` where there is none (the signed-out page starts none).
#[server(endpoint = "session", input = GetUrl)]
pub async fn current_session() -> Result<Option<SessionView>, ServiceError> {
    // Not `serve`: no session is an answer here, not a refusal, and must not set the status of
    // the page being rendered (the signed-out page, a 404 page).
    let services = crate::ssr::services().await?;
    match services.session().await {
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
    crate::ssr::serve(move |services| services.choose_controller(controller)).await
}

/// Ends the session and shows the signed-out page.
#[server(endpoint = "sign-out")]
pub async fn sign_out(csrf_token: String) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.sign_out()).await?;
    leptos_axum::redirect(crate::SIGNED_OUT_PATH);
    Ok(())
}
