//! Notices on the web side: every request gets the notices shown now (the pages' banner reads
//! them from the request, the pages the server writes itself from [`shown`]); the public feeds
//! `/notices.json` and `/notices.atom`; and the maintenance gate, which answers 503 to everyone
//! but administrators while a window closes the service.

use std::sync::Arc;

use app::{
    i18n::{self, Language},
    model::notices::NoticeView,
    ssr::CurrentNotices,
};
use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use quick_xml::{
    Writer,
    events::{BytesDecl, BytesText, Event},
};
use serde_json::json;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::context::RequestContext;
use crate::notices::{Notice, board::NoticeBoard};

pub const JSON_FEED: &str = "/notices.json";
pub const ATOM_FEED: &str = "/notices.atom";

/// How long a feed reader or a proxy may keep a feed: a notice reaches readers within this.
const FEED_MAX_AGE: &str = "public, max-age=30";

tokio::task_local! {
    /// The notices shown on this request, for the pages the server writes without the
    /// application (401, 404, 503, refusals): they are made deep in handlers and layers that
    /// are not handed the request, and every one of them must show the banner.
    static SHOWN: Arc<[NoticeView]>;
}

/// The notices shown on the request being answered (none outside a request).
pub fn shown() -> Arc<[NoticeView]> {
    SHOWN.try_with(Arc::clone).unwrap_or_else(|_| Arc::new([]))
}

/// Runs `answer` with the notices shown now, for a page made outside the router's layers (the
/// connection's own refusal when its sign-in cannot be recorded).
pub async fn with_shown<T>(board: &NoticeBoard, answer: impl Future<Output = T>) -> T {
    SHOWN
        .scope(board.shown(OffsetDateTime::now_utc()).into(), answer)
        .await
}

/// Middleware (outermost but for the metrics): the notices shown now, for this request.
pub async fn attach(
    State(board): State<NoticeBoard>,
    mut request: Request,
    next: Next,
) -> Response {
    let shown: Arc<[NoticeView]> = board.shown(OffsetDateTime::now_utc()).into();
    request
        .extensions_mut()
        .insert(CurrentNotices(shown.clone()));
    SHOWN.scope(shown, next.run(request)).await
}

/// Middleware (inside the request context, before sign-in): while a maintenance window closes
/// the service, only administrators get further; the rest get 503 with `Retry-After` until the
/// window's end. Public paths (assets, the health check, the feeds) are not closed.
pub async fn close_for_maintenance(
    State(board): State<NoticeBoard>,
    request: Request,
    next: Next,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let Some(window) = board.closing(now) else {
        return next.run(request).await;
    };
    if super::is_public(request.uri().path()) {
        return next.run(request).await;
    }
    if let Some(context) = request.extensions().get::<RequestContext>() {
        match context.is_administrator().await {
            Ok(true) => return next.run(request).await,
            Ok(false) => {}
            // Closed all the same: the window is what the archivist needs to see.
            Err(error) => {
                tracing::error!(%error, "cannot tell whether the card is an administrator's")
            }
        }
    }
    closed(&request, &window, now)
}

fn closed(request: &Request, window: &Notice, now: OffsetDateTime) -> Response {
    let retry_after = window
        .ends_at
        .map_or(60, |end| (end - now).whole_seconds().max(1));
    let retry_after = [(header::RETRY_AFTER, retry_after.to_string())];
    let view = window.view();
    let path = request.uri().path();
    if path.starts_with("/api/") || path == "/audit.csv" {
        let body = json!({
            "error": "maintenance",
            "until": view.ends_at,
            "text": { "fi": view.text_fi, "sv": view.text_sv, "en": view.text(Language::En) },
        });
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            retry_after,
            axum::Json(body),
        )
            .into_response();
    }
    let reader = reader_language(request);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        retry_after,
        Html(app::status_pages::closed_for_maintenance(
            &view,
            reader,
            &shown(),
        )),
    )
        .into_response()
}

/// The language the reader chose on the pages (the remembered choice), Finnish without one.
fn reader_language(request: &Request) -> Language {
    let cookies: Vec<&str> = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    i18n::from_cookies(&cookies.join("; ")).unwrap_or_default()
}

/// `GET /notices.json`: the current and coming notices, for status pages and intranets.
pub async fn json_feed(State(board): State<NoticeBoard>) -> Response {
    let now = OffsetDateTime::now_utc();
    let notices: Vec<serde_json::Value> = board
        .not_ended(now)
        .iter()
        .map(|notice| {
            let mut entry = serde_json::to_value(notice.view()).unwrap_or_default();
            entry["current"] = json!(notice.is_in_force(now));
            entry
        })
        .collect();
    let body = json!({ "generated_at": rfc3339(now), "notices": notices });
    feed_response("application/json", body.to_string())
}

/// `GET /notices.atom`: the same as an Atom 1.0 feed (RFC 4287).
pub async fn atom_feed(State(board): State<NoticeBoard>) -> Response {
    let now = OffsetDateTime::now_utc();
    match atom(&board.not_ended(now), now) {
        Ok(body) => feed_response("application/atom+xml; charset=utf-8", body),
        Err(error) => {
            tracing::error!(%error, "cannot write the notices feed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn feed_response(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(FEED_MAX_AGE),
            ),
            // Public and without credentials: any status page may read it from its own origin.
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The feed's and its entries' ids: tag URIs (RFC 4151), the same whatever host name the feed
/// is read under.
const FEED_ID: &str = "tag:archivist.kanta.fi,2026:notices";

fn atom(notices: &[Notice], now: OffsetDateTime) -> std::io::Result<String> {
    let updated = notices
        .iter()
        .map(|notice| notice.updated_at)
        .max()
        .unwrap_or(now);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    writer
        .create_element("feed")
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .with_attribute(("xml:lang", "fi"))
        .write_inner_content(|w| {
            text_element(w, "id", FEED_ID)?;
            text_element(
                w,
                "title",
                "Kanta – arkistonhoitajan käyttöliittymä: tiedotteet · meddelanden · notices",
            )?;
            text_element(w, "updated", &rfc3339(updated))?;
            w.create_element("author")
                .write_inner_content(|w| text_element(w, "name", "Kanta"))?;
            for notice in notices {
                entry(w, notice, now)?;
            }
            Ok(())
        })?;
    String::from_utf8(writer.into_inner()).map_err(std::io::Error::other)
}

fn entry(w: &mut Writer<Vec<u8>>, notice: &Notice, now: OffsetDateTime) -> std::io::Result<()> {
    let view = notice.view();
    let title = Language::ALL
        .map(|l| app::notice_texts::kind_name(view.kind, l))
        .join(" · ");
    let mut content = String::new();
    for language in Language::ALL {
        let texts = app::notice_texts::notice_texts(language);
        content.push_str(view.text(language));
        content.push_str(&format!(
            "\n{} {}",
            texts.from,
            app::local_time::display(language, &view.starts_at)
        ));
        if let Some(end) = &view.ends_at {
            content.push_str(&format!(
                " · {} {}",
                texts.until,
                app::local_time::display(language, end)
            ));
        }
        if !view.affected.is_empty() {
            content.push_str(&format!(" · {}: {}", texts.affected, view.affected));
        }
        content.push_str("\n\n");
    }
    w.create_element("entry").write_inner_content(|w| {
        text_element(w, "id", &format!("{FEED_ID}/{}", view.id))?;
        text_element(w, "title", &title)?;
        text_element(w, "updated", &view.updated_at)?;
        w.create_element("category")
            .with_attribute(("term", view.kind.code()))
            .write_empty()?;
        if notice.is_in_force(now) {
            w.create_element("category")
                .with_attribute(("term", "current"))
                .write_empty()?;
        }
        if view.closes_service {
            w.create_element("category")
                .with_attribute(("term", "closes_service"))
                .write_empty()?;
        }
        w.create_element("content")
            .with_attribute(("type", "text"))
            .write_text_content(BytesText::new(content.trim_end()))?;
        Ok(())
    })?;
    Ok(())
}

fn text_element(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))?;
    Ok(())
}
