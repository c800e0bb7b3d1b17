//! The document and frame readers on documents shaped like the public Kanta test pair, with
//! invented values.

use base64::Engine;

use super::{
    ParseError,
    cda::{RenditionKind, parse_document},
    check_frame_matches, parse_frame,
};

const ID: &str = "1.2.246.10.99999001.95.2026.1.1";
const CONTROLLER: &str = "1.2.246.10.99999001.10.0";
const CLIENT: &str = "010190-999L";
const XHTML: &str = "<div class=\"soc-document\" xmlns=\"http://www.w3.org/1999/xhtml\"><p>Äitiys ja lähisuhde – Åsa</p></div>";
const JSON: &str = r#"{"asiakkuusasiakirja":{"asiakas":{"sukunimi":"Testinen"}}}"#;

fn b64(bytes: &[u8]) -> String {
    // Wrapped like senders wrap it, to prove line breaks are ignored.
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(60)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n\t\t\t")
}

struct Spec {
    id: String,
    set_id: String,
    version: u32,
    replaces: Option<(String, String, u32)>,
    prefix: &'static str,
    extra_body: String,
    json: String,
    xhtml_b64: String,
}

impl Spec {
    fn v1() -> Self {
        Self {
            id: ID.to_owned(),
            set_id: ID.to_owned(),
            version: 1,
            replaces: None,
            prefix: "ep2",
            extra_body: String::new(),
            json: b64(JSON.as_bytes()),
            xhtml_b64: b64(XHTML.as_bytes()),
        }
    }

    fn xml(&self) -> String {
        let p = self.prefix;
        let related = self
            .replaces
            .as_ref()
            .map(|(id, set, v)| {
                format!(
                    r#"<relatedDocument typeCode="RPLC"><parentDocument><id root="{id}"/><setId root="{set}"/><versionNumber value="{v}"/></parentDocument></relatedDocument>"#
                )
            })
            .unwrap_or_default();
        format!(
            r#"<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<realmCode code="FI"/>
	<typeId extension="POCD_HD000040" root="2.16.840.1.113883.1.3"/>
	<id root="{id}"/>
	<code nullFlavor="NA"/>
	<effectiveTime value="20260717130652+0300"/>
	<confidentialityCode code="6" codeSystem="1.2.246.777.5.99902.2006" displayName="Sosiaalihuollon salassapidettävä"/>
	<languageCode code="fi"/>
	<setId root="{set_id}"/>
	<versionNumber value="{version}"/>
	<recordTarget><patientRole><id root="1.2.246.21" extension="{CLIENT}"/>
		<patient><name><given>Maija</given><given qualifier="CL">Maija</given><family>Testinen</family></name>
		<administrativeGenderCode code="2" codeSystem="1.2.246.537.5.1.1997" displayName="Nainen"/><birthTime value="19900101"/></patient>
	</patientRole></recordTarget>
	<author><time nullFlavor="NA"/><assignedAuthor><id nullFlavor="NA"/></assignedAuthor></author>
	<custodian><assignedCustodian><representedCustodianOrganization><id root="{CONTROLLER}"/><name>Testin hyvinvointialue</name></representedCustodianOrganization></assignedCustodian></custodian>
	{related}
	<authorization><consent><code code="1" codeSystem="1.2.246.537.6.1286.201901"/><statusCode code="completed"/></consent></authorization>
	<componentOf><encompassingEncounter><id nullFlavor="NA"/><effectiveTime nullFlavor="NA"/>
		<encounterParticipant typeCode="ADM"><assignedEntity><id nullFlavor="NA"/><representedOrganization><id root="1.2.246.10.99999001.10.2001"/><name>Lapsiperheiden palvelut, Testi</name></representedOrganization></assignedEntity></encounterParticipant>
	</encompassingEncounter></componentOf>
	<{p}:localSocialHeader xmlns:{p}="urn:hl7finland">
		<{p}:creationTime value="20260717130652+0300"/>
		<{p}:documentGroup code="1" codeSystem="1.2.246.537.6.1505.201601" displayName="Asiakkuusasiakirja"/>
		<{p}:fileFormat code="2" codeSystem="1.2.246.537.6.1502.201601" displayName="XHTML_1.1"/>
		<{p}:structuredFileFormat code="5" codeSystem="1.2.246.537.5.40179.2008" displayName="JSON"/>
		<{p}:softwareSupport moderator="Testitalo Oy" product="Sosiaali" version="1.2.3"/>
		<{p}:recordStatus code="3" codeSystem="1.2.246.537.5.40154.2008"/>
		<{p}:registryType code="1" codeSystem="1.2.246.537.6.1264.201701"/>
		<{p}:outsourcingServiceCustomer root="{CONTROLLER}"/>
		<{p}:outsourcingServiceCustomerName>Testin hyvinvointialue</{p}:outsourcingServiceCustomerName>
		<{p}:totalRetentionPeriodClass code="1" codeSystem="1.2.246.537.6.1258.201601"/>
		<{p}:specialContent code="E" codeSystem="1.2.246.537.6.112.2007"/>
		<{p}:contentSpecificationId>1.2.246.537.6.1505.1.2023.6.1</{p}:contentSpecificationId>
		<{p}:encompassingClientRelationship root="1.2.246.10.99999001.95.2026.7.1"/>
		<{p}:futureElement level="2">uusi kenttä</{p}:futureElement>
		<signatureCollection xmlns="urn:hl7finland">
			<signature ID="Sig.1">
				<signatureDescription code="3" codeSystem="1.2.246.537.5.40127.2006"/>
				<signatureTimestamp ID="ts.1">2026-07-17T10:06:56Z</signatureTimestamp>
				<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><KeyInfo><X509Data><X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></Signature>
			</signature>
		</signatureCollection>
	</{p}:localSocialHeader>
	<component>
		<nonXMLBody ID="OID{id}">
			<text mediaType="application/xhtml+xml" representation="B64">
			{xhtml}
			</text>
			<{p}:json xmlns:{p}="urn:hl7finland">
			{json}
			</{p}:json>
			{extra}
		</nonXMLBody>
	</component>
</ClinicalDocument>"#,
            id = self.id,
            set_id = self.set_id,
            version = self.version,
            cert = b64(b"DER bytes of a certificate"),
            xhtml = self.xhtml_b64,
            json = self.json,
            extra = self.extra_body,
        )
        .replace('\n', "\r\n")
    }
}

#[test]
fn reads_every_field_of_a_client_relationship_document() {
    let doc = parse_document(Spec::v1().xml().as_bytes()).expect("parses");
    assert_eq!(doc.document_oid.as_str(), ID);
    assert_eq!(doc.set_id.as_str(), ID);
    assert_eq!(doc.version_number, 1);
    assert_eq!(doc.replaces, None);
    assert_eq!(doc.general_type, None, "code nullFlavor=NA");
    assert_eq!(doc.effective_time, "20260717130652+0300");
    assert_eq!(
        doc.confidentiality.as_ref().map(|c| c.code.as_str()),
        Some("6")
    );
    assert_eq!(doc.client_id.extension.as_deref(), Some(CLIENT));
    assert_eq!(
        doc.client_given_names,
        vec!["Maija"],
        "the CL (call name) copy is not a second given name"
    );
    assert_eq!(doc.client_family_name.as_deref(), Some("Testinen"));
    assert_eq!(doc.controller.as_str(), CONTROLLER);
    assert_eq!(
        doc.controller_name.as_deref(),
        Some("Testin hyvinvointialue")
    );
    assert_eq!(doc.case_oid, None, "encompassingEncounter/id nullFlavor=NA");
    assert_eq!(
        doc.service_unit_oid.as_ref().map(|o| o.as_str()),
        Some("1.2.246.10.99999001.10.2001")
    );
    assert_eq!(
        doc.document_group.as_ref().map(|c| c.code.as_str()),
        Some("1")
    );
    assert_eq!(
        doc.registry_type.as_ref().map(|c| c.code.as_str()),
        Some("1")
    );
    assert_eq!(
        doc.total_retention_class.as_ref().map(|c| c.code.as_str()),
        Some("1")
    );
    assert_eq!(
        doc.organiser_oid.as_ref().map(|o| o.as_str()),
        Some(CONTROLLER)
    );
    assert_eq!(
        doc.content_specification_id.as_deref(),
        Some("1.2.246.537.6.1505.1.2023.6.1")
    );
    assert_eq!(
        doc.software.as_ref().and_then(|s| s.product.as_deref()),
        Some("Sosiaali")
    );
    assert_eq!(doc.signatures.len(), 1);
    assert!(doc.signatures[0].has_xmldsig);
    assert_eq!(
        doc.signatures[0].certificate_der.as_deref(),
        Some(&b"DER bytes of a certificate"[..])
    );

    let display = doc.display_rendition().expect("display form");
    assert_eq!(display.kind, RenditionKind::Xhtml);
    assert_eq!(display.bytes, XHTML.as_bytes(), "decoded byte for byte");
    let json = doc
        .renditions
        .iter()
        .find(|r| r.kind == RenditionKind::Json)
        .expect("json");
    assert_eq!(json.bytes, JSON.as_bytes());

    let unknown = doc.unknown_header.as_array().expect("array");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0]["name"], "futureElement");
    assert_eq!(unknown[0]["attributes"]["level"], "2");
    assert_eq!(unknown[0]["text"], "uusi kenttä");
}

#[test]
fn any_prefix_for_the_finnish_namespace() {
    for prefix in ["fi", "hl7fi", "x"] {
        let spec = Spec {
            prefix,
            ..Spec::v1()
        };
        let doc = parse_document(spec.xml().as_bytes()).expect("parses");
        assert_eq!(
            doc.creation_time.as_deref(),
            Some("20260717130652+0300"),
            "{prefix}"
        );
    }
}

#[test]
fn line_endings_bom_and_latin1_are_read() {
    let lf = Spec::v1().xml().replace("\r\n", "\n");
    assert!(parse_document(lf.as_bytes()).is_ok());
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(Spec::v1().xml().as_bytes());
    assert!(parse_document(&bom).is_ok());

    let text = Spec::v1().xml().replace(
        "Testin hyvinvointialue</name>",
        "Testin hyvinvointialue ä</name>",
    );
    let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n".to_vec();
    latin1.extend(
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).expect("latin-1 text")),
    );
    let doc = parse_document(&latin1).expect("latin-1 parses");
    assert_eq!(
        doc.controller_name.as_deref(),
        Some("Testin hyvinvointialue ä")
    );
}

fn version_error(spec: Spec) -> String {
    match parse_document(spec.xml().as_bytes()) {
        Err(ParseError::Version(message)) => message,
        other => panic!("expected a version error, got {other:?}"),
    }
}

#[test]
fn versions_link_by_rplc() {
    let v2_id = "1.2.246.10.99999001.95.2026.1.2";
    let v2 = Spec {
        id: v2_id.to_owned(),
        version: 2,
        replaces: Some((ID.to_owned(), ID.to_owned(), 1)),
        ..Spec::v1()
    };
    let doc = parse_document(v2.xml().as_bytes()).expect("version 2 parses");
    let replaces = doc.replaces.expect("replaces");
    assert_eq!(replaces.document_oid.as_str(), ID);
    assert_eq!(replaces.version_number, Some(1));

    let without_rplc = Spec {
        id: v2_id.to_owned(),
        version: 2,
        ..Spec::v1()
    };
    assert!(version_error(without_rplc).contains("must name the version it replaces"));

    let other_set = Spec {
        id: v2_id.to_owned(),
        version: 2,
        replaces: Some((
            ID.to_owned(),
            "1.2.246.10.99999001.95.2026.9.9".to_owned(),
            1,
        )),
        ..Spec::v1()
    };
    assert!(version_error(other_set).contains("belongs to set"));

    let backwards = Spec {
        id: v2_id.to_owned(),
        version: 2,
        replaces: Some((ID.to_owned(), ID.to_owned(), 3)),
        ..Spec::v1()
    };
    assert!(version_error(backwards).contains("cannot replace version 3"));

    let v1_other_set = Spec {
        set_id: "1.2.246.10.99999001.95.2026.9.9".to_owned(),
        ..Spec::v1()
    };
    assert!(version_error(v1_other_set).contains("setId equal to its id"));

    let v1_replacing = Spec {
        replaces: Some((v2_id.to_owned(), ID.to_owned(), 1)),
        ..Spec::v1()
    };
    assert!(version_error(v1_replacing).contains("version 1 cannot replace"));
}

#[test]
fn broken_documents_are_refused_with_the_reason() {
    let broken = Spec::v1().xml().replace("</ClinicalDocument>", "");
    assert!(matches!(
        parse_document(broken.as_bytes()),
        Err(ParseError::Xml(_))
    ));

    let wrong_root = Spec::v1()
        .xml()
        .replace("ClinicalDocument", "PatientDocument");
    assert!(matches!(
        parse_document(wrong_root.as_bytes()),
        Err(ParseError::WrongRoot { .. })
    ));

    let no_id = Spec::v1()
        .xml()
        .replace(&format!("<id root=\"{ID}\"/>"), "");
    assert_eq!(
        parse_document(no_id.as_bytes()),
        Err(ParseError::Missing("ClinicalDocument/id"))
    );

    let bad_oid = Spec::v1().xml().replace(
        &format!("<id root=\"{CONTROLLER}\"/>"),
        "<id root=\"not-an-oid\"/>",
    );
    assert!(matches!(
        parse_document(bad_oid.as_bytes()),
        Err(ParseError::Invalid { element, .. }) if element.starts_with("custodian")
    ));

    let bad_b64 = Spec {
        xhtml_b64: "@@@ not base64 @@@".to_owned(),
        ..Spec::v1()
    };
    assert!(matches!(
        parse_document(bad_b64.xml().as_bytes()),
        Err(ParseError::Base64 {
            element: "nonXMLBody/text",
            ..
        })
    ));

    let bad_json = Spec {
        json: b64(b"{not json"),
        ..Spec::v1()
    };
    assert!(matches!(
        parse_document(bad_json.xml().as_bytes()),
        Err(ParseError::Invalid {
            element: "hl7fi:json",
            ..
        })
    ));

    let no_header = Spec::v1()
        .xml()
        .replace("localSocialHeader", "someOtherHeader");
    assert_eq!(
        parse_document(no_header.as_bytes()),
        Err(ParseError::Missing("hl7fi:localSocialHeader"))
    );
}

#[test]
fn pdf_renditions_are_decoded_and_checked() {
    let pdf = b"%PDF-1.7\n% testi\n";
    let with_pdf = Spec {
        extra_body: format!(
            r#"<text mediaType="application/pdf" representation="B64">{}</text>"#,
            b64(pdf)
        ),
        ..Spec::v1()
    };
    let doc = parse_document(with_pdf.xml().as_bytes()).expect("parses");
    let rendition = doc
        .renditions
        .iter()
        .find(|r| r.kind == RenditionKind::Pdf)
        .expect("pdf");
    assert_eq!(rendition.bytes, pdf);

    let not_pdf = Spec {
        extra_body: format!(
            r#"<text mediaType="application/pdf" representation="B64">{}</text>"#,
            b64(b"<html>")
        ),
        ..Spec::v1()
    };
    assert!(matches!(
        parse_document(not_pdf.xml().as_bytes()),
        Err(ParseError::Invalid { .. })
    ));
}

fn frame(id: &str, set_id: &str, version: u32, client: &str) -> String {
    format!(
        r#"<RCMR_IN200002FI01 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0">
<id extension="10037140046" root="{CONTROLLER}"/>
<creationTime value="20260717130654+0300"/>
<sender typeCode="SND"><device><id root="{CONTROLLER}"/></device></sender>
<controlActProcess classCode="CACT" moodCode="EVN">
<reasonCode code="SP1" codeSystem="1.2.246.537.6.1503.201601"/>
<reasonCode code="1" codeSystem="1.2.246.537.6.1289.201901"/>
<subject><clinicalDocument>
<id root="{id}"/><setId root="{set_id}"/><versionNumber value="{version}"/>
<completionCode code="LA" codeSystem="1.2.246.537.5.40115.2006"/>
<storageCode code="AC" codeSystem="1.2.246.537.5.40116.2006"/>
<recordTarget><patient><id extension="{client}" root="1.2.246.21"/></patient></recordTarget>
<custodian><assignedCustodian><representedOrganization><id root="{CONTROLLER}"/></representedOrganization></assignedCustodian></custodian>
</clinicalDocument></subject>
</controlActProcess>
</RCMR_IN200002FI01>
"#
    )
    .replace('\n', "\r\n")
}

#[test]
fn a_matching_frame_is_read_and_accepted() {
    let doc = parse_document(Spec::v1().xml().as_bytes()).expect("document");
    let frame = parse_frame(frame(ID, ID, 1, CLIENT).as_bytes()).expect("frame");
    assert_eq!(
        frame.service_request.as_ref().map(|c| c.code.as_str()),
        Some("SP1")
    );
    assert_eq!(
        frame.use_situation.as_ref().map(|c| c.code.as_str()),
        Some("1")
    );
    assert_eq!(
        frame.completion_code.as_ref().map(|c| c.code.as_str()),
        Some("LA")
    );
    assert_eq!(
        frame.storage_code.as_ref().map(|c| c.code.as_str()),
        Some("AC")
    );
    assert_eq!(check_frame_matches(&frame, &doc), Ok(()));
}

#[test]
fn a_frame_that_disagrees_is_refused_without_naming_the_client() {
    let doc = parse_document(Spec::v1().xml().as_bytes()).expect("document");
    let other = "1.2.246.10.99999001.95.2026.1.7";
    for (frame_xml, what) in [
        (frame(other, ID, 1, CLIENT), "id"),
        (frame(ID, other, 1, CLIENT), "setId"),
        (frame(ID, ID, 2, CLIENT), "versionNumber"),
        (frame(ID, ID, 1, "020202-998X"), "recordTarget"),
    ] {
        let parsed = parse_frame(frame_xml.as_bytes()).expect("frame parses");
        match check_frame_matches(&parsed, &doc) {
            Err(ParseError::FrameMismatch(message)) => {
                assert!(message.starts_with(what), "{message}");
                assert!(
                    !message.contains(CLIENT) && !message.contains("020202"),
                    "{message}"
                );
            }
            other => panic!("{what}: expected a mismatch, got {other:?}"),
        }
    }
    let not_a_frame = Spec::v1().xml();
    assert!(matches!(
        parse_frame(not_a_frame.as_bytes()),
        Err(ParseError::WrongRoot { .. })
    ));
}

/// Shapes seen in the second public Kanta test document: a case id with both a root and
/// `nullFlavor`, the restriction grounds as text, the signer block with the registration number
/// and a name in the Finnish namespace, and a comment inside the base64 display form.
#[test]
fn reads_the_signer_block_text_grounds_and_commented_base64() {
    let xml = Spec::v1()
        .xml()
        .replacen(
            r#"<id nullFlavor="NA"/><effectiveTime nullFlavor="NA"/>"#,
            r#"<id root="1.2.246.10.99999001.95.2026.5.646" nullFlavor="NA"/><effectiveTime nullFlavor="NA"/>"#,
            1,
        )
        .replacen(
            "<signatureCollection",
            r#"<ep2:authorizationRestrictionArgument>Viivästys 1</ep2:authorizationRestrictionArgument>
		<ep2:inaccessibleArgument code="1" codeSystem="1.2.246.537.6.1288.201901"/>
		<ep2:signature>
			<ep2:assignedAuthorSigner>25104559650</ep2:assignedAuthorSigner>
			<ep2:signer><ep2:name><ep2:given>Angelika</ep2:given><ep2:family>Testinen</ep2:family></ep2:name></ep2:signer>
			<ep2:authenticationMethod code="1" codeSystem="1.2.246.537.5.40128.2006"/>
			<ep2:time value="20260323105425+0200"/>
		</ep2:signature>
		<signatureCollection"#,
            1,
        )
        .replacen(
            r#"representation="B64">"#,
            r#"representation="B64"><!-- Liitetään asiakirjan näyttömuoto -->"#,
            1,
        );
    let doc = parse_document(xml.as_bytes()).expect("parses");
    assert_eq!(
        doc.case_oid.as_ref().map(|o| o.as_str()),
        Some("1.2.246.10.99999001.95.2026.5.646")
    );
    assert_eq!(doc.authorization_restriction, None, "no code");
    assert_eq!(
        doc.authorization_restriction_text.as_deref(),
        Some("Viivästys 1")
    );
    assert_eq!(
        doc.inaccessible_argument.as_ref().map(|c| c.code.as_str()),
        Some("1")
    );
    assert_eq!(doc.signer_id.as_deref(), Some("25104559650"));
    assert_eq!(doc.signer_name.as_deref(), Some("Angelika Testinen"));
    assert_eq!(doc.signed_time.as_deref(), Some("20260323105425+0200"));
    assert_eq!(
        doc.display_rendition().map(|r| r.bytes.as_slice()),
        Some(XHTML.as_bytes()),
        "the comment is not part of the base64"
    );
    assert_eq!(
        doc.unknown_header.as_array().map(Vec::len),
        Some(1),
        "only the invented futureElement is unknown"
    );
}
