//! Comparing two versions of a set: header fields value by value, and line diffs of the display
//! text (read from the archived XHTML) and of the structured rendition (JSON flattened to one
//! `path: value` line per field). Computed here so that the browser only draws the rows.

use std::time::{Duration, Instant};

use app::{
    model::compare::{Change, ComparisonView, DiffRow, HeaderChange, TextComparison, VersionRef},
    model::document::DocumentView,
    ssr::ServiceError,
};
use roxmltree::{Document, Node, ParsingOptions};
use serde_json::{Value, json};
use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

use super::context::RequestContext;
use crate::{
    archive::DocumentOid,
    audit::{AuditAction, Outcome},
    auth::ControllerScope,
};

use super::access::ServerServices;

/// Renditions larger than this are not compared (they stay downloadable as stored).
const MAX_COMPARED_BYTES: i64 = 4 * 1024 * 1024;
/// A diff that takes longer falls back to a coarser (still correct) one.
const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// Elements whose content starts and ends a line of the display text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "br",
    "caption",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
];

impl ServerServices {
    pub(super) async fn compare(
        &self,
        caller: &RequestContext,
        a: String,
        b: String,
    ) -> Result<ComparisonView, ServiceError> {
        let a = DocumentOid::parse(a.trim()).map_err(|_| ServiceError::invalid("a"))?;
        let b = DocumentOid::parse(b.trim()).map_err(|_| ServiceError::invalid("b"))?;
        let scope = self.active_scope(caller).await?;
        let first = self.version_view(&scope, &a).await?;
        let second = self.version_view(&scope, &b).await?;
        if first.set_oid != second.set_oid || first.controller_oid != second.controller_oid {
            return Err(ServiceError::invalid("other_set"));
        }
        let (older, newer) = if first.version_number <= second.version_number {
            (first, second)
        } else {
            (second, first)
        };
        let older_oid =
            DocumentOid::parse(&older.document_oid).map_err(|_| ServiceError::Unavailable)?;
        let newer_oid =
            DocumentOid::parse(&newer.document_oid).map_err(|_| ServiceError::Unavailable)?;
        let versions = (newer.controller_oid.as_str(), &older_oid, &newer_oid);
        let display = self
            .text_comparison(caller, &scope, versions, "xhtml", display_lines)
            .await?;
        let structured = self
            .text_comparison(caller, &scope, versions, "json", json_lines)
            .await?;
        self.record_access(
            caller,
            AuditAction::DocumentsCompared,
            Outcome::Success,
            Some(newer.controller_oid.as_str()),
            Some(newer_oid.as_str()),
            Some(json!({ "compared_with": older_oid.as_str() })),
        )
        .await?;
        Ok(ComparisonView {
            header: header_changes(&older, &newer),
            older: version_ref(&older),
            newer: version_ref(&newer),
            display,
            structured,
        })
    }

    async fn text_comparison(
        &self,
        caller: &RequestContext,
        scope: &ControllerScope,
        (controller, older, newer): (&str, &DocumentOid, &DocumentOid),
        kind: &str,
        lines: fn(&[u8]) -> Option<Vec<String>>,
    ) -> Result<TextComparison, ServiceError> {
        let old = self
            .checked_rendition(caller, scope, (controller, older), kind, MAX_COMPARED_BYTES)
            .await?;
        let new = self
            .checked_rendition(caller, scope, (controller, newer), kind, MAX_COMPARED_BYTES)
            .await?;
        Ok(compare_renditions(old, new, lines))
    }
}

/// What two stored renditions (each absent, too large or read) come to.
fn compare_renditions(
    old: Option<Option<Vec<u8>>>,
    new: Option<Option<Vec<u8>>>,
    lines: fn(&[u8]) -> Option<Vec<String>>,
) -> TextComparison {
    match (old, new) {
        (None, None) => TextComparison::Absent,
        (Some(None), _) | (_, Some(None)) => TextComparison::TooLarge,
        (old, new) => {
            // A version without the rendition compares as empty: all added or all removed.
            let read = |bytes: Option<Option<Vec<u8>>>| match bytes.flatten() {
                None => Some(Vec::new()),
                Some(bytes) => lines(&bytes),
            };
            match (read(old), read(new)) {
                (Some(old), Some(new)) => TextComparison::Rows(side_by_side(&old, &new)),
                _ => TextComparison::Unreadable,
            }
        }
    }
}

fn version_ref(view: &DocumentView) -> VersionRef {
    VersionRef {
        document_oid: view.document_oid.clone(),
        version_number: view.version_number,
        status: view.status.clone(),
        archived_at: view.archive.archived_at.clone(),
    }
}

/// Every field of either version, in the newer one's order, then what only the older one has.
fn header_changes(older: &DocumentView, newer: &DocumentView) -> Vec<HeaderChange> {
    let mut keys: Vec<&str> = newer.header.iter().map(|f| f.key.as_str()).collect();
    for field in &older.header {
        if !keys.contains(&field.key.as_str()) {
            keys.push(&field.key);
        }
    }
    let value = |view: &DocumentView, key: &str| {
        view.header
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.clone())
    };
    keys.into_iter()
        .map(|key| HeaderChange {
            key: key.to_owned(),
            older: value(older, key),
            newer: value(newer, key),
        })
        .collect()
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The display text of an XHTML rendition, one line per block, whitespace collapsed; table
/// cells of a row on one line, separated by `|`. `None` when it is not well-formed XML.
pub(crate) fn display_lines(xhtml: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(without_bom(xhtml)).ok()?;
    let options = ParsingOptions {
        allow_dtd: false,
        ..ParsingOptions::default()
    };
    let document = Document::parse_with_options(text, options).ok()?;
    let root = document
        .descendants()
        .find(|n| n.has_tag_name("body"))
        .unwrap_or_else(|| document.root_element());
    let mut lines = Vec::new();
    let mut current = String::new();
    collect_text(root, &mut lines, &mut current);
    end_line(&mut lines, &mut current);
    Some(lines)
}

fn collect_text(node: Node<'_, '_>, lines: &mut Vec<String>, current: &mut String) {
    for child in node.children() {
        if let Some(text) = child.text().filter(|_| child.is_text()) {
            current.push_str(text);
        } else if child.is_element() {
            let name = child.tag_name().name();
            if matches!(name, "script" | "style" | "head") {
                continue;
            }
            if matches!(name, "td" | "th") && !current.trim().is_empty() {
                current.push_str(" | ");
            }
            let block = BLOCKS.contains(&name);
            if block {
                end_line(lines, current);
            }
            collect_text(child, lines, current);
            if block {
                end_line(lines, current);
            }
        }
    }
}

fn end_line(lines: &mut Vec<String>, current: &mut String) {
    let line = current.split_whitespace().collect::<Vec<_>>().join(" ");
    if !line.is_empty() {
        lines.push(line);
    }
    current.clear();
}

/// A JSON rendition as one `path: value` line per field. `None` when it is not JSON.
pub(crate) fn json_lines(bytes: &[u8]) -> Option<Vec<String>> {
    let value: Value = serde_json::from_slice(without_bom(bytes)).ok()?;
    let mut lines = Vec::new();
    flatten("", &value, &mut lines);
    Some(lines)
}

fn flatten(path: &str, value: &Value, lines: &mut Vec<String>) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (key, field) in fields {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(&path, field, lines);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, item) in items.iter().enumerate() {
                flatten(&format!("{path}[{index}]"), item, lines);
            }
        }
        Value::String(text) => lines.push(format!("{path}: {text}")),
        other => lines.push(format!("{path}: {other}")),
    }
}

/// Side-by-side rows: unchanged lines paired, replaced runs paired line by line, the rest
/// removed or added.
pub(crate) fn side_by_side(old: &[String], new: &[String]) -> Vec<DiffRow> {
    let deadline = Instant::now() + DIFF_DEADLINE;
    let mut rows = Vec::with_capacity(old.len().max(new.len()));
    let line = |lines: &[String], index: usize| lines.get(index).cloned();
    for op in capture_diff_slices_deadline(Algorithm::Myers, old, new, Some(deadline)) {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => rows.extend((0..len).map(|i| DiffRow {
                change: Change::Same,
                older: line(old, old_index + i),
                newer: line(new, new_index + i),
            })),
            DiffOp::Delete {
                old_index, old_len, ..
            } => rows.extend((0..old_len).map(|i| DiffRow {
                change: Change::Removed,
                older: line(old, old_index + i),
                newer: None,
            })),
            DiffOp::Insert {
                new_index, new_len, ..
            } => rows.extend((0..new_len).map(|i| DiffRow {
                change: Change::Added,
                older: None,
                newer: line(new, new_index + i),
            })),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => rows.extend((0..old_len.max(new_len)).map(|i| {
                let older = (i < old_len).then(|| line(old, old_index + i)).flatten();
                let newer = (i < new_len).then(|| line(new, new_index + i)).flatten();
                let change = match (&older, &newer) {
                    (Some(_), Some(_)) => Change::Changed,
                    (Some(_), None) => Change::Removed,
                    _ => Change::Added,
                };
                DiffRow {
                    change,
                    older,
                    newer,
                }
            })),
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn the_display_text_is_read_block_by_block() {
        let xhtml = "\u{feff}<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>x</title>\
            <style>p {}</style></head><body><h1>Päätös</h1><p>Asiakas  <b>Virtanen</b>\n  \
            haki</p><table><tr><th>Etuus</th><td>Toimeentulotuki</td></tr></table>\
            <ul><li>yksi</li><li>kaksi<br/>rivi</li></ul></body></html>";
        assert_eq!(
            display_lines(xhtml.as_bytes()),
            Some(lines(&[
                "Päätös",
                "Asiakas Virtanen haki",
                "Etuus | Toimeentulotuki",
                "yksi",
                "kaksi",
                "rivi"
            ]))
        );
        assert_eq!(display_lines(b"<p>unclosed"), None);
        assert_eq!(
            display_lines(b"<!DOCTYPE x [<!ENTITY a 'b'>]><p>&a;</p>"),
            None
        );
    }

    #[test]
    fn json_becomes_one_line_per_field() {
        let json = r#"{"asiakas": {"nimi": "Åsa", "ikä": 41}, "etuudet": ["a", {"b": null}], "tyhjä": {}}"#;
        assert_eq!(
            json_lines(json.as_bytes()),
            Some(lines(&[
                "asiakas.ikä: 41",
                "asiakas.nimi: Åsa",
                "etuudet[0]: a",
                "etuudet[1].b: null",
                "tyhjä: {}"
            ]))
        );
        assert_eq!(json_lines(b"{not json"), None);
    }

    #[test]
    fn rows_pair_unchanged_and_replaced_lines() {
        let old = lines(&["a", "b", "c", "d"]);
        let new = lines(&["a", "B", "c", "e", "f"]);
        let rows = side_by_side(&old, &new);
        let shape: Vec<(Change, Option<String>, Option<String>)> = rows
            .into_iter()
            .map(|r| (r.change, r.older, r.newer))
            .collect();
        let s = |t: &str| Some(t.to_owned());
        assert_eq!(
            shape,
            vec![
                (Change::Same, s("a"), s("a")),
                (Change::Changed, s("b"), s("B")),
                (Change::Same, s("c"), s("c")),
                (Change::Changed, s("d"), s("e")),
                (Change::Added, None, s("f")),
            ]
        );
        assert!(side_by_side(&[], &[]).is_empty());
    }

    #[test]
    fn renditions_compare_as_absent_too_large_unreadable_or_rows() {
        let xhtml = |t: &str| Some(Some(format!("<p>{t}</p>").into_bytes()));
        assert_eq!(
            compare_renditions(None, None, display_lines),
            TextComparison::Absent
        );
        assert_eq!(
            compare_renditions(Some(None), xhtml("a"), display_lines),
            TextComparison::TooLarge
        );
        assert_eq!(
            compare_renditions(Some(Some(b"<p>".to_vec())), xhtml("a"), display_lines),
            TextComparison::Unreadable
        );
        match compare_renditions(None, xhtml("uusi"), display_lines) {
            TextComparison::Rows(rows) => {
                assert_eq!(rows.len(), 1);
                assert_eq!(rows[0].change, Change::Added);
            }
            other => panic!("{other:?}"),
        }
    }
}
