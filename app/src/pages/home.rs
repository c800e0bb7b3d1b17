//! The first page after sign-in: who the card says you are.

use leptos::prelude::*;

use crate::i18n::use_language;
use crate::identity::{CertificateIdentity, current_identity};

#[component]
pub fn HomePage() -> impl IntoView {
    let language = use_language();
    let identity = Resource::new(|| (), |_| current_identity());

    view! {
        <h1>{move || language.get().texts().identity_heading}</h1>
        <p>{move || language.get().texts().identity_intro}</p>
        <Suspense fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match identity.await {
                    Ok(identity) => view! { <IdentityDetails identity /> }.into_any(),
                    Err(_) => {
                        view! {
                            <p class="error" role="alert">
                                {move || language.get().texts().identity_unavailable}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
        <p class="note">{move || language.get().texts().controllers_pending}</p>
    }
}

#[component]
fn IdentityDetails(identity: CertificateIdentity) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let satu = identity.satu.clone();
    view! {
        <dl class="identity">
            <dt>{move || t().holder_name}</dt>
            <dd data-field="holder-name">{identity.holder_name}</dd>
            <dt>{move || t().satu}</dt>
            <dd data-field="satu">
                {move || satu.clone().unwrap_or_else(|| t().not_present.to_owned())}
            </dd>
            <dt>{move || t().subject}</dt>
            <dd data-field="subject">{identity.subject}</dd>
            <dt>{move || t().issuer}</dt>
            <dd data-field="issuer">{identity.issuer}</dd>
            <dt>{move || t().certificate_serial}</dt>
            <dd data-field="serial" class="mono">{identity.serial}</dd>
            <dt>{move || t().valid_from}</dt>
            <dd data-field="not-before">
                <time datetime=identity.not_before.clone()>{identity.not_before.clone()}</time>
            </dd>
            <dt>{move || t().valid_until}</dt>
            <dd data-field="not-after">
                <time datetime=identity.not_after.clone()>{identity.not_after.clone()}</time>
            </dd>
            <dt>{move || t().public_key_sha256}</dt>
            <dd data-field="public-key-sha256" class="mono">{identity.public_key_sha256}</dd>
        </dl>
    }
}
