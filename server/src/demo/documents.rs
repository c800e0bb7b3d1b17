//! `archivist demo data`: realistic social welfare documents in the shape of Kanta's public test
//! pair (CDA R2 with `localSocialHeader`, base64 XHTML and JSON renditions, an XMLDSig system
//! signature, and an HL7 v3 transfer frame), with invented people and organisations.
//!
//! Reproducible: the same seed and options give byte-identical files, whatever the number of
//! threads, because every chunk of 1,000 documents is generated from the seed and its own
//! number. Memory does not depend on the number of documents, so 10 million work.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use base64::Engine;

use crate::archive::c14n;

/// At most this many documents per chunk (and per output directory).
pub const CHUNK: u64 = 1_000;

impl Options {
    /// Documents per chunk: small data sets are spread over all controllers too (chunks go to
    /// the controllers in turn).
    pub fn chunk_size(&self) -> u64 {
        self.documents
            .div_ceil(u64::from(self.controllers.max(1)))
            .clamp(1, CHUNK)
    }
}

/// The demo system-signature CA and signer (RSA, DEMO ONLY: the private key is public in this
/// repository so that generated data is reproducible).
pub const SIGNING_CA_PEM: &str = include_str!("signing/ca.pem");
const SIGNER_PEM: &str = include_str!("signing/signer.pem");
const SIGNER_KEY_PKCS8: &[u8] = include_bytes!("signing/signer.pk8.der");

#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub controllers: u32,
    /// Clients per controller.
    pub clients: u32,
    /// Document versions in all.
    pub documents: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the demo signing key does not load: {0}")]
    Key(String),
    #[error("--controllers and --clients must be at least 1")]
    Empty,
}

/// One generated file.
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Signs SignedInfo with the demo system-signature key.
pub struct Signer {
    key: ring::rsa::KeyPair,
    certificate_b64: String,
}

impl Signer {
    pub fn demo() -> Result<Self, GenerateError> {
        let key = ring::rsa::KeyPair::from_pkcs8(SIGNER_KEY_PKCS8)
            .map_err(|e| GenerateError::Key(e.to_string()))?;
        let der = x509_parser::pem::Pem::iter_from_buffer(SIGNER_PEM.as_bytes())
            .next()
            .and_then(Result::ok)
            .map(|p| p.contents)
            .ok_or_else(|| GenerateError::Key("no certificate".into()))?;
        Ok(Self {
            key,
            certificate_b64: base64::engine::general_purpose::STANDARD.encode(der),
        })
    }

    fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        // PKCS#1 v1.5 is deterministic; the generator is only used with the bundled key.
        let rng = ring::rand::SystemRandom::new();
        if self
            .key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &rng,
                message,
                &mut signature,
            )
            .is_err()
        {
            signature.clear();
        }
        base64::engine::general_purpose::STANDARD.encode(signature)
    }
}

/// SplitMix64: tiny, fast and stable across versions, which reproducibility needs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Self(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or_default()]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const CONTROLLER_NAMES: &[&str] = &[
    "Kuusiston hyvinvointialue",
    "Lumijärven hyvinvointialue",
    "Sjöbacka välfärdsområde",
    "Pohjolan sosiaalipalvelut",
    "Åstrands välfärdsområde",
    "Kaskimaan hyvinvointialue",
];
const FAMILY_NAMES: &[&str] = &[
    "Mäkelä",
    "Virtanen",
    "Lindqvist",
    "Häkkinen",
    "Öhman",
    "Korhonen",
    "Sjöberg",
    "Väisänen",
    "Åkerlund",
    "Nieminen",
    "Ström",
    "Pöllänen",
];
const GIVEN_NAMES: &[&str] = &[
    "Aino", "Elias", "Sanni", "Johan", "Päivi", "Björn", "Eeva", "Åsa", "Väinö", "Märta", "Ilkka",
    "Sören",
];
/// (service task code, name, service unit name)
const SERVICE_TASKS: &[(&str, &str, &str)] = &[
    ("24", "Lapsiperheiden palvelut", "Perhekeskus"),
    ("21", "Lastensuojelu", "Lastensuojelun avohuolto"),
    (
        "23",
        "Perheoikeudelliset palvelut",
        "Perheoikeudellinen yksikkö",
    ),
    ("26", "Iäkkäiden palvelut", "Kotihoito"),
    ("27", "Työikäisten palvelut", "Aikuissosiaalityö"),
    ("28", "Vammaispalvelut", "Vammaispalvelut"),
    ("29", "Päihdehuolto", "Päihdepalvelut"),
];
/// (general type, specific type, name)
const DOCUMENT_TYPES: &[(&str, &str, &str)] = &[
    ("11", "11001", "Sosiaalihuollon hakemus"),
    ("12", "12001", "Yhteydenotto sosiaalihuoltoon"),
    ("13", "13001", "Palvelutarpeen arvio"),
    ("14", "14001", "Sosiaalihuollon lausunto"),
    ("15", "15001", "Asiakassuunnitelma"),
    (
        "15",
        "15007",
        "Lapsiperheiden palvelujen asiakassuunnitelma",
    ),
    ("16", "16001", "Päätös palvelun myöntämisestä"),
    ("17", "17001", "Asiakaskertomus"),
];
const SENTENCES: &[&str] = &[
    "Asiakas kertoi tilanteensa rauhallisesti ja toivoi tukea arjen järjestämiseen.",
    "Perheen kanssa sovittiin seuraavasta tapaamisesta kahden viikon päähän.",
    "Klienten önskar stöd på svenska; tolk behövs inte.",
    "Kotikäynnillä todettiin, että asunnon esteettömyys vaatii muutostöitä.",
    "Överenskommelse om fortsatt samarbete med skolan och hälsovården.",
    "Asiakkaalle myönnetään kotipalvelua kolme kertaa viikossa.",
    "Väinö ja Märta osallistuivat palaveriin; Åsa kommer nästa gång.",
];

/// A valid personal identity code of the test series (individual number 900–999).
fn test_identity_code(rng: &mut Rng) -> (String, String) {
    let year = 1930 + rng.below(94);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let individual = 900 + rng.below(100);
    let century = match year {
        1900..=1999 => '-',
        _ => 'A',
    };
    let yy = year % 100;
    let number = (day * 10_000 + month * 100 + yy) * 1000 + individual;
    let check =
        b"0123456789ABCDEFHJKLMNPRSTUVWXY"[usize::try_from(number % 31).unwrap_or_default()];
    (
        format!(
            "{day:02}{month:02}{yy:02}{century}{individual:03}{}",
            check as char
        ),
        format!("{year:04}{month:02}{day:02}"),
    )
}

struct Controller {
    oid_arc: String,
    name: &'static str,
}

fn controller(index: u32) -> Controller {
    Controller {
        oid_arc: format!("1.2.246.10.{}", 12_345_670 + u64::from(index)),
        name: CONTROLLER_NAMES[usize::try_from(index).unwrap_or_default() % CONTROLLER_NAMES.len()],
    }
}

impl Controller {
    fn oid(&self) -> String {
        format!("{}.10.0", self.oid_arc)
    }
}

struct Client {
    code: String,
    birth: String,
    family: &'static str,
    given: &'static str,
    gender: &'static str,
}

/// Clients are derived from the seed, the controller and their number, so any chunk can name
/// any client without a shared table.
fn client(seed: u64, controller: u32, number: u32) -> Client {
    let mut rng = Rng::new(
        seed,
        (u64::from(controller) << 32) | u64::from(number) | 1 << 63,
    );
    let (code, birth) = test_identity_code(&mut rng);
    Client {
        code,
        birth,
        family: rng.pick(FAMILY_NAMES),
        given: rng.pick(GIVEN_NAMES),
        gender: if rng.chance(50) { "1" } else { "2" },
    }
}

/// Writes the documents under `out/<controller>/<chunk>/`, on all cores. Calls `progress`
/// with the number of documents finished so far.
pub fn write_all(
    out: &Path,
    options: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, GenerateError> {
    if options.controllers == 0 || options.clients == 0 {
        return Err(GenerateError::Empty);
    }
    let signer = Signer::demo()?;
    let chunk_size = options.chunk_size();
    let chunks = options.documents.div_ceil(chunk_size);
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<(), GenerateError> {
                    loop {
                        let chunk = next.fetch_add(1, Ordering::Relaxed);
                        if chunk >= chunks {
                            return Ok(());
                        }
                        let count = chunk_size.min(options.documents - chunk * chunk_size);
                        let controller_index =
                            u32::try_from(chunk % u64::from(options.controllers))
                                .unwrap_or_default();
                        let dir = out
                            .join(format!("controller-{controller_index:02}"))
                            .join(format!("chunk-{chunk:06}"));
                        std::fs::create_dir_all(&dir).map_err(|source| GenerateError::Write {
                            path: dir.clone(),
                            source,
                        })?;
                        for file in generate_chunk(options, &signer, chunk, count) {
                            let path = dir.join(&file.name);
                            std::fs::write(&path, &file.bytes)
                                .map_err(|source| GenerateError::Write { path, source })?;
                        }
                        progress(done.fetch_add(count, Ordering::Relaxed) + count);
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(())))
            .collect::<Result<Vec<()>, _>>()
    })?;
    Ok(options.documents)
}

/// One version of a set, as generated.
struct Version {
    id: String,
    set_id: String,
    version: u64,
    replaces: Option<String>,
    time: String,
    nullified: bool,
    crlf: bool,
    sentence: &'static str,
    with_pdf: bool,
}

/// What all versions of a set share.
struct SetContext {
    controller_oid: String,
    controller_arc: String,
    controller_name: &'static str,
    person: Client,
    task: (&'static str, &'static str, &'static str),
    relationship_document: bool,
    document_type: (&'static str, &'static str, &'static str),
    case_oid: String,
    message_id: u64,
}

/// One chunk: sets of 1 to 5 versions for the chunk's controller, written version by version
/// (all first versions, then all second versions, …) so that in name order a replaced version
/// comes before the one replacing it.
pub fn generate_chunk(options: &Options, signer: &Signer, chunk: u64, count: u64) -> Vec<File> {
    let mut rng = Rng::new(options.seed, chunk);
    let controller_index =
        u32::try_from(chunk % u64::from(options.controllers)).unwrap_or_default();
    let org = controller(controller_index);
    let mut sets: Vec<(SetContext, Vec<Version>)> = Vec::new();
    let mut total = 0;
    while total < count {
        let set_number = sets.len() + 1;
        let versions = match rng.below(100) {
            0..60 => 1,
            60..80 => 2,
            80..90 => 3,
            90..96 => 4,
            _ => 5,
        }
        .min(count - total);
        let client_number =
            u32::try_from(rng.below(u64::from(options.clients))).unwrap_or_default();
        let task = rng.pick(SERVICE_TASKS);
        let context = SetContext {
            controller_oid: org.oid(),
            controller_arc: org.oid_arc.clone(),
            controller_name: org.name,
            person: client(options.seed, controller_index, client_number),
            task,
            relationship_document: rng.chance(15),
            document_type: rng.pick(DOCUMENT_TYPES),
            case_oid: format!(
                "{}.96.{}.{}.{}",
                org.oid_arc,
                options.seed,
                client_number + 1,
                task.0
            ),
            message_id: chunk * CHUNK + total,
        };
        let year = 2019 + rng.below(8);
        let month = 1 + rng.below(12);
        let day = 1 + rng.below(28);
        let nullify = versions > 1 && rng.chance(8);
        let with_pdf = rng.chance(10);
        // The seed is part of every identifier, so data sets of different seeds never collide.
        let base = format!(
            "{}.95.{year}.{}.{}.{set_number}",
            org.oid_arc,
            options.seed,
            chunk + 1
        );
        let id_of = |v: u64| {
            if v == 1 {
                base.clone()
            } else {
                format!("{base}.{v}")
            }
        };
        let set = (1..=versions)
            .map(|v| Version {
                id: id_of(v),
                set_id: base.clone(),
                version: v,
                replaces: (v > 1).then(|| id_of(v - 1)),
                time: format!(
                    "{year:04}{month:02}{day:02}{:02}{:02}00+0200",
                    8 + v,
                    rng.below(60)
                ),
                nullified: nullify && v == versions,
                crlf: rng.chance(50),
                sentence: rng.pick(SENTENCES),
                with_pdf,
            })
            .collect();
        total += versions;
        sets.push((context, set));
    }
    let mut files = Vec::new();
    for level in 1..=5u64 {
        for (index, (context, set)) in sets.iter().enumerate() {
            let Some(version) = set.iter().find(|v| v.version == level) else {
                continue;
            };
            let (cda, frame) = render(version, context, signer);
            let (cda, frame) = if version.crlf {
                (cda.replace('\n', "\r\n"), frame.replace('\n', "\r\n"))
            } else {
                (cda, frame)
            };
            let name = format!("v{level}-{index:04}");
            files.push(File {
                name: format!("{name}.xml"),
                bytes: cda.into_bytes(),
            });
            files.push(File {
                name: format!("{name}.frame.xml"),
                bytes: frame.into_bytes(),
            });
        }
    }
    files
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A one-page PDF with the document's title: enough for a PDF rendition to be real.
fn pdf(title: &str) -> Vec<u8> {
    let ascii: String = title
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect();
    let content = format!("BT /F1 14 Tf 72 760 Td ({ascii}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{object}\nendobj\n", i + 1);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(out, "{offset:010} 00000 n ");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.into_bytes()
}

/// The canonical form of `element` (the first element named so) of an XML snippet.
fn canonical(snippet: &str, element: &str) -> Vec<u8> {
    let mut out = Vec::new();
    if let Ok(doc) = roxmltree::Document::parse(snippet)
        && let Some(node) = doc.descendants().find(|n| n.tag_name().name() == element)
    {
        c14n::canonicalize(snippet, node, &c14n::Options::default(), &mut out);
    }
    out
}

fn digest_b64(bytes: &[u8]) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// The CDA document and its transfer frame, with LF line endings.
fn render(v: &Version, c: &SetContext, signer: &Signer) -> (String, String) {
    let p = &c.person;
    let (task_code, task_name, unit_name) = c.task;
    let (general, specific, type_name) = c.document_type;
    let title = if c.relationship_document {
        "Asiakkuusasiakirja"
    } else {
        type_name
    };
    let client_name = format!("{} {}", p.given, p.family);
    let xhtml = format!(
        "<div xmlns=\"http://www.w3.org/1999/xhtml\" class=\"soc-document\" id=\"OID{id}\">\
<div class=\"soc-header\"><h1>{title}</h1><p>{org}, {unit}</p></div>\
<div class=\"soc-main-wrapper\"><div class=\"soc-list\">\
<div class=\"soc-item\"><span>Asiakas / Klient</span> <span>{name} {code}</span></div>\
<div class=\"soc-item\"><span>Palvelutehtävä</span> <span>{task}</span></div>\
<div class=\"soc-item\"><span>Versio</span> <span>{version}</span></div>\
<div class=\"soc-item\"><p>{sentence}</p></div></div></div>\
<div class=\"soc-footer\"><p>Kirjattu {time}</p></div></div>",
        id = v.id,
        org = escape(c.controller_name),
        unit = escape(unit_name),
        name = escape(&client_name),
        code = p.code,
        task = escape(task_name),
        version = v.version,
        sentence = escape(v.sentence),
        time = v.time,
    );
    let json_root = if c.relationship_document {
        "asiakkuusasiakirja"
    } else {
        "asiakasasiakirja"
    };
    let json = serde_json::json!({
        json_root: {
            "asiakas": { "sukunimi": p.family, "etunimet": p.given, "henkilotunnus": p.code },
            "palvelutehtava": { "system": "urn:oid:1.2.246.537.6.1221.201601", "code": task_code, "display": task_name },
            "kirjaus": v.sentence,
            "versio": v.version,
        }
    });
    let pdf_part = if v.with_pdf {
        format!(
            "\n      <text mediaType=\"application/pdf\" representation=\"B64\">{}</text>",
            b64(&pdf(title))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<nonXMLBody ID=\"OID{id}\">\n      <text mediaType=\"application/xhtml+xml\" representation=\"B64\">{xhtml}</text>\n      <ep2:json>{json}</ep2:json>{pdf_part}\n    </nonXMLBody>",
        id = v.id,
        xhtml = b64(xhtml.as_bytes()),
        json = b64(json.to_string().as_bytes()),
    );
    let timestamp_id = format!("CDA-aikaleima.{}", v.version);
    let timestamp = format!(
        "<signatureTimestamp ID=\"{timestamp_id}\">{}-{}-{}T{}:{}:00Z</signatureTimestamp>",
        &v.time[0..4],
        &v.time[4..6],
        &v.time[6..8],
        &v.time[8..10],
        &v.time[10..12]
    );
    // Exclusive canonicalization depends only on the namespaces an element uses, so the
    // digests can be taken from snippets with the same namespaces in scope.
    let body_digest = digest_b64(&canonical(
        &format!(
            "<component xmlns=\"urn:hl7-org:v3\" xmlns:ep2=\"urn:hl7finland\">{body}</component>"
        ),
        "nonXMLBody",
    ));
    let timestamp_digest = digest_b64(&canonical(
        &format!("<signature xmlns=\"urn:hl7finland\">{timestamp}</signature>"),
        "signatureTimestamp",
    ));
    let reference = |uri: &str, digest: &str| {
        format!(
            "<Reference URI=\"#{uri}\"><Transforms><Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></Transforms><DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><DigestValue>{digest}</DigestValue></Reference>"
        )
    };
    let signed_info = format!(
        "<SignedInfo><CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>{}{}</SignedInfo>",
        reference(&timestamp_id, &timestamp_digest),
        reference(&format!("OID{}", v.id), &body_digest),
    );
    let signature_value = signer.sign(&canonical(
        &format!(
            "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">{signed_info}</Signature>"
        ),
        "SignedInfo",
    ));

    let general_code = if c.relationship_document {
        "<code nullFlavor=\"NA\"/>".to_owned()
    } else {
        format!("<code code=\"{general}\" codeSystem=\"1.2.246.537.6.1506.201701\"/>")
    };
    let (group, specific_line) = if c.relationship_document {
        ("1", String::new())
    } else {
        (
            "5",
            format!(
                "\n    <ep2:specificDocumentType code=\"{specific}\" codeSystem=\"1.2.246.537.6.1506.201701\" displayName=\"{}\"/>",
                escape(type_name)
            ),
        )
    };
    let related = v.replaces.as_ref().map_or(String::new(), |parent| {
        format!(
            "\n  <relatedDocument typeCode=\"RPLC\"><parentDocument><id root=\"{parent}\"/><setId root=\"{}\"/><versionNumber value=\"{}\"/></parentDocument></relatedDocument>",
            v.set_id,
            v.version - 1
        )
    });
    let correction = if v.version > 1 {
        "\n    <ep2:reasonOfCorrection code=\"1\" displayName=\"Asiakirjan tietojen korjaus\"/>"
    } else {
        ""
    };
    let (case_id, relationship) = if c.relationship_document {
        (
            "<id nullFlavor=\"NA\"/>".to_owned(),
            format!("{}.97.{}", c.controller_arc, client_number(&p.code)),
        )
    } else {
        (
            format!("<id root=\"{}\"/>", c.case_oid),
            format!("{}.97.{}", c.controller_arc, client_number(&p.code)),
        )
    };
    let cda = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:ep2="urn:hl7finland" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FI"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="{id}"/>
  {general_code}
  <effectiveTime value="{time}"/>
  <confidentialityCode code="6" codeSystem="1.2.246.777.5.99902.2006" displayName="Sosiaalihuollon salassapidettävä"/>
  <languageCode code="fi"/>
  <setId root="{set_id}"/>
  <versionNumber value="{version}"/>
  <recordTarget><patientRole><id root="1.2.246.21" extension="{code}"/><patient><name><given>{given}</given><family>{family}</family></name><administrativeGenderCode code="{gender}" codeSystem="1.2.246.537.5.1.1997"/><birthTime value="{birth}"/></patient></patientRole></recordTarget>
  <author><time nullFlavor="NA"/><assignedAuthor><id root="1.2.246.537.26" extension="{author}"/><assignedPerson><name><given>Sari</given><family>Sosiaalityöntekijä</family></name></assignedPerson></assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><id root="{controller}"/><name>{controller_name}</name></representedCustodianOrganization></assignedCustodian></custodian>{related}
  <authorization><consent><code code="1" codeSystem="1.2.246.537.6.1286.201901"/><statusCode code="completed"/></consent></authorization>
  <componentOf><encompassingEncounter>{case_id}<effectiveTime nullFlavor="NA"/>
    <responsibleParty><assignedEntity><id nullFlavor="NA"/><representedOrganization><id root="{controller}"/><name>{controller_name}</name></representedOrganization></assignedEntity></responsibleParty>
    <encounterParticipant typeCode="ADM"><assignedEntity><id nullFlavor="NA"/><representedOrganization><id root="{controller_arc}.10.{unit_number}"/><name>{unit}</name></representedOrganization></assignedEntity></encounterParticipant>
  </encompassingEncounter></componentOf>
  <ep2:localSocialHeader>
    <ep2:creationTime value="{time}"/>
    <ep2:documentGroup code="{group}" codeSystem="1.2.246.537.6.1505.201601"/>{specific_line}
    <ep2:fileFormat code="2" codeSystem="1.2.246.537.6.1502.201601" displayName="XHTML_1.1"/>
    <ep2:structuredFileFormat code="5" codeSystem="1.2.246.537.5.40179.2008" displayName="JSON"/>
    <ep2:softwareSupport moderator="Demo Ohjelmistotalo Oy" product="Sosiaali" version="4.{version}.0"/>
    <ep2:functionCode code="{task_code}" codeSystem="1.2.246.537.6.1221.201601" displayName="{task_name}"/>
    <ep2:serviceProcess><ep2:type>Sosiaalihuollon palveluprosessi</ep2:type><ep2:code code="3" codeSystem="1.2.246.537.6.1277.201701"/></ep2:serviceProcess>
    <ep2:recordStatus code="3" codeSystem="1.2.246.537.5.40154.2008"/>
    <ep2:registryType code="1" codeSystem="1.2.246.537.6.1264.201701"/>
    <ep2:outsourcingServiceCustomer root="{controller}"/>
    <ep2:outsourcingServiceCustomerName>{controller_name}</ep2:outsourcingServiceCustomerName>
    <ep2:totalRetentionPeriodClass code="{retention}" codeSystem="1.2.246.537.6.1258.201601"/>
    <ep2:specialContent code="E" codeSystem="1.2.246.537.6.112.2007"/>
    <ep2:contentSpecificationId>1.2.246.537.6.1506.{specific}.2024.11.28</ep2:contentSpecificationId>
    <ep2:encompassingClientRelationship root="{relationship}"/>{correction}
    <ep2:signature><ep2:signer><ep2:name>Sari Sosiaalityöntekijä</ep2:name></ep2:signer><ep2:authenticationMethod code="1" codeSystem="1.2.246.537.5.40128.2006"/><ep2:time value="{time}"/></ep2:signature>
    <signatureCollection xmlns="urn:hl7finland">
      <signature ID="Demo.Signature.{version}">
        <signatureDescription code="3" codeSystem="1.2.246.537.5.40127.2006" displayName="Järjestelmäallekirjoitus"/>
        {timestamp}
        <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">{signed_info}<SignatureValue>{signature_value}</SignatureValue><KeyInfo><X509Data><X509Certificate>{certificate}</X509Certificate></X509Data></KeyInfo></Signature>
      </signature>
    </signatureCollection>
  </ep2:localSocialHeader>
  <component>
    {body}
  </component>
</ClinicalDocument>
"#,
        id = v.id,
        time = v.time,
        set_id = v.set_id,
        version = v.version,
        code = p.code,
        given = escape(p.given),
        family = escape(p.family),
        gender = p.gender,
        birth = p.birth,
        author = 100_000 + client_number(&p.code) % 900_000,
        controller = c.controller_oid,
        controller_arc = c.controller_arc,
        controller_name = escape(c.controller_name),
        unit = escape(unit_name),
        unit_number = 40_000 + task_code.parse::<u32>().unwrap_or_default(),
        task_name = escape(task_name),
        retention = if c.relationship_document {
            "2"
        } else if task_code == "23" {
            "1"
        } else {
            "2"
        },
        certificate = signer.certificate_b64,
    );
    let completion = if v.nullified { "NU" } else { "LA" };
    let (request, request_name) = if c.relationship_document {
        ("SP1", "Asiakkuusasiakirjan arkistointi")
    } else {
        ("SP17", "Asiakasasiakirjan arkistointi")
    };
    let frame = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<RCMR_IN200002FI01 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0">
  <id root="{controller_arc}.99" extension="{message}"/>
  <creationTime value="{time}"/>
  <interactionId root="2.16.840.1.113883.1.6" extension="RCMR_IN200002FI01"/>
  <processingCode code="P"/>
  <processingModeCode code="T"/>
  <acceptAckCode code="ER"/>
  <receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.246.556.18007.2"/></device></receiver>
  <sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="{controller}"/></device></sender>
  <controlActProcess classCode="CACT" moodCode="EVN">
    <code code="RCMR_TE000102UV01" codeSystem="2.16.840.1.113883.1.18"/>
    <reasonCode code="{request}" codeSystem="1.2.246.537.6.1503.201601" displayName="{request_name}"/>
    <reasonCode code="1" codeSystem="1.2.246.537.6.1289.201901" displayName="Palvelunjärjestäjän rekisterin oma käyttö"/>
    <subject typeCode="SUBJ"><clinicalDocument>
      <id root="{id}"/>
      <code code="1" codeSystem="1.2.246.537.6.1264.201701"/>
      <setId root="{set_id}"/>
      <versionNumber value="{version}"/>
      <completionCode code="{completion}" codeSystem="1.2.246.537.5.40115.2006"/>
      <storageCode code="AC" codeSystem="1.2.246.537.5.40116.2006"/>
      <recordTarget><patient><id root="1.2.246.21" extension="{code}"/></patient></recordTarget>
      <custodian><assignedCustodian><representedOrganization><id root="{controller}"/></representedOrganization></assignedCustodian></custodian>
    </clinicalDocument></subject>
  </controlActProcess>
</RCMR_IN200002FI01>
"#,
        controller_arc = c.controller_arc,
        controller = c.controller_oid,
        message = c.message_id + v.version,
        time = v.time,
        id = v.id,
        set_id = v.set_id,
        version = v.version,
        code = p.code,
    );
    (cda, frame)
}

/// A number derived from an identity code, for identifiers that belong to the client.
fn client_number(code: &str) -> u64 {
    code.bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
        % 1_000_000_007
        + 1
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::archive::{
        Submission, prepare,
        xmldsig::{Integrity, Trust, TrustAnchors},
    };

    fn options(seed: u64) -> Options {
        Options {
            seed,
            controllers: 2,
            clients: 30,
            documents: 200,
        }
    }

    fn demo_anchors() -> TrustAnchors {
        let der = x509_parser::pem::Pem::iter_from_buffer(SIGNING_CA_PEM.as_bytes())
            .next()
            .and_then(Result::ok)
            .expect("the demo CA is PEM")
            .contents;
        TrustAnchors::from_der(&[der]).expect("anchor")
    }

    fn prepared(file: &File, anchors: &TrustAnchors) -> crate::archive::PreparedDocument {
        prepare(
            Submission {
                cda: file.bytes.clone(),
                frame: None,
            },
            anchors,
            OffsetDateTime::now_utc(),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", file.name))
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let signer = Signer::demo().expect("signer");
        let a = generate_chunk(&options(1), &signer, 3, 50);
        let b = generate_chunk(&options(1), &signer, 3, 50);
        let c = generate_chunk(&options(2), &signer, 3, 50);
        assert_eq!(a.len(), 100, "a document and a frame each");
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.name == y.name && x.bytes == y.bytes)
        );
        assert!(a.iter().zip(&c).any(|(x, y)| x.bytes != y.bytes));
    }

    #[test]
    fn every_generated_document_reads_and_its_signature_verifies() {
        let signer = Signer::demo().expect("signer");
        let anchors = demo_anchors();
        let files = generate_chunk(&options(5), &signer, 0, 200);
        let (mut crlf, mut pdf, mut versions) = (0, 0, 0);
        for file in files.iter().filter(|f| !f.name.ends_with(".frame.xml")) {
            let document = prepared(file, &anchors);
            assert_eq!(document.signatures.len(), 1, "{}", file.name);
            let check = &document.signatures[0];
            assert_eq!(
                (check.integrity, check.trust),
                (Integrity::Valid, Trust::Trusted),
                "{}: {:?}",
                file.name,
                check
            );
            crlf += usize::from(file.bytes.windows(2).any(|w| w == b"\r\n"));
            pdf += usize::from(
                document
                    .document
                    .renditions
                    .iter()
                    .any(|r| r.media_type == "application/pdf"),
            );
            versions = versions.max(document.document.version_number);
        }
        assert!(crlf > 20 && crlf < 180, "both line endings: {crlf}");
        assert!(pdf > 0, "some PDF renditions");
        assert!(versions >= 3, "sets of several versions");
    }

    #[test]
    fn a_changed_document_fails_integrity_and_an_unknown_issuer_is_not_trusted() {
        let signer = Signer::demo().expect("signer");
        let files = generate_chunk(&options(9), &signer, 0, 1);
        let original = &files[0];
        let text = String::from_utf8(original.bytes.clone()).expect("utf-8");
        let timestamp = text
            .split("<signatureTimestamp")
            .nth(1)
            .and_then(|rest| rest.split('>').nth(1))
            .and_then(|rest| rest.split('<').next())
            .expect("timestamp")
            .to_owned();
        let tampered = File {
            name: "tampered".into(),
            bytes: text
                .replacen(&timestamp, "2001-01-01T00:00:00Z", 1)
                .into_bytes(),
        };
        let check = &prepared(&tampered, &demo_anchors()).signatures[0];
        assert_eq!(check.integrity, Integrity::Invalid);
        assert!(
            check
                .integrity_detail
                .as_deref()
                .unwrap_or_default()
                .contains("digest")
        );

        let check = &prepared(original, &TrustAnchors::default()).signatures[0];
        assert_eq!(
            (check.integrity, check.trust),
            (Integrity::Valid, Trust::Unknown)
        );
    }

    #[test]
    fn identity_codes_are_of_the_test_series_with_a_valid_check_character() {
        let mut rng = Rng::new(3, 4);
        for _ in 0..500 {
            let (code, _) = test_identity_code(&mut rng);
            let digits: String = code[..6].chars().chain(code[7..10].chars()).collect();
            let number: u64 = digits.parse().expect("digits");
            let check =
                "0123456789ABCDEFHJKLMNPRSTUVWXY".as_bytes()[(number % 31) as usize] as char;
            assert_eq!(code.chars().last(), Some(check), "{code}");
            assert!(code[7..10].parse::<u32>().expect("individual number") >= 900);
        }
    }
}
