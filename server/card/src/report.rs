//! What `check` prints about a card: the certificate's holder and fields, the card number, and
//! the card number the server derives, with labels in the user's language.

use identity::certificate::{IdentityError, read_identity};
use x509_parser::{
    certificate::X509Certificate, extensions::ParsedExtension,
    oid_registry::OID_X509_EXT_CERTIFICATE_POLICIES, prelude::FromDer,
};

use crate::{failure::Failure, fineid::CardContents, lang::Lang};

#[derive(Clone, Copy)]
pub enum Label {
    Reader,
    Holder,
    Satu,
    Issuer,
    Serial,
    ValidFrom,
    ValidUntil,
    KeyUsage,
    Policies,
    CardNumber,
    TokenSerial,
    ServerCardNumber,
    PublicKey,
    Result,
    Linked,
    LinksNotTold,
    Pin,
    Notice,
}

impl Label {
    pub fn text(self, lang: Lang) -> &'static str {
        let (fi, sv, en) = match self {
            Self::Reader => ("Lukija", "Läsare", "Reader"),
            Self::Holder => ("Haltija", "Innehavare", "Holder"),
            Self::Satu => ("SATU", "SATU", "SATU"),
            Self::Issuer => ("Myöntäjä", "Utfärdare", "Issuer"),
            Self::Serial => (
                "Varmenteen sarjanumero",
                "Certifikatets serienummer",
                "Certificate serial",
            ),
            Self::ValidFrom => ("Voimassa alkaen", "Giltigt från", "Valid from"),
            Self::ValidUntil => ("Voimassa asti", "Giltigt till", "Valid until"),
            Self::KeyUsage => ("Avaimen käyttö", "Nyckelanvändning", "Key usage"),
            Self::Policies => (
                "Varmennepolitiikat",
                "Certifikatpolicyer",
                "Certificate policies",
            ),
            Self::CardNumber => ("Kortin numero", "Kortnummer", "Card number"),
            Self::TokenSerial => (
                "Sirun sarjanumero",
                "Chipets serienummer",
                "Chip token serial",
            ),
            Self::ServerCardNumber => (
                "Palvelun käyttämä kortin numero",
                "Kortnummer som tjänsten använder",
                "Card number the service uses",
            ),
            Self::PublicKey => (
                "Julkisen avaimen SHA-256",
                "Publika nyckelns SHA-256",
                "Public key SHA-256",
            ),
            Self::Result => ("Tulos", "Resultat", "Result"),
            Self::Notice => ("Palvelun tiedote", "Tjänstens meddelande", "Service notice"),
            Self::Linked => (
                "Liitetty rekisterinpitäjiin",
                "Kopplat till personuppgiftsansvariga",
                "Linked to controllers",
            ),
            Self::Pin => (
                "Kortin PIN1 (tunnistautuminen)",
                "Kortets PIN1 (identifiering)",
                "The card's PIN1 (authentication)",
            ),
            Self::LinksNotTold => (
                "palvelu kertoo tämän vain kortilla kirjautuneelle (kirjaudu kortilla: etusivu näyttää rekisterinpitäjät)",
                "tjänsten visar detta bara för den som loggat in med kortet (logga in med kortet: startsidan visar de personuppgiftsansvariga)",
                "the service tells this only to the card itself (sign in with the card: the front page shows the controllers)",
            ),
        };
        match lang {
            Lang::Fi => fi,
            Lang::Sv => sv,
            Lang::En => en,
        }
    }
}

/// The lines describing what was read from the card, before any check ran.
pub fn describe(contents: &CardContents, lang: Lang) -> Result<Vec<(Label, String)>, Failure> {
    let identity = read_identity(&contents.certificate).map_err(|e| match e {
        IdentityError::Parse(detail) => Failure::damaged(detail),
        IdentityError::Time => Failure::damaged("the validity cannot be read"),
    })?;
    let (_, cert) = X509Certificate::from_der(&contents.certificate)
        .map_err(|e| Failure::damaged(e.to_string()))?;
    let none = match lang {
        Lang::Fi => "ei ole",
        Lang::Sv => "saknas",
        Lang::En => "none",
    };
    let mut lines = vec![
        (Label::Holder, identity.holder_name),
        (
            Label::Satu,
            identity.satu.unwrap_or_else(|| none.to_owned()),
        ),
        (Label::Issuer, identity.issuer),
        (Label::Serial, identity.serial),
        (Label::ValidFrom, identity.not_before),
        (Label::ValidUntil, identity.not_after),
        (
            Label::KeyUsage,
            key_usage(&cert).unwrap_or_else(|| none.to_owned()),
        ),
        (
            Label::Policies,
            policies(&cert).unwrap_or_else(|| none.to_owned()),
        ),
        (Label::PublicKey, identity.public_key_sha256),
    ];
    match &contents.serial {
        Some(serial) => {
            lines.push((Label::CardNumber, serial.printed.clone()));
            lines.push((Label::TokenSerial, serial.stored.clone()));
        }
        None => lines.push((Label::CardNumber, none.to_owned())),
    }
    Ok(lines)
}

fn key_usage(cert: &X509Certificate<'_>) -> Option<String> {
    let usage = cert.key_usage().ok()??.value;
    let names = [
        (usage.digital_signature(), "digitalSignature"),
        (usage.non_repudiation(), "nonRepudiation"),
        (usage.key_encipherment(), "keyEncipherment"),
        (usage.data_encipherment(), "dataEncipherment"),
        (usage.key_agreement(), "keyAgreement"),
        (usage.key_cert_sign(), "keyCertSign"),
        (usage.crl_sign(), "cRLSign"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
    (!set.is_empty()).then(|| set.join(", "))
}

fn policies(cert: &X509Certificate<'_>) -> Option<String> {
    let extension = cert
        .get_extension_unique(&OID_X509_EXT_CERTIFICATE_POLICIES)
        .ok()??;
    match extension.parsed_extension() {
        ParsedExtension::CertificatePolicies(policies) if !policies.is_empty() => Some(
            policies
                .iter()
                .map(|p| p.policy_id.to_id_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    }
}

pub fn print(lines: &[(Label, String)], lang: Lang) {
    for (label, value) in lines {
        println!("{}: {value}", label.text(lang));
    }
}
