//! The deployment test page's texts in Finnish, Swedish and English: every text is a field, so a
//! missing translation does not compile.

use crate::i18n::Language;

pub struct DeploymentTexts {
    pub nav_link: &'static str,
    pub heading: &'static str,
    pub intro: &'static str,
    pub no_controllers: &'static str,
    pub state_not_defined: &'static str,
    pub not_defined_body: &'static str,
    pub state_in_progress: &'static str,
    pub state_confirmed: &'static str,
    pub in_production_since: &'static str,
    pub in_deployment: &'static str,
    pub round: &'static str,
    pub defined: &'static str,
    pub last_reset: &'static str,
    pub reset_reason: &'static str,
    pub confirmed_by: &'static str,
    pub confirmed_certificate: &'static str,
    pub documents_heading: &'static str,
    pub named_document: &'static str,
    pub client_document: &'static str,
    pub not_archived: &'static str,
    pub checked_by: &'static str,
    pub mark_checked: &'static str,
    pub check_column: &'static str,
    pub progress: &'static str,
    pub confirm_open: &'static str,
    pub confirm_question: &'static str,
    pub confirm_button: &'static str,
    pub cancel: &'static str,
    pub not_ready: &'static str,
    pub confirmed_now: &'static str,
    pub refused_already_confirmed: &'static str,
    pub refused_unfinished: &'static str,
    pub refused_empty: &'static str,
    pub refused_not_found: &'static str,
    pub unavailable: &'static str,
}

const FI: DeploymentTexts = DeploymentTexts {
    nav_link: "Käyttöönottokoe",
    heading: "Käyttöönottokoe",
    intro: "Tarkista, että jokainen testitapauksen asiakirja on arkistoitu oikein: avaa asiakirja, \
            vertaa sitä lähdejärjestelmään ja merkitse se tarkistetuksi. Kun kaikki on tarkistettu, \
            vahvista koe. Vahvistus siirtää rekisterinpitäjän tuotantokäyttöön.",
    no_controllers: "Korttiisi ei ole liitetty rekisterinpitäjiä.",
    state_not_defined: "Ei määritelty",
    not_defined_body: "Ylläpitäjä ei ole vielä määritellyt tämän rekisterinpitäjän testitapausta.",
    state_in_progress: "Kesken",
    state_confirmed: "Vahvistettu",
    in_production_since: "Tuotantokäytössä alkaen",
    in_deployment: "Käyttöönottovaiheessa",
    round: "Kierros",
    defined: "Määritellyt",
    last_reset: "Viimeksi aloitettu alusta",
    reset_reason: "Syy",
    confirmed_by: "Vahvistanut",
    confirmed_certificate: "Varmenteen SHA-256",
    documents_heading: "Testitapauksen asiakirjat",
    named_document: "nimetty asiakirja",
    client_document: "testiasiakkaan asiakirja",
    not_archived: "Ei vielä arkistossa",
    checked_by: "Tarkistanut",
    mark_checked: "Merkitse tarkistetuksi",
    check_column: "Tarkistus",
    progress: "tarkistettu",
    confirm_open: "Vahvista käyttöönottokoe…",
    confirm_question: "Vahvistatko, että testitapauksen asiakirjat on arkistoitu oikein? \
                       Rekisterinpitäjä siirtyy tuotantokäyttöön. Vahvistusta ei voi perua; \
                       vain ylläpitäjä voi aloittaa kokeen alusta.",
    confirm_button: "Vahvista",
    cancel: "Peruuta",
    not_ready: "Koe voidaan vahvistaa, kun jokainen asiakirja on arkistossa ja tarkistettu.",
    confirmed_now: "Käyttöönottokoe on vahvistettu.",
    refused_already_confirmed: "Koe on jo vahvistettu; toista vahvistusta ei tehdä.",
    refused_unfinished: "Kaikkia asiakirjoja ei ole vielä arkistoitu ja tarkistettu.",
    refused_empty: "Testitapauksessa ei ole asiakirjoja.",
    refused_not_found: "Asiakirjaa tai koetta ei löytynyt.",
    unavailable: "Palvelu ei juuri nyt vastaa. Yritä hetken kuluttua uudelleen.",
};

const SV: DeploymentTexts = DeploymentTexts {
    nav_link: "Ibruktagningstest",
    heading: "Ibruktagningstest",
    intro: "Kontrollera att varje dokument i testfallet har arkiverats rätt: öppna dokumentet, \
            jämför det med källsystemet och markera det som kontrollerat. När allt är \
            kontrollerat bekräftar du testet. Bekräftelsen för över den personuppgiftsansvarige \
            till produktion.",
    no_controllers: "Inga personuppgiftsansvariga är kopplade till ditt kort.",
    state_not_defined: "Inte definierat",
    not_defined_body: "Administratören har ännu inte definierat testfallet för den här \
                       personuppgiftsansvarige.",
    state_in_progress: "Pågår",
    state_confirmed: "Bekräftat",
    in_production_since: "I produktion sedan",
    in_deployment: "I ibruktagningsfasen",
    round: "Omgång",
    defined: "Definierat av",
    last_reset: "Senast startat om",
    reset_reason: "Orsak",
    confirmed_by: "Bekräftat av",
    confirmed_certificate: "Certifikatets SHA-256",
    documents_heading: "Testfallets dokument",
    named_document: "namngivet dokument",
    client_document: "testklientens dokument",
    not_archived: "Ännu inte i arkivet",
    checked_by: "Kontrollerat av",
    mark_checked: "Markera som kontrollerat",
    check_column: "Kontroll",
    progress: "kontrollerade",
    confirm_open: "Bekräfta ibruktagningstestet…",
    confirm_question: "Bekräftar du att testfallets dokument har arkiverats rätt? Den \
                       personuppgiftsansvarige övergår till produktion. Bekräftelsen kan inte \
                       ångras; endast en administratör kan starta om testet.",
    confirm_button: "Bekräfta",
    cancel: "Avbryt",
    not_ready: "Testet kan bekräftas när varje dokument finns i arkivet och är kontrollerat.",
    confirmed_now: "Ibruktagningstestet är bekräftat.",
    refused_already_confirmed: "Testet är redan bekräftat; det bekräftas inte en gång till.",
    refused_unfinished: "Alla dokument har ännu inte arkiverats och kontrollerats.",
    refused_empty: "Testfallet har inga dokument.",
    refused_not_found: "Dokumentet eller testet hittades inte.",
    unavailable: "Tjänsten svarar inte just nu. Försök igen om en stund.",
};

const EN: DeploymentTexts = DeploymentTexts {
    nav_link: "Deployment test",
    heading: "Deployment test",
    intro: "Check that every document of the test case was archived correctly: open the \
            document, compare it with the source system and mark it checked. When all are \
            checked, confirm the test. Confirming moves the controller to production.",
    no_controllers: "No controllers are linked to your card.",
    state_not_defined: "Not defined",
    not_defined_body: "An administrator has not defined this controller's test case yet.",
    state_in_progress: "In progress",
    state_confirmed: "Confirmed",
    in_production_since: "In production since",
    in_deployment: "In deployment",
    round: "Round",
    defined: "Defined by",
    last_reset: "Last started again",
    reset_reason: "Reason",
    confirmed_by: "Confirmed by",
    confirmed_certificate: "Certificate SHA-256",
    documents_heading: "Documents of the test case",
    named_document: "named document",
    client_document: "test client's document",
    not_archived: "Not in the archive yet",
    checked_by: "Checked by",
    mark_checked: "Mark checked",
    check_column: "Check",
    progress: "checked",
    confirm_open: "Confirm the deployment test…",
    confirm_question: "Do you confirm that the documents of the test case were archived \
                       correctly? The controller moves to production. The confirmation cannot \
                       be undone; only an administrator can start the test again.",
    confirm_button: "Confirm",
    cancel: "Cancel",
    not_ready: "The test can be confirmed when every document is in the archive and checked.",
    confirmed_now: "The deployment test is confirmed.",
    refused_already_confirmed: "The test is already confirmed; it is not confirmed twice.",
    refused_unfinished: "Not every document has been archived and checked yet.",
    refused_empty: "The test case has no documents.",
    refused_not_found: "The document or the test was not found.",
    unavailable: "The service is not answering right now. Try again in a moment.",
};

impl Language {
    pub fn deployment_test_texts(self) -> &'static DeploymentTexts {
        match self {
            Language::Fi => &FI,
            Language::Sv => &SV,
            Language::En => &EN,
        }
    }
}
