//! Whole pages that the server sends without the application: before there is a verified
//! certificate, or when the service cannot serve. They are in Finnish, Swedish and English at
//! once, because without a session there is no language choice yet, and they need no script.
//! Every one of them shows the notices in force (`notices`), like the application's pages.

use crate::{
    FAVICON_PATH, SITE_OUTPUT_NAME,
    i18n::Language,
    local_time,
    model::notices::NoticeView,
    notice_texts::{kind_name, notice_texts},
};

fn page(title: &str, body: &str, notices: &[NoticeView]) -> String {
    page_in(Language::Fi, title, body, notices)
}

fn page_in(language: Language, title: &str, body: &str, notices: &[NoticeView]) -> String {
    let banner = banner(notices);
    let lang = language.code();
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/svg+xml" href="{FAVICON_PATH}">
<link rel="stylesheet" href="/pkg/{SITE_OUTPUT_NAME}.css">
</head>
<body>
<header class="site-header"><p class="service-name">Kanta – arkistonhoitajan käyttöliittymä · arkivariens användargränssnitt · Archivist's interface</p></header>
{banner}<main id="main" class="status-page">
{body}
</main>
</body>
</html>
"#
    )
}

/// HTTP 401: the browser sent no client certificate. Tells the archivist how to get the
/// professional card's certificate presented.
pub fn no_client_certificate(notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// HTTP 503: a dependency the service needs for this request (the database, which must record
/// every access) is not available. Says that nothing was lost and what to do.
pub fn service_unavailable(notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// HTTP 404 of the raw endpoints (document bytes, downloads): the application's own "page not
/// found" texts, in all three languages. A document of another controller gets exactly this.
pub fn not_found(notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// A state-changing request that did not come from one of our pages in this session (CSRF
/// check). `reason` is one of a fixed set of codes, never user input.
pub fn request_refused(reason: &'static str, notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// A card certificate forwarded by the load balancer failed the checks our own handshake
/// makes. `reason` is one of a fixed set of codes.
pub fn certificate_refused(reason: &'static str, notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// The load balancer forwarded a certificate header that cannot be read.
pub fn bad_forwarded_certificate(notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// A request body over the limit: refused before it is read in full.
pub fn request_too_large(notices: &[NoticeView]) -> String {
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
        notices,
    )
}

/// HTTP 429: one card sent more requests than the per-card limit allows; `wait_secs` until the
/// next is taken. Nothing was done with the refused request.
pub fn too_many_requests(wait_secs: u64, notices: &[NoticeView]) -> String {
    page(
        "Liian monta pyyntöä · För många begäranden · Too many requests",
        &format!(
            r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Liian monta pyyntöä</h1>
<p>Tältä kortilta on tullut lyhyessä ajassa enemmän pyyntöjä kuin palvelu ottaa vastaan. Pyyntöä ei käsitelty, eikä mitään muutettu. Yritä uudelleen {wait_secs} sekunnin kuluttua.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">För många begäranden</h1>
<p>Det här kortet har skickat fler begäranden på kort tid än tjänsten tar emot. Begäran behandlades inte och ingenting ändrades. Försök på nytt om {wait_secs} sekunder.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">Too many requests</h1>
<p>This card has sent more requests in a short time than the service accepts. The request was not processed, and nothing was changed. Please try again in {wait_secs} seconds.</p>
</section>"#
        ),
        notices,
    )
}

/// HTTP 429 when a card already has as many downloads of stored bytes under way as it may.
pub fn too_many_downloads(at_once: u32, notices: &[NoticeView]) -> String {
    page(
        "Liian monta latausta · För många nedladdningar · Too many downloads",
        &format!(
            r#"<section lang="fi" aria-labelledby="fi-h">
<h1 id="fi-h">Liian monta latausta yhtä aikaa</h1>
<p>Tällä kortilla on jo {at_once} latausta kesken, ja enempää ei oteta vastaan yhtä aikaa. Odota, että jokin niistä valmistuu, ja yritä sitten uudelleen. Mitään ei muutettu.</p>
</section>
<section lang="sv" aria-labelledby="sv-h">
<h1 id="sv-h">För många nedladdningar samtidigt</h1>
<p>Det här kortet har redan {at_once} nedladdningar på gång, och fler tas inte emot samtidigt. Vänta tills någon av dem är klar och försök sedan på nytt. Ingenting ändrades.</p>
</section>
<section lang="en" aria-labelledby="en-h">
<h1 id="en-h">Too many downloads at once</h1>
<p>This card already has {at_once} downloads under way, and no more are taken at the same time. Wait for one of them to finish, then try again. Nothing was changed.</p>
</section>"#
        ),
        notices,
    )
}

/// HTTP 503 during a maintenance window that closes the service: the window's notice, in the
/// reader's language first (the remembered choice; Finnish without one), then in the others.
pub fn closed_for_maintenance(
    window: &NoticeView,
    reader: Language,
    notices: &[NoticeView],
) -> String {
    let order = std::iter::once(reader).chain(Language::ALL.into_iter().filter(|l| *l != reader));
    let sections: String = order
        .map(|language| {
            let code = language.code();
            let (heading, opens) = match language {
                Language::Fi => ("Palvelu on suljettu huoltokatkon ajaksi", "Palvelu avautuu"),
                Language::Sv => (
                    "Tjänsten är stängd under ett serviceavbrott",
                    "Tjänsten öppnar",
                ),
                Language::En => (
                    "The service is closed for maintenance",
                    "The service opens again",
                ),
            };
            let text_lang = window.text_language(language).code();
            let text = escape(window.text(language));
            let opens = window
                .ends_at
                .as_deref()
                .map(|end| {
                    format!(
                        "\n<p data-field=\"opens\">{opens} {}.</p>",
                        escape(&local_time::display(language, end))
                    )
                })
                .unwrap_or_default();
            format!(
                r#"<section lang="{code}" aria-labelledby="{code}-h">
<h1 id="{code}-h">{heading}</h1>
<p lang="{text_lang}" data-field="maintenance-text">{text}</p>{opens}
</section>
"#
            )
        })
        .collect();
    let others: Vec<NoticeView> = notices
        .iter()
        .filter(|notice| notice.id != window.id)
        .cloned()
        .collect();
    page_in(
        reader,
        "Huoltokatko · Serviceavbrott · Maintenance",
        sections.trim_end(),
        &others,
    )
}

/// The notices in all three languages, in a live region; nothing when there are none.
fn banner(notices: &[NoticeView]) -> String {
    if notices.is_empty() {
        return String::new();
    }
    let items: String = notices.iter().map(notice).collect();
    let label = Language::ALL.map(|l| notice_texts(l).banner).join(" · ");
    format!(
        r#"<section class="notices" aria-label="{label}">
<div role="status" aria-live="polite" data-field="notices">
{items}</div>
</section>
"#
    )
}

fn notice(notice: &NoticeView) -> String {
    let paragraphs: String = Language::ALL
        .into_iter()
        .map(|language| {
            let t = notice_texts(language);
            let mut details = format!(
                "{} {}",
                t.from,
                local_time::display(language, &notice.starts_at)
            );
            if let Some(end) = &notice.ends_at {
                details.push_str(&format!(" · {} {}", t.until, local_time::display(language, end)));
            }
            if !notice.affected.is_empty() {
                details.push_str(&format!(" · {}: {}", t.affected, notice.affected));
            }
            if notice.closes_service {
                details.push_str(&format!(" · {}", t.closes_service));
            }
            format!(
                r#"<p lang="{code}"><strong class="notice-kind">{kind}</strong> <span lang="{text_lang}" data-field="notice-text">{text}</span> <span class="notice-details">{details}</span></p>
"#,
                code = language.code(),
                kind = kind_name(notice.kind, language),
                text_lang = notice.text_language(language).code(),
                text = escape(notice.text(language)),
                details = escape(&details),
            )
        })
        .collect();
    format!(
        r#"<div class="notice" data-kind="{kind}" data-notice="{id}">
{paragraphs}</div>
"#,
        kind = notice.kind.code(),
        id = escape(&notice.id),
    )
}

/// Administrators' words as text, never as markup (also inside attribute values).
fn escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::notices::NoticeKind;

    fn notice(id: &str, closes_service: bool) -> NoticeView {
        NoticeView {
            id: id.to_owned(),
            kind: NoticeKind::Maintenance,
            text_fi: "Huolto <b>tänään</b>".to_owned(),
            text_sv: "Service i dag".to_owned(),
            text_en: None,
            affected: "Haku & selaus".to_owned(),
            starts_at: "2026-12-04T08:00:00Z".to_owned(),
            ends_at: Some("2026-12-04T10:00:00Z".to_owned()),
            closes_service,
            updated_at: "2026-12-04T07:00:00Z".to_owned(),
        }
    }

    #[test]
    fn guidance_is_in_all_three_languages() {
        let html = no_client_certificate(&[]);
        for lang in ["lang=\"fi\"", "lang=\"sv\"", "lang=\"en\""] {
            assert!(html.contains(lang), "missing section {lang}");
        }
        assert!(html.contains("Aseta ammattikortti kortinlukijaan"));
        assert!(html.contains("Sätt in yrkeskortet"));
        assert!(html.contains("Insert your professional card"));
    }

    #[test]
    fn not_found_uses_the_pages_texts_in_all_three_languages() {
        let html = not_found(&[]);
        for language in crate::i18n::Language::ALL {
            assert!(html.contains(language.texts().not_found_heading), "{html}");
            assert!(html.contains(&format!("lang=\"{}\"", language.code())));
        }
    }

    #[test]
    fn pages_need_no_script() {
        let notices = [notice("1", false)];
        assert!(!no_client_certificate(&notices).contains("<script"));
        assert!(!service_unavailable(&notices).contains("<script"));
        assert!(!closed_for_maintenance(&notices[0], Language::Sv, &notices).contains("<script"));
    }

    #[test]
    fn the_banner_shows_notices_as_text_in_a_live_region() {
        assert!(!service_unavailable(&[]).contains("data-field=\"notices\""));
        let html = service_unavailable(&[notice("7", false)]);
        assert!(html.contains(r#"role="status" aria-live="polite" data-field="notices""#));
        assert!(html.contains(r#"data-notice="7""#), "{html}");
        assert!(html.contains("Huolto &lt;b&gt;tänään&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>tänään"));
        assert!(html.contains("Service i dag"));
        assert!(html.contains("Haku &amp; selaus"));
        // English without a text of its own shows the Finnish one, marked as Finnish.
        assert!(
            html.contains(
                r#"<p lang="en"><strong class="notice-kind">Maintenance</strong> <span lang="fi""#
            ),
            "{html}"
        );
        // Finland's time: 10.00 UTC is 12.00 in Helsinki in winter.
        assert!(html.contains("Päättyy 4.12.2026 klo 12.00.00"), "{html}");
    }

    #[test]
    fn the_maintenance_page_leads_with_the_readers_language_and_says_when_it_opens() {
        let window = notice("3", true);
        let html =
            closed_for_maintenance(&window, Language::Sv, &[window.clone(), notice("4", false)]);
        assert!(html.contains(r#"<html lang="sv">"#));
        let sv = html
            .find(r#"<section lang="sv""#)
            .expect("a Swedish section");
        let fi = html
            .find(r#"<section lang="fi""#)
            .expect("a Finnish section");
        assert!(sv < fi, "{html}");
        assert!(
            html.contains("Tjänsten öppnar 4.12.2026 kl. 12.00.00."),
            "{html}"
        );
        // The window itself is the page; the banner shows the other notices only.
        assert!(!html.contains(r#"data-notice="3""#));
        assert!(html.contains(r#"data-notice="4""#));
    }
}
