//! The notices' texts in Finnish, Swedish and English: the banner's words, the kinds' names and
//! the administrators' notice forms. Every text is a field, so a missing translation does not
//! compile.

use crate::{i18n::Language, model::notices::NoticeKind};

pub struct NoticeTexts {
    /// The banner's accessible name.
    pub banner: &'static str,
    pub from: &'static str,
    pub until: &'static str,
    pub affected: &'static str,
    /// Said of a window that closes the service.
    pub closes_service: &'static str,
    pub disruption: &'static str,
    pub maintenance: &'static str,
    pub information: &'static str,
    // The administrators' section.
    pub heading: &'static str,
    pub intro: &'static str,
    pub new_heading: &'static str,
    pub edit_summary: &'static str,
    pub kind_label: &'static str,
    pub text_fi_label: &'static str,
    pub text_sv_label: &'static str,
    pub text_en_label: &'static str,
    pub affected_label: &'static str,
    pub starts_label: &'static str,
    pub ends_label: &'static str,
    pub times_hint: &'static str,
    pub closes_service_label: &'static str,
    pub save_button: &'static str,
    pub end_button: &'static str,
    pub saved: &'static str,
    pub ended: &'static str,
    pub none: &'static str,
    pub state_column: &'static str,
    pub text_column: &'static str,
    pub times_column: &'static str,
    pub by_column: &'static str,
    pub current: &'static str,
    pub coming: &'static str,
    pub ended_state: &'static str,
    pub invalid_text_missing: &'static str,
    pub invalid_text_long: &'static str,
    pub invalid_time: &'static str,
    pub invalid_end: &'static str,
    pub invalid_closes: &'static str,
    pub invalid_ended: &'static str,
}

impl NoticeTexts {
    pub fn kind(&self, kind: NoticeKind) -> &'static str {
        match kind {
            NoticeKind::Disruption => self.disruption,
            NoticeKind::Maintenance => self.maintenance,
            NoticeKind::Information => self.information,
        }
    }

    pub fn state(&self, state: &str) -> &'static str {
        match state {
            "current" => self.current,
            "coming" => self.coming,
            _ => self.ended_state,
        }
    }

    /// The form's text for a refused field (the server's `invalid:…` codes).
    pub fn invalid(&self, code: Option<&str>) -> Option<&'static str> {
        Some(match code? {
            "text_fi" | "text_sv" => self.invalid_text_missing,
            "text_en" | "affected" | "text_long" => self.invalid_text_long,
            "starts_at" => self.invalid_time,
            "ends_at" => self.invalid_end,
            "closes_service" => self.invalid_closes,
            "notice_ended" => self.invalid_ended,
            _ => return None,
        })
    }
}

pub fn notice_texts(language: Language) -> &'static NoticeTexts {
    match language {
        Language::Fi => &FI,
        Language::Sv => &SV,
        Language::En => &EN,
    }
}

/// A kind's name in `language`.
pub fn kind_name(kind: NoticeKind, language: Language) -> &'static str {
    notice_texts(language).kind(kind)
}

const FI: NoticeTexts = NoticeTexts {
    banner: "Tiedotteet",
    from: "Alkaa",
    until: "Päättyy",
    affected: "Koskee",
    closes_service: "Palvelu on suljettu katkon ajan.",
    disruption: "Häiriö",
    maintenance: "Huoltokatko",
    information: "Tiedote",
    heading: "Tiedotteet",
    intro: "Tiedote näkyy kaikilla sivuilla ja julkisissa syötteissä (/notices.json, /notices.atom). Huoltokatkon tiedote näkyy jo vuorokautta ennen katkoa; palvelun sulkeva katko päästää sisään vain ylläpitäjät.",
    new_heading: "Uusi tiedote",
    edit_summary: "Muokkaa",
    kind_label: "Laji",
    text_fi_label: "Teksti suomeksi",
    text_sv_label: "Teksti ruotsiksi",
    text_en_label: "Teksti englanniksi (valinnainen)",
    affected_label: "Koskee (valinnainen)",
    starts_label: "Alkaa",
    ends_label: "Päättyy (valinnainen)",
    times_hint: "Ajat Suomen aikaa.",
    closes_service_label: "Sulkee palvelun katkon ajaksi (vain huoltokatko, jolla on päättymisaika)",
    save_button: "Tallenna tiedote",
    end_button: "Päätä nyt",
    saved: "Tiedote tallennettiin.",
    ended: "Tiedote päätettiin.",
    none: "Ei tiedotteita.",
    state_column: "Tila",
    text_column: "Teksti",
    times_column: "Aika",
    by_column: "Laatija",
    current: "voimassa",
    coming: "tulossa",
    ended_state: "päättynyt",
    invalid_text_missing: "Kirjoita tiedote sekä suomeksi että ruotsiksi.",
    invalid_text_long: "Teksti on liian pitkä tai sisältää ohjausmerkkejä.",
    invalid_time: "Anna alkamisaika muodossa 5.12.2026 klo 8.00.",
    invalid_end: "Päättymisajan on oltava alkamisen jälkeen eikä se saa olla jo mennyt.",
    invalid_closes: "Vain huoltokatko, jolla on päättymisaika, voi sulkea palvelun.",
    invalid_ended: "Tiedote on jo päättynyt; kirjoita uusi.",
};

const SV: NoticeTexts = NoticeTexts {
    banner: "Meddelanden",
    from: "Börjar",
    until: "Slutar",
    affected: "Gäller",
    closes_service: "Tjänsten är stängd under avbrottet.",
    disruption: "Störning",
    maintenance: "Serviceavbrott",
    information: "Meddelande",
    heading: "Meddelanden",
    intro: "Ett meddelande visas på alla sidor och i de öppna flödena (/notices.json, /notices.atom). Ett meddelande om serviceavbrott visas redan ett dygn före avbrottet; ett avbrott som stänger tjänsten släpper bara in administratörer.",
    new_heading: "Nytt meddelande",
    edit_summary: "Redigera",
    kind_label: "Typ",
    text_fi_label: "Text på finska",
    text_sv_label: "Text på svenska",
    text_en_label: "Text på engelska (valfri)",
    affected_label: "Gäller (valfritt)",
    starts_label: "Börjar",
    ends_label: "Slutar (valfritt)",
    times_hint: "Tiderna i finsk tid.",
    closes_service_label: "Stänger tjänsten under avbrottet (bara serviceavbrott med sluttid)",
    save_button: "Spara meddelandet",
    end_button: "Avsluta nu",
    saved: "Meddelandet sparades.",
    ended: "Meddelandet avslutades.",
    none: "Inga meddelanden.",
    state_column: "Status",
    text_column: "Text",
    times_column: "Tid",
    by_column: "Skrivet av",
    current: "gäller",
    coming: "kommande",
    ended_state: "avslutat",
    invalid_text_missing: "Skriv meddelandet både på finska och på svenska.",
    invalid_text_long: "Texten är för lång eller innehåller styrtecken.",
    invalid_time: "Ange starttiden som 5.12.2026 kl. 8.00.",
    invalid_end: "Sluttiden ska komma efter starten och får inte redan ha passerat.",
    invalid_closes: "Bara ett serviceavbrott med sluttid kan stänga tjänsten.",
    invalid_ended: "Meddelandet har redan avslutats; skriv ett nytt.",
};

const EN: NoticeTexts = NoticeTexts {
    banner: "Notices",
    from: "Starts",
    until: "Ends",
    affected: "Concerns",
    closes_service: "The service is closed during the break.",
    disruption: "Disruption",
    maintenance: "Maintenance",
    information: "Information",
    heading: "Notices",
    intro: "A notice shows on every page and in the public feeds (/notices.json, /notices.atom). A maintenance notice shows from a day before its window; a window that closes the service lets only administrators in.",
    new_heading: "New notice",
    edit_summary: "Edit",
    kind_label: "Kind",
    text_fi_label: "Text in Finnish",
    text_sv_label: "Text in Swedish",
    text_en_label: "Text in English (optional)",
    affected_label: "Concerns (optional)",
    starts_label: "Starts",
    ends_label: "Ends (optional)",
    times_hint: "Times in Finnish time.",
    closes_service_label: "Closes the service during the window (maintenance with an end only)",
    save_button: "Save notice",
    end_button: "End now",
    saved: "The notice was saved.",
    ended: "The notice was ended.",
    none: "No notices.",
    state_column: "State",
    text_column: "Text",
    times_column: "Time",
    by_column: "Written by",
    current: "current",
    coming: "coming",
    ended_state: "ended",
    invalid_text_missing: "Write the notice in both Finnish and Swedish.",
    invalid_text_long: "The text is too long or holds control characters.",
    invalid_time: "Give the start as a date and time.",
    invalid_end: "The end must come after the start and must not have passed.",
    invalid_closes: "Only a maintenance window with an end can close the service.",
    invalid_ended: "The notice has ended; write a new one.",
};
