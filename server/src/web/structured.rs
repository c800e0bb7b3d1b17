//! The structured (JSON) rendition as the document page's tree: fields in their stored order
//! (a map type would sort them), numbers as written, and Sosmeta's coded values
//! (`{"system": "urn:oid:…", "code": …, "display": …}`) recognised, so that the page names them
//! from the code lists in the reader's language.

use std::fmt;

use app::model::document::{CodedValue, StructuredField, StructuredRendition, StructuredValue};
use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, SeqAccess, Visitor},
};

/// Larger renditions are not shown as a tree (they are in the stored CDA).
pub(super) const MAX_TREE_BYTES: i64 = 1024 * 1024;

/// How deep the page follows nesting. Sosmeta structures go about eight levels deep; a tree
/// deeper than this is shown as stored text instead of as boxes within boxes.
const MAX_DEPTH: usize = 32;

/// The tree of a stored rendition (`None`: the version has none; `Some(None)`: larger than
/// [`MAX_TREE_BYTES`]).
pub(super) fn structured_rendition(stored: Option<Option<Vec<u8>>>) -> StructuredRendition {
    match stored {
        None => StructuredRendition::Absent,
        Some(None) => StructuredRendition::TooLarge,
        Some(Some(bytes)) => tree(&bytes),
    }
}

fn tree(bytes: &[u8]) -> StructuredRendition {
    let unreadable = |reason: String| StructuredRendition::Unreadable {
        reason,
        text: String::from_utf8_lossy(bytes).into_owned(),
    };
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match serde_json::from_slice::<Tree>(text) {
        Ok(Tree(value)) if depth(&value) > MAX_DEPTH => {
            unreadable(format!("nested deeper than {MAX_DEPTH} levels"))
        }
        Ok(Tree(value)) => StructuredRendition::Tree(value),
        Err(error) => unreadable(error.to_string()),
    }
}

fn depth(value: &StructuredValue) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        match value {
            StructuredValue::List(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            StructuredValue::Object(fields) => {
                stack.extend(fields.iter().map(|f| (&f.value, level + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// A JSON value read into [`StructuredValue`] directly, keeping the order of fields.
struct Tree(StructuredValue);

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor).map(Tree)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = StructuredValue;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(StructuredValue::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(StructuredValue::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(StructuredValue::Number(value.to_string()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(StructuredValue::Number(value.to_string()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(StructuredValue::Number(value.to_string()))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(StructuredValue::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(StructuredValue::Text(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Tree(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StructuredValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some((name, Tree(value))) = map.next_entry::<String, Tree>()? {
            fields.push(StructuredField { name, value });
        }
        Ok(coded(&fields).map_or(StructuredValue::Object(fields), StructuredValue::Code))
    }
}

/// A Sosmeta coded value: text `system` and `code`, optionally a text `display`, nothing else.
fn coded(fields: &[StructuredField]) -> Option<CodedValue> {
    let text = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| match &f.value {
                StructuredValue::Text(text) => Some(text.clone()),
                _ => None,
            })
    };
    let only_texts_of_a_code = fields.iter().all(|f| {
        matches!(f.name.as_str(), "system" | "code" | "display")
            && matches!(f.value, StructuredValue::Text(_))
    });
    if !only_texts_of_a_code {
        return None;
    }
    let system = text("system")?;
    let code = text("code")?;
    let display = text("display");
    Some(CodedValue {
        code,
        system: Some(
            system
                .strip_prefix("urn:oid:")
                .unwrap_or(&system)
                .to_owned(),
        ),
        names: None,
        document_name: display,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> StructuredRendition {
        structured_rendition(Some(Some(json.as_bytes().to_vec())))
    }

    #[test]
    fn fields_keep_their_stored_order_and_codes_are_recognised() {
        let json = "\u{FEFF}{\"ö\": 1.50, \"a\": [true, null, \"x\"], \"sukupuoli\": \
                    {\"system\": \"urn:oid:1.2.246.537.5.1.1997\", \"code\": \"2\", \
                    \"display\": \"nainen\"}, \"id\": {\"system\": \"1.2.246.1\", \"value\": \"1.2.3\"}}";
        let StructuredRendition::Tree(StructuredValue::Object(fields)) = read(json) else {
            panic!("a tree");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ö", "a", "sukupuoli", "id"], "stored order");
        assert_eq!(fields[0].value, StructuredValue::Number("1.5".to_owned()));
        assert_eq!(
            fields[1].value,
            StructuredValue::List(vec![
                StructuredValue::Bool(true),
                StructuredValue::Null,
                StructuredValue::Text("x".to_owned())
            ])
        );
        assert_eq!(
            fields[2].value,
            StructuredValue::Code(CodedValue {
                code: "2".to_owned(),
                system: Some("1.2.246.537.5.1.1997".to_owned()),
                names: None,
                document_name: Some("nainen".to_owned()),
            })
        );
        assert!(
            matches!(fields[3].value, StructuredValue::Object(_)),
            "an identifier is not a code"
        );
    }

    #[test]
    fn what_is_not_json_or_too_deep_is_shown_as_stored_with_the_reason() {
        for (json, reason) in [
            ("{\"a\": ", "EOF"),
            ("not json", "expected"),
            (
                &format!("{}1{}", "[".repeat(40), "]".repeat(40)),
                "deeper than 32",
            ),
            (
                &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
                "recursion",
            ),
        ] {
            match read(json) {
                StructuredRendition::Unreadable { reason: why, text } => {
                    assert!(why.contains(reason), "{why}");
                    assert_eq!(text, json);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(structured_rendition(None), StructuredRendition::Absent);
        assert!(matches!(
            structured_rendition(Some(None)),
            StructuredRendition::TooLarge
        ));
    }
}
