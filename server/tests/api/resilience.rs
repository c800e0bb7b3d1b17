//! Slow clients and a database that goes away.

use std::time::Duration;

use tokio::{io::AsyncReadExt, net::TcpStream};

use crate::helpers::{TestApp, drop_database};

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_disconnected() {
    let app = TestApp::spawn_with(|s| s.tls.handshake_timeout_secs = 1).await;
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    let mut buf = [0u8; 64];
    // The server must close the silent connection itself; 10 s is only a bound for the test.
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .expect("the server closed the connection");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "connection closed without data"
    );
    app.stop().await;
}

#[tokio::test]
async fn when_the_database_goes_away_pages_say_unavailable_and_health_fails() {
    let app = TestApp::spawn().await;
    let client = app.client(Some("archivist-1"));
    assert_eq!(client.get("/").await.expect("request").status, 200);

    // Gone for good: the database itself is dropped under the running server.
    drop_database(&app.database).await;

    let response = client.get("/").await.expect("request");
    assert_eq!(response.status, 503, "no audit log, no client pages");
    assert!(
        response
            .body
            .contains("Palvelu ei ole juuri nyt käytettävissä")
    );
    assert!(response.body.contains("Tjänsten är inte tillgänglig"));
    assert!(response.body.contains("No data has been lost"));
    let health = app.client(None).get("/healthz").await.expect("request");
    assert_eq!(health.status, 503);
    app.stop().await;
}
