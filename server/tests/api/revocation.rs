//! Revocation lists change while the server runs: a new CRL, and a CRL going stale, take effect
//! for new connections without a restart; a stale CRL refuses its CA's cards (fail closed).

use std::{path::PathBuf, time::Duration};

use time::OffsetDateTime;

use crate::helpers::{TestApp, audit_rows_at_least, pki};

/// A CRL file of this test's own, listing `revoked` demo cards, valid from `this` to `next`.
fn write_crl(
    dir: &std::path::Path,
    revoked: &[&str],
    this: OffsetDateTime,
    next: OffsetDateTime,
    number: u64,
) -> PathBuf {
    let pki = pki();
    let serials: Vec<Vec<u8>> = revoked.iter().map(|stem| pki.serial(stem)).collect();
    let pem = pki.ca.crl_at(&serials, this, next, number).expect("crl");
    let path = dir.join("issuing-ca.crl");
    // Write then rename, as a CRL fetcher would: the server never reads half a file.
    let partial = dir.join("issuing-ca.crl.part");
    std::fs::write(&partial, pem).expect("write crl");
    std::fs::rename(&partial, &path).expect("rename crl");
    path
}

fn hours(n: i64) -> time::Duration {
    time::Duration::hours(n)
}

async fn front_page_status(app: &TestApp, card: &str) -> Result<u16, String> {
    app.client(Some(card)).get("/").await.map(|r| r.status)
}

/// Polls until `card` is refused (or not), for at most 30 s.
async fn wait_until_refused(app: &TestApp, card: &str, refused: bool) -> bool {
    for _ in 0..150 {
        let answer = app.client(Some(card)).get("/").await;
        // A server that stops answering is a fault, not a refusal.
        if let Err(error) = &answer {
            assert!(!error.starts_with("no answer"), "{error}");
        }
        if answer.is_err() == refused {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn a_new_crl_takes_effect_without_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let now = OffsetDateTime::now_utc();
    let crl = write_crl(dir.path(), &["revoked"], now - hours(1), now + hours(24), 1);
    let app = TestApp::spawn_with(|s| {
        s.tls.client_crl = vec![crl];
        s.tls.crl_refresh_secs = 1;
    })
    .await;
    assert_eq!(front_page_status(&app, "archivist-1").await, Ok(200));

    write_crl(
        dir.path(),
        &["revoked", "archivist-1"],
        now,
        now + hours(24),
        2,
    );
    assert!(
        wait_until_refused(&app, "archivist-1", true).await,
        "the new CRL was not applied"
    );
    assert_eq!(
        front_page_status(&app, "archivist-2").await,
        Ok(200),
        "other cards keep working"
    );
    let rows = audit_rows_at_least(&app, 2).await;
    assert!(
        rows.iter()
            .any(|r| r.2.as_deref() == Some("certificate_revoked")),
        "{rows:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_crl_directory_takes_the_lists_dropped_into_it() {
    let dir = tempfile::tempdir().expect("dir");
    let now = OffsetDateTime::now_utc();
    write_crl(dir.path(), &[], now - hours(1), now + hours(24), 1);
    // Other files beside the lists are not read.
    std::fs::write(dir.path().join("README.txt"), "CRLs of the card CAs").expect("write");
    std::fs::write(dir.path().join(".partial.crl"), "half a download").expect("write");
    let app = TestApp::spawn_with(|s| {
        s.tls.client_crl = vec![dir.path().to_owned()];
        s.tls.crl_refresh_secs = 1;
    })
    .await;
    assert_eq!(front_page_status(&app, "archivist-3").await, Ok(200));

    write_crl(dir.path(), &["archivist-3"], now, now + hours(24), 2);
    assert!(
        wait_until_refused(&app, "archivist-3", true).await,
        "the new list in the directory was not applied"
    );
    assert_eq!(front_page_status(&app, "archivist-2").await, Ok(200));
    app.stop().await;
}

#[tokio::test]
async fn a_stale_crl_refuses_every_card_of_its_ca() {
    let dir = tempfile::tempdir().expect("dir");
    let now = OffsetDateTime::now_utc();
    let crl = write_crl(dir.path(), &["revoked"], now - hours(48), now - hours(1), 1);
    let app = TestApp::spawn_with(|s| s.tls.client_crl = vec![crl]).await;
    assert!(
        app.client(Some("archivist-1")).get("/").await.is_err(),
        "fail closed"
    );
    let rows = audit_rows_at_least(&app, 1).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].2.as_deref(), Some("revocation_status_unknown"));
    // Without a card the guidance page still works.
    assert_eq!(
        app.client(None).get("/").await.expect("request").status,
        401
    );
    // And the load balancer sends new connections to the other instance.
    let ready = app.client(None).get("/readyz").await.expect("readiness");
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (503, "a revocation list is stale or rolled back\n")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_grace_period_keeps_a_recently_stale_crl_in_use() {
    let dir = tempfile::tempdir().expect("dir");
    let now = OffsetDateTime::now_utc();
    let crl = write_crl(dir.path(), &["revoked"], now - hours(48), now - hours(1), 1);
    let app = TestApp::spawn_with(|s| {
        s.tls.client_crl = vec![crl];
        s.tls.crl_grace_secs = 4 * 3600;
    })
    .await;
    assert_eq!(front_page_status(&app, "archivist-1").await, Ok(200));
    assert!(
        app.client(Some("revoked")).get("/").await.is_err(),
        "the CRL is still applied"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_crl_that_goes_stale_while_running_refuses_from_then_on() {
    let dir = tempfile::tempdir().expect("dir");
    let now = OffsetDateTime::now_utc();
    let crl = write_crl(
        dir.path(),
        &["revoked"],
        now - hours(1),
        // Long enough for the server to start and answer on a busy machine (a CI run once took
        // more than 8 s), short enough to wait for.
        now + time::Duration::seconds(20),
        1,
    );
    let app = TestApp::spawn_with(|s| {
        s.tls.client_crl = vec![crl];
        s.tls.crl_refresh_secs = 1;
    })
    .await;
    assert_eq!(front_page_status(&app, "archivist-1").await, Ok(200));
    let (status, metrics) = app.scrape().await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("archivist_crl_stale_issuers 0\n"),
        "{metrics}"
    );
    assert!(
        wait_until_refused(&app, "archivist-1", true).await,
        "the stale CRL stayed in use"
    );
    // Monitoring sees it too: the metric names the CA whose cards are now refused.
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_crl_stale_issuers 1\n")
            && metrics.contains("archivist_crl_stale{issuer=\"C=FI, O=Digi- ja"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_older_crl_put_back_does_not_unrevoke_a_card() {
    let dir = tempfile::tempdir().expect("dir");
    let now = OffsetDateTime::now_utc();
    let crl = write_crl(dir.path(), &["revoked"], now - hours(1), now + hours(24), 7);
    let app = TestApp::spawn_with(|s| {
        s.tls.client_crl = vec![crl];
        s.tls.crl_refresh_secs = 1;
    })
    .await;
    assert!(front_page_status(&app, "revoked").await.is_err());
    assert_eq!(front_page_status(&app, "archivist-1").await, Ok(200));

    // An older list (number 6) from before the revocation, still within its validity: using it
    // would let the revoked card in. It is refused, and the CA's cards with it (fail closed).
    write_crl(dir.path(), &[], now - hours(2), now + hours(24), 6);
    assert!(
        wait_until_refused(&app, "archivist-1", true).await,
        "the rolled-back CRL was used"
    );
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_crl_rolled_back_issuers 1\n"),
        "{metrics}"
    );
    assert!(front_page_status(&app, "revoked").await.is_err());

    // A list at least as new as the one applied is taken again.
    write_crl(dir.path(), &["revoked"], now, now + hours(24), 8);
    assert!(
        wait_until_refused(&app, "archivist-1", false).await,
        "a newer CRL was not applied"
    );
    assert!(front_page_status(&app, "revoked").await.is_err());
    app.stop().await;
}
