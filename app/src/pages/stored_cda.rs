//! `/documents/{oid}/cda`: the stored CDA as readable, highlighted text, checked against its
//! SHA-256 on the server; the download link serves the stored bytes themselves.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api::document::stored_cda;
use crate::error::ServiceError;
use crate::i18n::use_language;
use crate::model::document::StoredCdaView;

use super::{NotFound, admin::Refusal, is_not_found};

#[component]
pub fn StoredCdaPage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let params = use_params_map();
    let oid = move || params.read().get("oid").unwrap_or_default();
    let view = Resource::new(oid, stored_cda);
    view! {
        <Transition fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(view) => view! { <StoredCda view /> }.into_any(),
                    Err(error) if is_not_found(&error) => view! { <NotFound /> }.into_any(),
                    Err(ServiceError::Integrity) => {
                        view! {
                            <h1>{move || t().cda_heading}</h1>
                            <p class="error integrity" role="alert" data-field="integrity-error">
                                {move || t().integrity_error}
                            </p>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <Refusal error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StoredCda(view: StoredCdaView) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let oid = view.document_oid.clone();
    let download = format!("/api/documents/{oid}/raw?download=1");
    view! {
        <h1>{move || t().cda_heading}</h1>
        <p class="document-meta">
            <a href=format!("/documents/{oid}")>{move || t().back_to_document}</a>
            " · "
            <span class="mono">{oid.clone()}</span>
        </p>
        <dl class="facts">
            <dt>{move || t().sha256}</dt>
            <dd class="mono" data-field="raw-sha256">{view.sha256.clone()}</dd>
            <dt>{move || t().size}</dt>
            <dd>{view.size} " " {move || t().bytes}</dd>
            <dt>{move || t().encoding}</dt>
            <dd data-field="encoding">{view.encoding.clone()}</dd>
        </dl>
        <p>
            <a href=download rel="external" download="" data-action="raw-download">
                {move || t().download}
            </a>
        </p>
        {match view.tokens {
            None => view! { <p class="note" data-field="too-large">{move || t().cda_too_large}</p> }.into_any(),
            Some(tokens) => {
                view! {
                    // Focusable: a keyboard scrolls a long document.
                    <pre class="cda" tabindex="0" aria-label=move || t().cda_label data-field="cda">
                        {tokens
                            .into_iter()
                            .map(|token| view! { <span class=token.kind.class()>{token.text}</span> })
                            .collect_view()}
                    </pre>
                }
                    .into_any()
            }
        }}
    }
    .into_any()
}
