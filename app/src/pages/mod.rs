//! The pages of the interface and the frame around them.

pub mod home;

use leptos::prelude::*;

use crate::i18n::{Language, use_language};

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
        <div class="app" lang=move || language.get().code()>
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
                                            on:click=move |_| language.set(choice)
                                        >
                                            {choice.native_name()}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </nav>
            </header>
            <main id="main" data-hydrated=move || hydrated.get().to_string()>
                {children()}
            </main>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let language = use_language();
    view! {
        <h1>{move || language.get().texts().not_found_heading}</h1>
        <p>{move || language.get().texts().not_found_body}</p>
        <p>
            <a href="/">{move || language.get().texts().front_page}</a>
        </p>
    }
}
