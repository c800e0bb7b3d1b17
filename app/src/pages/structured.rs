//! The structured (JSON) rendition of a document version as a labelled tree: each field's label
//! in the reader's language with its stored name beside it, coded values named from the code
//! lists, nested structures as disclosure boxes that a keyboard opens and closes.

use leptos::prelude::*;

use crate::i18n::use_language;
use crate::model::document::{
    DocumentView, HeaderValue, StructuredField, StructuredRendition, StructuredValue,
};
use crate::structured_labels::field_label;

#[component]
pub(super) fn StructuredBlock(view: DocumentView) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    let body = match view.structured {
        StructuredRendition::Absent => {
            view! { <p class="note" data-field="no-structured">{move || t().no_structured}</p> }
                .into_any()
        }
        StructuredRendition::TooLarge => {
            view! { <p class="note" data-field="structured-too-large">{move || t().structured_too_large}</p> }
                .into_any()
        }
        StructuredRendition::Unreadable { reason, text } => {
            view! {
                <p class="error" role="alert" data-field="structured-unreadable">
                    {move || t().structured_unreadable}
                    " "
                    <span class="mono">{reason}</span>
                </p>
                <pre class="mono stored-text">{text}</pre>
            }
                .into_any()
        }
        StructuredRendition::Tree(value) => {
            view! { <div class="tree" data-field="structured">{node(value)}</div> }.into_any()
        }
    };
    view! {
        <section aria-labelledby="structured-heading">
            <h2 id="structured-heading">{move || t().structured_heading}</h2>
            {body}
        </section>
    }
    .into_any()
}

/// A value: an object as a list of fields, a list as numbered items, anything else as text.
fn node(value: StructuredValue) -> AnyView {
    match value {
        StructuredValue::Object(fields) => view! {
            <ul class="tree-fields">{fields.into_iter().map(field).collect_view()}</ul>
        }
        .into_any(),
        StructuredValue::List(items) => view! {
            <ol class="tree-items">
                {items.into_iter().map(|item| view! { <li>{node(item)}</li> }).collect_view()}
            </ol>
        }
        .into_any(),
        leaf => leaf_text(leaf),
    }
}

fn field(field: StructuredField) -> AnyView {
    let language = use_language();
    let name = field.name.clone();
    let label = move || field_label(language.get(), &name);
    let stored_name = field.name.clone();
    let nested = matches!(&field.value, StructuredValue::Object(f) if !f.is_empty())
        || matches!(&field.value, StructuredValue::List(i) if !i.is_empty());
    if nested {
        view! {
            <li data-name=field.name.clone()>
                <details open>
                    <summary>
                        <span class="tree-label">{label}</span>
                        " "
                        <code class="tree-name">{stored_name}</code>
                    </summary>
                    {node(field.value)}
                </details>
            </li>
        }
        .into_any()
    } else {
        view! {
            <li data-name=field.name.clone()>
                <span class="tree-label">{label}</span>
                " "
                <code class="tree-name">{stored_name}</code>
                ": "
                {leaf_text(field.value)}
            </li>
        }
        .into_any()
    }
}

/// A value that has no parts, in the reader's language where it has words.
fn leaf_text(value: StructuredValue) -> AnyView {
    let language = use_language();
    let t = move || language.get().document_texts();
    match value {
        StructuredValue::Null | StructuredValue::Object(_) | StructuredValue::List(_) => {
            view! { <span class="tree-value empty">{move || t().empty_value}</span> }.into_any()
        }
        StructuredValue::Bool(yes) => view! {
            <span class="tree-value">
                {move || {
                    let texts = language.get().texts();
                    if yes { texts.yes } else { texts.no }
                }}
            </span>
        }
        .into_any(),
        StructuredValue::Number(number) => {
            view! { <span class="tree-value mono">{number}</span> }.into_any()
        }
        StructuredValue::Text(text) => view! { <span class="tree-value">{text}</span> }.into_any(),
        StructuredValue::Code(code) => {
            let value = HeaderValue::Code(code);
            view! {
                <span class="tree-value" data-field="code">
                    {move || value.display(language.get())}
                </span>
            }
            .into_any()
        }
    }
}
