//! The administrators' notices: write a notice in Finnish and Swedish (English optional), change
//! one that has not ended, end one now. The list shows the newest, ended ones too.

use leptos::prelude::*;

use crate::{
    api::notices::{EndNotice, SaveNotice, admin_notices},
    error::ServiceError,
    i18n::use_language,
    local_time::Time,
    model::notices::{AdminNoticeRow, NoticeKind},
    notice_texts::{NoticeTexts, kind_name, notice_texts},
};

use super::{CsrfField, SessionResource, admin::Refusal};

#[component]
pub fn Notices(session: SessionResource) -> impl IntoView {
    let language = use_language();
    let t = move || notice_texts(language.get());
    let save = ServerAction::<SaveNotice>::new();
    let end = ServerAction::<EndNotice>::new();
    let rows = Resource::new(
        move || (save.version().get(), end.version().get()),
        |_| admin_notices(),
    );
    view! {
        <section aria-labelledby="notices-heading" data-section="notices">
            <h2 id="notices-heading">{move || t().heading}</h2>
            <p>{move || t().intro}</p>
            <h3>{move || t().new_heading}</h3>
            <NoticeForm save session row=None />
            {move || outcome(save.value().get(), |t| t.saved, "notice-result")}
            {move || outcome(end.value().get(), |t| t.ended, "notice-end-result")}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) => view! { <NoticeList rows save end session /> }.into_any(),
                        Err(error) => view! { <Refusal error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// What a change came to: done, or why not in the notice form's own words.
fn outcome(
    result: Option<Result<(), ServiceError>>,
    done: fn(&'static NoticeTexts) -> &'static str,
    field: &'static str,
) -> Option<AnyView> {
    let language = use_language();
    let t = move || notice_texts(language.get());
    result.map(|result| match result {
        Ok(()) => {
            view! { <p class="success" role="status" data-field=field>{move || done(t())}</p> }
                .into_any()
        }
        Err(error) => match t().invalid(error.code()) {
            Some(_) => view! {
                <p class="error" role="alert" data-field=field>
                    {move || t().invalid(error.code()).unwrap_or_default()}
                </p>
            }
            .into_any(),
            None => view! { <Refusal error field /> }.into_any(),
        },
    })
}

#[component]
fn NoticeList(
    rows: Vec<AdminNoticeRow>,
    save: ServerAction<SaveNotice>,
    end: ServerAction<EndNotice>,
    session: SessionResource,
) -> impl IntoView {
    let language = use_language();
    let t = move || notice_texts(language.get());
    if rows.is_empty() {
        return view! { <p data-field="notices-none">{move || t().none}</p> }.into_any();
    }
    view! {
        <table data-field="notice-list">
            <thead>
                <tr>
                    <th scope="col">{move || t().kind_label}</th>
                    <th scope="col">{move || t().state_column}</th>
                    <th scope="col">{move || t().text_column}</th>
                    <th scope="col">{move || t().times_column}</th>
                    <th scope="col">{move || t().by_column}</th>
                    <th scope="col"></th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        let notice = row.notice.clone();
                        let kind = notice.kind;
                        let state = row.state.clone();
                        let state_attr = state.clone();
                        let open = state != "ended";
                        let id = notice.id.clone();
                        let ends = notice.ends_at.clone().map(|ends| view! { " – " <Time value=ends /> });
                        let editable = open.then(|| {
                            let row = row.clone();
                            let id = id.clone();
                            view! {
                                <details>
                                    <summary>{move || t().edit_summary}</summary>
                                    <NoticeForm save session row=Some(row) />
                                </details>
                                <ActionForm action=end>
                                    <CsrfField session />
                                    <input type="hidden" name="id" value=id />
                                    <button type="submit" data-action="end-notice">
                                        {move || t().end_button}
                                    </button>
                                </ActionForm>
                            }
                        });
                        view! {
                            <tr data-notice=id.clone() data-state=state_attr>
                                <td>{move || kind_name(kind, language.get())}</td>
                                <td>{move || t().state(&state)}</td>
                                <td>
                                    <span lang="fi">{notice.text_fi.clone()}</span>
                                    {(!row.reason.is_empty()).then(|| view! { <br /> <em>{row.reason.clone()}</em> })}
                                </td>
                                <td>
                                    <Time value=notice.starts_at.clone() />
                                    {ends}
                                </td>
                                <td>
                                    {row.created_by.clone()}
                                    {row.ended_by.clone().map(|by| view! { <br /> "– " {by} })}
                                </td>
                                <td>{editable}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A new notice's form (`row` none) or an open notice's, filled in with what it says now.
#[component]
fn NoticeForm(
    save: ServerAction<SaveNotice>,
    session: SessionResource,
    row: Option<AdminNoticeRow>,
) -> impl IntoView {
    let language = use_language();
    let t = move || notice_texts(language.get());
    // Ids of the fields are unique on the page: one form per notice besides the new one.
    let key = row
        .as_ref()
        .map_or_else(|| "new".to_owned(), |row| row.notice.id.clone());
    let field_id = move |name: &str| format!("notice-{key}-{name}");
    let id = row
        .as_ref()
        .map(|r| r.notice.id.clone())
        .unwrap_or_default();
    let kind = row
        .as_ref()
        .map_or(NoticeKind::Disruption, |r| r.notice.kind);
    let text = |get: fn(&AdminNoticeRow) -> String| row.as_ref().map(get).unwrap_or_default();
    let text_fi = text(|r| r.notice.text_fi.clone());
    let text_sv = text(|r| r.notice.text_sv.clone());
    let text_en = text(|r| r.notice.text_en.clone().unwrap_or_default());
    let affected = text(|r| r.notice.affected.clone());
    let starts = text(|r| r.starts_local.clone());
    let ends = text(|r| r.ends_local.clone());
    let closes = row.as_ref().is_some_and(|r| r.notice.closes_service);
    let ids = [
        "kind", "fi", "sv", "en", "affected", "starts", "ends", "closes",
    ]
    .map(field_id);
    let [
        kind_id,
        fi_id,
        sv_id,
        en_id,
        affected_id,
        starts_id,
        ends_id,
        closes_id,
    ] = ids;
    let closes_for = closes_id.clone();
    view! {
        <ActionForm action=save attr:class="link-form notice-form">
            <CsrfField session />
            <input type="hidden" name="id" value=id />
            <label for=kind_id.clone()>{move || t().kind_label}</label>
            <select id=kind_id name="kind" data-field="notice-kind">
                {NoticeKind::ALL
                    .into_iter()
                    .map(|choice| {
                        view! {
                            <option value=choice.code() selected=choice == kind>
                                {move || kind_name(choice, language.get())}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label for=fi_id.clone()>{move || t().text_fi_label}</label>
            <textarea id=fi_id name="text_fi" rows="2" lang="fi" data-field="notice-text-fi">
                {text_fi}
            </textarea>
            <label for=sv_id.clone()>{move || t().text_sv_label}</label>
            <textarea id=sv_id name="text_sv" rows="2" lang="sv" data-field="notice-text-sv">
                {text_sv}
            </textarea>
            <label for=en_id.clone()>{move || t().text_en_label}</label>
            <textarea id=en_id name="text_en" rows="2" lang="en" data-field="notice-text-en">
                {text_en}
            </textarea>
            <label for=affected_id.clone()>{move || t().affected_label}</label>
            <input id=affected_id type="text" name="affected" value=affected data-field="notice-affected-input" />
            <label for=starts_id.clone()>{move || t().starts_label}</label>
            <input id=starts_id type="datetime-local" name="starts_at" value=starts data-field="notice-starts" />
            <label for=ends_id.clone()>{move || t().ends_label}</label>
            <input id=ends_id type="datetime-local" name="ends_at" value=ends data-field="notice-ends" />
            <p class="note">{move || t().times_hint}</p>
            <label for=closes_for class="checkbox">
                <input id=closes_id type="checkbox" name="closes_service" value="on" checked=closes data-field="notice-closes" />
                {move || t().closes_service_label}
            </label>
            <button type="submit" data-action="save-notice">{move || t().save_button}</button>
        </ActionForm>
    }
}
