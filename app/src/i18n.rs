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
    pub rule_enrolled: &'static str,
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
    pub nav_admin: &'static str,
    pub nav_audit: &'static str,
    pub admin_heading: &'static str,
    pub admin_intro: &'static str,
    pub card_search_label: &'static str,
    pub search: &'static str,
    pub card_search_hint: &'static str,
    pub link_heading: &'static str,
    pub issuer_label: &'static str,
    pub controller_label: &'static str,
    pub valid_from_label: &'static str,
    pub valid_until_label: &'static str,
    pub link_button: &'static str,
    pub confirm: &'static str,
    pub cancel: &'static str,
    pub confirm_link: &'static str,
    pub confirm_unlink: &'static str,
    pub unlink_button: &'static str,
    pub linked_ok: &'static str,
    pub already_linked: &'static str,
    pub unlinked_ok: &'static str,
    pub history_heading: &'static str,
    pub col_card: &'static str,
    pub col_validity: &'static str,
    pub col_linked: &'static str,
    pub col_unlinked: &'static str,
    pub col_status: &'static str,
    pub status_in_force: &'static str,
    pub status_not_in_force: &'static str,
    pub status_ended: &'static str,
    pub no_links: &'static str,
    pub invalid_card_number: &'static str,
    pub invalid_controller: &'static str,
    pub invalid_issuer: &'static str,
    pub invalid_date: &'static str,
    pub invalid_validity: &'static str,
    pub invalid_not_linked: &'static str,
    pub audit_heading: &'static str,
    pub audit_whole: &'static str,
    pub audit_own: &'static str,
    pub since_label: &'static str,
    pub until_label: &'static str,
    pub action_label: &'static str,
    pub col_time: &'static str,
    pub col_action: &'static str,
    pub col_outcome: &'static str,
    pub col_actor: &'static str,
    pub col_address: &'static str,
    pub col_document: &'static str,
    pub col_details: &'static str,
    pub audit_empty: &'static str,
    pub audit_truncated: &'static str,
    pub download_csv: &'static str,
    pub controllers_heading: &'static str,
    pub successor_label: &'static str,
    pub production_label: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub create_controller_heading: &'static str,
    pub name_label: &'static str,
    pub create: &'static str,
    pub rename_controller_heading: &'static str,
    pub rename: &'static str,
    pub merge_controller_heading: &'static str,
    pub merged_label: &'static str,
    pub merge_button: &'static str,
    pub confirm_merge: &'static str,
    pub invalid_oid: &'static str,
    pub invalid_name: &'static str,
    pub invalid_controller_exists: &'static str,
    pub invalid_already_merged: &'static str,
    pub invalid_merge_cycle: &'static str,
    pub tests_heading: &'static str,
    pub tests_intro: &'static str,
    pub test_controller_label: &'static str,
    pub test_documents_label: &'static str,
    pub test_clients_label: &'static str,
    pub define_test_button: &'static str,
    pub test_defined: &'static str,
    pub reset_reason_label: &'static str,
    pub reset_test_button: &'static str,
    pub confirm_reset: &'static str,
    pub test_reset_done: &'static str,
    pub invalid_document: &'static str,
    pub invalid_no_test: &'static str,
    pub invalid_test_confirmed: &'static str,
    pub invalid_nothing_named: &'static str,
    pub invalid_client_id: &'static str,
    pub invalid_reason: &'static str,
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
    rule_enrolled: "rekisteröity varmenteen ja kortin numeron sidos",
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
    nav_admin: "Ylläpito",
    nav_audit: "Lokitapahtumat",
    admin_heading: "Ylläpito: korttien liitokset rekisterinpitäjiin",
    admin_intro: "Kortin numero liitetään rekisterinpitäjään, jonka aineistoa kortin haltija saa käsitellä. Muutokset tulevat voimaan kortin seuraavassa pyynnössä, ja jokainen muutos kirjataan lokiin nimelläsi.",
    card_search_label: "Kortin numero",
    search: "Hae",
    card_search_hint: "Tyhjä haku näyttää kaikkien korttien liitokset.",
    link_heading: "Liitä kortti rekisterinpitäjään",
    issuer_label: "Kortin myöntäjä",
    controller_label: "Rekisterinpitäjä",
    valid_from_label: "Voimassa alkaen (päivä; tyhjä: heti)",
    valid_until_label: "Viimeinen voimassaolopäivä (tyhjä: toistaiseksi)",
    link_button: "Liitä…",
    confirm: "Vahvista",
    cancel: "Peruuta",
    confirm_link: "Liitetäänkö kortti rekisterinpitäjään?",
    confirm_unlink: "Poistetaanko liitos? Kortin haltija ei enää näe rekisterinpitäjän aineistoa seuraavasta pyynnöstä alkaen.",
    unlink_button: "Poista liitos…",
    linked_ok: "Kortti liitettiin rekisterinpitäjään.",
    already_linked: "Kortti oli jo liitetty tähän rekisterinpitäjään; mitään ei muutettu.",
    unlinked_ok: "Liitos poistettiin.",
    history_heading: "Liitokset ja niiden historia",
    col_card: "Kortti",
    col_validity: "Voimassaolo",
    col_linked: "Liitetty",
    col_unlinked: "Poistettu",
    col_status: "Tila",
    status_in_force: "voimassa",
    status_not_in_force: "ei voimassa nyt",
    status_ended: "poistettu",
    no_links: "Ei liitoksia.",
    invalid_card_number: "Kortin numero ei kelpaa: vain kirjaimia A–Z, numeroita ja merkkejä -._@:, enintään 128.",
    invalid_controller: "Rekisterinpitäjää ei löydy.",
    invalid_issuer: "Valitse kortin myöntäjä.",
    invalid_date: "Päivämäärä ei kelpaa (muoto VVVV-KK-PP).",
    invalid_validity: "Voimassaolon on alettava ennen kuin se päättyy.",
    invalid_not_linked: "Korttia ei ole liitetty tähän rekisterinpitäjään.",
    audit_heading: "Lokitapahtumat",
    audit_whole: "Ylläpitäjänä näet koko lokin.",
    audit_own: "Näet tapahtumat, jotka koskevat sinulle liitettyjen rekisterinpitäjien aineistoa.",
    since_label: "Alkaen (päivä)",
    until_label: "Päättyen (päivä)",
    action_label: "Tapahtuma tai sen alku (esim. admin.)",
    col_time: "Aika",
    col_action: "Tapahtuma",
    col_outcome: "Tulos",
    col_actor: "Tekijä",
    col_address: "Osoite",
    col_document: "Asiakirja",
    col_details: "Tiedot",
    audit_empty: "Ei tapahtumia.",
    audit_truncated: "Näytetään uusimmat 200 tapahtumaa. Rajaa hakua tai vie koko loki CSV-muodossa komennolla archivist audit export.",
    download_csv: "Lataa haun tapahtumat CSV-tiedostona",
    controllers_heading: "Rekisterinpitäjät",
    successor_label: "Seuraaja",
    production_label: "Tuotannossa",
    yes: "kyllä",
    no: "ei",
    create_controller_heading: "Lisää rekisterinpitäjä ennen sen ensimmäistä asiakirjaa",
    name_label: "Nimi",
    create: "Lisää",
    rename_controller_heading: "Nimeä rekisterinpitäjä uudelleen",
    rename: "Nimeä uudelleen",
    merge_controller_heading: "Yhdistä rekisterinpitäjä seuraajaansa",
    merged_label: "Yhdistettävä",
    merge_button: "Yhdistä…",
    confirm_merge: "Yhdistetäänkö? Yhdistettävän rekisterinpitäjän asiakirjat siirtyvät seuraajalle, eikä yhdistämistä voi perua.",
    invalid_oid: "Tunniste ei ole OID (esim. 1.2.246.10.12345678.10.0).",
    invalid_name: "Nimi ei voi olla tyhjä.",
    invalid_controller_exists: "Rekisterinpitäjä on jo olemassa.",
    invalid_already_merged: "Rekisterinpitäjä on jo yhdistetty; yhdistämistä ei peruta eikä ohjata muualle.",
    invalid_merge_cycle: "Seuraaja ei voi olla sama rekisterinpitäjä eikä siihen yhdistetty.",
    tests_heading: "Käyttöönottokokeet",
    tests_intro: "Määrittele rekisterinpitäjän testitapaus (asiakirjat OID-tunnisteilla ja testiasiakkaat, yksi riville) tai aloita koe alusta syyn kera. Arkistonhoitaja tarkistaa ja vahvistaa kokeen omalla sivullaan.",
    test_controller_label: "Rekisterinpitäjä",
    test_documents_label: "Asiakirjojen OID-tunnisteet",
    test_clients_label: "Testiasiakkaat",
    define_test_button: "Määrittele tai lisää",
    test_defined: "Testitapaus tallennettiin.",
    reset_reason_label: "Syy",
    reset_test_button: "Aloita koe alusta…",
    confirm_reset: "Aloitetaanko koe alusta? Tarkistukset alkavat uudelta kierrokselta ja rekisterinpitäjä palaa käyttöönottovaiheeseen.",
    test_reset_done: "Koe aloitettiin alusta.",
    invalid_document: "Asiakirjan tunniste ei ole OID.",
    invalid_no_test: "Rekisterinpitäjällä ei ole käyttöönottokoetta.",
    invalid_test_confirmed: "Koe on vahvistettu; aloita se alusta ennen kuin muutat testitapausta.",
    invalid_nothing_named: "Anna vähintään yksi asiakirja tai testiasiakas.",
    invalid_client_id: "Testiasiakkaan tunniste puuttuu.",
    invalid_reason: "Kirjoita syy.",
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
    rule_enrolled: "registrerad koppling mellan certifikat och kortnummer",
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
    nav_admin: "Administration",
    nav_audit: "Logghändelser",
    admin_heading: "Administration: kortens kopplingar till personuppgiftsansvariga",
    admin_intro: "Kortnumret kopplas till den personuppgiftsansvariga vars material kortinnehavaren får behandla. Ändringar gäller från kortets nästa begäran, och varje ändring loggas i ditt namn.",
    card_search_label: "Kortnummer",
    search: "Sök",
    card_search_hint: "En tom sökning visar alla kortens kopplingar.",
    link_heading: "Koppla ett kort till en personuppgiftsansvarig",
    issuer_label: "Kortets utfärdare",
    controller_label: "Personuppgiftsansvarig",
    valid_from_label: "Giltig från (dag; tom: genast)",
    valid_until_label: "Sista giltighetsdag (tom: tills vidare)",
    link_button: "Koppla…",
    confirm: "Bekräfta",
    cancel: "Avbryt",
    confirm_link: "Ska kortet kopplas till den personuppgiftsansvariga?",
    confirm_unlink: "Ska kopplingen tas bort? Kortinnehavaren ser inte längre materialet från och med nästa begäran.",
    unlink_button: "Ta bort kopplingen…",
    linked_ok: "Kortet kopplades till den personuppgiftsansvariga.",
    already_linked: "Kortet var redan kopplat; ingenting ändrades.",
    unlinked_ok: "Kopplingen togs bort.",
    history_heading: "Kopplingar och deras historik",
    col_card: "Kort",
    col_validity: "Giltighet",
    col_linked: "Kopplad",
    col_unlinked: "Borttagen",
    col_status: "Status",
    status_in_force: "gäller",
    status_not_in_force: "gäller inte nu",
    status_ended: "borttagen",
    no_links: "Inga kopplingar.",
    invalid_card_number: "Kortnumret duger inte: endast bokstäver A–Z, siffror och tecknen -._@:, högst 128.",
    invalid_controller: "Den personuppgiftsansvariga finns inte.",
    invalid_issuer: "Välj kortets utfärdare.",
    invalid_date: "Datumet duger inte (format ÅÅÅÅ-MM-DD).",
    invalid_validity: "Giltigheten måste börja innan den slutar.",
    invalid_not_linked: "Kortet är inte kopplat till den personuppgiftsansvariga.",
    audit_heading: "Logghändelser",
    audit_whole: "Som administratör ser du hela loggen.",
    audit_own: "Du ser händelser som gäller materialet hos de personuppgiftsansvariga som är kopplade till dig.",
    since_label: "Från (dag)",
    until_label: "Till och med (dag)",
    action_label: "Händelse eller dess början (t.ex. admin.)",
    col_time: "Tid",
    col_action: "Händelse",
    col_outcome: "Utfall",
    col_actor: "Utförare",
    col_address: "Adress",
    col_document: "Dokument",
    col_details: "Uppgifter",
    audit_empty: "Inga händelser.",
    audit_truncated: "De senaste 200 händelserna visas. Avgränsa sökningen eller exportera hela loggen som CSV med kommandot archivist audit export.",
    download_csv: "Ladda ner sökningens händelser som CSV-fil",
    controllers_heading: "Personuppgiftsansvariga",
    successor_label: "Efterträdare",
    production_label: "I produktion",
    yes: "ja",
    no: "nej",
    create_controller_heading: "Lägg till en personuppgiftsansvarig före dess första dokument",
    name_label: "Namn",
    create: "Lägg till",
    rename_controller_heading: "Byt namn på en personuppgiftsansvarig",
    rename: "Byt namn",
    merge_controller_heading: "Slå samman en personuppgiftsansvarig med dess efterträdare",
    merged_label: "Som slås samman",
    merge_button: "Slå samman…",
    confirm_merge: "Ska de slås samman? Dokumenten flyttas till efterträdaren, och sammanslagningen kan inte ångras.",
    invalid_oid: "Identifieraren är inte en OID (t.ex. 1.2.246.10.12345678.10.0).",
    invalid_name: "Namnet får inte vara tomt.",
    invalid_controller_exists: "Den personuppgiftsansvariga finns redan.",
    invalid_already_merged: "Den personuppgiftsansvariga är redan sammanslagen; en sammanslagning ångras eller omdirigeras inte.",
    invalid_merge_cycle: "Efterträdaren kan inte vara samma personuppgiftsansvariga eller sammanslagen med den.",
    tests_heading: "Ibruktagningstester",
    tests_intro: "Definiera den personuppgiftsansvariges testfall (dokument med OID och testklienter, en per rad) eller starta om testet med en orsak. Arkivarien kontrollerar och bekräftar testet på sin sida.",
    test_controller_label: "Personuppgiftsansvarig",
    test_documents_label: "Dokumentens OID",
    test_clients_label: "Testklienter",
    define_test_button: "Definiera eller lägg till",
    test_defined: "Testfallet sparades.",
    reset_reason_label: "Orsak",
    reset_test_button: "Starta om testet…",
    confirm_reset: "Ska testet startas om? Kontrollerna börjar om i en ny omgång och den personuppgiftsansvarige återgår till ibruktagningsfasen.",
    test_reset_done: "Testet startades om.",
    invalid_document: "Dokumentets identifierare är inte en OID.",
    invalid_no_test: "Den personuppgiftsansvarige har inget ibruktagningstest.",
    invalid_test_confirmed: "Testet är bekräftat; starta om det innan du ändrar testfallet.",
    invalid_nothing_named: "Ange minst ett dokument eller en testklient.",
    invalid_client_id: "Testklientens identifierare saknas.",
    invalid_reason: "Skriv en orsak.",
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
    rule_enrolled: "enrolled binding of certificate and card number",
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
    nav_admin: "Administration",
    nav_audit: "Audit log",
    admin_heading: "Administration: cards linked to controllers",
    admin_intro: "A card number is linked to the controller whose material the card holder may work with. Changes take effect on the card's next request, and every change is logged in your name.",
    card_search_label: "Card number",
    search: "Search",
    card_search_hint: "An empty search shows every card's links.",
    link_heading: "Link a card to a controller",
    issuer_label: "Card issuer",
    controller_label: "Controller",
    valid_from_label: "Valid from (day; empty: now)",
    valid_until_label: "Last day in force (empty: until unlinked)",
    link_button: "Link…",
    confirm: "Confirm",
    cancel: "Cancel",
    confirm_link: "Link the card to the controller?",
    confirm_unlink: "Remove the link? The card holder no longer sees the controller's material from the next request on.",
    unlink_button: "Unlink…",
    linked_ok: "The card was linked to the controller.",
    already_linked: "The card was already linked to this controller; nothing changed.",
    unlinked_ok: "The link was removed.",
    history_heading: "Links and their history",
    col_card: "Card",
    col_validity: "Validity",
    col_linked: "Linked",
    col_unlinked: "Unlinked",
    col_status: "Status",
    status_in_force: "in force",
    status_not_in_force: "not in force now",
    status_ended: "unlinked",
    no_links: "No links.",
    invalid_card_number: "The card number is not valid: letters A–Z, digits and -._@: only, at most 128.",
    invalid_controller: "No such controller.",
    invalid_issuer: "Choose the card's issuer.",
    invalid_date: "The date is not valid (format YYYY-MM-DD).",
    invalid_validity: "The validity must start before it ends.",
    invalid_not_linked: "The card is not linked to this controller.",
    audit_heading: "Audit log",
    audit_whole: "As an administrator you see the whole log.",
    audit_own: "You see the events about the material of the controllers linked to you.",
    since_label: "From (day)",
    until_label: "Until (day)",
    action_label: "Action or its beginning (e.g. admin.)",
    col_time: "Time",
    col_action: "Action",
    col_outcome: "Outcome",
    col_actor: "By",
    col_address: "Address",
    col_document: "Document",
    col_details: "Details",
    audit_empty: "No events.",
    audit_truncated: "The newest 200 events are shown. Narrow the search, or export the whole log as CSV with archivist audit export.",
    download_csv: "Download the search's events as a CSV file",
    controllers_heading: "Controllers",
    successor_label: "Successor",
    production_label: "In production",
    yes: "yes",
    no: "no",
    create_controller_heading: "Add a controller ahead of its first document",
    name_label: "Name",
    create: "Add",
    rename_controller_heading: "Rename a controller",
    rename: "Rename",
    merge_controller_heading: "Merge a controller into its successor",
    merged_label: "To be merged",
    merge_button: "Merge…",
    confirm_merge: "Merge them? The documents move to the successor, and a merger cannot be undone.",
    invalid_oid: "The identifier is not an OID (e.g. 1.2.246.10.12345678.10.0).",
    invalid_name: "The name must not be empty.",
    invalid_controller_exists: "The controller already exists.",
    invalid_already_merged: "The controller is already merged; a merger is not undone or redirected.",
    invalid_merge_cycle: "The successor cannot be the same controller or one merged into it.",
    tests_heading: "Deployment tests",
    tests_intro: "Define a controller's test case (documents by OID and test clients, one per line) or start the test again with a reason. The archivist checks and confirms the test on their page.",
    test_controller_label: "Controller",
    test_documents_label: "Document OIDs",
    test_clients_label: "Test clients",
    define_test_button: "Define or add",
    test_defined: "The test case was saved.",
    reset_reason_label: "Reason",
    reset_test_button: "Start the test again…",
    confirm_reset: "Start the test again? The checks begin in a new round and the controller goes back to deployment.",
    test_reset_done: "The test was started again.",
    invalid_document: "The document identifier is not an OID.",
    invalid_no_test: "The controller has no deployment test.",
    invalid_test_confirmed: "The test is confirmed; start it again before changing its case.",
    invalid_nothing_named: "Name at least one document or test client.",
    invalid_client_id: "A test client's identifier is missing.",
    invalid_reason: "Write a reason.",
};

/// Makes the chosen language available to every component below.
pub fn provide_language() {
    provide_context(RwSignal::new(remembered().unwrap_or_default()));
}

/// The cookie that remembers the chosen language between visits. Not `HttpOnly`: the page
/// writes it when the archivist chooses, and reads it when it hydrates, so that the browser
/// starts in the language the server rendered.
pub const LANGUAGE_COOKIE: &str = "archivist-language";

impl Language {
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// The language in a `Cookie` header (or `document.cookie`); an unknown value is no choice.
pub fn from_cookies(cookies: &str) -> Option<Language> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANGUAGE_COOKIE)
        .and_then(|(_, value)| Language::from_code(value.trim()))
}

/// The language remembered by the cookie of the request being rendered, or of the page that
/// hydrates.
fn remembered() -> Option<Language> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>()?;
        // HTTP/2 may send each cookie in a header field of its own.
        let cookies: Vec<&str> = parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        from_cookies(&cookies.join("; "))
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        use wasm_bindgen::JsCast;
        let document: web_sys::HtmlDocument = document().dyn_into().ok()?;
        from_cookies(&document.cookie().ok()?)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        None
    }
}

/// Chooses the language and remembers it in the browser for a year.
pub fn choose(signal: RwSignal<Language>, language: Language) {
    signal.set(language);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Ok(document) = document().dyn_into::<web_sys::HtmlDocument>() {
            let cookie = format!(
                "{LANGUAGE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict; Secure",
                language.code()
            );
            // A browser that refuses cookies still shows the chosen language on this page.
            let _ = document.set_cookie(&cookie);
        }
    }
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
    fn the_remembered_language_is_read_from_the_cookies_and_nonsense_ignored() {
        assert_eq!(
            from_cookies("a=b; archivist-language=sv; c=d"),
            Some(Language::Sv)
        );
        assert_eq!(from_cookies("archivist-language=en"), Some(Language::En));
        assert_eq!(from_cookies("archivist-language=de"), None);
        assert_eq!(from_cookies("archivist-language="), None);
        assert_eq!(from_cookies("other-language=sv"), None);
        assert_eq!(from_cookies(""), None);
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
