//! The audit log page: an administrator searches the whole log, an archivist the events about
//! the material of the controllers linked to the card. The filter lives in the address, so a
//! search can be reloaded and works without WebAssembly.

use crate::local_time::Time;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::admin::audit_search;
use crate::i18n::use_language;
use crate::model::admin::AuditEntry;

use super::admin::Refusal;

#[component]
pub fn AuditPage() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    let query = use_query_map();
    let field = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let filter = move || {
        (
            field("since")(),
            field("until")(),
            field("action")(),
            field("card")(),
            field("controller")(),
        )
    };
    let page = Resource::new(filter, |(since, until, action, card, controller)| {
        audit_search(since, until, action, card, controller)
    });

    view! {
        <h1>{move || t().audit_heading}</h1>
        <form method="get" action="/audit">
            <div class="filters">
                <label>
                    {move || t().since_label}
                    <input type="date" name="since" value=field("since") />
                </label>
                <label>
                    {move || t().until_label}
                    <input type="date" name="until" value=field("until") />
                </label>
                <label>
                    {move || t().action_label}
                    <input type="text" name="action" value=field("action") />
                </label>
                <label>
                    {move || t().card_search_label}
                    <input type="text" name="card" value=field("card") />
                </label>
                <label>
                    {move || t().controller_label}
                    <input type="text" name="controller" value=field("controller") />
                </label>
                <button type="submit">{move || t().search}</button>
            </div>
        </form>
        <Transition fallback=move || view! { <p>{move || t().loading}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let scope_note = if page.whole_log {
                            (move || t().audit_whole).into_any()
                        } else {
                            (move || t().audit_own).into_any()
                        };
                        let download = page
                            .whole_log
                            .then(|| {
                                let href = format!(
                                    "/audit.csv?since={}&until={}&action={}&card={}&controller={}",
                                    encode(&field("since")()),
                                    encode(&field("until")()),
                                    encode(&field("action")()),
                                    encode(&field("card")()),
                                    encode(&field("controller")()),
                                );
                                view! {
                                    <p>
                                        <a href=href rel="external" download="audit-log.csv" data-action="download-csv">
                                            {move || t().download_csv}
                                        </a>
                                    </p>
                                }
                            });
                        view! {
                            <p class="note" data-field="audit-scope">{scope_note}</p>
                            {download}
                            {page
                                .truncated
                                .then(|| view! { <p class="note">{move || t().audit_truncated}</p> })}
                            <AuditTable rows=page.rows />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <Refusal error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A query-string value, percent-encoded.
pub(super) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn AuditTable(rows: Vec<AuditEntry>) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().texts();
    if rows.is_empty() {
        return view! { <p class="note" data-field="audit-empty">{move || t().audit_empty}</p> }
            .into_any();
    }
    view! {
        // Focusable, so that a keyboard can scroll a table wider than the screen.
        <div class="table-wrap" tabindex="0" role="region" aria-label=move || t().audit_heading>
            <table class="data" data-field="audit-rows">
                <thead>
                    <tr>
                        <th scope="col">{move || t().col_time}</th>
                        <th scope="col">{move || t().col_action}</th>
                        <th scope="col">{move || t().col_outcome}</th>
                        <th scope="col">{move || t().col_actor}</th>
                        <th scope="col">{move || t().col_address}</th>
                        <th scope="col">{move || t().controller_label}</th>
                        <th scope="col">{move || t().col_document}</th>
                        <th scope="col">{move || t().col_details}</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let outcome = match &row.reason {
                                Some(reason) => format!("{} ({reason})", row.outcome),
                                None => row.outcome.clone(),
                            };
                            let action = row.action.clone();
                            view! {
                                <tr data-action=action>
                                    <td>
                                        <Time value=row.occurred_at.clone() />
                                    </td>
                                    <td class="mono">{row.action}</td>
                                    <td>{outcome}</td>
                                    <td class="mono">{row.actor}</td>
                                    <td class="mono">{row.client_address.unwrap_or_default()}</td>
                                    <td class="mono">{row.controller_oid.unwrap_or_default()}</td>
                                    <td class="mono">{row.document_oid.unwrap_or_default()}</td>
                                    <td class="mono details">{row.details.unwrap_or_default()}</td>
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
