//! The administrators' page: find a card's links, link a card number to a controller and end a
//! link, each change confirmed first. Anyone without the administrator right gets the
//! not-found page, as for an address that does not exist.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::admin::{
    CreateController, DefineDeploymentTest, LinkCard, MergeController, RenameController,
    ResetDeploymentTest, UnlinkCard, admin_overview, card_links,
};
use crate::error::ServiceError;
use crate::i18n::{Texts, use_language};
use crate::local_time::Time;
use crate::model::admin::{CardLinkView, ControllerRow, LinkFormOptions, LinkResult};

use super::{CsrfField, NotFound, SessionResource, is_not_found, session_resource};

/// The page's text for a refused input (the server's `invalid:…` codes).
pub fn invalid_text(t: &'static Texts, error: &ServiceError) -> &'static str {
    // Invalid input and a state that refuses the change both name their code.
    match error.code() {
        Some("card_number") => t.invalid_card_number,
        Some("controller") => t.invalid_controller,
        Some("issuer") => t.invalid_issuer,
        Some("valid_from" | "valid_until" | "since" | "until") => t.invalid_date,
        Some("validity") => t.invalid_validity,
        Some("not_linked") => t.invalid_not_linked,
        Some("oid") => t.invalid_oid,
        Some("name") => t.invalid_name,
        Some("controller_exists") => t.invalid_controller_exists,
        Some("already_merged") => t.invalid_already_merged,
        Some("merge_cycle") => t.invalid_merge_cycle,
        Some("document") => t.invalid_document,
        Some("no_test") => t.invalid_no_test,
        Some("test_confirmed") => t.invalid_test_confirmed,
        Some("nothing_named") => t.invalid_nothing_named,
        Some("client") => t.invalid_client_id,
        Some("reason") => t.invalid_reason,
        _ => t.access_unavailable,
    }
}

/// A refused or failed request, explained in the reader's language.
#[component]
pub fn Refusal(error: ServiceError, #[prop(optional)] field: &'static str) -> AnyView {
    let language = use_language();
    // Stored bytes that no longer match their digest: loud, on whichever page read them.
    if error == ServiceError::Integrity {
        return view! {
            <p class="error integrity" role="alert" data-field="integrity-error">
                {move || language.get().document_texts().integrity_error}
            </p>
        }
        .into_any();
    }
    view! {
        <p class="error" role="alert" data-field=field>
            {move || invalid_text(language.get().texts(), &error)}
        </p>
    }
    .into_any()
}

#[component]
pub fn AdminPage() -> impl IntoView {
    if super::rendered_as_not_found() {
        return view! { <NotFound /> }.into_any();
    }
    let language = use_language();
    let t = move || language.get().texts();
    let changes = ControllerActions {
        create: ServerAction::new(),
        rename: ServerAction::new(),
        merge: ServerAction::new(),
    };
    // Read again after every controller change, so both forms offer what is there now.
    let options = Resource::new(
        move || {
            (
                changes.create.version().get(),
                changes.rename.version().get(),
                changes.merge.version().get(),
            )
        },
        |_| admin_overview(),
    );

    view! {
        <Transition fallback=move || view! { <p>{move || t().loading}</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! { <Administration options changes /> }.into_any(),
                    Err(error) if is_not_found(&error) => view! { <NotFound /> }.into_any(),
                    Err(_) => {
                        view! {
                            <p class="error" role="alert">
                                {move || t().access_unavailable}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
    .into_any()
}

/// The controller changes an administrator can make, kept above the page's content so that
/// their results survive the content being read again.
#[derive(Clone, Copy)]
struct ControllerActions {
    create: ServerAction<CreateController>,
    rename: ServerAction<RenameController>,
    merge: ServerAction<MergeController>,
}

#[component]
fn Administration(options: LinkFormOptions, changes: ControllerActions) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let query = use_query_map();
    let searched = move || query.read().get("card").unwrap_or_default();
    let link = ServerAction::<LinkCard>::new();
    let unlink = ServerAction::<UnlinkCard>::new();
    let links = Resource::new(
        move || (searched(), link.version().get(), unlink.version().get()),
        |(card, _, _)| card_links(card),
    );
    let session = session_resource();

    view! {
        <h1>{move || t().admin_heading}</h1>
        <p>{move || t().admin_intro}</p>
        <form method="get" action="/admin">
            <div class="filters">
                <label>
                    {move || t().card_search_label}
                    <input type="search" name="card" value=searched data-field="card-search" />
                </label>
                <button type="submit">{move || t().search}</button>
            </div>
            <p class="note">{move || t().card_search_hint}</p>
        </form>
        <LinkForm options=options.clone() link session />
        <super::admin_notices::Notices session />
        <DeploymentTests controllers=options.controllers.clone() session />
        <Controllers controllers=options.controllers changes session />
        <section aria-labelledby="history-heading">
            <h2 id="history-heading">{move || t().history_heading}</h2>
            <UnlinkResult unlink />
            <Transition fallback=move || view! { <p>{move || t().loading}</p> }>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(rows) => view! { <LinkHistory rows unlink session /> }.into_any(),
                        Err(error) => view! { <Refusal error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn LinkForm(
    options: LinkFormOptions,
    link: ServerAction<LinkCard>,
    session: SessionResource,
) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let card = RwSignal::new(String::new());
    let issuer = RwSignal::new(options.issuers.first().cloned().unwrap_or_default());
    // A merged controller's material is its successor's: links go to the successor.
    let linkable: Vec<ControllerRow> = options
        .controllers
        .iter()
        .filter(|c| c.successor_oid.is_none())
        .cloned()
        .collect();
    let controller = RwSignal::new(linkable.first().map(|c| c.oid.clone()).unwrap_or_default());
    let from = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    // A finished request closes the confirmation, whatever its result.
    Effect::new(move |_| {
        if link.version().get() > 0 {
            confirming.set(false);
        }
    });
    let controllers = StoredValue::new(linkable.clone());
    let controller_name = move || {
        controllers.with_value(|all| {
            all.iter()
                .find(|c| c.oid == controller.get())
                .map(|c| format!("{} ({})", c.name, c.oid))
                .unwrap_or_default()
        })
    };
    let several_issuers = options.issuers.len() > 1;

    view! {
        <section aria-labelledby="link-heading" data-section="link">
            <h2 id="link-heading">{move || t().link_heading}</h2>
            <div class="link-form">
                <label>
                    {move || t().card_search_label}
                    <input
                        type="text"
                        data-field="link-card-number"
                        prop:value=move || card.get()
                        on:input=move |ev| card.set(event_target_value(&ev))
                    />
                </label>
                {several_issuers
                    .then(|| {
                        view! {
                            <label>
                                {move || t().issuer_label}
                                <select on:change=move |ev| issuer.set(event_target_value(&ev))>
                                    {options
                                        .issuers
                                        .iter()
                                        .map(|i| view! { <option value=i.clone()>{i.clone()}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                        }
                    })}
                <label>
                    {move || t().controller_label}
                    <select
                        data-field="link-controller"
                        on:change=move |ev| controller.set(event_target_value(&ev))
                    >
                        {linkable
                            .iter()
                            .map(|c| {
                                view! {
                                    <option value=c.oid.clone()>
                                        {format!("{} ({})", c.name, c.oid)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    {move || t().valid_from_label}
                    <input
                        type="date"
                        prop:value=move || from.get()
                        on:input=move |ev| from.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    {move || t().valid_until_label}
                    <input
                        type="date"
                        prop:value=move || until.get()
                        on:input=move |ev| until.set(event_target_value(&ev))
                    />
                </label>
                <button
                    type="button"
                    data-action="link"
                    on:click=move |_| confirming.set(true)
                    disabled=move || card.get().trim().is_empty()
                >
                    {move || t().link_button}
                </button>
            </div>
            <Show when=move || confirming.get()>
                <div class="confirmation" role="alertdialog" aria-labelledby="confirm-link-text">
                    <p id="confirm-link-text">{move || t().confirm_link}</p>
                    <dl class="identity">
                        <dt>{move || t().card_search_label}</dt>
                        <dd class="mono" data-field="confirm-card">{move || card.get()}</dd>
                        <dt>{move || t().controller_label}</dt>
                        <dd data-field="confirm-controller">{controller_name}</dd>
                        <dt>{move || t().col_validity}</dt>
                        <dd>{move || format!("{} – {}", from.get(), until.get())}</dd>
                    </dl>
                    <ActionForm action=link>
                        <CsrfField session />
                        <input type="hidden" name="card_number" prop:value=move || card.get() />
                        <input type="hidden" name="issuer" prop:value=move || issuer.get() />
                        <input type="hidden" name="controller" prop:value=move || controller.get() />
                        <input type="hidden" name="valid_from" prop:value=move || from.get() />
                        <input type="hidden" name="valid_until" prop:value=move || until.get() />
                        <button type="submit" data-action="confirm-link">
                            {move || t().confirm}
                        </button>
                        <button type="button" on:click=move |_| confirming.set(false)>
                            {move || t().cancel}
                        </button>
                    </ActionForm>
                </div>
            </Show>
            {move || {
                link.value()
                    .get()
                    .map(|result| match result {
                        Ok(LinkResult::Linked) => {
                            view! {
                                <p role="status" data-field="link-result">
                                    {move || t().linked_ok}
                                </p>
                            }
                                .into_any()
                        }
                        Ok(LinkResult::AlreadyLinked) => {
                            view! {
                                <p role="status" data-field="link-result">
                                    {move || t().already_linked}
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => view! { <Refusal error field="link-result" /> }.into_any(),
                    })
            }}
        </section>
    }
}

#[component]
fn UnlinkResult(unlink: ServerAction<UnlinkCard>) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    move || {
        unlink.value().get().map(|result| match result {
            Ok(()) => view! {
                <p role="status" data-field="unlink-result">
                    {move || t().unlinked_ok}
                </p>
            }
            .into_any(),
            Err(error) => view! { <Refusal error field="unlink-result" /> }.into_any(),
        })
    }
}

#[component]
fn LinkHistory(
    rows: Vec<CardLinkView>,
    unlink: ServerAction<UnlinkCard>,
    session: SessionResource,
) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let pending = RwSignal::new(None::<CardLinkView>);
    Effect::new(move |_| {
        if unlink.version().get() > 0 {
            pending.set(None);
        }
    });
    if rows.is_empty() {
        return view! { <p class="note">{move || t().no_links}</p> }.into_any();
    }
    view! {
        <Show when=move || pending.with(Option::is_some)>
            <div class="confirmation" role="alertdialog" aria-labelledby="confirm-unlink-text">
                <p id="confirm-unlink-text">{move || t().confirm_unlink}</p>
                <p class="mono">
                    {move || {
                        pending
                            .get()
                            .map(|r| {
                                format!("{} → {} ({})", r.card_number, r.controller_name, r.controller_oid)
                            })
                    }}
                </p>
                <ActionForm action=unlink>
                    <CsrfField session />
                    <input
                        type="hidden"
                        name="card_number"
                        prop:value=move || pending.get().map(|r| r.card_number).unwrap_or_default()
                    />
                    <input
                        type="hidden"
                        name="issuer"
                        prop:value=move || pending.get().map(|r| r.issuer).unwrap_or_default()
                    />
                    <input
                        type="hidden"
                        name="controller"
                        prop:value=move || pending.get().map(|r| r.controller_oid).unwrap_or_default()
                    />
                    <button type="submit" data-action="confirm-unlink">
                        {move || t().confirm}
                    </button>
                    <button type="button" on:click=move |_| pending.set(None)>
                        {move || t().cancel}
                    </button>
                </ActionForm>
            </div>
        </Show>
        // Focusable, so that a keyboard can scroll a table wider than the screen.
        <div class="table-wrap" tabindex="0" role="region" aria-label=move || t().history_heading>
            <table class="data" data-field="link-history">
                <thead>
                    <tr>
                        <th scope="col">{move || t().col_card}</th>
                        <th scope="col">{move || t().controller_label}</th>
                        <th scope="col">{move || t().col_validity}</th>
                        <th scope="col">{move || t().col_linked}</th>
                        <th scope="col">{move || t().col_unlinked}</th>
                        <th scope="col">{move || t().col_status}</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let status = if !row.live {
                                (|t: &'static Texts| t.status_ended) as fn(&'static Texts) -> &'static str
                            } else if row.in_force {
                                |t: &'static Texts| t.status_in_force
                            } else {
                                |t: &'static Texts| t.status_not_in_force
                            };
                            let chosen = row.clone();
                            view! {
                                <tr data-card=row.card_number.clone() data-controller=row.controller_oid.clone()>
                                    <td>
                                        <span class="mono">{row.card_number.clone()}</span>
                                        <br />
                                        <small>{row.issuer.clone()}</small>
                                    </td>
                                    <td>
                                        {row.controller_name.clone()}
                                        <br />
                                        <small class="mono">{row.controller_oid.clone()}</small>
                                    </td>
                                    <td>
                                        {format!(
                                            "{} – {}",
                                            row.valid_from.clone().unwrap_or_default(),
                                            row.valid_until.clone().unwrap_or_default(),
                                        )}
                                    </td>
                                    <td>
                                        <Time value=row.linked_at.clone() />
                                        <br />
                                        <small>{row.linked_by.clone()}</small>
                                    </td>
                                    <td>
                                        {row.unlinked_at.clone().map(|at| view! { <Time value=at /> })}
                                        <br />
                                        <small>{row.unlinked_by.clone().unwrap_or_default()}</small>
                                    </td>
                                    <td data-field="status">{move || status(t())}</td>
                                    <td>
                                        {row
                                            .live
                                            .then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        data-action="unlink"
                                                        on:click=move |_| pending.set(Some(chosen.clone()))
                                                    >
                                                        {move || t().unlink_button}
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Controllers: the list, creating one ahead of its first document, renaming, and merging one
/// into a successor (confirmed first: a merger is not undone).
#[component]
fn Controllers(
    controllers: Vec<ControllerRow>,
    changes: ControllerActions,
    session: SessionResource,
) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let live: Vec<ControllerRow> = controllers
        .iter()
        .filter(|c| c.successor_oid.is_none())
        .cloned()
        .collect();
    let merged = RwSignal::new(live.first().map(|c| c.oid.clone()).unwrap_or_default());
    let successor = RwSignal::new(live.get(1).map(|c| c.oid.clone()).unwrap_or_default());
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if changes.merge.version().get() > 0 {
            confirming.set(false);
        }
    });
    let options = move |rows: &[ControllerRow]| {
        rows.iter()
            .map(|c| view! { <option value=c.oid.clone()>{format!("{} ({})", c.name, c.oid)}</option> })
            .collect_view()
    };
    let result = move |failed: Option<ServiceError>| {
        failed.map(|error| view! { <Refusal error field="controller-result" /> })
    };
    view! {
        <section aria-labelledby="controllers-heading" data-section="controllers">
            <h2 id="controllers-heading">{move || t().controllers_heading}</h2>
            <div class="table-wrap" tabindex="0" role="region" aria-labelledby="controllers-heading">
                <table class="data" data-field="controllers-table">
                    <thead>
                        <tr>
                            <th scope="col">{move || t().controller_label}</th>
                            <th scope="col">{move || t().controller_oid}</th>
                            <th scope="col">{move || t().successor_label}</th>
                            <th scope="col">{move || t().production_label}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {controllers
                            .iter()
                            .map(|c| {
                                let production = c.in_production;
                                view! {
                                    <tr data-controller-row=c.oid.clone()>
                                        <td data-field="name">{c.name.clone()}</td>
                                        <td class="mono">{c.oid.clone()}</td>
                                        <td class="mono" data-field="successor">
                                            {c.successor_oid.clone().unwrap_or_default()}
                                        </td>
                                        <td>
                                            {move || if production { t().yes } else { t().no }}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>

            <h3>{move || t().create_controller_heading}</h3>
            <ActionForm action=changes.create attr:class="link-form">
                <CsrfField session />
                <label>
                    {move || t().controller_oid}
                    <input type="text" name="oid" data-field="new-controller-oid" required />
                </label>
                <label>
                    {move || t().name_label}
                    <input type="text" name="name" data-field="new-controller-name" required />
                </label>
                <button type="submit" data-action="create-controller">{move || t().create}</button>
            </ActionForm>
            {move || result(changes.create.value().get().and_then(Result::err))}

            <h3>{move || t().rename_controller_heading}</h3>
            <ActionForm action=changes.rename attr:class="link-form">
                <CsrfField session />
                <label>
                    {move || t().controller_label}
                    <select name="oid">{options(&controllers)}</select>
                </label>
                <label>
                    {move || t().name_label}
                    <input type="text" name="name" required />
                </label>
                <button type="submit" data-action="rename-controller">{move || t().rename}</button>
            </ActionForm>
            {move || result(changes.rename.value().get().and_then(Result::err))}

            <h3>{move || t().merge_controller_heading}</h3>
            <div class="link-form">
                <label>
                    {move || t().merged_label}
                    <select
                        data-field="merged"
                        on:change=move |ev| merged.set(event_target_value(&ev))
                    >
                        {options(&live)}
                    </select>
                </label>
                <label>
                    {move || t().successor_label}
                    <select
                        data-field="successor-choice"
                        prop:value=move || successor.get()
                        on:change=move |ev| successor.set(event_target_value(&ev))
                    >
                        {options(&live)}
                    </select>
                </label>
                <button
                    type="button"
                    data-action="merge"
                    on:click=move |_| confirming.set(true)
                    disabled=move || merged.get() == successor.get()
                >
                    {move || t().merge_button}
                </button>
            </div>
            <Show when=move || confirming.get()>
                <div class="confirmation" role="alertdialog" aria-labelledby="confirm-merge-text">
                    <p id="confirm-merge-text">{move || t().confirm_merge}</p>
                    <p class="mono">{move || format!("{} → {}", merged.get(), successor.get())}</p>
                    <ActionForm action=changes.merge>
                        <CsrfField session />
                        <input type="hidden" name="oid" prop:value=move || merged.get() />
                        <input type="hidden" name="successor" prop:value=move || successor.get() />
                        <button type="submit" data-action="confirm-merge">{move || t().confirm}</button>
                        <button type="button" on:click=move |_| confirming.set(false)>
                            {move || t().cancel}
                        </button>
                    </ActionForm>
                </div>
            </Show>
            {move || result(changes.merge.value().get().and_then(Result::err))}
        </section>
    }
}

/// Deployment tests: define a controller's test case, or start the test again with a reason
/// (asked once more: the controller goes back to deployment).
#[component]
fn DeploymentTests(controllers: Vec<ControllerRow>, session: SessionResource) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let define = ServerAction::<DefineDeploymentTest>::new();
    let reset = ServerAction::<ResetDeploymentTest>::new();
    let confirming = RwSignal::new(false);
    Effect::new(move |_| {
        if reset.version().get() > 0 {
            confirming.set(false);
        }
    });
    let options = StoredValue::new(
        controllers
            .into_iter()
            .filter(|c| c.successor_oid.is_none())
            .collect::<Vec<_>>(),
    );
    let choices = move || {
        options
            .get_value()
            .into_iter()
            .map(|c| view! { <option value=c.oid.clone()>{format!("{} ({})", c.name, c.oid)}</option> })
            .collect_view()
    };
    let outcome = move |result: Option<Result<(), ServiceError>>,
                        done: fn(&'static Texts) -> &'static str| {
        result.map(|result| match result {
            Ok(()) => view! { <p class="success" role="status">{move || done(t())}</p> }.into_any(),
            Err(error) => view! { <Refusal error field="test-result" /> }.into_any(),
        })
    };
    view! {
        <section aria-labelledby="tests-heading" data-section="deployment-tests">
            <h2 id="tests-heading">{move || t().tests_heading}</h2>
            <p>{move || t().tests_intro}</p>
            <ActionForm action=define attr:class="link-form">
                <CsrfField session />
                <label>
                    {move || t().test_controller_label}
                    <select name="controller" data-field="test-controller">{choices}</select>
                </label>
                <label>
                    {move || t().test_documents_label}
                    <textarea name="documents" rows="3" class="mono" data-field="test-documents-input"></textarea>
                </label>
                <label>
                    {move || t().test_clients_label}
                    <textarea name="clients" rows="2" class="mono" data-field="test-clients-input"></textarea>
                </label>
                <button type="submit" data-action="define-test">{move || t().define_test_button}</button>
            </ActionForm>
            {move || outcome(define.value().get(), |t| t.test_defined)}
            <ActionForm action=reset attr:class="link-form">
                <CsrfField session />
                <label>
                    {move || t().test_controller_label}
                    <select name="controller" data-field="reset-controller">{choices}</select>
                </label>
                <label>
                    {move || t().reset_reason_label}
                    <input type="text" name="reason" size="40" data-field="reset-reason" />
                </label>
                <button
                    type="button"
                    data-action="reset-open"
                    on:click=move |_| confirming.set(true)
                >
                    {move || t().reset_test_button}
                </button>
                <Show when=move || confirming.get()>
                    <div class="confirmation" role="alertdialog" aria-labelledby="confirm-reset-text">
                        <p id="confirm-reset-text">{move || t().confirm_reset}</p>
                        <button type="submit" data-action="confirm-reset">{move || t().confirm}</button>
                        <button type="button" on:click=move |_| confirming.set(false)>
                            {move || t().cancel}
                        </button>
                    </div>
                </Show>
            </ActionForm>
            {move || outcome(reset.value().get(), |t| t.test_reset_done)}
        </section>
    }
}
