//! Labels of the structured rendition's field names in Finnish, Swedish and English.
//!
//! The structured (JSON) rendition follows THL's Sosmeta structures, whose field names are
//! Finnish words in snake case (`asiakkuuden_alkamispvm`). The fields listed here are the ones
//! the client documents of the profile share; any other name is shown readable as it is
//! (underscores as spaces, first letter capital), which is already Finnish, and the stored name
//! is always shown beside the label.

use crate::i18n::Language;

/// (field name, [Finnish, Swedish, English]).
const LABELS: &[(&str, [&str; 3])] = &[
    (
        "asiakasasiakirja",
        ["Asiakasasiakirja", "Klienthandling", "Client document"],
    ),
    (
        "asiakkuusasiakirja",
        [
            "Asiakkuusasiakirja",
            "Klientrelationshandling",
            "Client relationship document",
        ],
    ),
    (
        "asiakkuuden_yksilointitunnus",
        [
            "Asiakkuuden yksilöintitunnus",
            "Klientrelationens identifierare",
            "Client relationship identifier",
        ],
    ),
    ("asiakas", ["Asiakas", "Klient", "Client"]),
    ("sukunimi", ["Sukunimi", "Efternamn", "Family name"]),
    ("etunimet", ["Etunimet", "Förnamn", "Given names"]),
    (
        "henkilotunnus",
        [
            "Henkilötunnus",
            "Personbeteckning",
            "Personal identity code",
        ],
    ),
    (
        "tilapainen_yksilointitunnus",
        [
            "Tilapäinen yksilöintitunnus",
            "Tillfällig identifierare",
            "Temporary identifier",
        ],
    ),
    (
        "syntymaaika",
        ["Syntymäaika", "Födelsedatum", "Date of birth"],
    ),
    ("sukupuoli", ["Sukupuoli", "Kön", "Gender"]),
    (
        "kotikunta",
        ["Kotikunta", "Hemkommun", "Municipality of residence"],
    ),
    ("kunta", ["Kunta", "Kommun", "Municipality"]),
    (
        "turvakielto",
        [
            "Turvakielto",
            "Spärrmarkering",
            "Non-disclosure for personal safety",
        ],
    ),
    (
        "elaa_avoliitossa",
        [
            "Elää avoliitossa",
            "Lever i samboförhållande",
            "Lives in cohabitation",
        ],
    ),
    (
        "sosiaalihuollon_asiakkuus",
        [
            "Sosiaalihuollon asiakkuus",
            "Klientrelation inom socialvården",
            "Social welfare client relationship",
        ],
    ),
    (
        "asiakkuuden_alkamispvm",
        [
            "Asiakkuuden alkamispäivä",
            "Klientrelationens startdatum",
            "Client relationship start date",
        ],
    ),
    (
        "asiakkuuden_paattymispvm",
        [
            "Asiakkuuden päättymispäivä",
            "Klientrelationens slutdatum",
            "Client relationship end date",
        ],
    ),
    (
        "palvelunjarjestajan_toimintayksikko",
        [
            "Palvelunjärjestäjän toimintayksikkö",
            "Tjänsteanordnarens verksamhetsenhet",
            "Service organiser's operational unit",
        ],
    ),
    (
        "sosiaalihuollon_palvelutehtava",
        [
            "Sosiaalihuollon palvelutehtävä",
            "Socialvårdens tjänsteuppgift",
            "Social welfare service task",
        ],
    ),
    (
        "palvelutehtava",
        ["Palvelutehtävä", "Tjänsteuppgift", "Service task"],
    ),
    (
        "palvelunjarjestajan_palveluyksikko",
        [
            "Palvelunjärjestäjän palveluyksikkö",
            "Tjänsteanordnarens serviceenhet",
            "Service organiser's service unit",
        ],
    ),
    (
        "palveluyksikon_nimi",
        [
            "Palveluyksikön nimi",
            "Serviceenhetens namn",
            "Service unit name",
        ],
    ),
    (
        "palveluntuottaja",
        ["Palveluntuottaja", "Tjänsteproducent", "Service provider"],
    ),
    (
        "sosiaalipalvelu",
        ["Sosiaalipalvelu", "Socialservice", "Social service"],
    ),
    (
        "yhteystiedot",
        ["Yhteystiedot", "Kontaktuppgifter", "Contact details"],
    ),
    ("osoite", ["Osoite", "Adress", "Address"]),
    ("lahiosoite", ["Lähiosoite", "Gatuadress", "Street address"]),
    ("postinumero", ["Postinumero", "Postnummer", "Postcode"]),
    (
        "postitoimipaikka",
        ["Postitoimipaikka", "Postanstalt", "Post town"],
    ),
    (
        "puhelinnumero",
        ["Puhelinnumero", "Telefonnummer", "Telephone number"],
    ),
    ("kirjaus", ["Kirjaus", "Anteckning", "Entry"]),
    ("versio", ["Versio", "Version", "Version"]),
    ("value", ["Arvo", "Värde", "Value"]),
    ("system", ["Koodisto", "Kodsystem", "Code system"]),
    ("code", ["Koodi", "Kod", "Code"]),
    ("display", ["Selite", "Benämning", "Display name"]),
];

/// The label of a field name in `language`.
pub fn field_label(language: Language, name: &str) -> String {
    let index = match language {
        Language::Fi => 0,
        Language::Sv => 1,
        Language::En => 2,
    };
    match LABELS.iter().find(|(key, _)| *key == name) {
        Some((_, labels)) => labels[index].to_owned(),
        None => readable(name),
    }
}

/// `asiakkuuden_alkamispvm` as `Asiakkuuden alkamispvm`.
fn readable(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_are_named_in_each_language_and_others_readably_as_stored() {
        assert_eq!(field_label(Language::Sv, "sukunimi"), "Efternamn");
        assert_eq!(
            field_label(Language::En, "henkilotunnus"),
            "Personal identity code"
        );
        assert_eq!(
            field_label(Language::Fi, "huoltajan_ääni"),
            "Huoltajan ääni",
            "an unknown name is shown readable"
        );
        assert_eq!(field_label(Language::En, "ä"), "Ä");
        assert_eq!(field_label(Language::Fi, "_"), "_");
        let mut names: Vec<&str> = LABELS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LABELS.len(), "each name once");
    }
}
