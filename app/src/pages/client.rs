//! `/client?id=…`: every document set of one client in the active controllers, grouped by case
//! and service task, newest first; each set by its current version, a link to its page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::client::client_documents;
use crate::i18n::use_language;
use crate::local_time::Time;
use crate::model::client::{CaseGroup, ClientSet, ClientView};

use super::{CodedText, VersionStatus, admin::Refusal};

#[component]
pub fn ClientPage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let query = use_query_map();
    let client = move || query.read().get("id").unwrap_or_default();
    let view = Resource::new(client, client_documents);
    view! {
        <h1>{move || t().client_heading}</h1>
        <Transition fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match view.await {
                    Ok(view) => view! { <Client view /> }.into_any(),
                    Err(error) if error.is_invalid("client") => {
                        view! {
                            <p class="error" role="alert" data-field="invalid-client">
                                {move || t().invalid_client}
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
fn Client(view: ClientView) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let search = format!("/search?client={}&status=all", view.client_id);
    view! {
        <p class="document-meta" data-field="client">
            <span class="mono">{view.client_id.clone()}</span>
            " "
            {view.client_name.clone().unwrap_or_default()}
            " · "
            <a href=search>{move || t().search_link}</a>
        </p>
        {view
            .truncated
            .then(|| view! { <p class="note" data-field="truncated">{move || t().client_truncated}</p> })}
        {if view.cases.is_empty() {
            view! { <p class="note" data-field="no-results">{move || t().client_none}</p> }.into_any()
        } else {
            view.cases
                .into_iter()
                .enumerate()
                .map(|(index, case)| view! { <Case case index /> })
                .collect_view()
                .into_any()
        }}
    }
    .into_any()
}

#[component]
fn Case(case: CaseGroup, index: usize) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let heading_id = format!("case-{index}");
    let labelledby = heading_id.clone();
    let case_oid = case.case_oid.clone();
    view! {
        <section class="client-case" aria-labelledby=labelledby data-case=case.case_oid.clone().unwrap_or_default()>
            <h2 id=heading_id>
                {match case_oid {
                    Some(oid) => {
                        view! {
                            {move || t().case_heading}
                            " "
                            <span class="mono">{oid}</span>
                        }
                            .into_any()
                    }
                    None => view! { <span>{move || t().no_case}</span> }.into_any(),
                }}
            </h2>
            <p class="note">{case.controller_name.clone()}</p>
            {case
                .tasks
                .into_iter()
                .map(|task| {
                    let name = task.service_task.clone();
                    view! {
                        <h3>
                            {move || {
                                name.as_ref()
                                    .map(|v| v.display(language.get()))
                                    .unwrap_or_else(|| t().no_service_task.to_owned())
                            }}
                        </h3>
                        <ClientSets sets=task.sets />
                    }
                })
                .collect_view()}
        </section>
    }
    .into_any()
}

#[component]
fn ClientSets(sets: Vec<ClientSet>) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    view! {
        <table class="data" data-field="client-sets">
            <thead>
                <tr>
                    <th scope="col">{move || t().document_time}</th>
                    <th scope="col">{move || t().document_type}</th>
                    <th scope="col">{move || t().status}</th>
                    <th scope="col">{move || t().set_column}</th>
                </tr>
            </thead>
            <tbody>
                {sets
                    .into_iter()
                    .map(|set| {
                        let row = set.current;
                        let href = format!("/documents/{}", row.document_oid);
                        view! {
                            <tr data-document=row.document_oid.clone()>
                                <td>
                                    <a href=href>
                                        <Time value=row.effective_time.clone() />
                                    </a>
                                </td>
                                <td>
                                    <CodedText value=row.document_type.clone() />
                                </td>
                                <td>
                                    <VersionStatus status=row.status.clone() version=row.version_number />
                                    " / "
                                    {set.version_count}
                                </td>
                                <td class="mono">{set.set_oid}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
