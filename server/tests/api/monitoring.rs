//! The metrics listener: a scrape after a few requests shows the counters and histograms moved
//! (requests by route template, handshakes by outcome and refusal code, audit writes), the
//! state gauges, no OID or identity code in any label, and no metrics on the public port.
//!
//! The event metrics are the process's, and the tests run many servers in one process: the
//! checks are on how far a series moved between two scrapes, never on its value.

use std::collections::HashMap;

use crate::helpers::{Session, TestApp, until_audited};

/// The scrape's samples: series (name and labels as rendered) to value.
fn samples(body: &str) -> HashMap<String, f64> {
    body.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The one series of `name` whose labels include every one of `labels` (`key="value"`).
fn value(samples: &HashMap<String, f64>, name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series
                .strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
                && labels.iter().all(|label| series.contains(label))
        })
        .map(|(_, value)| *value)
        .sum()
}

/// Every label value of the scrape.
fn label_values(body: &str) -> Vec<String> {
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (_, labels) = line.split_once('{')?;
            let (labels, _) = labels.rsplit_once('}')?;
            Some(
                labels
                    .split("\",")
                    .filter_map(|pair| pair.split_once("=\""))
                    .map(|(_, value)| value.trim_end_matches('"').to_owned())
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect()
}

/// An OID (three or more dotted numbers) or a Finnish identity code (`DDMMYY`, the century
/// sign, three digits, the check character).
fn looks_like_client_data(value: &str) -> bool {
    let dotted = value.split(|c: char| !(c.is_ascii_digit() || c == '.'));
    let oid = dotted.into_iter().any(|part| {
        let numbers: Vec<&str> = part.split('.').collect();
        numbers.len() >= 3 && numbers.iter().all(|n| !n.is_empty())
    });
    let chars: Vec<char> = value.chars().collect();
    let identity_code = chars.windows(11).any(|w| {
        w[..6].iter().all(char::is_ascii_digit)
            && matches!(
                w[6],
                '+' | '-' | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'U' | 'V' | 'W' | 'X' | 'Y'
            )
            && w[7..10].iter().all(char::is_ascii_digit)
            && w[10].is_ascii_alphanumeric()
    });
    oid || identity_code
}

#[test]
fn the_client_data_check_knows_oids_and_identity_codes() {
    assert!(looks_like_client_data("/documents/1.2.246.10.1"));
    assert!(looks_like_client_data("010190-123A"));
    assert!(!looks_like_client_data("/documents/{oid}"));
    assert!(!looks_like_client_data("certificate_revoked"));
}

#[tokio::test]
async fn a_scrape_shows_what_happened_and_no_client_data() {
    let app = TestApp::spawn().await;
    let (status, before) = app.scrape().await;
    assert_eq!(status, 200, "{before}");
    let before = samples(&before);

    let session = Session::start(&app, "archivist-1").await;
    let page = session.get("/").await;
    assert_eq!(page.status, 200);
    let oid = "1.2.246.10.99999999.1.1";
    let missing = session.get(&format!("/api/documents/{oid}/cda")).await;
    assert_eq!(missing.status, 404);
    let refused = app.client(Some("revoked")).get("/").await;
    assert!(refused.is_err(), "a revoked card gets no page");
    let public = app.client(None).get("/metrics").await.expect("public port");
    assert_eq!(public.status, 404, "no metrics on the public port");
    // The refusal's row is written after the handshake has failed, so the client can be
    // here first; the counters are read once it is there.
    until_audited(&app, "tls.certificate_refused").await;

    let (_, body) = app.scrape().await;
    let after = samples(&body);
    let moved =
        |name: &str, labels: &[&str]| value(&after, name, labels) - value(&before, name, labels);
    let front = [r#"route="/""#, r#"method="GET""#, r#"status="200""#];
    assert!(
        moved("archivist_http_requests_total", &front) >= 2.0,
        "{body}"
    );
    let bytes = [
        r#"route="/api/documents/{document}/{part}""#,
        r#"status="404""#,
    ];
    assert!(
        moved("archivist_http_requests_total", &bytes) >= 1.0,
        "{body}"
    );
    assert!(
        moved(
            "archivist_http_request_duration_seconds_count",
            &[r#"route="/""#]
        ) >= 2.0,
        "a latency histogram: {body}"
    );
    assert!(
        body.contains("archivist_http_request_duration_seconds_bucket{"),
        "histograms with buckets, not summaries: {body}"
    );
    let revoked = [r#"outcome="refused""#, r#"reason="certificate_revoked""#];
    assert!(
        moved("archivist_tls_handshakes_total", &revoked) >= 1.0,
        "{body}"
    );
    assert!(
        moved("archivist_tls_handshakes_total", &[r#"outcome="card""#]) >= 1.0,
        "{body}"
    );
    assert!(
        moved("archivist_audit_writes_total", &[r#"outcome="written""#]) >= 2.0,
        "the sign-in and the refusal: {body}"
    );
    assert!(
        value(&after, "archivist_db_pool_max_connections", &[]) >= 1.0,
        "{body}"
    );
    assert!(
        value(&after, "archivist_sessions_active", &[]) >= 1.0,
        "{body}"
    );
    assert!(body.contains("archivist_crl_stale_issuers 0\n"), "{body}");
    let expiry = value(
        &after,
        "archivist_tls_certificate_expiry_timestamp_seconds",
        &[],
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(
        expiry > now + 300.0 * 86_400.0,
        "the demo server certificate is valid for a year: {body}"
    );

    let labels = label_values(&body);
    assert!(labels.iter().any(|v| v == "/documents/{oid}" || v == "/"));
    let leaked: Vec<&String> = labels
        .iter()
        .filter(|v| looks_like_client_data(v))
        .collect();
    assert!(leaked.is_empty(), "client data in labels: {leaked:?}");
    assert!(!body.contains(oid), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn the_listener_can_be_turned_off() {
    let app = TestApp::spawn_with(|settings| settings.metrics.listen = "off".to_owned()).await;
    assert_eq!(app.metrics_addr, None);
    app.stop().await;
}
