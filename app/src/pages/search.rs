//! `/search`: the active controllers' documents by client, document time and status, newest
//! first, a page at a time. The whole query, the page position included, lives in the address,
//! so back, reload and bookmarks work, and the form works before the WebAssembly has loaded.

use crate::local_time::Time;
use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::document_texts::DocumentTexts;
use crate::i18n::use_language;
use crate::search::{SearchPage as Results, SearchQuery, search_documents};

use super::{admin::Refusal, audit::encode, document::status_text};

#[component]
pub fn SearchPage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let query = use_query_map();
    let field = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let search = move || SearchQuery {
        client: field("client")(),
        from: field("from")(),
        until: field("until")(),
        all_versions: field("all")() == "1",
        after: field("after")(),
    };
    let results = Resource::new(search, search_documents);
    view! {
        <h1>{move || t().search_heading}</h1>
        <Form method="GET" action="">
            <div class="filters">
                <label>
                    {move || t().client_label}
                    <input type="text" name="client" class="mono" size="12" autocomplete="off" value=field("client") />
                </label>
                <label>
                    {move || t().from_label}
                    <input type="date" name="from" value=field("from") />
                </label>
                <label>
                    {move || t().until_label}
                    <input type="date" name="until" value=field("until") />
                </label>
                <label class="checkbox">
                    <input type="checkbox" name="all" value="1" checked=move || field("all")() == "1" />
                    {move || t().all_versions_label}
                </label>
                <button type="submit">{move || t().search_button}</button>
            </div>
        </Form>
        <Transition fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(page) => view! { <ResultTable page query=search() /> }.into_any(),
                    Err(error) => match invalid_field(&error) {
                        Some(text) => {
                            view! {
                                <p class="error" role="alert" data-field="invalid-search">
                                    {move || text(t())}
                                </p>
                            }
                                .into_any()
                        }
                        None => view! { <Refusal error /> }.into_any(),
                    },
                }
            })}
        </Transition>
    }
}

/// The message for a field the server refused.
fn invalid_field(error: &ServerFnError) -> Option<fn(&DocumentTexts) -> &'static str> {
    let message = error.to_string();
    let field = message.rsplit(crate::admin::INVALID_PREFIX).next()?;
    if !message.contains(crate::admin::INVALID_PREFIX) {
        return None;
    }
    Some(match field {
        "client" => |t| t.invalid_client,
        "from" | "until" => |t| t.invalid_date,
        "after" => |t| t.invalid_cursor,
        _ => return None,
    })
}

#[component]
fn ResultTable(page: Results, query: SearchQuery) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    if page.rows.is_empty() {
        return view! { <p class="note" data-field="no-results">{move || t().no_results}</p> }
            .into_any();
    }
    let next = page.next.map(|after| {
        let href = format!(
            "/search?client={}&from={}&until={}&all={}&after={}",
            encode(&query.client),
            encode(&query.from),
            encode(&query.until),
            if query.all_versions { "1" } else { "" },
            encode(&after),
        );
        view! {
            <p>
                <a href=href data-action="next-page">{move || t().next_page}</a>
            </p>
        }
    });
    view! {
        <div class="table-wrap">
            <table class="data" data-field="results">
                <thead>
                    <tr>
                        <th scope="col">{move || t().document_time}</th>
                        <th scope="col">{move || t().document_type}</th>
                        <th scope="col">{move || t().service_task}</th>
                        <th scope="col">{move || t().client}</th>
                        <th scope="col">{move || t().status}</th>
                        <th scope="col">{move || t().controller}</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|row| {
                            let href = format!("/documents/{}", row.document_oid);
                            let document_type = row.document_type.clone();
                            let service_task = row.service_task.clone();
                            let status = row.status.clone();
                            view! {
                                <tr data-document=row.document_oid.clone()>
                                    <td>
                                        <a href=href>
                                            <Time value=row.effective_time.clone() />
                                        </a>
                                    </td>
                                    <td>
                                        {move || {
                                            document_type
                                                .as_ref()
                                                .map(|v| v.display(language.get()))
                                                .unwrap_or_default()
                                        }}
                                    </td>
                                    <td>
                                        {move || {
                                            service_task
                                                .as_ref()
                                                .map(|v| v.display(language.get()))
                                                .unwrap_or_default()
                                        }}
                                    </td>
                                    <td>
                                        <span class="mono">{row.client_id.clone()}</span>
                                        " "
                                        {row.client_name.clone().unwrap_or_default()}
                                    </td>
                                    <td>
                                        <span class="status" data-status=row.status.clone()>
                                            {move || status_text(language.get(), &status)}
                                        </span>
                                        " · "
                                        {move || t().version}
                                        " "
                                        {row.version_number}
                                    </td>
                                    <td>{row.controller_name.clone()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {next}
    }
    .into_any()
}
