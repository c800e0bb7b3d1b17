//! `GET /metrics` for the duplexed pair's monitoring, in the Prometheus text format: whether
//! revocation checking is healthy. A stale or rolled-back CRL means a CA's cards are refused
//! (fail closed), which monitoring must see before the archivists do. Reveals no client data; the
//! issuers' names are public.
//!
//! A handful of gauges, written out here: an exporter crate would bring a registry and a global
//! recorder for what is five lines of text.

use std::fmt::Write;

use axum::{extract::State, http::header};
use tokio::sync::watch;

use crate::tls::RevocationHealth;

pub async fn metrics(
    State(revocation): State<watch::Receiver<RevocationHealth>>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    let health = revocation.borrow().clone();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(&health),
    )
}

fn render(health: &RevocationHealth) -> String {
    let mut out = String::new();
    let flag = |b: bool| u8::from(b);
    let _ = writeln!(
        out,
        "# HELP archivist_crl_stale_issuers CAs whose CRL is stale: their cards are refused.\n\
         # TYPE archivist_crl_stale_issuers gauge\n\
         archivist_crl_stale_issuers {}",
        health.stale.len()
    );
    for issuer in &health.stale {
        let _ = writeln!(out, "archivist_crl_stale{{issuer=\"{}\"}} 1", label(issuer));
    }
    let _ = writeln!(
        out,
        "# HELP archivist_crl_rolled_back_issuers CAs whose CRL went back to an older CRLNumber: their cards are refused.\n\
         # TYPE archivist_crl_rolled_back_issuers gauge\n\
         archivist_crl_rolled_back_issuers {}",
        health.rolled_back.len()
    );
    for issuer in &health.rolled_back {
        let _ = writeln!(
            out,
            "archivist_crl_rolled_back{{issuer=\"{}\"}} 1",
            label(issuer)
        );
    }
    if let Some(at) = health.next_stale_at {
        let _ = writeln!(
            out,
            "# HELP archivist_crl_next_stale_timestamp_seconds When the next CRL in use goes stale.\n\
             # TYPE archivist_crl_next_stale_timestamp_seconds gauge\n\
             archivist_crl_next_stale_timestamp_seconds {}",
            at.unix_timestamp()
        );
    }
    let _ = writeln!(
        out,
        "# HELP archivist_tls_reload_failing 1 when the last TLS configuration reload failed.\n\
         # TYPE archivist_tls_reload_failing gauge\n\
         archivist_tls_reload_failing {}",
        flag(health.reload_failing)
    );
    out
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_and_rolled_back_crls_are_named() {
        let health = RevocationHealth {
            stale: vec!["CN=Old \"CA\"".to_owned()],
            rolled_back: vec![],
            next_stale_at: time::OffsetDateTime::from_unix_timestamp(1_800_000_000).ok(),
            reload_failing: true,
        };
        let text = render(&health);
        assert!(text.contains("archivist_crl_stale_issuers 1\n"), "{text}");
        assert!(
            text.contains("archivist_crl_stale{issuer=\"CN=Old \\\"CA\\\"\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("archivist_crl_rolled_back_issuers 0\n"),
            "{text}"
        );
        assert!(
            text.contains("archivist_crl_next_stale_timestamp_seconds 1800000000\n"),
            "{text}"
        );
        assert!(text.contains("archivist_tls_reload_failing 1\n"), "{text}");
    }

    #[test]
    fn a_healthy_state_has_no_issuer_lines() {
        let text = render(&RevocationHealth::default());
        assert!(!text.contains("{issuer"), "{text}");
        assert!(text.contains("archivist_tls_reload_failing 0\n"));
    }
}
