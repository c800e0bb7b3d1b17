//! Whole pages that the server sends without the application: before there is a verified
//! certificate, or when the service cannot serve. They are in Finnish, Swedish and English at
//! once, because without a session there is no language choice yet, and they need no script.

use crate::{FAVICON_PATH, SITE_OUTPUT_NAME};

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="fi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/svg+xml" href="{FAVICON_PATH}">
<link rel="stylesheet" href="/pkg/{SITE_OUTPUT_NAME}.css">
</head>
<body>
<header class="site-header"><p class="service-name">Kanta – arkistonhoitajan käyttöliittymä · arkivariens användargränssnitt · Archivist's interface</p></header>
<main id="main" class="status-page">
{body}
</main>
</body>
</html>
"#
    )
}

/// HTTP 401: the browser sent no client certificate. Tells the archivist how to get the
/// professional card's certificate presented.
pub fn no_client_certificate() -> String {
    page(
        "Kirjaudu ammattikortilla · Logga in med yrkeskortet · Sign in with your professional card",
        r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Kirjaudu ammattikortilla</h1>
<p>Selain ei lähettänyt varmennetta. Arkistonhoitajan käyttöliittymään kirjaudutaan sosiaali- ja terveydenhuollon ammattikortilla.</p>
<ol>
<li>Aseta ammattikortti kortinlukijaan.</li>
<li>Sulje kaikki selainikkunat ja käynnistä selain uudelleen, jotta se kysyy varmenteen uudelleen.</li>
<li>Avaa tämä osoite ja valitse kysyttäessä ammattikortin <strong>henkilövarmenne</strong> (nimesi ja SATU-tunnuksesi).</li>
</ol>
<p>Jos selain ei kysy varmennetta, tarkista että kortinlukijaohjelmisto on käynnissä, tai ota yhteys organisaatiosi tukeen.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">Logga in med yrkeskortet</h1>
<p>Webbläsaren skickade inget certifikat. Man loggar in i arkivariens användargränssnitt med yrkeskortet för social- och hälsovården.</p>
<ol>
<li>Sätt in yrkeskortet i kortläsaren.</li>
<li>Stäng alla webbläsarfönster och starta om webbläsaren, så att den frågar efter certifikatet på nytt.</li>
<li>Öppna den här adressen och välj yrkeskortets <strong>personcertifikat</strong> (ditt namn och din SATU) när du blir tillfrågad.</li>
</ol>
<p>Om webbläsaren inte frågar efter något certifikat, kontrollera att kortläsarprogrammet är igång eller kontakta din organisations support.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">Sign in with your professional card</h1>
<p>Your browser sent no certificate. The Archivist's interface is signed in to with the social welfare and health care professional card.</p>
<ol>
<li>Insert your professional card into the card reader.</li>
<li>Close every browser window and start the browser again, so that it asks for the certificate again.</li>
<li>Open this address and, when asked, choose the card's <strong>personal certificate</strong> (your name and SATU).</li>
</ol>
<p>If the browser does not ask for a certificate, check that the card reader software is running, or contact your organisation's support.</p>
</section>"#,
    )
}

/// HTTP 503: a dependency the service needs for this request (the database, which must record
/// every access) is not available. Says that nothing was lost and what to do.
pub fn service_unavailable() -> String {
    page(
        "Palvelu ei ole käytettävissä · Tjänsten är inte tillgänglig · Service unavailable",
        r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Palvelu ei ole juuri nyt käytettävissä</h1>
<p>Palvelussa on häiriö. Tietoja ei ole kadonnut. Yritä hetken kuluttua uudelleen.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">Tjänsten är inte tillgänglig just nu</h1>
<p>Tjänsten har en störning. Inga uppgifter har gått förlorade. Försök på nytt om en stund.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">The service is not available right now</h1>
<p>The service has a disruption. No data has been lost. Please try again in a moment.</p>
</section>"#,
    )
}

/// HTTP 404 of the raw endpoints (document bytes, downloads): the application's own "page not
/// found" texts, in all three languages. A document of another controller gets exactly this.
pub fn not_found() -> String {
    use crate::i18n::Language;
    let sections: String = Language::ALL
        .into_iter()
        .map(|language| {
            let t = language.texts();
            let code = language.code();
            format!(
                r#"<section lang="{code}" aria-labelledby="{code}-h">
<h1 id="{code}-h">{}</h1>
<p>{} <a href="/">{}</a></p>
</section>
"#,
                t.not_found_heading, t.not_found_body, t.front_page
            )
        })
        .collect();
    page(
        "Ei löytynyt · Hittades inte · Not found",
        sections.trim_end(),
    )
}

/// A state-changing request that did not come from one of our pages in this session (CSRF
/// check). `reason` is one of a fixed set of codes, never user input.
pub fn request_refused(reason: &'static str) -> String {
    page(
        "Pyyntö hylättiin · Begäran avvisades · Request refused",
        &format!(
            r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Pyyntöä ei hyväksytty</h1>
<p>Pyyntö ei tullut tämän istunnon sivulta, joten mitään ei muutettu. Istuntosi on ehkä päättynyt.
Palaa <a href="/">etusivulle</a> ja tee toiminto uudelleen.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">Begäran godkändes inte</h1>
<p>Begäran kom inte från en sida i denna session, så ingenting ändrades. Din session kan ha gått ut.
Gå tillbaka till <a href="/">startsidan</a> och gör om åtgärden.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">The request was not accepted</h1>
<p>The request did not come from a page of this session, so nothing was changed. Your session may
have ended. Go back to the <a href="/">front page</a> and do it again.</p>
</section>
<p><code data-field="refusal-code">{reason}</code></p>"#
        ),
    )
}

/// A card certificate forwarded by the load balancer failed the checks our own handshake
/// makes. `reason` is one of a fixed set of codes.
pub fn certificate_refused(reason: &'static str) -> String {
    page(
        "Varmenne hylättiin · Certifikatet avvisades · Certificate refused",
        &format!(
            r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Kortin varmennetta ei hyväksytty</h1>
<p>Varmenne voi olla vanhentunut, sulkulistalla tai muun kuin ammattikortin. Ota yhteys ylläpitäjään ja kerro alla oleva syykoodi.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">Kortets certifikat godkändes inte</h1>
<p>Certifikatet kan ha gått ut, vara spärrat eller inte höra till ett yrkeskort. Kontakta administratören och uppge orsakskoden nedan.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">The card's certificate was not accepted</h1>
<p>The certificate may have expired, been revoked, or not be a professional card's. Contact your administrator and give the reason code below.</p>
</section>
<p><code data-field="refusal-code">{reason}</code></p>"#
        ),
    )
}

/// The load balancer forwarded a certificate header that cannot be read.
pub fn bad_forwarded_certificate() -> String {
    page(
        "Virheellinen pyyntö · Felaktig begäran · Bad request",
        r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Virheellinen pyyntö</h1>
<p>Kuormantasaaja välitti varmenteen muodossa, jota palvelu ei voi lukea. Mitään ei muutettu. Ilmoita häiriöstä ylläpidolle.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">Felaktig begäran</h1>
<p>Lastbalanseraren vidarebefordrade certifikatet i en form som tjänsten inte kan läsa. Ingenting ändrades. Anmäl störningen till driften.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">Bad request</h1>
<p>The load balancer forwarded the certificate in a form the service cannot read. Nothing was changed. Report the fault to operations.</p>
</section>"#,
    )
}

/// A request body over the limit: refused before it is read in full.
pub fn request_too_large() -> String {
    page(
        "Pyyntö on liian suuri · Begäran är för stor · Request too large",
        r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Pyyntö on liian suuri</h1>
<p>Palvelu ei käsitellyt pyyntöä, eikä mitään muutettu.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">Begäran är för stor</h1>
<p>Tjänsten behandlade inte begäran och ingenting ändrades.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">The request is too large</h1>
<p>The service did not process the request, and nothing was changed.</p>
</section>"#,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guidance_is_in_all_three_languages() {
        let html = no_client_certificate();
        for lang in ["lang=\"fi\"", "lang=\"sv\"", "lang=\"en\""] {
            assert!(html.contains(lang), "missing section {lang}");
        }
        assert!(html.contains("Aseta ammattikortti kortinlukijaan"));
        assert!(html.contains("Sätt in yrkeskortet"));
        assert!(html.contains("Insert your professional card"));
    }

    #[test]
    fn not_found_uses_the_pages_texts_in_all_three_languages() {
        let html = not_found();
        for language in crate::i18n::Language::ALL {
            assert!(html.contains(language.texts().not_found_heading), "{html}");
            assert!(html.contains(&format!("lang=\"{}\"", language.code())));
        }
    }

    #[test]
    fn pages_need_no_script() {
        assert!(!no_client_certificate().contains("<script"));
        assert!(!service_unavailable().contains("<script"));
    }
}
