//! The HL7 v3 transfer frame `RCMR_IN200002FI01` ("siirtokehys", archive-model.md §3): the
//! message around a CDA, with the storage codes the archive keeps and a copy of the CDA header
//! that must agree with the document itself.

use serde::Serialize;

use super::{
    DocumentOid, Oid, ParseError, ParsedDocument,
    cda::{Code, InstanceId, code, instance_id},
    xml::{self, HL7, attr, child, children, path},
};

/// The service-request code system (SP1, SP17, …).
const SERVICE_REQUEST_SYSTEM: &str = "1.2.246.537.6.1503";
/// The use-situation code system (1 = the organiser's own register use, …).
const USE_SITUATION_SYSTEM: &str = "1.2.246.537.6.1289";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParsedFrame {
    pub message_id: InstanceId,
    pub creation_time: Option<String>,
    pub sender_device: Option<String>,
    pub service_request: Option<Code>,
    pub use_situation: Option<Code>,
    pub document_oid: DocumentOid,
    pub set_id: Option<Oid>,
    pub version_number: Option<u32>,
    /// HL7 DocumentCompletion: LA, NU (nullified), …
    pub completion_code: Option<Code>,
    /// HL7 DocumentStorage: AC, AA, AR, PU.
    pub storage_code: Option<Code>,
    pub client_id: Option<InstanceId>,
    pub custodian: Option<Oid>,
}

fn oid(value: Option<String>, element: &'static str) -> Result<Option<Oid>, ParseError> {
    value
        .map(|v| {
            Oid::parse(&v).map_err(|e| ParseError::Invalid {
                element,
                problem: e.to_string(),
            })
        })
        .transpose()
}

pub fn parse_frame(bytes: &[u8]) -> Result<ParsedFrame, ParseError> {
    let text = xml::decode(bytes)?;
    let document = xml::parse(&text)?;
    let root = document.root_element();
    if root.tag_name().name() != "RCMR_IN200002FI01" || root.tag_name().namespace() != Some(HL7) {
        return Err(ParseError::WrongRoot {
            found: root.tag_name().name().to_owned(),
            expected: "{urn:hl7-org:v3}RCMR_IN200002FI01",
        });
    }
    let id = child(root, HL7, "id");
    let message_id = InstanceId {
        root: attr(id, "root").ok_or(ParseError::Missing("RCMR_IN200002FI01/id"))?,
        extension: attr(id, "extension"),
    };
    let act =
        child(root, HL7, "controlActProcess").ok_or(ParseError::Missing("controlActProcess"))?;
    let reason = |system: &str| {
        children(act, HL7, "reasonCode").find(|r| {
            r.attribute("codeSystem")
                .is_some_and(|s| s.starts_with(system))
        })
    };
    let cda = path(act, &["subject", "clinicalDocument"]).ok_or(ParseError::Missing(
        "controlActProcess/subject/clinicalDocument",
    ))?;

    let document_oid = oid(attr(child(cda, HL7, "id"), "root"), "clinicalDocument/id")?
        .ok_or(ParseError::Missing("clinicalDocument/id"))?;
    let version_number = match attr(child(cda, HL7, "versionNumber"), "value") {
        None => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| ParseError::Invalid {
            element: "clinicalDocument/versionNumber",
            problem: format!("{v:?} is not a whole number"),
        })?),
    };
    let patient_id = path(cda, &["recordTarget", "patient", "id"]);

    Ok(ParsedFrame {
        message_id,
        creation_time: attr(child(root, HL7, "creationTime"), "value"),
        sender_device: attr(path(root, &["sender", "device", "id"]), "root"),
        service_request: code(reason(SERVICE_REQUEST_SYSTEM)),
        use_situation: code(reason(USE_SITUATION_SYSTEM)),
        document_oid: DocumentOid::from(document_oid),
        set_id: oid(
            attr(child(cda, HL7, "setId"), "root"),
            "clinicalDocument/setId",
        )?,
        version_number,
        completion_code: code(child(cda, HL7, "completionCode")),
        storage_code: code(child(cda, HL7, "storageCode")),
        client_id: instance_id(patient_id),
        custodian: oid(
            attr(
                path(
                    cda,
                    &[
                        "custodian",
                        "assignedCustodian",
                        "representedOrganization",
                        "id",
                    ],
                ),
                "root",
            ),
            "clinicalDocument/custodian/…/id",
        )?,
    })
}

/// The frame and the document must name the same document: id, setId, version, controller and
/// client. The frame's copy may omit a field; it may not contradict one.
pub fn check_frame_matches(
    frame: &ParsedFrame,
    document: &ParsedDocument,
) -> Result<(), ParseError> {
    let mismatch =
        |what: &str, frame_value: &dyn std::fmt::Display, cda_value: &dyn std::fmt::Display| {
            Err(ParseError::FrameMismatch(format!(
                "{what}: frame {frame_value}, document {cda_value}"
            )))
        };
    if frame.document_oid != document.document_oid {
        return mismatch("id", &frame.document_oid, &document.document_oid);
    }
    if let Some(set_id) = &frame.set_id
        && set_id != &document.set_id
    {
        return mismatch("setId", set_id, &document.set_id);
    }
    if let Some(version) = frame.version_number
        && version != document.version_number
    {
        return mismatch("versionNumber", &version, &document.version_number);
    }
    if let Some(custodian) = &frame.custodian
        && custodian != document.controller.oid()
    {
        return mismatch("custodian", custodian, &document.controller);
    }
    if let Some(client) = &frame.client_id
        && (client.root != document.client_id.root
            || client.extension != document.client_id.extension)
    {
        // The identity code itself stays out of the message: it is client data.
        return Err(ParseError::FrameMismatch(
            "recordTarget: the frame names a different client than the document".to_owned(),
        ));
    }
    Ok(())
}
