//! The notices banner at the top of every page: disruptions, maintenance windows and other
//! information, in the reader's language, inside a live region so that screen readers announce
//! it. The texts are the administrators' own words, always shown as text (never as markup).

use std::sync::Arc;

use leptos::prelude::*;

use crate::{
    api::notices::current_notices,
    i18n::use_language,
    local_time::Time,
    model::notices::NoticeView,
    notice_texts::{kind_name, notice_texts},
};

/// The notices shown now; nothing at all when there are none.
#[component]
pub fn NoticeBanner() -> impl IntoView {
    let language = use_language();
    let notices = Resource::new(|| (), |_| current_notices());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let notices = notices.await.unwrap_or_default();
                (!notices.is_empty())
                    .then(|| {
                        view! {
                            <section
                                class="notices"
                                aria-label=move || notice_texts(language.get()).banner
                            >
                                <div role="status" aria-live="polite" data-field="notices">
                                    {notices
                                        .into_iter()
                                        .map(|notice| view! { <Notice notice=Arc::new(notice) /> })
                                        .collect_view()}
                                </div>
                            </section>
                        }
                    })
            })}
        </Suspense>
    }
}

#[component]
fn Notice(notice: Arc<NoticeView>) -> impl IntoView {
    let language = use_language();
    let t = move || notice_texts(language.get());
    let kind = notice.kind;
    let text = {
        let notice = notice.clone();
        move || notice.text(language.get()).to_owned()
    };
    let text_language = {
        let notice = notice.clone();
        move || notice.text_language(language.get()).code()
    };
    let affected = (!notice.affected.is_empty()).then(|| {
        let affected = notice.affected.clone();
        view! {
            <span class="notice-affected">
                {move || t().affected} ": " <span data-field="notice-affected">{affected}</span>
            </span>
        }
    });
    let ends = notice.ends_at.clone().map(|ends| {
        view! {
            " · " {move || t().until} " " <Time value=ends />
        }
    });
    let closes = notice
        .closes_service
        .then(|| view! { <span class="notice-closes">{move || t().closes_service}</span> });
    view! {
        <div class="notice" data-kind=kind.code() data-notice=notice.id.clone()>
            <p>
                <strong class="notice-kind">{move || kind_name(kind, language.get())}</strong>
                " "
                <span lang=text_language data-field="notice-text">
                    {text}
                </span>
            </p>
            <p class="notice-details">
                {move || t().from} " " <Time value=notice.starts_at.clone() /> {ends} " "
                {affected} " " {closes}
            </p>
        </div>
    }
}
