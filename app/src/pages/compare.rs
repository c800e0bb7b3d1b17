//! `/compare?a=…&b=…`: two versions of one document side by side, the older on the left. The
//! server computes the rows; each row says in words what changed, not only in colour.

use crate::local_time::Time;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::compare::compare_versions;
use crate::i18n::use_language;
use crate::model::compare::{ComparisonView, DiffRow, TextComparison, VersionRef};

use super::{NotFound, document::status_text, is_not_found};

#[component]
pub fn ComparePage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().compare_texts();
    let query = use_query_map();
    let pair = move || {
        let query = query.read();
        (
            query.get("a").unwrap_or_default(),
            query.get("b").unwrap_or_default(),
        )
    };
    let comparison = Resource::new(pair, |(a, b)| compare_versions(a, b));
    view! {
        <h1>{move || t().heading}</h1>
        <Transition fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match comparison.await {
                    Ok(view) => view! { <Comparison view /> }.into_any(),
                    // Either version not there or another controller's: the same page.
                    Err(error) if is_not_found(&error) => view! { <NotFound /> }.into_any(),
                    Err(error) => {
                        let other_set = error.is_invalid("other_set");
                        view! {
                            <p class="error" role="alert" data-field="invalid-comparison">
                                {move || if other_set { t().other_set } else { t().invalid_oid }}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Comparison(view: ComparisonView) -> AnyView {
    let language = use_language();
    let t = move || language.get().compare_texts();
    let d = move || language.get().document_texts();
    let older = view.older.clone();
    let newer = view.newer.clone();
    let header_rows = view
        .header
        .into_iter()
        .map(|field| {
            let changed = field.changed();
            let key = field.key.clone();
            let older = field.older.clone();
            let newer = field.newer.clone();
            let change = if changed {
                match (&field.older, &field.newer) {
                    (None, _) => crate::model::compare::Change::Added,
                    (_, None) => crate::model::compare::Change::Removed,
                    _ => crate::model::compare::Change::Changed,
                }
            } else {
                crate::model::compare::Change::Same
            };
            view! {
                <tr data-change=change.code() data-key=field.key>
                    <th scope="row">{move || language.get().header_label(&key)}</th>
                    <td>
                        {move || older.as_ref().map(|v| v.display(language.get())).unwrap_or_default()}
                    </td>
                    <td>
                        {move || newer.as_ref().map(|v| v.display(language.get())).unwrap_or_default()}
                    </td>
                    <td>{move || if changed { t().change(change) } else { "" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="document-meta" data-field="compared">
            <VersionLink version=older.clone() />
            " ↔ "
            <VersionLink version=newer.clone() />
        </p>
        <section aria-labelledby="compare-header-heading">
            <h2 id="compare-header-heading">{move || t().header_heading}</h2>
            <table class="data compare" data-field="header-comparison">
                <thead>
                    <tr>
                        <th scope="col">{move || t().field}</th>
                        <th scope="col">{move || t().version} " " {older.version_number}</th>
                        <th scope="col">{move || t().version} " " {newer.version_number}</th>
                        <th scope="col">{move || t().change}</th>
                    </tr>
                </thead>
                <tbody>{header_rows}</tbody>
            </table>
        </section>
        <section aria-labelledby="compare-display-heading">
            <h2 id="compare-display-heading">{move || t().display_heading}</h2>
            <TextDiff
                comparison=view.display
                older=older.version_number
                newer=newer.version_number
                field="display-comparison"
            />
        </section>
        <section aria-labelledby="compare-structured-heading">
            <h2 id="compare-structured-heading">{move || t().structured_heading}</h2>
            <TextDiff
                comparison=view.structured
                older=older.version_number
                newer=newer.version_number
                field="structured-comparison"
            />
        </section>
        <p>
            <a href=format!("/documents/{}", newer.document_oid)>{move || d().versions_heading}</a>
        </p>
    }
    .into_any()
}

#[component]
fn VersionLink(version: VersionRef) -> AnyView {
    let language = use_language();
    let t = move || language.get().compare_texts();
    let status = version.status.clone();
    view! {
        <a href=format!("/documents/{}", version.document_oid)>
            {move || t().version} " " {version.version_number}
        </a>
        " ("
        {move || status_text(language.get(), &status)}
        ", "
        {move || t().archived}
        " "
        <Time value=version.archived_at.clone() />
        ")"
    }
    .into_any()
}

#[component]
fn TextDiff(comparison: TextComparison, older: i32, newer: i32, field: &'static str) -> AnyView {
    let language = use_language();
    let t = move || language.get().compare_texts();
    let note = |text: fn(&crate::compare_texts::CompareTexts) -> &'static str| {
        view! { <p class="note" data-field=field>{move || text(t())}</p> }.into_any()
    };
    let rows: Vec<DiffRow> = match comparison {
        TextComparison::Absent => return note(|t| t.absent),
        TextComparison::Unreadable => return note(|t| t.unreadable),
        TextComparison::TooLarge => return note(|t| t.too_large),
        TextComparison::Rows(rows) => rows,
    };
    let unchanged = rows
        .iter()
        .all(|r| r.change == crate::model::compare::Change::Same);
    view! {
        {unchanged.then(|| view! { <p class="note">{move || t().no_changes}</p> })}
        <table class="data compare diff" data-field=field>
            <thead>
                <tr>
                    <th scope="col">{move || t().version} " " {older}</th>
                    <th scope="col">{move || t().version} " " {newer}</th>
                    <th scope="col">{move || t().change}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let change = row.change;
                        let same = change == crate::model::compare::Change::Same;
                        view! {
                            <tr data-change=change.code()>
                                <td>{row.older}</td>
                                <td>{row.newer}</td>
                                <td>{move || if same { "" } else { t().change(change) }}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
