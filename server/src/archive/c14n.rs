//! Exclusive XML Canonicalization 1.0 without comments (<https://www.w3.org/TR/xml-exc-c14n/>)
//! of one element and its descendants, as XMLDSig references and `SignedInfo` need it.
//!
//! roxmltree resolves names to namespace URIs but does not keep prefixes, and canonical form
//! is written with the prefixes of the source; they are read back from the source text through
//! the node and attribute positions.

use std::collections::BTreeMap;

use roxmltree::{Node, NodeType};

/// How to canonicalize.
#[derive(Clone, Debug, Default)]
pub struct Options<'a> {
    /// `InclusiveNamespaces PrefixList`: prefixes rendered as in inclusive canonicalization
    /// ("#default" names the default namespace).
    pub inclusive_prefixes: &'a [String],
    /// Leave out text nodes that hold only white space. Not part of the standard: some senders
    /// sign before pretty-printing. A match found only this way is reported as such.
    pub drop_whitespace_text: bool,
    /// A descendant left out together with its subtree (the enveloped-signature transform).
    pub exclude: Option<roxmltree::NodeId>,
}

/// Appends the canonical form of `apex` and its subtree to `out`.
pub fn canonicalize(source: &str, apex: Node<'_, '_>, options: &Options<'_>, out: &mut Vec<u8>) {
    let mut rendered: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
    write_node(source, apex, options, &mut rendered, out);
}

fn write_node(
    source: &str,
    node: Node<'_, '_>,
    options: &Options<'_>,
    rendered: &mut Vec<BTreeMap<String, String>>,
    out: &mut Vec<u8>,
) {
    if options.exclude == Some(node.id()) {
        return;
    }
    match node.node_type() {
        NodeType::Element => write_element(source, node, options, rendered, out),
        NodeType::Text => {
            let text = node.text().unwrap_or_default();
            if !(options.drop_whitespace_text && text.chars().all(char::is_whitespace)) {
                escape_text(text, out);
            }
        }
        NodeType::PI => {
            if let Some(pi) = node.pi() {
                out.extend_from_slice(b"<?");
                out.extend_from_slice(pi.target.as_bytes());
                if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                    out.push(b' ');
                    out.extend_from_slice(value.as_bytes());
                }
                out.extend_from_slice(b"?>");
            }
        }
        NodeType::Comment | NodeType::Root => {}
    }
}

fn write_element(
    source: &str,
    node: Node<'_, '_>,
    options: &Options<'_>,
    rendered: &mut Vec<BTreeMap<String, String>>,
    out: &mut Vec<u8>,
) {
    let qname = element_qname(source, node);
    let in_scope = |prefix: &str| -> Option<&str> {
        let wanted = (!prefix.is_empty()).then_some(prefix);
        node.namespaces()
            .find(|ns| ns.name() == wanted)
            .map(|ns| ns.uri())
    };

    // The prefixes this element visibly uses: its own and those of its prefixed attributes.
    let mut utilized: Vec<&str> = vec![prefix_of(qname)];
    let attributes: Vec<(&str, roxmltree::Attribute<'_, '_>)> = node
        .attributes()
        .map(|a| (&source[a.range_qname()], a))
        .collect();
    for (attr_qname, _) in &attributes {
        let prefix = prefix_of(attr_qname);
        if !prefix.is_empty() {
            utilized.push(prefix);
        }
    }
    for prefix in options.inclusive_prefixes {
        let prefix = if prefix == "#default" { "" } else { prefix };
        if in_scope(prefix).is_some() {
            utilized.push(prefix);
        }
    }

    let parent_rendered = rendered.last().cloned().unwrap_or_default();
    let mut declarations: BTreeMap<String, String> = BTreeMap::new();
    for prefix in utilized {
        if prefix == "xml" {
            continue;
        }
        let uri = in_scope(prefix).unwrap_or("");
        let already = parent_rendered.get(prefix).map(String::as_str);
        // An empty default namespace is written only to undo a rendered non-empty one.
        let needed = if prefix.is_empty() && uri.is_empty() {
            already.is_some_and(|u| !u.is_empty())
        } else {
            already != Some(uri)
        };
        if needed {
            declarations.insert(prefix.to_owned(), uri.to_owned());
        }
    }

    out.push(b'<');
    out.extend_from_slice(qname.as_bytes());
    // BTreeMap order puts the default namespace ("") first, then prefixes lexicographically.
    for (prefix, uri) in &declarations {
        if prefix.is_empty() {
            out.extend_from_slice(b" xmlns=\"");
        } else {
            out.extend_from_slice(b" xmlns:");
            out.extend_from_slice(prefix.as_bytes());
            out.extend_from_slice(b"=\"");
        }
        escape_attribute(uri, out);
        out.push(b'"');
    }
    let mut sorted = attributes;
    sorted.sort_by(|(_, a), (_, b)| {
        (a.namespace().unwrap_or(""), a.name()).cmp(&(b.namespace().unwrap_or(""), b.name()))
    });
    for (attr_qname, attribute) in &sorted {
        out.push(b' ');
        out.extend_from_slice(attr_qname.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_attribute(attribute.value(), out);
        out.push(b'"');
    }
    out.push(b'>');

    let mut scope = parent_rendered;
    scope.extend(declarations);
    rendered.push(scope);
    for child in node.children() {
        write_node(source, child, options, rendered, out);
    }
    rendered.pop();

    out.extend_from_slice(b"</");
    out.extend_from_slice(qname.as_bytes());
    out.push(b'>');
}

/// The element's qualified name as written: the characters after `<` up to white space, `/`
/// or `>`.
fn element_qname<'s>(source: &'s str, node: Node<'_, '_>) -> &'s str {
    let start = node.range().start + 1;
    let rest = &source[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    &rest[..end]
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(prefix, _)| prefix)
}

fn escape_text(text: &str, out: &mut Vec<u8>) {
    for byte in text.bytes() {
        match byte {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            other => out.push(other),
        }
    }
}

fn escape_attribute(value: &str, out: &mut Vec<u8>) {
    for byte in value.bytes() {
        match byte {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#x9;"),
            b'\n' => out.extend_from_slice(b"&#xA;"),
            b'\r' => out.extend_from_slice(b"&#xD;"),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(
        xml: &str,
        pick: impl Fn(&roxmltree::Document<'_>) -> roxmltree::NodeId,
    ) -> String {
        let doc = roxmltree::Document::parse(xml).expect("parses");
        let apex = doc.get_node(pick(&doc)).expect("node");
        let mut out = Vec::new();
        canonicalize(xml, apex, &Options::default(), &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    fn by_name(name: &'static str) -> impl Fn(&roxmltree::Document<'_>) -> roxmltree::NodeId {
        move |doc| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .expect("element")
                .id()
        }
    }

    /// The example of Exclusive XML Canonicalization §2.2: only visibly used namespaces of
    /// the apex's ancestors are rendered.
    #[test]
    fn renders_only_visibly_utilized_namespaces() {
        let xml = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
        assert_eq!(
            canonical(xml, by_name("elem2")),
            r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
        );
    }

    #[test]
    fn sorts_attributes_escapes_and_expands_empty_elements() {
        let xml = "<r xmlns=\"urn:d\" xmlns:b=\"urn:b\"><e z=\"1\" b:a=\"&quot;x&#9;\" a=\"&lt;\">1 &lt; 2 &amp; 3 &gt; 0<!-- gone --><f/></e></r>";
        assert_eq!(
            canonical(xml, by_name("e")),
            "<e xmlns=\"urn:d\" xmlns:b=\"urn:b\" a=\"&lt;\" z=\"1\" b:a=\"&quot;x&#x9;\">1 &lt; 2 &amp; 3 &gt; 0<f></f></e>"
        );
    }

    #[test]
    fn keeps_the_source_prefix_when_a_namespace_has_two() {
        // The Finnish header binds urn:hl7finland both as a prefix and as the default.
        let xml = r#"<a xmlns:ep2="urn:hl7finland"><ep2:b><c xmlns="urn:hl7finland" ID="x"><d/></c></ep2:b></a>"#;
        assert_eq!(
            canonical(xml, by_name("c")),
            r#"<c xmlns="urn:hl7finland" ID="x"><d></d></c>"#
        );
        assert_eq!(
            canonical(xml, by_name("b")),
            r#"<ep2:b xmlns:ep2="urn:hl7finland"><c xmlns="urn:hl7finland" ID="x"><d></d></c></ep2:b>"#
        );
    }

    #[test]
    fn line_endings_are_normalised_by_the_parser() {
        let xml = "<a>\r\nx\r\n</a>";
        assert_eq!(canonical(xml, by_name("a")), "<a>\nx\n</a>");
    }

    #[test]
    fn whitespace_text_can_be_dropped() {
        let xml = "<a>\n  <b> x </b>\n</a>";
        let doc = roxmltree::Document::parse(xml).expect("parses");
        let mut out = Vec::new();
        let options = Options {
            drop_whitespace_text: true,
            ..Options::default()
        };
        canonicalize(xml, doc.root_element(), &options, &mut out);
        assert_eq!(out, b"<a><b> x </b></a>");
    }
}
