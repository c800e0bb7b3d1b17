//! `/search`: the active controllers' documents by client, document and archiving time, document
//! type, service task, register, document group, case, document set and status, newest first, a
//! page at a time. The whole query, the page position included, lives in the address,
//! so back, reload and bookmarks work, and the form works before the WebAssembly has loaded.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::search::{search_documents, search_form_choices};
use crate::document_texts::DocumentTexts;
use crate::error::ServiceError;
use crate::i18n::Language;
use crate::i18n::use_language;
use crate::local_time::Time;
use crate::model::search::{
    CodeOption, SEARCH_PARAMETERS, SearchOptions, SearchPage as Results, SearchQuery, SortColumn,
};

use super::{CodedText, VersionStatus, admin::Refusal, audit::encode};

#[component]
pub fn SearchPage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let query = use_query_map();
    let field = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let search =
        move || SearchQuery::from_parameters(|name| query.read().get(name).unwrap_or_default());
    let results = Resource::new(search, search_documents);
    let options = Resource::new(|| (), |_| search_form_choices());
    // The refinements open by themselves when the address uses one of them.
    let refined = move || {
        let query = search();
        [
            &query.archived_from,
            &query.archived_until,
            &query.register,
            &query.document_group,
            &query.case,
            &query.set,
        ]
        .iter()
        .any(|v| !v.is_empty())
    };
    view! {
        <h1>{move || t().search_heading}</h1>
        <form method="get" action="/search">
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
                <CodeSelect name="type" label=|t| t.document_type options pick=|o| o.document_types.clone() />
                <CodeSelect name="task" label=|t| t.service_task options pick=|o| o.service_tasks.clone() />
                <label>
                    {move || t().status_label}
                    <select name="status" data-field="status-filter">
                        <option value="" selected=move || search().parameter("status").is_empty()>
                            {move || t().status_current_only}
                        </option>
                        {[
                            ("all", (|t| t.status_all) as fn(&DocumentTexts) -> &'static str),
                            ("replaced", |t| t.status_replaced),
                            ("nullified", |t| t.status_nullified),
                        ]
                            .into_iter()
                            .map(|(value, text)| {
                                view! {
                                    <option value=value selected=move || search().parameter("status") == value>
                                        {move || text(t())}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
            <details class="more-filters" open=refined>
                <summary>{move || t().more_filters}</summary>
                <div class="filters">
                    <label>
                        {move || t().archived_from_label}
                        <input type="date" name="archived_from" value=field("archived_from") />
                    </label>
                    <label>
                        {move || t().archived_until_label}
                        <input type="date" name="archived_until" value=field("archived_until") />
                    </label>
                    <CodeSelect name="register" label=|t| t.register_label options pick=|o| o.registers.clone() />
                    <CodeSelect name="group" label=|t| t.document_group_label options pick=|o| o.document_groups.clone() />
                    <label>
                        {move || t().case_label}
                        <input type="text" name="case" class="mono" size="30" autocomplete="off" value=field("case") />
                    </label>
                    <label>
                        {move || t().set_label}
                        <input type="text" name="set" class="mono" size="30" autocomplete="off" value=field("set") />
                    </label>
                </div>
            </details>
            // The order chosen from the column headers is kept when the form is sent again.
            <input type="hidden" name="sort" value=field("sort") />
            <input type="hidden" name="order" value=field("order") />
            <p>
                <button type="submit">{move || t().search_button}</button>
            </p>
        </form>
        <Transition fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(page) => view! { <ResultTable page query=search() /> }.into_any(),
                    Err(ServiceError::TookTooLong) => {
                        view! {
                            <p class="error" role="alert" data-field="search-took-too-long">
                                {move || t().search_took_too_long}
                            </p>
                        }
                            .into_any()
                    }
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

/// A choice from a code list, named in the reader's language.
#[component]
fn CodeSelect(
    name: &'static str,
    label: fn(&DocumentTexts) -> &'static str,
    options: Resource<Result<SearchOptions, ServiceError>>,
    pick: fn(&SearchOptions) -> Vec<CodeOption>,
) -> impl IntoView {
    view! {
        <Transition fallback=move || view! { <CodeField name label codes=Vec::new() /> }>
            {move || Suspend::new(async move {
                let codes = options.await.map(|o| pick(&o)).unwrap_or_default();
                view! { <CodeField name label codes /> }
            })}
        </Transition>
    }
}

/// The select itself; a chosen code that the list does not hold (yet) stays chosen.
#[component]
fn CodeField(
    name: &'static str,
    label: fn(&DocumentTexts) -> &'static str,
    codes: Vec<CodeOption>,
) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let query = use_query_map();
    let chosen = move || query.read().get(name).unwrap_or_default();
    let index = move || match language.get() {
        Language::Fi => 0,
        Language::Sv => 1,
        Language::En => 2,
    };
    let unlisted = {
        let current = chosen();
        (!current.is_empty() && !codes.iter().any(|c| c.code == current)).then(|| {
            view! { <option value=current.clone() selected=true>{current.clone()}</option> }
        })
    };
    view! {
        <label>
            {move || label(t())}
            <select name=name data-field=format!("{name}-filter")>
                <option value="" selected=move || chosen().is_empty()>
                    {move || t().any_option}
                </option>
                {unlisted}
                {codes
                    .into_iter()
                    .map(|option| {
                        let code = option.code.clone();
                        let shown = option.code.clone();
                        view! {
                            <option value=option.code.clone() selected=move || chosen() == code>
                                {move || format!("{} ({shown})", option.names[index()])}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The message for a field the server refused.
fn invalid_field(error: &ServiceError) -> Option<fn(&DocumentTexts) -> &'static str> {
    let ServiceError::Invalid(field) = error else {
        return None;
    };
    Some(match field.as_ref() {
        "client" => |t| t.invalid_client,
        "from" | "until" | "archived_from" | "archived_until" => |t| t.invalid_date,
        "type" | "task" | "register" | "group" => |t| t.invalid_code,
        "case" | "set" => |t| t.invalid_oid_field,
        "status" => |t| t.invalid_status,
        "sort" => |t| t.invalid_sort,
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
        let href = search_href(&SearchQuery {
            after,
            ..query.clone()
        });
        view! {
            <p>
                <a href=href data-action="next-page">{move || t().next_page}</a>
            </p>
        }
    });
    let sorting = query.sorting();
    let header = move |column: SortColumn, label: fn(&DocumentTexts) -> &'static str| {
        let sorted = sorting.and_then(|(c, descending)| (c == column).then_some(descending));
        view! {
            <SortHeader query=query.clone() column sorted label />
        }
    };
    view! {
        // Focusable, so that a keyboard can scroll a table wider than the screen.
        <div class="table-wrap" tabindex="0" role="region" aria-label=move || t().search_heading>
            <table class="data" data-field="results">
                <thead>
                    <tr>
                        {header(SortColumn::Time, |t| t.document_time)}
                        <th scope="col">{move || t().document_type}</th>
                        <th scope="col">{move || t().service_task}</th>
                        {header(SortColumn::Client, |t| t.client)}
                        <th scope="col">{move || t().status}</th>
                        {header(SortColumn::Archived, |t| t.archived_at)}
                        <th scope="col">{move || t().controller}</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|row| {
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
                                        <CodedText value=row.service_task.clone() />
                                    </td>
                                    <td>
                                        <a
                                            href=format!("/client?id={}", encode(&row.client_id))
                                            class="mono"
                                            title=move || t().client_link
                                        >
                                            {row.client_id.clone()}
                                        </a>
                                        " "
                                        {row.client_name.clone().unwrap_or_default()}
                                    </td>
                                    <td>
                                        <VersionStatus status=row.status.clone() version=row.version_number />
                                    </td>
                                    <td>
                                        {row.archived_at.clone().map(|at| view! { <Time value=at /> })}
                                    </td>
                                    <td>{row.controller_name.clone()}</td>
                                </tr>
                            }
                                .into_any()
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {next}
    }
    .into_any()
}

/// A column header that sorts the results by its column (the first page again); the sorted
/// column says its direction to screen readers (`aria-sort`) and with an arrow.
#[component]
fn SortHeader(
    query: SearchQuery,
    column: SortColumn,
    /// `Some(descending)` when the results are sorted by this column.
    sorted: Option<bool>,
    label: fn(&DocumentTexts) -> &'static str,
) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let href = search_href(&query.sorted_by(column));
    let aria_sort = sorted.map(|descending| {
        if descending {
            "descending"
        } else {
            "ascending"
        }
    });
    let arrow = match sorted {
        Some(true) => " ▼",
        Some(false) => " ▲",
        None => "",
    };
    view! {
        <th scope="col" aria-sort=aria_sort>
            <a href=href data-sort=column.parameter() title=move || t().sort_hint>
                {move || label(t())}
                <span aria-hidden="true">{arrow}</span>
            </a>
        </th>
    }
    .into_any()
}

/// The search page's address of a query.
fn search_href(query: &SearchQuery) -> String {
    format!(
        "/search?{}",
        SEARCH_PARAMETERS
            .iter()
            .map(|name| format!("{name}={}", encode(query.parameter(name))))
            .collect::<Vec<_>>()
            .join("&")
    )
}
