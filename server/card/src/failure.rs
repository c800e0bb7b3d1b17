//! Every way a card check can fail, each with its own exit code (documented in the README and
//! in `archivist-card --help`) and a plain message in Finnish, Swedish and English that says
//! what to do next.

use crate::lang::Lang;

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("the PC/SC service (pcscd) is not running")]
    ServiceNotRunning,
    #[error("no card reader is connected")]
    NoReader,
    #[error("no reader named {0:?}")]
    UnknownReader(String),
    #[error("there is no card in the reader")]
    NoCard,
    #[error("the card has no FINEID application (status {status:04X})")]
    NotFineid { status: u16 },
    #[error("the card has no authentication certificate")]
    NoCertificate,
    #[error("the certificate on the card is damaged: {detail}")]
    DamagedCertificate { detail: String },
    #[error("the certificate has expired or is not yet valid")]
    Expired,
    #[error("the certificate has been revoked")]
    Revoked,
    #[error("the certificate's issuer is not one of the configured issuing CAs")]
    UnknownIssuer,
    #[error("the card was removed while it was being read")]
    CardRemoved,
    #[error("the server's checks refuse the certificate: {code}")]
    Refused { code: String },
    #[error("the card number cannot be read: {0}")]
    NoCardNumber(String),
    #[error("configuration: {0}")]
    Configuration(String),
    #[error("the server could not be asked: {0}")]
    ServerUnreachable(String),
    #[error("the card is not linked to any controller")]
    NotLinked,
    #[error("the card's PKCS#11 module cannot sign with this card: {0}")]
    CardModule(String),
    #[error("the PIN was not accepted: {0}")]
    Pin(String),
    #[error("the card reader failed: {0}")]
    Reader(String),
    #[error("cannot write the enrolment record: {0}")]
    Output(String),
}

impl Failure {
    pub fn damaged(detail: impl Into<String>) -> Self {
        Self::DamagedCertificate {
            detail: detail.into(),
        }
    }

    /// The process exit code. 1 is left for failures of the tool itself, 2 for usage errors
    /// (clap's code).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Reader(_) | Self::Output(_) => 1,
            Self::ServiceNotRunning => 3,
            Self::NoReader | Self::UnknownReader(_) => 4,
            Self::NoCard => 5,
            Self::NotFineid { .. } => 6,
            Self::NoCertificate => 7,
            Self::DamagedCertificate { .. } => 8,
            Self::Expired => 9,
            Self::Revoked => 10,
            Self::UnknownIssuer => 11,
            Self::CardRemoved => 12,
            Self::Refused { .. } => 13,
            Self::NoCardNumber(_) => 14,
            Self::Configuration(_) => 15,
            Self::ServerUnreachable(_) => 16,
            Self::NotLinked => 17,
            Self::CardModule(_) => 18,
            Self::Pin(_) => 19,
        }
    }

    /// What happened and what to do next, in plain words.
    pub fn message(&self, lang: Lang) -> String {
        let (fi, sv, en) = self.texts();
        let text = match lang {
            Lang::Fi => fi,
            Lang::Sv => sv,
            Lang::En => en,
        };
        match self.detail() {
            Some(detail) => format!("{text}\n({detail})"),
            None => text.to_owned(),
        }
    }

    /// Technical detail shown under the plain message, in English (for the help desk).
    fn detail(&self) -> Option<String> {
        match self {
            Self::UnknownReader(name) => Some(format!("reader: {name}")),
            Self::NotFineid { status } => Some(format!("SELECT status {status:04X}")),
            Self::DamagedCertificate { detail } => Some(detail.clone()),
            Self::Refused { code } => Some(format!("reason: {code}")),
            Self::NoCardNumber(detail)
            | Self::Configuration(detail)
            | Self::ServerUnreachable(detail)
            | Self::Reader(detail)
            | Self::Output(detail)
            | Self::CardModule(detail)
            | Self::Pin(detail) => Some(detail.clone()),
            _ => None,
        }
    }

    fn texts(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::ServiceNotRunning => (
                "Kortinlukijapalvelu (PC/SC, pcscd) ei ole käynnissä. Käynnistä palvelu tai pyydä työaseman tukea käynnistämään se, ja yritä uudelleen.",
                "Kortläsartjänsten (PC/SC, pcscd) är inte igång. Starta tjänsten eller be arbetsstationens support att starta den, och försök igen.",
                "The card reader service (PC/SC, pcscd) is not running. Start the service, or ask your workstation support to start it, and try again.",
            ),
            Self::NoReader => (
                "Kortinlukijaa ei löydy. Kytke kortinlukija tietokoneeseen ja yritä uudelleen.",
                "Ingen kortläsare hittades. Anslut kortläsaren till datorn och försök igen.",
                "No card reader was found. Connect the card reader to the computer and try again.",
            ),
            Self::UnknownReader(_) => (
                "Nimettyä kortinlukijaa ei löydy. Katso lukijoiden nimet komennolla `archivist-card readers`.",
                "Den namngivna kortläsaren hittades inte. Se läsarnas namn med `archivist-card readers`.",
                "The named card reader was not found. See the readers' names with `archivist-card readers`.",
            ),
            Self::NoCard => (
                "Lukijassa ei ole korttia. Aseta ammattikortti lukijaan siru edellä ja yritä uudelleen.",
                "Det finns inget kort i läsaren. Sätt in yrkeskortet i läsaren med chipet först och försök igen.",
                "There is no card in the reader. Insert your professional card chip first and try again.",
            ),
            Self::NotFineid { .. } => (
                "Kortti ei ole DVV:n ammattikortti (FINEID-sovellusta ei löydy). Tarkista, että lukijassa on sosiaali- ja terveydenhuollon ammattikorttisi.",
                "Kortet är inte ett yrkeskort från MDB (FINEID-applikationen saknas). Kontrollera att ditt yrkeskort för social- och hälsovården sitter i läsaren.",
                "The card is not a DVV professional card (no FINEID application). Check that your social welfare and health care professional card is in the reader.",
            ),
            Self::NoCertificate => (
                "Kortilla ei ole tunnistusvarmennetta. Kortilla ei voi kirjautua; ota yhteyttä kortin myöntäjään uuden kortin saamiseksi.",
                "Kortet har inget autentiseringscertifikat. Kortet kan inte användas för inloggning; kontakta kortutfärdaren för ett nytt kort.",
                "The card has no authentication certificate. It cannot be used to sign in; contact the card issuer for a new card.",
            ),
            Self::DamagedCertificate { .. } => (
                "Kortin varmenne on vioittunut eikä sitä voi lukea. Kokeile toista lukijaa; jos vika toistuu, tilaa uusi kortti.",
                "Certifikatet på kortet är skadat och kan inte läsas. Prova en annan läsare; om felet kvarstår, beställ ett nytt kort.",
                "The certificate on the card is damaged and cannot be read. Try another reader; if it happens again, order a new card.",
            ),
            Self::Expired => (
                "Kortin varmenne ei ole voimassa (vanhentunut tai ei vielä voimassa). Tarkista tietokoneen kello; jos se on oikein, tilaa uusi kortti.",
                "Kortets certifikat är inte giltigt (har gått ut eller är inte ännu giltigt). Kontrollera datorns klocka; om den är rätt, beställ ett nytt kort.",
                "The card's certificate is not valid (expired or not yet valid). Check the computer's clock; if it is right, order a new card.",
            ),
            Self::Revoked => (
                "Kortin varmenne on peruttu (kortti on suljettu). Kortilla ei voi kirjautua; ota yhteyttä kortin myöntäjään.",
                "Kortets certifikat har spärrats. Kortet kan inte användas för inloggning; kontakta kortutfärdaren.",
                "The card's certificate has been revoked (the card is closed). It cannot be used to sign in; contact the card issuer.",
            ),
            Self::UnknownIssuer => (
                "Kortin varmenteen myöntäjä ei ole Arkistonhoitajan käyttöliittymän hyväksymä. Käytä DVV:n sosiaali- ja terveydenhuollon ammattikorttia.",
                "Certifikatets utfärdare godkänns inte av arkivarieanvändargränssnittet. Använd MDB:s yrkeskort för social- och hälsovården.",
                "The certificate's issuer is not accepted by the Archivist's interface. Use a DVV social welfare and health care professional card.",
            ),
            Self::CardRemoved => (
                "Kortti poistettiin lukijasta kesken lukemisen. Aseta kortti takaisin, älä poista sitä ennen kuin tarkistus on valmis, ja yritä uudelleen.",
                "Kortet togs ut ur läsaren under läsningen. Sätt tillbaka kortet, ta inte ut det förrän kontrollen är klar, och försök igen.",
                "The card was removed while it was being read. Put it back, leave it in until the check is done, and try again.",
            ),
            Self::Refused { .. } => (
                "Palvelu ei hyväksy tätä varmennetta kirjautumiseen (syy alla). Ota yhteyttä Arkistonhoitajan käyttöliittymän ylläpitoon ja kerro syykoodi.",
                "Tjänsten godkänner inte certifikatet för inloggning (orsaken nedan). Kontakta administrationen av arkivarieanvändargränssnittet och uppge orsakskoden.",
                "The service does not accept this certificate for sign-in (reason below). Contact the Archivist's interface administrators and give them the reason code.",
            ),
            Self::NoCardNumber(_) => (
                "Kortin numeroa ei saada luettua. Ota yhteyttä ylläpitoon ja kerro alla oleva tieto.",
                "Kortets nummer kan inte läsas. Kontakta administrationen och uppge uppgiften nedan.",
                "The card number cannot be read. Contact the administrators and give them the detail below.",
            ),
            Self::Configuration(_) => (
                "Tarkistuksen asetukset ovat puutteelliset (alla). Anna palvelimen asetustiedosto valitsimella --config.",
                "Kontrollens inställningar är ofullständiga (nedan). Ange serverns konfigurationsfil med --config.",
                "The check's settings are incomplete (below). Give the server's configuration file with --config.",
            ),
            Self::ServerUnreachable(_) => (
                "Palvelimelta ei saatu vastausta. Tarkista osoite ja verkkoyhteys ja yritä uudelleen.",
                "Servern svarade inte. Kontrollera adressen och nätverksanslutningen och försök igen.",
                "The server did not answer. Check the address and the network connection and try again.",
            ),
            Self::NotLinked => (
                "Kortti on kunnossa, mutta sitä ei ole liitetty yhteenkään rekisterinpitäjään. Pyydä ylläpitoa liittämään kortin numero rekisterinpitäjään.",
                "Kortet fungerar, men det är inte kopplat till någon personuppgiftsansvarig. Be administrationen koppla kortnumret till den personuppgiftsansvariga.",
                "The card is fine, but it is not linked to any controller. Ask the administrators to link the card number to your controller.",
            ),
            Self::Reader(_) => (
                "Kortinlukija ilmoitti virheestä. Irrota lukija, kytke se uudelleen ja yritä uudelleen.",
                "Kortläsaren rapporterade ett fel. Koppla loss läsaren, anslut den igen och försök igen.",
                "The card reader reported an error. Unplug the reader, plug it in again and try again.",
            ),
            Self::Output(_) => (
                "Tiedostoa ei voitu kirjoittaa. Tarkista polku ja oikeudet.",
                "Filen kunde inte skrivas. Kontrollera sökvägen och behörigheterna.",
                "The file could not be written. Check the path and permissions.",
            ),
            Self::CardModule(_) => (
                "Kortin PKCS#11-moduulilla ei voitu allekirjoittaa tällä kortilla. Tarkista --pkcs11-module-polku (kortinlukijaohjelmiston moduuli) ja että kortti on lukijassa.",
                "Kortets PKCS#11-modul kunde inte signera med det här kortet. Kontrollera sökvägen i --pkcs11-module (kortläsarprogrammets modul) och att kortet sitter i läsaren.",
                "The card's PKCS#11 module could not sign with this card. Check the --pkcs11-module path (the card software's module) and that the card is in the reader.",
            ),
            Self::Pin(_) => (
                "Kortti ei hyväksynyt PIN-koodia. Tarkista PIN1 (tunnistautumisen PIN); jos PIN on lukittu, avaa se PUK-koodilla kortinlukijaohjelmistossa.",
                "Kortet godkände inte PIN-koden. Kontrollera PIN1 (PIN-koden för identifiering); om den är låst, lås upp den med PUK-koden i kortläsarprogrammet.",
                "The card did not accept the PIN. Check PIN1 (the authentication PIN); if it is locked, unlock it with the PUK in the card software.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<Failure> {
        vec![
            Failure::Reader(String::new()),
            Failure::ServiceNotRunning,
            Failure::NoReader,
            Failure::NoCard,
            Failure::NotFineid { status: 0x6A82 },
            Failure::NoCertificate,
            Failure::damaged(""),
            Failure::Expired,
            Failure::Revoked,
            Failure::UnknownIssuer,
            Failure::CardRemoved,
            Failure::Refused {
                code: "x".to_owned(),
            },
            Failure::NoCardNumber(String::new()),
            Failure::Configuration(String::new()),
            Failure::ServerUnreachable(String::new()),
            Failure::NotLinked,
            Failure::CardModule(String::new()),
            Failure::Pin(String::new()),
        ]
    }

    #[test]
    fn every_failure_has_its_own_exit_code() {
        let codes: Vec<u8> = all().iter().map(Failure::exit_code).collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(codes.len(), unique.len(), "{codes:?}");
        assert!(codes.iter().all(|c| *c != 0 && *c != 2), "{codes:?}");
    }

    #[test]
    fn every_message_differs_by_language() {
        for failure in all() {
            let fi = failure.message(Lang::Fi);
            let sv = failure.message(Lang::Sv);
            let en = failure.message(Lang::En);
            assert!(fi != sv && sv != en && fi != en, "{failure:?}");
        }
    }
}
