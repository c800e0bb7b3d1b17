//! The Archivist's interface as seen in the browser: pages, texts in Finnish, Swedish and
//! English, and the server functions they call.
//!
//! The crate is built twice: with `ssr` into the `archivist` server, and with `hydrate` into
//! the WebAssembly that makes the server-rendered page interactive. It never talks to the
//! database; server-side data reaches it through the types in [`ssr`].

// Request paths and commands report failures as errors; a panic is for tests only.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]

pub mod api;
pub mod compare_texts;
pub mod deployment_test_texts;
pub mod document_texts;
pub mod error;
pub mod i18n;
pub mod local_time;
pub mod model;
pub mod notice_texts;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
#[cfg(feature = "ssr")]
pub mod status_pages;
pub mod structured_labels;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

/// Name of the compiled site assets (`/pkg/archivist.js`, `.wasm`, `.css`); the same as
/// `output-name` in the workspace's cargo-leptos metadata.
pub const SITE_OUTPUT_NAME: &str = "archivist";

/// The site's icon (in `public/`): every page links it, so that no browser asks for a
/// `/favicon.ico` that is not there.
pub const FAVICON_PATH: &str = "/favicon.svg";

/// The page sign-out leads to; visiting it does not start a session.
pub const SIGNED_OUT_PATH: &str = "/signed-out";

/// The HTML document around the application, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        // `lang` comes from the reader's language (`leptos_meta::Html` in the layout).
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href=FAVICON_PATH />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this origin or with this response's
/// nonce (the inline hydration loader and resource data), WebAssembly compilation allowed,
/// styles only from the style sheet, nothing framed, nothing framing us.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use http::{HeaderValue, header::CONTENT_SECURITY_POLICY};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    i18n::provide_language();
    let stylesheet = format!("/pkg/{SITE_OUTPUT_NAME}.css");

    view! {
        <Stylesheet id="leptos" href=stylesheet />
        <Router>
            <pages::Layout>
                <Routes fallback=pages::NotFound>
                    <Route path=StaticSegment("") view=pages::home::HomePage />
                    <Route path=StaticSegment("signed-out") view=pages::SignedOut />
                    // Rendered whole before the first byte, so that a refusal can set the status
                    // (404 for anyone who is not an administrator).
                    <Route
                        path=StaticSegment("admin")
                        view=pages::admin::AdminPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("audit")
                        view=pages::audit::AuditPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("client")
                        view=pages::client::ClientPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("compare")
                        view=pages::compare::ComparePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("deployment-test")
                        view=pages::deployment_test::DeploymentTestPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("search")
                        view=pages::search::SearchPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("documents")
                        view=pages::document::DocumentLookup
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("documents"), ParamSegment("oid"), StaticSegment("cda"))
                        view=pages::stored_cda::StoredCdaPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("documents"), ParamSegment("oid"))
                        view=pages::document::DocumentPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </pages::Layout>
        </Router>
    }
}

/// Entry point of the WebAssembly module: attaches the client to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
