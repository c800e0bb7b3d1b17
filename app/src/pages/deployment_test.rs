//! The deployment test page: per active controller, the state of its test and the documents of
//! the test case; the archivist marks each archived document checked against the source system
//! and confirms the test (asked once more first: a confirmation is not undone).

use leptos::prelude::*;

use crate::api::deployment_test::{CheckTestDocument, ConfirmDeploymentTest, deployment_tests};
use crate::deployment_test_texts::DeploymentTexts;
use crate::error::ServiceError;
use crate::i18n::use_language;
use crate::local_time::Time;
use crate::model::deployment_test::{
    ALREADY_CONFIRMED, DeploymentTestView, EMPTY_CASE, TestDocument, TestView, UNFINISHED,
};

use super::{CodedText, CsrfField, SessionResource, VersionStatus, is_not_found, session_resource};

#[component]
pub fn DeploymentTestPage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let actions = Actions {
        check: ServerAction::new(),
        confirm: ServerAction::new(),
    };
    // Read again after every check and confirmation, so the page shows what is recorded.
    let tests = Resource::new(
        move || {
            (
                actions.check.version().get(),
                actions.confirm.version().get(),
            )
        },
        |_| deployment_tests(),
    );
    let session = session_resource();
    view! {
        <h1>{move || t().heading}</h1>
        <p>{move || t().intro}</p>
        <ActionOutcome actions />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match tests.await {
                    Ok(tests) if tests.is_empty() => {
                        view! { <p class="note">{move || t().no_controllers}</p> }.into_any()
                    }
                    Ok(tests) => {
                        tests
                            .into_iter()
                            .map(|test| view! { <ControllerTest test actions session /> })
                            .collect_view()
                            .into_any()
                    }
                    Err(error) if is_not_found(&error) => {
                        view! { <super::NotFound /> }.into_any()
                    }
                    Err(_) => {
                        view! {
                            <p class="error" role="alert">
                                {move || t().unavailable}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The page's two changes, kept above its content so that their results survive the content
/// being read again.
#[derive(Clone, Copy)]
struct Actions {
    check: ServerAction<CheckTestDocument>,
    confirm: ServerAction<ConfirmDeploymentTest>,
}

/// The text for a refused check or confirmation.
fn refusal(t: &DeploymentTexts, error: &ServiceError) -> &'static str {
    match error {
        ServiceError::Conflict(code) if code == ALREADY_CONFIRMED => t.refused_already_confirmed,
        ServiceError::Conflict(code) if code == UNFINISHED => t.refused_unfinished,
        ServiceError::Conflict(code) if code == EMPTY_CASE => t.refused_empty,
        ServiceError::NotFound => t.refused_not_found,
        _ => t.unavailable,
    }
}

/// What the last confirmation or check came to, announced to screen readers.
#[component]
fn ActionOutcome(actions: Actions) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let message = move || {
        let failed = |result: Option<Result<(), ServiceError>>| match result {
            Some(Err(error)) => Some(error),
            _ => None,
        };
        if let Some(error) = failed(actions.confirm.value().get()) {
            return Some((true, refusal(t(), &error)));
        }
        if let Some(Ok(())) = actions.confirm.value().get() {
            return Some((false, t().confirmed_now));
        }
        failed(actions.check.value().get()).map(|error| (true, refusal(t(), &error)))
    };
    view! {
        <div role="status" data-field="deployment-outcome">
            {move || {
                message()
                    .map(|(error, text)| {
                        view! {
                            <p class=if error { "error" } else { "success" }>{text}</p>
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn ControllerTest(test: DeploymentTestView, actions: Actions, session: SessionResource) -> AnyView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let heading_id = format!("test-{}", test.controller_oid.replace('.', "-"));
    let production = test.production_since.clone();
    let state = match &test.test {
        None => "not_defined",
        Some(view) if view.confirmed.is_some() => "confirmed",
        Some(_) => "in_progress",
    };
    let state_text = move || match state {
        "not_defined" => t().state_not_defined,
        "confirmed" => t().state_confirmed,
        _ => t().state_in_progress,
    };
    let controller = test.controller_oid.clone();
    let labelledby = heading_id.clone();
    view! {
        <section
            class="deployment-test"
            aria-labelledby=labelledby
            data-controller=test.controller_oid.clone()
            data-state=state
        >
            <h2 id=heading_id>{test.controller_name.clone()}</h2>
            <dl class="facts">
                <dt>{move || t().heading}</dt>
                <dd data-field="test-state">{state_text}</dd>
                <dt>{move || t().in_production_since}</dt>
                <dd data-field="production">
                    {match production {
                        Some(since) => view! { <Time value=since /> }.into_any(),
                        None => view! { <span>{move || t().in_deployment}</span> }.into_any(),
                    }}
                </dd>
            </dl>
            {match test.test {
                None => view! { <p class="note">{move || t().not_defined_body}</p> }.into_any(),
                Some(view) => view! { <TestCase view controller actions session /> }.into_any(),
            }}
        </section>
    }
    .into_any()
}

#[component]
fn TestCase(
    view: TestView,
    controller: String,
    actions: Actions,
    session: SessionResource,
) -> AnyView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let checked = view
        .documents
        .iter()
        .filter(|d| d.checked.is_some())
        .count();
    let total = view.documents.len();
    let ready = view.ready();
    let confirmed = view.confirmed.clone();
    let reset = view.last_reset.clone();
    let open = confirmed.is_none();
    let documents = view.documents.clone();
    let controller_for_rows = controller.clone();
    view! {
        <dl class="facts">
            <dt>{move || t().round}</dt>
            <dd data-field="round">{view.round}</dd>
            <dt>{move || t().defined}</dt>
            <dd>{view.defined_by.clone()} " · " <Time value=view.defined_at.clone() /></dd>
            {reset
                .map(|reset| {
                    view! {
                        <dt>{move || t().last_reset}</dt>
                        <dd data-field="reset">
                            <Time value=reset.at.clone() />
                            " · "
                            {reset.by.clone()}
                            " — "
                            {move || t().reset_reason}
                            ": "
                            {reset.reason.clone()}
                        </dd>
                    }
                })}
            {confirmed
                .map(|c| {
                    view! {
                        <dt>{move || t().confirmed_by}</dt>
                        <dd data-field="confirmed-by">
                            {format!(
                                "{} ({}) · ",
                                c.by_name,
                                c.by_satu.clone().unwrap_or_else(|| c.card_number.clone()),
                            )}
                            <Time value=c.at.clone() />
                        </dd>
                        <dt>{move || t().confirmed_certificate}</dt>
                        <dd class="mono">{c.certificate_sha256.clone()}</dd>
                    }
                })}
        </dl>
        <h3>{move || t().documents_heading}</h3>
        <p data-field="progress">{format!("{checked} / {total} ")} {move || t().progress}</p>
        <TestDocuments documents controller=controller_for_rows open actions session />
        {open
            .then(|| {
                view! { <ConfirmTest controller ready actions session /> }
            })}
    }
    .into_any()
}

#[component]
fn TestDocuments(
    documents: Vec<TestDocument>,
    controller: String,
    open: bool,
    actions: Actions,
    session: SessionResource,
) -> AnyView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let d = move || language.get().document_texts();
    view! {
        <table class="data" data-field="test-documents">
            <thead>
                <tr>
                    <th scope="col">{move || d().document_time}</th>
                    <th scope="col">{move || d().document_type}</th>
                    <th scope="col">{move || d().client}</th>
                    <th scope="col">{move || d().status}</th>
                    <th scope="col">{move || t().check_column}</th>
                </tr>
            </thead>
            <tbody>
                {documents
                    .into_iter()
                    .map(|document| {
                        view! { <TestDocumentRow document controller=controller.clone() open actions session /> }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn TestDocumentRow(
    document: TestDocument,
    controller: String,
    open: bool,
    actions: Actions,
    session: SessionResource,
) -> AnyView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let origin = move || {
        if document.named {
            t().named_document
        } else {
            t().client_document
        }
    };
    let oid = document.document_oid.clone();
    let archived = document.archived.clone();
    let first_cell = match archived.clone() {
        Some(row) => {
            let href = format!("/documents/{}", row.document_oid);
            view! {
                <a href=href>
                    <Time value=row.effective_time.clone() />
                </a>
                <br />
                <span class="mono">{oid.clone()}</span>
            }
            .into_any()
        }
        None => view! {
            <span class="mono">{oid.clone()}</span>
            <br />
            <span class="note" data-field="not-archived">{move || t().not_archived}</span>
        }
        .into_any(),
    };
    let row_cells = archived.map(|row| {
        view! {
            <td>
                <CodedText value=row.document_type.clone() />
            </td>
            <td>
                <span class="mono">{row.client_id.clone()}</span>
                " "
                {row.client_name.clone().unwrap_or_default()}
            </td>
            <td>
                <VersionStatus status=row.status.clone() version=row.version_number />
            </td>
        }
    });
    let document_field = oid.clone();
    let check = match (
        document.checked.clone(),
        open && document.archived.is_some(),
    ) {
        (Some(check), _) => view! {
            <span data-field="checked">
                {move || t().checked_by} ": " {check.by_name.clone()} " · "
                <Time value=check.at.clone() />
            </span>
        }
        .into_any(),
        (None, true) => view! {
            <ActionForm action=actions.check>
                <CsrfField session />
                <input type="hidden" name="controller" value=controller.clone() />
                <input type="hidden" name="document" value=document_field />
                <button type="submit" data-action="check-document">
                    {move || t().mark_checked}
                </button>
            </ActionForm>
        }
        .into_any(),
        (None, false) => ().into_any(),
    };
    view! {
        <tr data-document=oid.clone() data-named=document.named.to_string()>
            <td>{first_cell} <br /> <small>{origin}</small></td>
            {row_cells.map(IntoAny::into_any).unwrap_or_else(|| view! { <td colspan="3"></td> }.into_any())}
            <td>{check}</td>
        </tr>
    }
    .into_any()
}

/// The confirmation, asked once more before it is sent: it moves the controller to production
/// and is not undone.
#[component]
fn ConfirmTest(
    controller: String,
    ready: bool,
    actions: Actions,
    session: SessionResource,
) -> AnyView {
    let language = use_language();
    let t = move || language.get().deployment_test_texts();
    let confirming = RwSignal::new(false);
    // A finished request closes the question, whatever its result.
    Effect::new(move |_| {
        if actions.confirm.version().get() > 0 {
            confirming.set(false);
        }
    });
    if !ready {
        return view! { <p class="note" data-field="not-ready">{move || t().not_ready}</p> }
            .into_any();
    }
    let question_id = StoredValue::new(format!("confirm-{}", controller.replace('.', "-")));
    let controller = StoredValue::new(controller);
    view! {
        <p>
            <button
                type="button"
                data-action="confirm-open"
                on:click=move |_| confirming.set(true)
                disabled=move || confirming.get()
            >
                {move || t().confirm_open}
            </button>
        </p>
        <Show when=move || confirming.get()>
            <div class="confirmation" role="alertdialog" aria-labelledby=question_id.get_value()>
                <p id=question_id.get_value()>{move || t().confirm_question}</p>
                <ActionForm action=actions.confirm>
                    <CsrfField session />
                    <input type="hidden" name="controller" value=controller.get_value() />
                    <button type="submit" data-action="confirm-test">
                        {move || t().confirm_button}
                    </button>
                    <button type="button" on:click=move |_| confirming.set(false)>
                        {move || t().cancel}
                    </button>
                </ActionForm>
            </div>
        </Show>
    }
    .into_any()
}
