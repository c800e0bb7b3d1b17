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

#[tokio::test]
async fn a_client_that_never_sends_a_request_is_disconnected() {
    let app = TestApp::spawn_with(|s| s.tls.header_read_timeout_secs = 1).await;
    // HTTP/1.1 would otherwise wait for headers, HTTP/2 for the client's connection preface.
    for alpn in [&b"http/1.1"[..], &b"h2"[..]] {
        let mut tls = app
            .client(Some("archivist-1"))
            .tls(&[alpn])
            .await
            .expect("handshake");
        let mut buf = [0u8; 1024];
        // The handshake succeeded; no request follows. The server must close the connection
        // (HTTP/2 may first send its SETTINGS frame); 10 s only bounds the test.
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            while let Ok(n) = tls.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "{} connection left open",
            String::from_utf8_lossy(alpn)
        );
    }
    app.stop().await;
}
