//! The social welfare CDA R2 profile (archive-model.md §1): the standard CDA header, the
//! Finnish `localSocialHeader`, and the `nonXMLBody` renditions.

use roxmltree::Node;
use serde::Serialize;

use super::{
    ControllerOid, DocumentOid, Oid, ParseError,
    xml::{self, HL7, HL7FI, XMLDSIG, attr, child, children, path, text},
};

/// A coded value: `code`, `codeSystem`, `displayName` as the sender wrote them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Code {
    pub code: String,
    pub code_system: Option<String>,
    pub display_name: Option<String>,
}

/// An HL7 instance identifier (`root` and optional `extension`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceId {
    pub root: String,
    pub extension: Option<String>,
}

/// The version this one replaces (`relatedDocument typeCode="RPLC"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replaces {
    pub document_oid: DocumentOid,
    pub set_id: Option<Oid>,
    pub version_number: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Software {
    pub moderator: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
}

/// One `hl7fi:signatureCollection/signature`: what the sender says about it, and the parts a
/// verifier needs. Verification itself is the archive's job, not the parser's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureInfo {
    pub id: Option<String>,
    pub description: Option<Code>,
    pub timestamp: Option<String>,
    pub has_xmldsig: bool,
    /// The signer's certificate from `KeyInfo/X509Data/X509Certificate`, DER.
    #[serde(skip)]
    pub certificate_der: Option<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenditionKind {
    /// The display form ("näyttömuoto"), XHTML.
    Xhtml,
    /// A PDF display form or attachment.
    Pdf,
    /// The structured form ("rakenteinen muoto"), `hl7fi:json`.
    Json,
    /// Another media type, kept as sent.
    Other,
}

/// A decoded rendition from the `nonXMLBody`, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendition {
    pub kind: RenditionKind,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// Every header field of archive-model.md §1.2, typed; header elements this reader does not
/// know are kept in `unknown_header` so that nothing is lost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParsedDocument {
    pub document_oid: DocumentOid,
    pub set_id: Oid,
    pub version_number: u32,
    pub replaces: Option<Replaces>,
    /// `code`: the general document type; `None` for `nullFlavor` (client-relationship documents).
    pub general_type: Option<Code>,
    pub effective_time: String,
    pub confidentiality: Option<Code>,
    pub language: Option<String>,

    pub client_id: InstanceId,
    pub client_family_name: Option<String>,
    pub client_given_names: Vec<String>,
    pub client_gender: Option<Code>,
    pub client_birth_time: Option<String>,

    pub author_id: Option<InstanceId>,
    pub author_name: Option<String>,

    pub controller: ControllerOid,
    pub controller_name: Option<String>,
    pub consent: Option<Code>,
    pub case_oid: Option<Oid>,
    pub service_unit_oid: Option<Oid>,
    pub service_unit_name: Option<String>,
    pub responsible_organisation_oid: Option<Oid>,
    pub responsible_organisation_name: Option<String>,

    pub creation_time: Option<String>,
    pub document_group: Option<Code>,
    pub specific_type: Option<Code>,
    pub function_code: Option<Code>,
    pub service_process: Option<Code>,
    pub file_format: Option<Code>,
    pub structured_file_format: Option<Code>,
    pub software: Option<Software>,
    pub record_status: Option<Code>,
    pub registry_type: Option<Code>,
    pub organiser_oid: Option<Oid>,
    pub organiser_name: Option<String>,
    pub total_retention_class: Option<Code>,
    pub special_content: Option<Code>,
    pub content_specification_id: Option<String>,
    pub client_relationship_oid: Option<Oid>,
    pub authorization_restriction: Option<Code>,
    /// The grounds as free text (senders use the element for a code, a text, or both).
    pub authorization_restriction_text: Option<String>,
    pub inaccessible_argument: Option<Code>,
    pub inaccessible_argument_text: Option<String>,
    pub reason_of_correction: Option<Code>,
    /// `hl7fi:signature/assignedAuthorSigner`: the signing professional's registration number.
    pub signer_id: Option<String>,
    pub signer_name: Option<String>,
    pub signer_authentication_method: Option<Code>,
    pub signed_time: Option<String>,
    /// `localSocialHeader` children not listed above, as `[{namespace, name, attributes, text}]`.
    pub unknown_header: serde_json::Value,

    pub signatures: Vec<SignatureInfo>,
    #[serde(skip)]
    pub renditions: Vec<Rendition>,
}

impl ParsedDocument {
    /// The display form archivists see: the first XHTML rendition, else the first PDF.
    pub fn display_rendition(&self) -> Option<&Rendition> {
        let first = |kind| self.renditions.iter().find(|r| r.kind == kind);
        first(RenditionKind::Xhtml).or_else(|| first(RenditionKind::Pdf))
    }
}

/// The `localSocialHeader` children read into typed fields; the rest go to `unknown_header`.
const KNOWN_HEADER: &[&str] = &[
    "creationTime",
    "documentGroup",
    "specificDocumentType",
    "functionCode",
    "serviceProcess",
    "fileFormat",
    "structuredFileFormat",
    "softwareSupport",
    "recordStatus",
    "registryType",
    "outsourcingServiceCustomer",
    "outsourcingServiceCustomerName",
    "totalRetentionPeriodClass",
    "specialContent",
    "contentSpecificationId",
    "encompassingClientRelationship",
    "authorizationRestrictionArgument",
    "inaccessibleArgument",
    "reasonOfCorrection",
    "signature",
    "signatureCollection",
];

pub(super) fn code(node: Option<Node<'_, '_>>) -> Option<Code> {
    let node = node?;
    Some(Code {
        code: node.attribute("code")?.to_owned(),
        code_system: node.attribute("codeSystem").map(str::to_owned),
        display_name: node.attribute("displayName").map(str::to_owned),
    })
}

pub(super) fn instance_id(node: Option<Node<'_, '_>>) -> Option<InstanceId> {
    let node = node?;
    Some(InstanceId {
        root: node.attribute("root")?.to_owned(),
        extension: node.attribute("extension").map(str::to_owned),
    })
}

/// An optional OID attribute: absent (or `nullFlavor`) is `None`, present but malformed is an
/// error, because a wrong identifier must not be archived as if it were right.
fn optional_oid(
    node: Option<Node<'_, '_>>,
    name: &str,
    element: &'static str,
) -> Result<Option<Oid>, ParseError> {
    match attr(node, name) {
        None => Ok(None),
        Some(value) => Oid::parse(&value)
            .map(Some)
            .map_err(|e| ParseError::Invalid {
                element,
                problem: e.to_string(),
            }),
    }
}

fn required_oid(node: Option<Node<'_, '_>>, element: &'static str) -> Result<Oid, ParseError> {
    optional_oid(node, "root", element)?.ok_or(ParseError::Missing(element))
}

/// A person's name, "given … family", from a name element whose parts are in the element's own
/// namespace (HL7 v3 in the CDA header, urn:hl7finland in the local signature block).
fn person_name(name: Option<Node<'_, '_>>) -> Option<String> {
    let name = name?;
    let ns = name.tag_name().namespace().unwrap_or(HL7);
    let parts: Vec<String> = children(name, ns, "given")
        .filter(|g| g.attribute("qualifier").is_none())
        .chain(children(name, ns, "family"))
        .filter_map(|n| text(Some(n)))
        .collect();
    if parts.is_empty() {
        text(Some(name))
    } else {
        Some(parts.join(" "))
    }
}

/// Reads and checks one CDA document. `bytes` are exactly what was received.
pub fn parse_document(bytes: &[u8]) -> Result<ParsedDocument, ParseError> {
    let text_content = xml::decode(bytes)?;
    let document = xml::parse(&text_content)?;
    read_document(&document)
}

/// Reads and checks a parsed CDA document.
pub fn read_document(document: &roxmltree::Document<'_>) -> Result<ParsedDocument, ParseError> {
    let root = document.root_element();
    if root.tag_name().name() != "ClinicalDocument" || root.tag_name().namespace() != Some(HL7) {
        return Err(ParseError::WrongRoot {
            found: format!(
                "{{{}}}{}",
                root.tag_name().namespace().unwrap_or_default(),
                root.tag_name().name()
            ),
            expected: "{urn:hl7-org:v3}ClinicalDocument",
        });
    }

    let document_oid =
        DocumentOid::from(required_oid(child(root, HL7, "id"), "ClinicalDocument/id")?);
    let set_id = required_oid(child(root, HL7, "setId"), "setId")?;
    let version_number = attr(child(root, HL7, "versionNumber"), "value")
        .ok_or(ParseError::Missing("versionNumber"))?
        .parse::<u32>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| ParseError::Invalid {
            element: "versionNumber",
            problem: "must be a whole number from 1 up".to_owned(),
        })?;
    let replaces = replaces(root)?;
    check_versions(&document_oid, &set_id, version_number, replaces.as_ref())?;

    let effective_time = attr(child(root, HL7, "effectiveTime"), "value")
        .ok_or(ParseError::Missing("effectiveTime"))?;

    let patient_role = path(root, &["recordTarget", "patientRole"]);
    let client_id = instance_id(patient_role.and_then(|p| child(p, HL7, "id")))
        .filter(|id| id.extension.is_some())
        .ok_or(ParseError::Missing("recordTarget/patientRole/id"))?;
    let patient = patient_role.and_then(|p| child(p, HL7, "patient"));
    let patient_name = patient.and_then(|p| child(p, HL7, "name"));

    let assigned_author = path(root, &["author", "assignedAuthor"]);
    let custodian_org = path(
        root,
        &[
            "custodian",
            "assignedCustodian",
            "representedCustodianOrganization",
        ],
    );
    let controller = ControllerOid::from(required_oid(
        custodian_org.and_then(|o| child(o, HL7, "id")),
        "custodian/assignedCustodian/representedCustodianOrganization/id",
    )?);

    let encounter = path(root, &["componentOf", "encompassingEncounter"]);
    let service_unit = encounter
        .into_iter()
        .flat_map(|e| children(e, HL7, "encounterParticipant"))
        .find(|p| p.attribute("typeCode") == Some("ADM"))
        .and_then(|p| path(p, &["assignedEntity", "representedOrganization"]));
    let responsible = encounter.and_then(|e| {
        path(
            e,
            &[
                "responsibleParty",
                "assignedEntity",
                "representedOrganization",
            ],
        )
    });

    let header = child(root, HL7FI, "localSocialHeader")
        .ok_or(ParseError::Missing("hl7fi:localSocialHeader"))?;
    let fi = |name: &str| child(header, HL7FI, name);
    let software = fi("softwareSupport").map(|s| Software {
        moderator: s.attribute("moderator").map(str::to_owned),
        product: s.attribute("product").map(str::to_owned),
        version: s.attribute("version").map(str::to_owned),
    });
    let signature_meta = fi("signature");

    let renditions = renditions(root)?;
    if !renditions
        .iter()
        .any(|r| matches!(r.kind, RenditionKind::Xhtml | RenditionKind::Pdf))
    {
        return Err(ParseError::Missing(
            "component/nonXMLBody/text (an XHTML or PDF display form)",
        ));
    }

    Ok(ParsedDocument {
        document_oid,
        set_id,
        version_number,
        replaces,
        general_type: code(child(root, HL7, "code")),
        effective_time,
        confidentiality: code(child(root, HL7, "confidentialityCode")),
        language: attr(child(root, HL7, "languageCode"), "code"),
        client_id,
        client_family_name: patient_name.and_then(|n| text(child(n, HL7, "family"))),
        client_given_names: patient_name
            .into_iter()
            .flat_map(|n| children(n, HL7, "given"))
            .filter(|g| g.attribute("qualifier").is_none())
            .filter_map(|g| text(Some(g)))
            .collect(),
        client_gender: code(patient.and_then(|p| child(p, HL7, "administrativeGenderCode"))),
        client_birth_time: attr(patient.and_then(|p| child(p, HL7, "birthTime")), "value"),
        author_id: instance_id(assigned_author.and_then(|a| child(a, HL7, "id"))),
        author_name: person_name(
            assigned_author.and_then(|a| path(a, &["assignedPerson", "name"])),
        ),
        controller,
        controller_name: text(custodian_org.and_then(|o| child(o, HL7, "name"))),
        consent: code(path(root, &["authorization", "consent", "code"])),
        case_oid: optional_oid(
            encounter.and_then(|e| child(e, HL7, "id")),
            "root",
            "componentOf/encompassingEncounter/id",
        )?,
        service_unit_oid: optional_oid(
            service_unit.and_then(|o| child(o, HL7, "id")),
            "root",
            "encounterParticipant[ADM]/…/representedOrganization/id",
        )?,
        service_unit_name: text(service_unit.and_then(|o| child(o, HL7, "name"))),
        responsible_organisation_oid: optional_oid(
            responsible.and_then(|o| child(o, HL7, "id")),
            "root",
            "responsibleParty/…/representedOrganization/id",
        )?,
        responsible_organisation_name: text(responsible.and_then(|o| child(o, HL7, "name"))),
        creation_time: attr(fi("creationTime"), "value"),
        document_group: code(fi("documentGroup")),
        specific_type: code(fi("specificDocumentType")),
        function_code: code(fi("functionCode")),
        service_process: code(fi("serviceProcess").and_then(|p| child(p, HL7FI, "code")))
            .or_else(|| code(fi("serviceProcess"))),
        file_format: code(fi("fileFormat")),
        structured_file_format: code(fi("structuredFileFormat")),
        software,
        record_status: code(fi("recordStatus")),
        registry_type: code(fi("registryType")),
        organiser_oid: optional_oid(
            fi("outsourcingServiceCustomer"),
            "root",
            "hl7fi:outsourcingServiceCustomer",
        )?,
        organiser_name: text(fi("outsourcingServiceCustomerName")),
        total_retention_class: code(fi("totalRetentionPeriodClass")),
        special_content: code(fi("specialContent")),
        content_specification_id: text(fi("contentSpecificationId")),
        client_relationship_oid: optional_oid(
            fi("encompassingClientRelationship"),
            "root",
            "hl7fi:encompassingClientRelationship",
        )?,
        authorization_restriction: code(fi("authorizationRestrictionArgument")),
        authorization_restriction_text: text(fi("authorizationRestrictionArgument")),
        inaccessible_argument: code(fi("inaccessibleArgument")),
        inaccessible_argument_text: text(fi("inaccessibleArgument")),
        reason_of_correction: code(fi("reasonOfCorrection")),
        signer_id: text(signature_meta.and_then(|s| child(s, HL7FI, "assignedAuthorSigner"))),
        signer_name: signature_meta
            .and_then(|s| child(s, HL7FI, "signer"))
            .and_then(|s| {
                person_name(child(s, HL7FI, "name")).or_else(|| person_name(child(s, HL7, "name")))
            }),
        signer_authentication_method: code(
            signature_meta.and_then(|s| child(s, HL7FI, "authenticationMethod")),
        ),
        signed_time: attr(
            signature_meta.and_then(|s| child(s, HL7FI, "time")),
            "value",
        ),
        unknown_header: unknown_header(header),
        signatures: signatures(header)?,
        renditions,
    })
}

fn replaces(root: Node<'_, '_>) -> Result<Option<Replaces>, ParseError> {
    let Some(parent) = children(root, HL7, "relatedDocument")
        .find(|r| r.attribute("typeCode") == Some("RPLC"))
        .map(|r| child(r, HL7, "parentDocument"))
    else {
        return Ok(None);
    };
    let element = "relatedDocument[RPLC]/parentDocument/id";
    let document_oid = DocumentOid::from(required_oid(
        parent.and_then(|p| child(p, HL7, "id")),
        element,
    )?);
    let set_id = optional_oid(
        parent.and_then(|p| child(p, HL7, "setId")),
        "root",
        "relatedDocument[RPLC]/parentDocument/setId",
    )?;
    let version_number = match attr(parent.and_then(|p| child(p, HL7, "versionNumber")), "value") {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| ParseError::Invalid {
            element: "relatedDocument[RPLC]/parentDocument/versionNumber",
            problem: format!("{v:?} is not a whole number"),
        })?),
    };
    Ok(Some(Replaces {
        document_oid,
        set_id,
        version_number,
    }))
}

/// CDA versioning: version 1 starts a set (setId = id, nothing replaced); a later version
/// replaces an earlier one of the same set.
fn check_versions(
    id: &DocumentOid,
    set_id: &Oid,
    version: u32,
    replaces: Option<&Replaces>,
) -> Result<(), ParseError> {
    let problem = |message: String| Err(ParseError::Version(message));
    match (version, replaces) {
        (1, Some(r)) => problem(format!(
            "version 1 cannot replace another document (RPLC names {})",
            r.document_oid
        )),
        (1, None) if set_id != id.oid() => problem(format!(
            "version 1 must have setId equal to its id ({id}), not {set_id}"
        )),
        (1, None) => Ok(()),
        (v, None) => problem(format!(
            "version {v} must name the version it replaces (relatedDocument RPLC)"
        )),
        (v, Some(r)) => {
            if &r.document_oid == id {
                return problem(format!("{id} cannot replace itself"));
            }
            if let Some(parent_set) = &r.set_id
                && parent_set != set_id
            {
                return problem(format!(
                    "the replaced document belongs to set {parent_set}, this one to {set_id}"
                ));
            }
            match r.version_number {
                Some(pv) if pv >= v => problem(format!("version {v} cannot replace version {pv}")),
                _ => Ok(()),
            }
        }
    }
}

fn renditions(root: Node<'_, '_>) -> Result<Vec<Rendition>, ParseError> {
    let mut found = Vec::new();
    let bodies = children(root, HL7, "component").filter_map(|c| child(c, HL7, "nonXMLBody"));
    for body in bodies {
        for node in body.children().filter(Node::is_element) {
            let name = node.tag_name().name();
            let ns = node.tag_name().namespace();
            if ns == Some(HL7) && name == "text" {
                found.push(text_rendition(node)?);
            } else if ns == Some(HL7FI) && name == "json" {
                let bytes = xml::base64("hl7fi:json", &text(Some(node)).unwrap_or_default())?;
                serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(|e| {
                    ParseError::Invalid {
                        element: "hl7fi:json",
                        problem: format!("not JSON: {e}"),
                    }
                })?;
                found.push(Rendition {
                    kind: RenditionKind::Json,
                    media_type: "application/json".to_owned(),
                    bytes,
                });
            }
        }
    }
    Ok(found)
}

fn text_rendition(node: Node<'_, '_>) -> Result<Rendition, ParseError> {
    let media_type = node
        .attribute("mediaType")
        .unwrap_or("text/plain")
        .to_ascii_lowercase();
    let content = text(Some(node)).unwrap_or_default();
    let bytes = if node.attribute("representation") == Some("B64") {
        xml::base64("nonXMLBody/text", &content)?
    } else {
        content.into_bytes()
    };
    let kind = match media_type.as_str() {
        "application/xhtml+xml" | "text/html" => RenditionKind::Xhtml,
        "application/pdf" => RenditionKind::Pdf,
        _ => RenditionKind::Other,
    };
    if kind == RenditionKind::Pdf && !bytes.starts_with(b"%PDF-") {
        return Err(ParseError::Invalid {
            element: "nonXMLBody/text[application/pdf]",
            problem: "the decoded content is not a PDF".to_owned(),
        });
    }
    Ok(Rendition {
        kind,
        media_type,
        bytes,
    })
}

fn signatures(header: Node<'_, '_>) -> Result<Vec<SignatureInfo>, ParseError> {
    let Some(collection) = child(header, HL7FI, "signatureCollection") else {
        return Ok(Vec::new());
    };
    children(collection, HL7FI, "signature")
        .map(|signature| {
            let dsig = child(signature, XMLDSIG, "Signature");
            let certificate = dsig
                .and_then(|d| child(d, XMLDSIG, "KeyInfo"))
                .and_then(|k| child(k, XMLDSIG, "X509Data"))
                .and_then(|x| text(child(x, XMLDSIG, "X509Certificate")));
            Ok(SignatureInfo {
                id: signature.attribute("ID").map(str::to_owned),
                description: code(child(signature, HL7FI, "signatureDescription")),
                timestamp: text(child(signature, HL7FI, "signatureTimestamp")),
                has_xmldsig: dsig.is_some(),
                certificate_der: certificate
                    .map(|c| xml::base64("X509Certificate", &c))
                    .transpose()?,
            })
        })
        .collect()
}

fn unknown_header(header: Node<'_, '_>) -> serde_json::Value {
    let unknown: Vec<serde_json::Value> = header
        .children()
        .filter(Node::is_element)
        .filter(|n| {
            !(n.tag_name().namespace() == Some(HL7FI)
                && KNOWN_HEADER.contains(&n.tag_name().name()))
        })
        .map(element_json)
        .collect();
    serde_json::Value::Array(unknown)
}

/// An element as JSON, recursively, keeping names, namespaces, attributes and text.
fn element_json(node: Node<'_, '_>) -> serde_json::Value {
    let attributes: serde_json::Map<String, serde_json::Value> = node
        .attributes()
        .map(|a| {
            (
                a.name().to_owned(),
                serde_json::Value::String(a.value().to_owned()),
            )
        })
        .collect();
    let children: Vec<serde_json::Value> = node
        .children()
        .filter(Node::is_element)
        .map(element_json)
        .collect();
    serde_json::json!({
        "namespace": node.tag_name().namespace(),
        "name": node.tag_name().name(),
        "attributes": attributes,
        "text": text(Some(node)),
        "children": children,
    })
}
