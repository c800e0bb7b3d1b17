//! Interface languages. Every text of the interface is a field of [`Texts`], so a language that
//! misses a text does not compile.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// Finnish is the default: most archivists work in Finnish.
    #[default]
    Fi,
    Sv,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Fi, Language::Sv, Language::En];

    /// The BCP 47 code, for `lang` attributes.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fi => "fi",
            Language::Sv => "sv",
            Language::En => "en",
        }
    }

    /// The language's name in itself, as a language chooser shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::Fi => "Suomi",
            Language::Sv => "Svenska",
            Language::En => "English",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Language::Fi => &FI,
            Language::Sv => &SV,
            Language::En => &EN,
        }
    }
}

/// The texts of the interface in one language.
pub struct Texts {
    pub service_name: &'static str,
    pub language_chooser: &'static str,
    pub identity_heading: &'static str,
    pub identity_intro: &'static str,
    pub holder_name: &'static str,
    pub satu: &'static str,
    pub subject: &'static str,
    pub issuer: &'static str,
    pub certificate_serial: &'static str,
    pub valid_from: &'static str,
    pub valid_until: &'static str,
    pub public_key_sha256: &'static str,
    pub not_present: &'static str,
    pub loading: &'static str,
    pub identity_unavailable: &'static str,
    pub access_heading: &'static str,
    pub card_number: &'static str,
    pub card_number_rule: &'static str,
    pub rule_subject_attribute: &'static str,
    pub rule_san_other_name: &'static str,
    pub rule_issuer_and_serial: &'static str,
    pub linked_controllers_intro: &'static str,
    pub controller_oid: &'static str,
    pub last_archived: &'static str,
    pub no_documents_yet: &'static str,
    pub not_linked: &'static str,
    pub administrator_note: &'static str,
    pub access_refused: &'static str,
    pub refusal_code: &'static str,
    pub access_unavailable: &'static str,
    pub not_found_heading: &'static str,
    pub not_found_body: &'static str,
    pub front_page: &'static str,
    pub sign_out: &'static str,
    pub signed_out_heading: &'static str,
    pub signed_out_body: &'static str,
    pub sign_in_again: &'static str,
    pub active_controller_heading: &'static str,
    pub active_controller_label: &'static str,
    pub all_controllers: &'static str,
    pub choose: &'static str,
    pub working_in: &'static str,
    pub choice_failed: &'static str,
}

static FI: Texts = Texts {
    service_name: "Kanta – arkistonhoitajan käyttöliittymä",
    language_chooser: "Kieli",
    identity_heading: "Kirjautunut käyttäjä",
    identity_intro: "Tunnistit itsesi sosiaali- ja terveydenhuollon ammattikortin varmenteella. \
                     Alla ovat varmenteen tiedot sellaisina kuin palvelu ne vastaanotti.",
    holder_name: "Nimi",
    satu: "SATU (sähköinen asiointitunnus)",
    subject: "Varmenteen haltija",
    issuer: "Myöntäjä",
    certificate_serial: "Varmenteen sarjanumero",
    valid_from: "Voimassa alkaen",
    valid_until: "Voimassa asti",
    public_key_sha256: "Julkisen avaimen SHA-256",
    not_present: "ei varmenteessa",
    loading: "Ladataan…",
    identity_unavailable: "Varmenteen tietoja ei voitu näyttää. Lataa sivu uudelleen; jos virhe toistuu, \
                           sulje selain ja kirjaudu uudelleen.",
    access_heading: "Käyttöoikeudet",
    card_number: "Kortin numero",
    card_number_rule: "Luettu varmenteesta",
    rule_subject_attribute: "haltijan nimen kenttä",
    rule_san_other_name: "vaihtoehtoinen nimi (otherName)",
    rule_issuer_and_serial: "myöntäjä ja varmenteen sarjanumero",
    linked_controllers_intro: "Näet näiden rekisterinpitäjien aineiston:",
    controller_oid: "Tunniste (OID)",
    last_archived: "Viimeksi arkistoitu",
    no_documents_yet: "ei vielä asiakirjoja",
    not_linked: "Kortin numeroa ei ole liitetty yhteenkään rekisterinpitäjään, joten et näe asiakirjoja. \
                 Pyydä organisaatiosi ylläpitäjää liittämään yllä näkyvä kortin numero rekisterinpitäjään; \
                 muutos tulee voimaan heti, kun lataat sivun uudelleen.",
    administrator_note: "Kortillasi on myös ylläpitäjän oikeudet.",
    access_refused: "Varmenteesta ei saatu kortin numeroa, johon käyttöoikeudet liitetään, joten palvelua ei voi \
                     käyttää tällä kortilla. Ota yhteys ylläpitäjään ja kerro alla oleva syykoodi.",
    refusal_code: "Syykoodi",
    access_unavailable: "Käyttöoikeuksia ei voitu tarkistaa juuri nyt. Yritä hetken kuluttua uudelleen.",
    not_found_heading: "Sivua ei löytynyt",
    not_found_body: "Osoitteessa ei ole sivua. Tarkista osoite tai palaa etusivulle.",
    front_page: "Etusivulle",
    sign_out: "Kirjaudu ulos",
    signed_out_heading: "Olet kirjautunut ulos",
    signed_out_body: "Istunto on päättynyt. Poista ammattikortti kortinlukijasta tai sulje kaikki selainikkunat: \
                      niin kauan kuin kortti on lukijassa ja selain auki, selain voi kirjata sinut uudelleen sisään kortilla.",
    sign_in_again: "Kirjaudu uudelleen",
    active_controller_heading: "Työskentely",
    active_controller_label: "Rekisterinpitäjä, jonka aineistoa käsittelet",
    all_controllers: "Kaikki liitetyt rekisterinpitäjät",
    choose: "Valitse",
    working_in: "Käsittelet nyt",
    choice_failed: "Valintaa ei voitu tallentaa. Lataa sivu uudelleen ja yritä uudelleen.",
};

static SV: Texts = Texts {
    service_name: "Kanta – arkivariens användargränssnitt",
    language_chooser: "Språk",
    identity_heading: "Inloggad användare",
    identity_intro: "Du identifierade dig med certifikatet på ditt yrkeskort för social- och hälsovården. \
                     Nedan visas certifikatets uppgifter så som tjänsten tog emot dem.",
    holder_name: "Namn",
    satu: "SATU (elektroniskt identifieringsnummer)",
    subject: "Certifikatets innehavare",
    issuer: "Utfärdare",
    certificate_serial: "Certifikatets serienummer",
    valid_from: "Giltigt från",
    valid_until: "Giltigt till",
    public_key_sha256: "Den offentliga nyckelns SHA-256",
    not_present: "finns inte i certifikatet",
    loading: "Laddar…",
    identity_unavailable: "Certifikatets uppgifter kunde inte visas. Ladda om sidan; om felet upprepas, \
                           stäng webbläsaren och logga in på nytt.",
    access_heading: "Behörigheter",
    card_number: "Kortnummer",
    card_number_rule: "Läst ur certifikatet",
    rule_subject_attribute: "fält i innehavarens namn",
    rule_san_other_name: "alternativt namn (otherName)",
    rule_issuer_and_serial: "utfärdare och certifikatets serienummer",
    linked_controllers_intro: "Du ser material från dessa personuppgiftsansvariga:",
    controller_oid: "Identifierare (OID)",
    last_archived: "Senast arkiverat",
    no_documents_yet: "inga handlingar ännu",
    not_linked: "Kortnumret är inte kopplat till någon personuppgiftsansvarig, så du ser inga handlingar. \
                 Be din organisations administratör att koppla kortnumret ovan till en personuppgiftsansvarig; \
                 ändringen gäller så snart du laddar om sidan.",
    administrator_note: "Ditt kort har också administratörsbehörighet.",
    access_refused: "Certifikatet gav inget kortnummer som behörigheterna kan kopplas till, så tjänsten kan inte \
                     användas med detta kort. Kontakta administratören och uppge orsakskoden nedan.",
    refusal_code: "Orsakskod",
    access_unavailable: "Behörigheterna kunde inte kontrolleras just nu. Försök igen om en stund.",
    not_found_heading: "Sidan hittades inte",
    not_found_body: "Det finns ingen sida på adressen. Kontrollera adressen eller gå till startsidan.",
    front_page: "Till startsidan",
    sign_out: "Logga ut",
    signed_out_heading: "Du har loggat ut",
    signed_out_body: "Sessionen har avslutats. Ta ut yrkeskortet ur kortläsaren eller stäng alla webbläsarfönster: \
                      så länge kortet sitter i läsaren och webbläsaren är öppen kan webbläsaren logga in dig igen med kortet.",
    sign_in_again: "Logga in igen",
    active_controller_heading: "Arbete",
    active_controller_label: "Personuppgiftsansvarig vars material du behandlar",
    all_controllers: "Alla kopplade personuppgiftsansvariga",
    choose: "Välj",
    working_in: "Du behandlar nu",
    choice_failed: "Valet kunde inte sparas. Ladda om sidan och försök igen.",
};

static EN: Texts = Texts {
    service_name: "Kanta – Archivist's interface",
    language_chooser: "Language",
    identity_heading: "Signed-in user",
    identity_intro: "You identified yourself with the certificate on your social welfare and health care \
                     professional card. These are the certificate's details as the service received them.",
    holder_name: "Name",
    satu: "SATU (electronic identification number)",
    subject: "Certificate holder",
    issuer: "Issuer",
    certificate_serial: "Certificate serial number",
    valid_from: "Valid from",
    valid_until: "Valid until",
    public_key_sha256: "SHA-256 of the public key",
    not_present: "not in the certificate",
    loading: "Loading…",
    identity_unavailable: "The certificate's details could not be shown. Reload the page; if this happens \
                           again, close the browser and sign in again.",
    access_heading: "Access",
    card_number: "Card number",
    card_number_rule: "Read from the certificate",
    rule_subject_attribute: "subject attribute",
    rule_san_other_name: "subject alternative name (otherName)",
    rule_issuer_and_serial: "issuer and certificate serial number",
    linked_controllers_intro: "You see the material of these controllers:",
    controller_oid: "Identifier (OID)",
    last_archived: "Last archived",
    no_documents_yet: "no documents yet",
    not_linked: "Your card number is not linked to any controller, so you see no documents. Ask your \
                 organisation's administrator to link the card number above to a controller; the change takes \
                 effect as soon as you reload the page.",
    administrator_note: "Your card also has administrator rights.",
    access_refused: "The certificate gave no card number that access rights could be linked to, so the service \
                     cannot be used with this card. Contact the administrator and give them the reason code below.",
    refusal_code: "Reason code",
    access_unavailable: "Your access could not be checked just now. Try again in a moment.",
    not_found_heading: "Page not found",
    not_found_body: "There is no page at this address. Check the address or go back to the front page.",
    front_page: "To the front page",
    sign_out: "Sign out",
    signed_out_heading: "You have signed out",
    signed_out_body: "Your session has ended. Remove your professional card from the reader or close every browser \
                      window: while the card is in the reader and the browser is open, the browser can sign you in \
                      again with the card.",
    sign_in_again: "Sign in again",
    active_controller_heading: "Working in",
    active_controller_label: "The controller whose material you work with",
    all_controllers: "All linked controllers",
    choose: "Choose",
    working_in: "You are working in",
    choice_failed: "The choice could not be saved. Reload the page and try again.",
};

/// Makes the chosen language available to every component below.
pub fn provide_language() {
    provide_context(RwSignal::new(Language::default()));
}

/// The chosen language. Falls back to the default outside [`provide_language`], so that a
/// component rendered alone (in a test) still has texts.
pub fn use_language() -> RwSignal<Language> {
    use_context::<RwSignal<Language>>().unwrap_or_else(|| RwSignal::new(Language::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_its_own_texts() {
        let names: Vec<_> = Language::ALL
            .iter()
            .map(|l| l.texts().service_name)
            .collect();
        assert_eq!(names.len(), 3);
        assert!(names[0] != names[1] && names[1] != names[2] && names[0] != names[2]);
    }

    #[test]
    fn codes_are_bcp47() {
        assert_eq!(
            Language::ALL.map(Language::code),
            ["fi", "sv", "en"],
            "the codes go into lang attributes"
        );
    }
}
