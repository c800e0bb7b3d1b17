//! What one card may ask for: the per-card request limit (GCRA) answers 429 with `Retry-After`
//! and a page in three languages, leaves other cards and the site's files alone, and puts the
//! refusal on the audit log.

use std::time::Duration;

use crate::helpers::{TestApp, TestResponse};

#[tokio::test]
async fn a_card_over_its_request_limit_gets_429_and_other_cards_do_not() {
    let app = TestApp::spawn_with(|settings| {
        settings.auth.card_requests_per_second = 1;
        settings.auth.card_request_burst = 3;
    })
    .await;
    let client = app.client(Some("archivist-1"));
    // The burst is served whole...
    for _ in 0..3 {
        assert_eq!(client.get("/").await.expect("get").status, 200);
    }
    // ...and the card is held to one a second after it (ten requests take far less than the
    // seven seconds that would let them all through).
    let mut refused: Option<TestResponse> = None;
    for _ in 0..10 {
        let response = client.get("/").await.expect("get");
        if response.status == 429 {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status, 200);
    }
    let refused = refused.expect("no request was refused over the limit");
    let wait = refused.retry_after();
    assert!((1..=2).contains(&wait), "{wait}");
    for text in [
        "Liian monta pyyntöä",
        "För många begäranden",
        "Too many requests",
    ] {
        assert!(refused.body.contains(text), "{text}: {}", refused.body);
    }

    // The site's own files are not counted, and another card has a limit of its own.
    assert_eq!(
        client.get("/pkg/archivist.css").await.expect("css").status,
        200
    );
    assert_eq!(
        app.client(Some("archivist-2"))
            .get("/")
            .await
            .expect("get")
            .status,
        200
    );

    // On the audit log as a refused request of this card.
    let mut db = app.db().await;
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT reason, card_number, details->>'route' FROM audit_log
         WHERE action = 'request.refused'",
    )
    .fetch_all(&mut db)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0.as_deref(), Some("rate_limited"));
    assert!(rows[0].1.is_some(), "the card number is on the row");
    assert_eq!(rows[0].2.as_deref(), Some("card_rate_limit"));

    // Waiting as told is enough.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(client.get("/").await.expect("get").status, 200);
    app.stop().await;
}
