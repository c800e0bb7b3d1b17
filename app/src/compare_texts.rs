//! The comparison page's texts in Finnish, Swedish and English: every text is a field, so a
//! missing translation does not compile.

use crate::i18n::Language;
use crate::model::compare::Change;

pub struct CompareTexts {
    pub heading: &'static str,
    pub compare_column: &'static str,
    pub compare_link: &'static str,
    pub version: &'static str,
    pub archived: &'static str,
    pub header_heading: &'static str,
    pub field: &'static str,
    pub change: &'static str,
    pub display_heading: &'static str,
    pub structured_heading: &'static str,
    pub absent: &'static str,
    pub unreadable: &'static str,
    pub too_large: &'static str,
    pub no_changes: &'static str,
    pub invalid_oid: &'static str,
    pub other_set: &'static str,
    pub changed: &'static str,
    pub removed: &'static str,
    pub added: &'static str,
    pub same: &'static str,
}

impl CompareTexts {
    pub fn change(&self, change: Change) -> &'static str {
        match change {
            Change::Same => self.same,
            Change::Changed => self.changed,
            Change::Removed => self.removed,
            Change::Added => self.added,
        }
    }
}

const FI: CompareTexts = CompareTexts {
    heading: "Versioiden vertailu",
    compare_column: "Vertailu",
    compare_link: "Vertaa tähän versioon",
    version: "Versio",
    archived: "arkistoitu",
    header_heading: "Otsikkotiedot",
    field: "Tieto",
    change: "Muutos",
    display_heading: "Näyttömuodon teksti",
    structured_heading: "Rakenteinen muoto (JSON)",
    absent: "Kummallakaan versiolla ei ole tätä muotoa.",
    unreadable: "Tallennettua muotoa ei voi lukea tekstinä; se näkyy tallennettuna asiakirjan sivulla.",
    too_large: "Liian suuri vertailtavaksi; tallennetut tavut voi avata asiakirjan sivulta.",
    no_changes: "Ei eroja.",
    invalid_oid: "Osoitteessa pitää olla kahden asiakirjaversion OID-tunnisteet (a ja b).",
    other_set: "Versiot eivät kuulu samaan asiakirjaan; vain saman asiakirjan versioita voi verrata.",
    changed: "muuttunut",
    removed: "poistettu",
    added: "lisätty",
    same: "ennallaan",
};

const SV: CompareTexts = CompareTexts {
    heading: "Jämförelse av versioner",
    compare_column: "Jämförelse",
    compare_link: "Jämför med den här versionen",
    version: "Version",
    archived: "arkiverad",
    header_heading: "Rubrikuppgifter",
    field: "Uppgift",
    change: "Ändring",
    display_heading: "Visningsformens text",
    structured_heading: "Strukturerad form (JSON)",
    absent: "Ingen av versionerna har den här formen.",
    unreadable: "Den lagrade formen kan inte läsas som text; den visas som lagrad på dokumentets sida.",
    too_large: "För stor för att jämföras; de lagrade byten kan öppnas på dokumentets sida.",
    no_changes: "Inga skillnader.",
    invalid_oid: "Adressen ska innehålla OID för två dokumentversioner (a och b).",
    other_set: "Versionerna hör inte till samma dokument; bara versioner av samma dokument kan jämföras.",
    changed: "ändrad",
    removed: "borttagen",
    added: "tillagd",
    same: "oförändrad",
};

const EN: CompareTexts = CompareTexts {
    heading: "Comparing versions",
    compare_column: "Compare",
    compare_link: "Compare with this version",
    version: "Version",
    archived: "archived",
    header_heading: "Header fields",
    field: "Field",
    change: "Change",
    display_heading: "Text of the display form",
    structured_heading: "Structured form (JSON)",
    absent: "Neither version has this form.",
    unreadable: "The stored form cannot be read as text; it is shown as stored on the document page.",
    too_large: "Too large to compare; the stored bytes can be opened from the document page.",
    no_changes: "No differences.",
    invalid_oid: "The address must hold the OIDs of two document versions (a and b).",
    other_set: "The versions belong to different documents; only versions of one document can be compared.",
    changed: "changed",
    removed: "removed",
    added: "added",
    same: "unchanged",
};

impl Language {
    pub fn compare_texts(self) -> &'static CompareTexts {
        match self {
            Language::Fi => &FI,
            Language::Sv => &SV,
            Language::En => &EN,
        }
    }
}
