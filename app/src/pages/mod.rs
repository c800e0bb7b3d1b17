//! The pages of the interface and the frame around them.

pub mod admin;
mod admin_notices;
pub mod audit;
pub mod client;
pub mod compare;
pub mod deployment_test;
pub mod document;
pub mod home;
mod notices;
pub mod search;
pub mod stored_cda;
mod structured;

use leptos::prelude::*;
use leptos_meta::{Html, Title};

use crate::api::access::{SignOut, current_session};
use crate::error::ServiceError;
use crate::i18n::{Language, use_language};
use crate::model::access::SessionView;

/// Header with the service name and the language chooser, and the main landmark.
///
/// `data-hydrated` turns true only once the WebAssembly has taken over the page, so that
/// browser tests can wait for an interactive page instead of racing the hydration.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let language = use_language();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        // The document's own language follows the reader's choice (screen readers and
        // hyphenation read it from `<html>`), on the server's render and after a switch alike.
        <Html {..} lang=move || language.get().code() />
        <Title text=title_text(language) />
        <div class="app">
            <header class="site-header">
                <p class="service-name">{move || language.get().texts().service_name}</p>
                <nav aria-label=move || language.get().texts().language_chooser>
                    <ul class="language-chooser">
                        {Language::ALL
                            .into_iter()
                            .map(|choice| {
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            lang=choice.code()
                                            aria-pressed=move || (language.get() == choice).to_string()
                                            on:click=move |_| crate::i18n::choose(language, choice)
                                        >
                                            {choice.native_name()}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
                <SignOutButton />
            </header>
            <notices::NoticeBanner />
            <main id="main" data-hydrated=move || hydrated.get().to_string()>
                {children()}
            </main>
        </div>
    }
}

/// The document's title: the service's name in the reader's language.
///
/// On the server it is fixed when the page is rendered. leptos_axum reads the title after the
/// body has been rendered, and for streamed pages that can happen outside the request's reactive
/// arena: a closure reading the language signal then panicked ("no Arena is active"; seen on
/// document pages under concurrent requests). In the browser it follows the language chooser.
fn title_text(language: RwSignal<crate::i18n::Language>) -> leptos::text_prop::TextProp {
    #[cfg(feature = "ssr")]
    {
        leptos::text_prop::TextProp::from(language.get_untracked().texts().service_name)
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::text_prop::TextProp::from(move || language.get().texts().service_name)
    }
}

/// A coded value (a document type, a service task) named in the reader's language.
#[component]
pub fn CodedText(value: Option<crate::model::document::HeaderValue>) -> impl IntoView {
    let language = use_language();
    move || {
        value
            .as_ref()
            .map(|v| v.display(language.get()))
            .unwrap_or_default()
    }
}

/// A version's status in words and its version number, as the document lists show them.
#[component]
pub fn VersionStatus(status: String, version: i32) -> impl IntoView {
    let language = use_language();
    let shown = status.clone();
    view! {
        <span class="status" data-status=status>
            {move || document::status_text(language.get(), &shown)}
        </span>
        " · "
        {move || language.get().document_texts().version}
        " "
        {version}
    }
}

/// The page's signed-in session, read once; its CSRF token goes into every form of the page.
pub type SessionResource = Resource<Result<Option<SessionView>, ServiceError>>;

/// The session of the page being shown (one request, whatever number of forms use it).
pub fn session_resource() -> SessionResource {
    Resource::new(|| (), |_| current_session())
}

/// A form's hidden CSRF field. The server renders it with the session's token, so that a form
/// sent before the WebAssembly has taken over the page passes the check like one sent after
/// (a DOM property set by the browser alone would be empty until then).
#[component]
pub fn CsrfField(session: SessionResource) -> AnyView {
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let token = session
                    .await
                    .ok()
                    .flatten()
                    .map(|s| s.csrf_token)
                    .unwrap_or_default();
                view! { <input type="hidden" name="csrf_token" value=token /> }
            })}
        </Suspense>
    }
    .into_any()
}

/// Whether a server function answered "not found" (the server's one answer for what does not
/// exist and for what the caller may not see).
pub fn is_not_found(error: &ServiceError) -> bool {
    *error == ServiceError::NotFound
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let language = use_language();
    view! {
        <h1 data-not-found="true">{move || language.get().texts().not_found_heading}</h1>
        <p>{move || language.get().texts().not_found_body}</p>
        <p>
            <a href="/">{move || language.get().texts().front_page}</a>
        </p>
    }
}

/// Whether the server answered the page being hydrated with the not-found page although the
/// browser's router matches a route: the server does so for a route the reader may not know
/// of (the administrators' page, `server::web::admin_routes`), and the browser must take over
/// what the server rendered, not the route's own view. Always false on the server and after
/// the first page.
pub fn rendered_as_not_found() -> bool {
    #[cfg(feature = "hydrate")]
    {
        let hydrating =
            Owner::current_shared_context().is_some_and(|context| context.during_hydration());
        hydrating
            && document()
                .query_selector("main [data-not-found]")
                .ok()
                .flatten()
                .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        false
    }
}

/// Shown in the header while there is a session (not on the signed-out page).
#[component]
fn SignOutButton() -> impl IntoView {
    let language = use_language();
    let session = Resource::new(|| (), |_| current_session());
    let sign_out = ServerAction::<SignOut>::new();
    // Sign-out moves to the signed-out page without reloading: the session this button was
    // rendered for has ended by then.
    let pathname = leptos_router::hooks::use_location().pathname;
    let signed_out = move || pathname.get() == crate::SIGNED_OUT_PATH;
    view! {
        <Show when=move || !signed_out()>
            <Suspense>
                {move || Suspend::new(async move {
                    session
                        .await
                        .ok()
                        .flatten()
                        .map(|view| {
                            view! {
                                <ActionForm action=sign_out attr:class="sign-out">
                                    <input type="hidden" name="csrf_token" value=view.csrf_token />
                                    <button type="submit" data-action="sign-out">
                                        {move || language.get().texts().sign_out}
                                    </button>
                                </ActionForm>
                            }
                        })
                })}
            </Suspense>
        </Show>
    }
}

/// Where sign-out leads. Visiting it starts no session, so it can tell the archivist what to do
/// with the card.
#[component]
pub fn SignedOut() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    view! {
        <h1>{move || t().signed_out_heading}</h1>
        <p role="status" data-field="signed-out">{move || t().signed_out_body}</p>
        <p>
            <a href="/" rel="external">{move || t().sign_in_again}</a>
        </p>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::prelude::*;

    use super::title_text;
    use crate::i18n::Language;

    #[test]
    fn the_servers_title_is_readable_after_the_page_is_gone() {
        let owner = Owner::new();
        let title = owner.with(|| title_text(RwSignal::new(Language::Sv)));
        // What leptos_axum may do: read the title once the page's reactive values are gone.
        owner.cleanup();
        assert_eq!(title.get(), Language::Sv.texts().service_name);
    }
}
