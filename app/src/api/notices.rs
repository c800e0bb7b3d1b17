//! The server functions of the notices: the banner's, and the administrators'.

// A form's fields are a server function's arguments (one each, as the form names them); the
// notice form has ten, in the browser's build as in the server's.
#![allow(clippy::too_many_arguments)]

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{error::ServiceError, model::notices::NoticeView};

/// The notices shown now (no card right is needed: they are public, like the feeds).
#[server(endpoint = "notices", input = GetUrl)]
pub async fn current_notices() -> Result<Vec<NoticeView>, ServiceError> {
    Ok(crate::ssr::current_notices().await)
}

/// Administrators only: the newest notices, ended ones too.
#[server(endpoint = "admin/notices", input = GetUrl)]
pub async fn admin_notices() -> Result<Vec<crate::model::notices::AdminNoticeRow>, ServiceError> {
    crate::ssr::serve(move |services| services.admin_notices()).await
}

/// Administrators only: creates a notice (`id` empty) or changes one. Times are Finland's time
/// as `datetime-local` fields send them; an unticked `closes_service` is not sent at all.
#[server(endpoint = "admin/save-notice")]
pub async fn save_notice(
    csrf_token: String,
    id: String,
    kind: String,
    text_fi: String,
    text_sv: String,
    text_en: String,
    affected: String,
    starts_at: String,
    ends_at: String,
    closes_service: Option<String>,
) -> Result<(), ServiceError> {
    let _ = csrf_token;
    let form = crate::model::notices::NoticeForm {
        id,
        kind,
        text_fi,
        text_sv,
        text_en,
        affected,
        starts_at,
        ends_at,
        closes_service: closes_service.is_some(),
    };
    crate::ssr::serve(move |services| services.save_notice(form)).await
}

/// Administrators only: ends a notice now.
#[server(endpoint = "admin/end-notice")]
pub async fn end_notice(csrf_token: String, id: String) -> Result<(), ServiceError> {
    let _ = csrf_token;
    crate::ssr::serve(move |services| services.end_notice(id)).await
}
