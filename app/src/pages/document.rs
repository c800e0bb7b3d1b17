//! `/documents/{oid}`: one document version as archived. The display rendition in a sandboxed
//! frame from its own endpoint, the stored CDA and PDFs as links to the byte endpoints with
//! their digests, the header fields, the data the archive added and the set's versions.

use crate::local_time::Time;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::document::open_document;
use crate::i18n::{Language, use_language};
use crate::model::document::{DocumentView, HeaderValue};

use super::{NotFound, admin::Refusal, is_not_found, structured::StructuredBlock};

/// `/documents?oid=…`: direct lookup by document OID (a plain GET form, so it works before
/// the WebAssembly has loaded and the address can be bookmarked).
#[component]
pub fn DocumentLookup() -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let query = use_query_map();
    let oid = move || query.read().get("oid").unwrap_or_default();
    view! {
        <h1>{move || t().lookup_link}</h1>
        <form method="get" action="/documents">
            <div class="filters">
                <label>
                    {move || t().lookup_label}
                    <input type="text" name="oid" class="mono" size="40" value=oid />
                </label>
                <button type="submit">{move || t().lookup_button}</button>
            </div>
        </form>
        <Show when=move || !oid().trim().is_empty()>
            <OpenDocument oid=Signal::derive(oid) />
        </Show>
    }
}

/// `/documents/{oid}`.
#[component]
pub fn DocumentPage() -> impl IntoView {
    let params = use_params_map();
    // A signal, so that moving from version to version (same route) reads the new one.
    let oid = Signal::derive(move || params.read().get("oid").unwrap_or_default());
    view! { <OpenDocument oid /> }
}

#[component]
fn OpenDocument(oid: Signal<String>) -> impl IntoView {
    let document = Resource::new(move || oid.get(), open_document);
    let language = use_language();
    view! {
        <Transition fallback=move || view! { <p>{move || language.get().texts().loading}</p> }>
            {move || Suspend::new(async move {
                match document.await {
                    Ok(view) => view! { <Document view /> }.into_any(),
                    // Not there and another controller's: the same page.
                    Err(error) if is_not_found(&error) => view! { <NotFound /> }.into_any(),
                    Err(error) if error.is_invalid("document_oid") => {
                        view! {
                            <p class="error" role="alert" data-field="invalid-oid">
                                {move || language.get().document_texts().invalid_document_oid}
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

pub(super) fn status_text(language: Language, status: &str) -> &'static str {
    let t = language.document_texts();
    match status {
        "current" => t.status_current,
        "replaced" => t.status_replaced,
        _ => t.status_nullified,
    }
}

#[component]
fn Document(view: DocumentView) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let view = StoredValue::new(view);
    let v = move || view.get_value();
    let oid = v().document_oid;
    let title = move || {
        v().title
            .map(|title| title.display(language.get()))
            .unwrap_or_else(|| v().document_oid)
    };
    let has_display = v().renditions.iter().any(|r| r.kind == "xhtml");
    let rendition_src = format!("/api/documents/{oid}/rendition");
    let raw_href = format!("/api/documents/{oid}/raw");
    let raw_download = format!("/api/documents/{oid}/raw?download=1");
    view! {
        <article class="document" data-document=oid.clone()>
            <h1>{title}</h1>
            <p class="document-meta">
                <span class="mono" data-field="document-oid">{oid.clone()}</span>
                " · "
                {move || t().version}
                " "
                {v().version_number}
                " · "
                <span class="status" data-field="status" data-status=v().status>
                    {move || status_text(language.get(), &v().status)}
                </span>
                " · "
                {move || t().controller}
                ": "
                {v().controller_name}
            </p>

            <section aria-labelledby="display-heading">
                <h2 id="display-heading">{move || t().display_heading}</h2>
                {if has_display {
                    view! {
                        <iframe
                            class="rendition"
                            src=rendition_src
                            sandbox=""
                            referrerpolicy="no-referrer"
                            title=move || t().display_frame_title
                            data-field="rendition"
                        ></iframe>
                    }
                        .into_any()
                } else {
                    view! { <p class="note">{move || t().no_display}</p> }.into_any()
                }}
                <PdfLinks view=v() />
            </section>

            <section aria-labelledby="raw-heading">
                <h2 id="raw-heading">{move || t().raw_heading}</h2>
                <p>{move || t().raw_intro}</p>
                <dl class="facts">
                    <dt>{move || t().sha256}</dt>
                    <dd class="mono" data-field="raw-sha256">{v().raw.sha256}</dd>
                    <dt>{move || t().size}</dt>
                    <dd>{v().raw.size} " " {move || t().bytes}</dd>
                </dl>
                <p>
                    <a href=format!("/documents/{oid}/cda") data-action="raw-view">
                        {move || t().view_highlighted}
                    </a>
                    " · "
                    <a href=raw_href rel="external" data-action="raw-open">{move || t().open}</a>
                    " · "
                    <a href=raw_download rel="external" download="" data-action="raw-download">
                        {move || t().download}
                    </a>
                </p>
            </section>

            <StructuredBlock view=v() />
            <Metadata view=v() />
            <ArchiveBlock view=v() />
            <Versions view=v() />
        </article>
    }
}

/// The header fields with labels in the user's language, and the elements the reader did not
/// know, as stored.
#[component]
fn Metadata(view: DocumentView) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    view! {
    <section aria-labelledby="metadata-heading">
        <h2 id="metadata-heading">{move || t().metadata_heading}</h2>
        <dl class="facts" data-field="metadata">
            {view
                .header
                .into_iter()
                .map(|field| {
                    let key = field.key.clone();
                    let value = field.value.clone();
                    view! {
                        <dt>{move || language.get().header_label(&key)}</dt>
                        <dd data-key=field.key>{move || value.display(language.get())}</dd>
                    }
                })
                .collect_view()}
        </dl>
        {view
            .unknown_header
            .map(|json| {
                view! {
                    <h3>{move || t().unknown_header}</h3>
                    <pre class="mono">{json}</pre>
                }
            })}
    </section>
    }
    .into_any()
}

#[component]
fn PdfLinks(view: DocumentView) -> impl IntoView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let oid = view.document_oid.clone();
    view.renditions
        .into_iter()
        .filter_map(|r| r.pdf_number)
        .map(|n| {
            let open = format!("/api/documents/{oid}/pdf/{n}");
            let download = format!("/api/documents/{oid}/pdf/{n}?download=1");
            view! {
                <p data-field="pdf">
                    {move || t().pdf}
                    " "
                    {n}
                    ": "
                    <a href=open rel="external">{move || t().open}</a>
                    " · "
                    <a href=download rel="external" download="">{move || t().download}</a>
                </p>
            }
        })
        .collect_view()
}

#[component]
fn ArchiveBlock(view: DocumentView) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let archive = view.archive.clone();
    let rule_names = archive.retention_rule_names.clone();
    let rule = move || {
        let index = match language.get() {
            Language::Fi => 0,
            Language::Sv => 1,
            Language::En => 2,
        };
        format!("{} ({})", rule_names[index], archive.retention_rule)
    };
    let retention_end = view.archive.retention_end.clone();
    view! {
        <section aria-labelledby="archive-heading" data-field="archive">
            <h2 id="archive-heading">{move || t().archive_heading}</h2>
            <dl class="facts">
                <dt>{move || t().archived_at}</dt>
                <dd data-field="archived-at">
                    <Time value=view.archive.archived_at.clone() />
                </dd>
                <dt>{move || t().archive_id}</dt>
                <dd class="mono">{view.archive.archive_id.clone()}</dd>
                <dt>{move || t().storage_code}</dt>
                <dd>{view.archive.storage_code.clone()}</dd>
                <dt>{move || t().completion_code}</dt>
                <dd>{view.archive.completion_code.clone()}</dd>
                <dt>{move || t().retention_end}</dt>
                <dd>
                    {move || retention_end.clone().unwrap_or_else(|| t().retention_open.to_owned())}
                </dd>
                <dt>{move || t().retention_rule}</dt>
                <dd>{rule}</dd>
                <dt>{move || t().active_controller}</dt>
                <dd class="mono">{view.archive.active_controller_oid.clone()}</dd>
            </dl>
            <h3>{move || t().renditions_heading}</h3>
            <table class="data">
                <thead>
                    <tr>
                        <th scope="col">{move || t().kind}</th>
                        <th scope="col">{move || t().media_type}</th>
                        <th scope="col">{move || t().size}</th>
                        <th scope="col">{move || t().sha256}</th>
                    </tr>
                </thead>
                <tbody>
                    {view
                        .renditions
                        .iter()
                        .map(|r| {
                            view! {
                                <tr>
                                    <td>{r.kind.clone()}</td>
                                    <td>{r.media_type.clone()}</td>
                                    <td>{r.size}</td>
                                    <td class="mono">{r.sha256.clone()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <h3>{move || t().signatures_heading}</h3>
            {if view.signatures.is_empty() {
                view! { <p class="note">{move || t().no_signatures}</p> }.into_any()
            } else {
                view.signatures
                    .iter()
                    .map(|s| {
                        view! {
                            <dl class="facts" data-field="signature">
                                <dt>{move || t().integrity}</dt>
                                <dd data-integrity=s.integrity.clone()>
                                    {s.integrity.clone()}
                                    {s.integrity_detail.clone().map(|d| format!(" – {d}"))}
                                </dd>
                                <dt>{move || t().trust}</dt>
                                <dd data-trust=s.trust.clone()>
                                    {s.trust.clone()}
                                    {s.trust_detail.clone().map(|d| format!(" – {d}"))}
                                </dd>
                                <dt>{move || t().signer}</dt>
                                <dd>{s.signer_subject.clone().unwrap_or_default()}</dd>
                                <dt>{move || t().signer_issuer}</dt>
                                <dd>{s.signer_issuer.clone().unwrap_or_default()}</dd>
                                <dt>{move || t().signature_time}</dt>
                                <dd>{s.signature_timestamp.clone().map(|at| view! { <Time value=at /> })}</dd>
                                <dt>{move || t().verified_at}</dt>
                                <dd>
                                    <Time value=s.verified_at.clone() />
                                </dd>
                            </dl>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
            <h3>{move || t().events_heading}</h3>
            <ul data-field="events">
                {view
                    .events
                    .iter()
                    .map(|e| view! {
                            <li>
                                <Time value=e.occurred_at.clone() />
                                " "
                                {e.event.clone()}
                            </li>
                        })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

#[component]
fn Versions(view: DocumentView) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let this = view.document_oid.clone();
    view! {
        <section aria-labelledby="versions-heading">
            <h2 id="versions-heading">{move || t().versions_heading}</h2>
            <table class="data" data-field="versions">
                <thead>
                    <tr>
                        <th scope="col">{move || t().version}</th>
                        <th scope="col">{move || t().archived_at}</th>
                        <th scope="col">{move || t().software}</th>
                        <th scope="col">{move || t().correction_reason}</th>
                        <th scope="col">{move || language.get().compare_texts().compare_column}</th>
                    </tr>
                </thead>
                <tbody>
                    {view
                        .versions
                        .into_iter()
                        .map(|row| {
                            let href = format!("/documents/{}", row.document_oid);
                            let compare = format!("/compare?a={}&b={this}", row.document_oid);
                            let current = row.document_oid == this;
                            let status = row.status.clone();
                            let reason: Option<HeaderValue> = row.correction_reason.clone();
                            view! {
                                <tr data-version=row.version_number>
                                    <td>
                                        {if current {
                                            view! {
                                                <span aria-current="page">
                                                    {row.version_number} " (" {move || t().this_version} ")"
                                                </span>
                                            }
                                                .into_any()
                                        } else {
                                            view! { <a href=href>{row.version_number}</a> }.into_any()
                                        }}
                                        " "
                                        <span class="status" data-status=row.status.clone()>
                                            {move || status_text(language.get(), &status)}
                                        </span>
                                    </td>
                                    <td>
                                        <Time value=row.archived_at.clone() />
                                    </td>
                                    <td>{row.software.clone().unwrap_or_default()}</td>
                                    <td>
                                        {move || {
                                            reason
                                                .as_ref()
                                                .map(|r| r.display(language.get()))
                                                .unwrap_or_default()
                                        }}
                                    </td>
                                    <td>
                                        {(!current)
                                            .then(|| {
                                                view! {
                                                    <a href=compare data-action="compare">
                                                        {move || {
                                                            language.get().compare_texts().compare_link
                                                        }}
                                                    </a>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
