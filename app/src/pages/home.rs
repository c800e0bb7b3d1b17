//! The first page after sign-in: who the card says you are, and what you may see.

use crate::local_time::Time;
use leptos::prelude::*;

use crate::api::access::{ChooseController, current_access, current_session};
use crate::api::identity::current_identity;
use crate::i18n::use_language;
use crate::model::access::{Access, LinkedController, RuleView};
use crate::model::identity::CertificateIdentity;

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
        <AccessSection />
    }
}

#[component]
fn AccessSection() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let choose = ServerAction::<ChooseController>::new();
    // Read again after each choice, so the page shows what the server kept.
    let access = Resource::new(move || choose.version().get(), |_| current_access());

    view! {
        <section aria-labelledby="access-heading" data-section="access">
            <h2 id="access-heading">{move || t().access_heading}</h2>
            <Suspense fallback=move || view! { <p>{move || t().loading}</p> }>
                {move || Suspend::new(async move {
                    match access.await {
                        Ok(
                            Access::Linked {
                                card_number,
                                rule,
                                administrator,
                                controllers,
                                active_controller,
                            },
                        ) => {
                            view! {
                                <dl class="identity">
                                    <dt>{move || t().card_number}</dt>
                                    <dd data-field="card-number" class="mono">{card_number}</dd>
                                    <dt>{move || t().card_number_rule}</dt>
                                    <dd data-field="card-number-rule">
                                        <RuleName rule />
                                    </dd>
                                </dl>
                                {administrator
                                    .then(|| {
                                        view! {
                                            <p data-field="administrator">
                                                {move || t().administrator_note}
                                            </p>
                                        }
                                    })}
                                <nav class="page-links" aria-label=move || t().access_heading>
                                    <a href="/search">
                                        {move || language.get().document_texts().search_link}
                                    </a>
                                    <a href="/documents">
                                        {move || language.get().document_texts().lookup_link}
                                    </a>
                                    <a href="/deployment-test">
                                        {move || language.get().deployment_test_texts().nav_link}
                                    </a>
                                    <a href="/audit">{move || t().nav_audit}</a>
                                    {administrator
                                        .then(|| {
                                            view! { <a href="/admin">{move || t().nav_admin}</a> }
                                        })}
                                </nav>
                                {(controllers.len() > 1)
                                    .then(|| {
                                        view! {
                                            <ControllerChooser
                                                controllers=controllers.clone()
                                                active=active_controller
                                                action=choose
                                            />
                                        }
                                    })}
                                <LinkedControllers controllers />
                            }
                                .into_any()
                        }
                        Ok(Access::Refused { reason }) => {
                            view! {
                                <div class="error" role="alert" data-field="access-refused">
                                    <p>{move || t().access_refused}</p>
                                    <p>
                                        {move || t().refusal_code} ": "
                                        <code data-field="refusal-code">{reason}</code>
                                    </p>
                                </div>
                            }
                                .into_any()
                        }
                        Err(_) => {
                            view! {
                                <p class="error" role="alert">{move || t().access_unavailable}</p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The choice of the controller to work in, kept in the session; searches and views use only
/// that controller's material (or all linked controllers').
#[component]
fn ControllerChooser(
    controllers: Vec<LinkedController>,
    active: Option<String>,
    action: ServerAction<ChooseController>,
) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let session = Resource::new(|| (), |_| current_session());
    let active_name = active
        .as_ref()
        .and_then(|oid| controllers.iter().find(|c| &c.oid == oid))
        .map(|c| c.name.clone());
    let failed = move || action.value().get().is_some_and(|result| result.is_err());
    view! {
        <section aria-labelledby="active-controller-heading" data-section="active-controller">
            <h3 id="active-controller-heading">{move || t().active_controller_heading}</h3>
            <p data-field="working-in">
                {move || t().working_in}
                ": "
                <strong>
                    {match active_name.clone() {
                        Some(name) => name.into_any(),
                        None => (move || t().all_controllers).into_any(),
                    }}
                </strong>
            </p>
            <Suspense>
                {move || {
                    let controllers = controllers.clone();
                    let active = active.clone();
                    Suspend::new(async move {
                        let token = session.await.ok().flatten()?.csrf_token;
                        Some(
                            view! {
                                <ActionForm action attr:class="controller-chooser">
                                    <input type="hidden" name="csrf_token" value=token />
                                    <label for="controller-choice">
                                        {move || t().active_controller_label}
                                    </label>
                                    <select id="controller-choice" name="controller">
                                        <option value="" selected=active.is_none()>
                                            {move || t().all_controllers}
                                        </option>
                                        {controllers
                                            .into_iter()
                                            .map(|c| {
                                                let selected = active.as_deref() == Some(c.oid.as_str());
                                                view! {
                                                    <option value=c.oid.clone() selected=selected>
                                                        {c.name}
                                                    </option>
                                                }
                                            })
                                            .collect_view()}
                                    </select>
                                    <button type="submit" data-action="choose-controller">
                                        {move || t().choose}
                                    </button>
                                </ActionForm>
                            },
                        )
                    })
                }}
            </Suspense>
            {move || {
                failed()
                    .then(|| {
                        view! {
                            <p class="error" role="alert">
                                {move || t().choice_failed}
                            </p>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn RuleName(rule: RuleView) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let (name, oid): (fn(&crate::i18n::Texts) -> &'static str, Option<String>) = match rule {
        RuleView::SubjectAttribute { oid } => (|t| t.rule_subject_attribute, Some(oid)),
        RuleView::SanOtherName { type_id } => (|t| t.rule_san_other_name, Some(type_id)),
        RuleView::IssuerAndSerial => (|t| t.rule_issuer_and_serial, None),
        RuleView::Enrolled => (|t| t.rule_enrolled, None),
    };
    view! {
        {move || name(t())}
        {oid.map(|oid| view! { " " <span class="mono">{oid}</span> })}
    }
}

#[component]
fn LinkedControllers(controllers: Vec<LinkedController>) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    if controllers.is_empty() {
        return view! {
            <p class="note" role="status" data-field="not-linked">{move || t().not_linked}</p>
        }
        .into_any();
    }
    view! {
        <p>{move || t().linked_controllers_intro}</p>
        <ul class="controllers" data-field="controllers">
            {controllers
                .into_iter()
                .map(|c| {
                    let last = c.last_archived_at.clone();
                    let oid = c.oid.clone();
                    view! {
                        <li data-controller=oid>
                            <strong>{c.name}</strong>
                            <span class="mono">" " {c.oid}</span>
                            <br />
                            {move || t().last_archived}
                            ": "
                            {match last.clone() {
                                Some(at) => view! { <Time value=at /> }.into_any(),
                                None => view! { <span>{move || t().no_documents_yet}</span> }.into_any(),
                            }}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
        .into_any()
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
                <Time value=identity.not_before.clone() />
            </dd>
            <dt>{move || t().valid_until}</dt>
            <dd data-field="not-after">
                <Time value=identity.not_after.clone() />
            </dd>
            <dt>{move || t().public_key_sha256}</dt>
            <dd data-field="public-key-sha256" class="mono">{identity.public_key_sha256}</dd>
        </dl>
    }
}
