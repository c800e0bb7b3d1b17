//! The demo PKI (feature `demo`: `archivist demo` and the tests), shaped like DVV's social welfare and health care professional-card hierarchy
//! (certificates.md): a TEST root, an issuing CA for professional cards with its CRL, a service
//! CA for the server certificate, card certificates like real ones, and certificates that must
//! be refused. Every name says TEST; nothing here is trusted outside the demo.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CrlDistributionPoint, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose, OtherNameValue, RevocationReason, RevokedCertParams,
    SanType, SerialNumber, SignatureAlgorithm,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::{Duration, OffsetDateTime};

/// Password of every demo PKCS#12 file; browsers refuse to import files without one.
pub const PKCS12_PASSWORD: &str = "demo";

const ROOT_CN: &str = "DVV TEST Gov. Root CA - G3 ECC";
const ISSUING_CN: &str = "DVV TEST Social Welfare and Healthcare Professional CA - G4E";
const SERVICE_CN: &str = "DVV TEST Service Certificates - G5E";
const FOREIGN_CN: &str = "Unrelated TEST CA";
const CRL_URL: &str = "http://crl.demo.invalid/dvvtestsote4ec.crl";
/// Microsoft user principal name, the SAN otherName smart-card certificates carry.
const UPN_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];
const OID_CERTIFICATE_POLICIES: &[u64] = &[2, 5, 29, 32];
/// The demo cards' certificate policy. Real DVV professional-card policy OIDs are not public
/// (certificates.md §1.3), so the demo uses IANA's enterprise number for documentation
/// (32473, RFC 5612), which no real certificate policy is under.
pub const DEMO_CARD_POLICY: &str = "1.3.6.1.4.1.32473.1.10.1";
/// A policy of some other kind of certificate, for the card that the policy allowlist refuses.
pub const DEMO_OTHER_POLICY: &str = "1.3.6.1.4.1.32473.1.20.1";
const OID_SURNAME: &[u64] = &[2, 5, 4, 4];
const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
const OID_TITLE: &[u64] = &[2, 5, 4, 12];
const OID_GIVEN_NAME: &[u64] = &[2, 5, 4, 42];

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot create a demo certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot create a demo PKCS#12 file: {0}")]
    Pkcs12(String),
    #[error("the system random number generator failed")]
    Random,
    #[error("{0:?} is not a policy OID")]
    Policy(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Ca = CertifiedIssuer<'static, KeyPair>;

/// The demo hierarchy. All keys live only in memory until [`DemoCa::write_to`].
pub struct DemoCa {
    now: OffsetDateTime,
    root: Ca,
    issuing: Ca,
    service: Ca,
    foreign: Ca,
}

/// Which extended key usage a card certificate carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardEku {
    /// No EKU extension: the usual case for DVV cards (S2 calls EKU "discouraged").
    Absent,
    /// clientAuth with emailProtection, as some card generations carry.
    ClientAuthAndEmail,
    /// emailProtection only: not for signing in; the handshake must refuse it.
    EmailOnly,
}

/// The person and shape of one card certificate.
#[derive(Clone, Debug)]
pub struct CardProfile {
    pub surname: String,
    pub given_names: String,
    /// Eight digits; the check character is added.
    pub satu_digits: String,
    pub with_satu: bool,
    pub eku: CardEku,
    pub expired: bool,
    /// A second UPN in subjectAltName: a card number rule that reads the UPN must refuse it.
    pub two_upns: bool,
    /// Key usage with digitalSignature, as DVV cards have (`0xB0`); without it, only
    /// keyEncipherment and dataEncipherment.
    pub digital_signature: bool,
    /// The certificatePolicies OID.
    pub policy: &'static str,
}

impl CardProfile {
    pub fn archivist(surname: &str, given_names: &str, satu_digits: &str) -> Self {
        Self {
            surname: surname.to_owned(),
            given_names: given_names.to_owned(),
            satu_digits: satu_digits.to_owned(),
            with_satu: true,
            eku: CardEku::Absent,
            expired: false,
            two_upns: false,
            digital_signature: true,
            policy: DEMO_CARD_POLICY,
        }
    }

    pub fn without_digital_signature(mut self) -> Self {
        self.digital_signature = false;
        self
    }

    pub fn with_policy(mut self, policy: &'static str) -> Self {
        self.policy = policy;
        self
    }

    pub fn with_two_upns(mut self) -> Self {
        self.two_upns = true;
        self
    }

    pub fn without_satu(mut self) -> Self {
        self.with_satu = false;
        self
    }

    pub fn with_eku(mut self, eku: CardEku) -> Self {
        self.eku = eku;
        self
    }

    pub fn expired(mut self) -> Self {
        self.expired = true;
        self
    }
}

/// A card certificate with its private key.
pub struct IssuedCard {
    certificate: rcgen::Certificate,
    key: KeyPair,
    serial: SerialNumber,
    satu: Option<String>,
    chain_pem: String,
    chain_der: Vec<Vec<u8>>,
}

impl IssuedCard {
    pub fn certificate_der(&self) -> &[u8] {
        self.certificate.der()
    }

    pub fn certificate_pem(&self) -> String {
        self.certificate.pem()
    }

    pub fn private_key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    pub fn satu(&self) -> Option<&str> {
        self.satu.as_deref()
    }

    /// PKCS#12 with the key, the certificate and its CA chain, for importing into a browser.
    pub fn pkcs12(&self) -> Result<Vec<u8>, PkiError> {
        use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
        let p12 = |e: p12_keystore::error::Error| PkiError::Pkcs12(e.to_string());
        let key = PrivateKey::from_der(&self.key.serialize_der()).map_err(p12)?;
        let certs = std::iter::once(self.certificate.der().to_vec())
            .chain(self.chain_der.iter().cloned())
            .map(|der| Certificate::from_der(&der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(p12)?;
        let local_key_id = ring::digest::digest(&ring::digest::SHA256, self.certificate.der());
        let chain = PrivateKeyChain::new(local_key_id.as_ref(), key, certs);
        let mut store = KeyStore::new();
        store.add_entry("archivist", KeyStoreEntry::PrivateKeyChain(chain));
        store.writer(PKCS12_PASSWORD).write().map_err(p12)
    }
}

/// The SATU with its check character: the number modulo 31 picks from the same alphabet as
/// the Finnish personal identity code's check character.
pub fn satu_with_check(digits: &str) -> Option<String> {
    const ALPHABET: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    let check = *ALPHABET.get(usize::try_from(n % 31).ok()?)?;
    Some(format!("{digits}{}", char::from(check)))
}

fn name(entries: &[(&[u64], DnValue)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (oid, value) in entries {
        dn.push(DnType::from_oid(oid), value.clone());
    }
    dn
}

fn country_fi() -> Result<DnValue, PkiError> {
    Ok(DnValue::PrintableString("FI".try_into()?))
}

fn org_name(cn: &str) -> Result<DistinguishedName, PkiError> {
    Ok(name(&[
        (&[2, 5, 4, 6], country_fi()?),
        (&[2, 5, 4, 10], "Digi- ja väestötietovirasto TEST".into()),
        (&[2, 5, 4, 11], "Testivarmenteet".into()),
        (&[2, 5, 4, 3], cn.into()),
    ]))
}

fn random_serial(rng: &SystemRandom) -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes).map_err(|_| PkiError::Random)?;
    // A positive INTEGER with no leading zero byte: clear the top bit, set the next.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// DER of a certificatePolicies extension value with one policy and no qualifiers:
/// `SEQUENCE { SEQUENCE { OBJECT IDENTIFIER } }`.
fn certificate_policies(policy: &str) -> Result<Vec<u8>, PkiError> {
    let arcs: Vec<u64> = policy
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| PkiError::Policy(policy.to_owned()))?;
    let oid = yasna::models::ObjectIdentifier::from_slice(&arcs);
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| w.next().write_sequence(|w| w.next().write_oid(&oid)))
    }))
}

fn ca_params(
    dn: DistinguishedName,
    now: OffsetDateTime,
    years: i64,
    path_len: Option<u8>,
    serial: SerialNumber,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365 * years);
    params.serial_number = Some(serial);
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.use_authority_key_identifier_extension = true;
    params.key_identifier_method = KeyIdMethod::Sha256;
    params
}

fn key(alg: &'static SignatureAlgorithm) -> Result<KeyPair, PkiError> {
    Ok(KeyPair::generate_for(alg)?)
}

impl DemoCa {
    pub fn new() -> Result<Self, PkiError> {
        Self::at(OffsetDateTime::now_utc())
    }

    /// The hierarchy as if made at `now`: tests choose the clock.
    pub fn at(now: OffsetDateTime) -> Result<Self, PkiError> {
        let rng = SystemRandom::new();
        let p384 = &rcgen::PKCS_ECDSA_P384_SHA384;
        let root = CertifiedIssuer::self_signed(
            ca_params(org_name(ROOT_CN)?, now, 20, None, random_serial(&rng)?),
            key(p384)?,
        )?;
        // Issuing CAs below the root sign end-entity certificates only (path length 0).
        let intermediate = |cn: &str| -> Result<Ca, PkiError> {
            let params = ca_params(org_name(cn)?, now, 10, Some(0), random_serial(&rng)?);
            Ok(CertifiedIssuer::signed_by(params, key(p384)?, &root)?)
        };
        let issuing = intermediate(ISSUING_CN)?;
        let service = intermediate(SERVICE_CN)?;
        let foreign = CertifiedIssuer::self_signed(
            ca_params(
                name(&[(&[2, 5, 4, 3], FOREIGN_CN.into())]),
                now,
                10,
                None,
                random_serial(&rng)?,
            ),
            key(p384)?,
        )?;
        Ok(Self {
            now,
            root,
            issuing,
            service,
            foreign,
        })
    }

    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    pub fn issuing_ca_pem(&self) -> String {
        self.issuing.pem()
    }

    pub fn foreign_ca_pem(&self) -> String {
        self.foreign.pem()
    }

    /// A card certificate from the professional-card CA.
    pub fn issue_card(&self, profile: &CardProfile) -> Result<IssuedCard, PkiError> {
        self.issue_card_by(profile, &self.issuing, &[&self.issuing, &self.root])
    }

    /// A card certificate from a CA that the server does not trust.
    pub fn issue_foreign_card(&self, profile: &CardProfile) -> Result<IssuedCard, PkiError> {
        self.issue_card_by(profile, &self.foreign, &[&self.foreign])
    }

    fn issue_card_by(
        &self,
        profile: &CardProfile,
        issuer: &Ca,
        chain: &[&Ca],
    ) -> Result<IssuedCard, PkiError> {
        let rng = SystemRandom::new();
        let satu = satu_with_check(&profile.satu_digits);
        let mut dn = vec![
            (&[2u64, 5, 4, 6][..], country_fi()?),
            (OID_SURNAME, profile.surname.as_str().into()),
            (OID_GIVEN_NAME, profile.given_names.as_str().into()),
        ];
        let mut common_name = format!("{} {}", profile.surname, profile.given_names);
        if let (true, Some(satu)) = (profile.with_satu, &satu) {
            dn.push((
                OID_SERIAL_NUMBER,
                DnValue::PrintableString(satu.as_str().try_into()?),
            ));
            common_name = format!("{common_name} {satu}");
        }
        dn.push((OID_TITLE, "Arkistonhoitaja".into()));
        dn.push((&[2, 5, 4, 3], common_name.as_str().into()));

        let mut params = CertificateParams::default();
        params.distinguished_name = name(&dn);
        let serial = random_serial(&rng)?;
        params.serial_number = Some(serial.clone());
        if profile.expired {
            params.not_before = self.now - Duration::days(3 * 365);
            params.not_after = self.now - Duration::days(1);
        } else {
            params.not_before = self.now - Duration::days(1);
            params.not_after = self.now + Duration::days(2 * 365);
        }
        params.key_usages = vec![
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::DataEncipherment,
        ];
        if profile.digital_signature {
            params
                .key_usages
                .insert(0, KeyUsagePurpose::DigitalSignature);
        }
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                OID_CERTIFICATE_POLICIES,
                certificate_policies(profile.policy)?,
            ));
        params.extended_key_usages = match profile.eku {
            CardEku::Absent => vec![],
            CardEku::ClientAuthAndEmail => vec![
                ExtendedKeyUsagePurpose::ClientAuth,
                ExtendedKeyUsagePurpose::EmailProtection,
            ],
            CardEku::EmailOnly => vec![ExtendedKeyUsagePurpose::EmailProtection],
        };
        let upn = |domain: &str| {
            SanType::OtherName((
                UPN_OID.to_vec(),
                OtherNameValue::Utf8String(format!("{}@{domain}", profile.satu_digits)),
            ))
        };
        params.subject_alt_names = vec![upn("teonet.demo.invalid")];
        if profile.two_upns {
            params.subject_alt_names.push(upn("toinen.demo.invalid"));
        }
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![CRL_URL.to_owned()],
        }];
        params.use_authority_key_identifier_extension = true;

        let key = key(&rcgen::PKCS_ECDSA_P384_SHA384)?;
        let certificate = params.signed_by(&key, issuer)?;
        Ok(IssuedCard {
            certificate,
            key,
            serial,
            satu: satu.filter(|_| profile.with_satu),
            chain_pem: chain.iter().map(|ca| ca.pem()).collect(),
            chain_der: chain.iter().map(|ca| ca.der().to_vec()).collect(),
        })
    }

    /// The server's certificate for `localhost`, `127.0.0.1` and `::1`, ECDSA P-256, with the
    /// service CA after it in the chain.
    pub fn issue_server(&self) -> Result<(String, String), PkiError> {
        let rng = SystemRandom::new();
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&[
            (&[2, 5, 4, 6], country_fi()?),
            (&[2, 5, 4, 10], "Kanta TEST".into()),
            (&[2, 5, 4, 3], "localhost".into()),
        ]);
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into()?),
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        params.serial_number = Some(random_serial(&rng)?);
        params.not_before = self.now - Duration::days(1);
        params.not_after = self.now + Duration::days(365);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = key(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key, &self.service)?;
        Ok((
            format!("{}{}", cert.pem(), self.service.pem()),
            key.serialize_pem(),
        ))
    }

    /// The issuing CA's CRL (PEM) listing `revoked`, valid for `days`.
    pub fn crl(&self, revoked: &[&IssuedCard], days: i64) -> Result<String, PkiError> {
        let serials: Vec<Vec<u8>> = revoked.iter().map(|card| card.serial.to_bytes()).collect();
        self.crl_at(
            &serials,
            self.now - Duration::hours(1),
            self.now + Duration::days(days),
            1,
        )
    }

    /// A CRL of the issuing CA listing the certificate serial numbers `serials` (big-endian
    /// bytes), with the given validity and CRL number: tests make fresh, replaced and stale ones.
    pub fn crl_at(
        &self,
        serials: &[Vec<u8>],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        number: u64,
    ) -> Result<String, PkiError> {
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: this_update - Duration::hours(1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuing)?.pem()?)
    }

    /// True when `dir` holds a complete demo PKI from an earlier run.
    pub fn exists_in(dir: &Path) -> bool {
        demo_files().iter().all(|f| dir.join(f).is_file())
    }

    /// Writes the whole demo PKI into `dir` (see the README for the file names).
    pub fn write_to(&self, dir: &Path) -> Result<(), PkiError> {
        let write = |file: &str, contents: &[u8]| -> Result<(), PkiError> {
            let path = dir.join(file);
            std::fs::write(&path, contents).map_err(|source| PkiError::Write { path, source })
        };
        std::fs::create_dir_all(dir).map_err(|source| PkiError::Write {
            path: dir.to_owned(),
            source,
        })?;

        write("root-ca.pem", self.root_pem().as_bytes())?;
        write("issuing-ca.pem", self.issuing_ca_pem().as_bytes())?;
        write("service-ca.pem", self.service.pem().as_bytes())?;
        write("foreign-ca.pem", self.foreign_ca_pem().as_bytes())?;
        let (server_chain, server_key) = self.issue_server()?;
        write("server.pem", server_chain.as_bytes())?;
        write("server.key", server_key.as_bytes())?;

        let mut revoked = Vec::new();
        for (stem, card) in self.demo_cards()? {
            write(&format!("{stem}.pem"), card.certificate_pem().as_bytes())?;
            write(&format!("{stem}.key"), card.private_key_pem().as_bytes())?;
            write(&format!("{stem}.chain.pem"), card.chain_pem.as_bytes())?;
            write(&format!("{stem}.p12"), &card.pkcs12()?)?;
            if stem == "revoked" {
                revoked.push(card);
            }
        }
        let revoked: Vec<&IssuedCard> = revoked.iter().collect();
        write("issuing-ca.crl", self.crl(&revoked, 365)?.as_bytes())?;
        Ok(())
    }

    /// The demo cards by file stem: four archivists, then the ones that must be refused or
    /// that the card-number rule must not accept.
    pub fn demo_cards(&self) -> Result<Vec<(&'static str, IssuedCard)>, PkiError> {
        Ok(vec![
            (
                "archivist-1",
                self.issue_card(&CardProfile::archivist(
                    "Virtanen",
                    "Aino Maria",
                    "99900011",
                ))?,
            ),
            (
                "archivist-2",
                self.issue_card(&CardProfile::archivist("Korhonen", "Elias", "99900022"))?,
            ),
            (
                "archivist-3",
                self.issue_card(
                    &CardProfile::archivist("Lindqvist", "Johan", "99900033")
                        .with_eku(CardEku::ClientAuthAndEmail),
                )?,
            ),
            (
                "archivist-4",
                self.issue_card(
                    &CardProfile::archivist("Mäkelä", "Sanni Åsa", "99900044")
                        .with_eku(CardEku::ClientAuthAndEmail),
                )?,
            ),
            (
                "expired",
                self.issue_card(
                    &CardProfile::archivist("Vanhentunut", "Eero", "99900055").expired(),
                )?,
            ),
            (
                "foreign",
                self.issue_foreign_card(&CardProfile::archivist("Vieras", "Ville", "99900066"))?,
            ),
            (
                "revoked",
                self.issue_card(&CardProfile::archivist("Suljettu", "Sari", "99900077"))?,
            ),
            (
                "no-satu",
                self.issue_card(
                    &CardProfile::archivist("Tunnukseton", "Tuula", "99900088").without_satu(),
                )?,
            ),
            (
                "wrong-eku",
                self.issue_card(
                    &CardProfile::archivist("Sähköposti", "Seppo", "99900099")
                        .with_eku(CardEku::EmailOnly),
                )?,
            ),
            (
                "no-digital-signature",
                self.issue_card(
                    &CardProfile::archivist("Salakirjoitus", "Sami", "99900100")
                        .without_digital_signature(),
                )?,
            ),
            (
                "other-policy",
                self.issue_card(
                    &CardProfile::archivist("Muu", "Mirja", "99900111")
                        .with_policy(DEMO_OTHER_POLICY),
                )?,
            ),
        ])
    }
}

fn demo_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [
        "root-ca.pem",
        "issuing-ca.pem",
        "issuing-ca.crl",
        "service-ca.pem",
        "foreign-ca.pem",
        "server.pem",
        "server.key",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for stem in [
        "archivist-1",
        "archivist-2",
        "archivist-3",
        "archivist-4",
        "expired",
        "foreign",
        "revoked",
        "no-satu",
        "wrong-eku",
        "no-digital-signature",
        "other-policy",
    ] {
        for ext in ["pem", "key", "p12"] {
            files.push(PathBuf::from(format!("{stem}.{ext}")));
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satu_check_character() {
        // 99900011 = 31 × 3222581, so the remainder 0 gives the check character 0.
        assert_eq!(satu_with_check("99900011").as_deref(), Some("999000110"));
        assert_eq!(satu_with_check("12345678").map(|s| s.len()), Some(9));
        assert_eq!(satu_with_check("1234567"), None);
        assert_eq!(satu_with_check("1234567X"), None);
    }

    #[test]
    fn card_certificate_has_the_dvv_shape() {
        let ca = DemoCa::new().expect("ca");
        let card = ca
            .issue_card(&CardProfile::archivist("Virtanen", "Aino", "99900011"))
            .expect("card");
        let (_, cert) =
            x509_parser::parse_x509_certificate(card.certificate_der()).expect("parses");
        let ku = cert.key_usage().expect("ku").expect("present");
        assert!(ku.critical, "key usage is critical");
        assert!(ku.value.digital_signature());
        assert!(
            cert.extended_key_usage().expect("eku").is_none(),
            "EKU absent"
        );
        assert!(
            cert.tbs_certificate.extensions().iter().any(|e| {
                e.oid == x509_parser::oid_registry::OID_X509_EXT_CRL_DISTRIBUTION_POINTS
            })
        );
        let cn = cert.subject().iter_common_name().next().expect("cn");
        assert_eq!(cn.as_str().expect("utf8"), "Virtanen Aino 999000110");
        assert!(cert.issuer().to_string().contains("TEST"));
    }

    #[test]
    fn pkcs12_opens_with_the_demo_password() {
        let ca = DemoCa::new().expect("ca");
        let card = ca
            .issue_card(&CardProfile::archivist("Virtanen", "Aino", "99900011"))
            .expect("card");
        let p12 = card.pkcs12().expect("p12");
        let store = p12_keystore::KeyStore::from_pkcs12(
            &p12,
            PKCS12_PASSWORD,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .expect("opens");
        let (_, chain) = store.private_key_chain().expect("key chain");
        assert_eq!(chain.certs().len(), 3, "leaf, issuing CA, root");
    }

    #[test]
    fn writes_every_documented_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        DemoCa::new()
            .expect("ca")
            .write_to(dir.path())
            .expect("write");
        assert!(DemoCa::exists_in(dir.path()));
    }
}
