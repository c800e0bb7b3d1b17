//! Everything the archive computes from a submission before it touches the database: the
//! parsed header, the frame check, digests of the received bytes, signature verification and
//! the codes the frame sets. Pure CPU work, so importers can run it on many threads.

use time::OffsetDateTime;

use super::{
    ParseError, ParsedDocument, ParsedFrame, cda, check_frame_matches, frame,
    time::parse_hl7_time,
    xml,
    xmldsig::{self, SignatureCheck, TrustAnchors},
};

/// What was received: the CDA bytes and, when it came with one, its transfer frame, exactly
/// as read.
#[derive(Clone, Debug)]
pub struct Submission {
    pub cda: Vec<u8>,
    pub frame: Option<Vec<u8>>,
}

/// A submission that passed every check and is ready to be stored.
#[derive(Debug)]
pub struct PreparedDocument {
    pub submission: Submission,
    pub document: ParsedDocument,
    pub frame: Option<ParsedFrame>,
    pub cda_sha256: [u8; 32],
    pub frame_sha256: Option<[u8; 32]>,
    pub effective_time: OffsetDateTime,
    pub creation_time: Option<OffsetDateTime>,
    pub signatures: Vec<SignatureCheck>,
    /// HL7 DocumentCompletion: the frame's, else LA.
    pub completion_code: String,
    /// HL7 DocumentStorage: the frame's, else AC.
    pub storage_code: String,
}

impl PreparedDocument {
    pub fn is_nullification(&self) -> bool {
        self.completion_code == "NU"
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Reads, checks and verifies a submission. `now` is the time signatures without a timestamp
/// are judged at.
pub fn prepare(
    submission: Submission,
    anchors: &TrustAnchors,
    now: OffsetDateTime,
) -> Result<PreparedDocument, ParseError> {
    let Submission { cda, frame } = submission;
    let text = xml::decode(&cda)?;
    let tree = xml::parse(&text)?;
    let document = cda::read_document(&tree)?;
    let effective_time =
        parse_hl7_time(&document.effective_time).map_err(|problem| ParseError::Invalid {
            element: "effectiveTime",
            problem,
        })?;
    let creation_time = document
        .creation_time
        .as_deref()
        .map(parse_hl7_time)
        .transpose()
        .map_err(|problem| ParseError::Invalid {
            element: "hl7fi:creationTime",
            problem,
        })?;
    let signatures = xmldsig::verify_all(&text, &tree, anchors, now);
    drop(tree);
    drop(text);
    let prepared = PreparedDocument {
        cda_sha256: sha256(&cda),
        submission: Submission { cda, frame: None },
        document,
        frame: None,
        frame_sha256: None,
        effective_time,
        creation_time,
        signatures,
        completion_code: "LA".to_owned(),
        storage_code: "AC".to_owned(),
    };
    match frame {
        Some(frame) => prepared.with_frame(frame),
        None => Ok(prepared),
    }
}

impl PreparedDocument {
    /// Adds the transfer frame the document came in: it must name the same document, and its
    /// completion and storage codes become the archive's.
    pub fn with_frame(mut self, bytes: Vec<u8>) -> Result<Self, ParseError> {
        let parsed = frame::parse_frame(&bytes)?;
        check_frame_matches(&parsed, &self.document)?;
        if let Some(code) = &parsed.completion_code {
            self.completion_code = code.code.clone();
        }
        if let Some(code) = &parsed.storage_code {
            if !matches!(code.code.as_str(), "AC" | "AA" | "AR" | "PU") {
                return Err(ParseError::Invalid {
                    element: "storageCode",
                    problem: format!(
                        "{:?} is not a DocumentStorage code (AC, AA, AR, PU)",
                        code.code
                    ),
                });
            }
            self.storage_code = code.code.clone();
        }
        self.frame_sha256 = Some(sha256(&bytes));
        self.submission.frame = Some(bytes);
        self.frame = Some(parsed);
        Ok(self)
    }
}
