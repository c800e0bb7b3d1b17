//! Behind a TCP-mode load balancer (HAProxy `send-proxy-v2`): the client's address comes in a
//! PROXY protocol v2 header, is taken only from a listed balancer, and is the address the audit
//! log and the accept-time caps see.

use std::{net::IpAddr, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::helpers::{TestApp, TestClient, proxy_header, sign_in_address};

/// The balancer's address; the tests' own clients come from 127.0.0.1.
const BALANCER: &str = "127.0.2.1";

fn balancer() -> IpAddr {
    BALANCER.parse().expect("balancer address")
}

async fn behind_balancer(adjust: impl FnOnce(&mut settings::Settings)) -> TestApp {
    TestApp::spawn_with(|s| {
        s.proxy.protocol_from = vec![balancer()];
        adjust(s);
    })
    .await
}

/// `card`'s client reaching the server through the balancer from `client`.
fn via_balancer(app: &TestApp, card: Option<&str>, client: &str) -> TestClient {
    let direct = app.client(card);
    let header = proxy_header(client.parse().expect("client"), direct.addr());
    direct.through_balancer(balancer(), header)
}

/// Whether the server counted a connection closed for its PROXY header with `reason`.
async fn refused_for(app: &TestApp, reason: &str) -> bool {
    let (_, metrics) = app.scrape().await;
    metrics.contains(&format!(
        "archivist_proxy_headers_refused_total{{reason=\"{reason}\"}}"
    ))
}

#[tokio::test]
async fn the_balancers_header_names_the_client_for_the_audit_log() {
    let app = behind_balancer(|_| {}).await;
    let page = via_balancer(&app, Some("archivist-1"), "203.0.113.7:5555")
        .get("/")
        .await
        .expect("front page through the balancer");
    assert_eq!(page.status, 200, "{}", page.body);

    assert_eq!(
        sign_in_address(&app).await,
        "203.0.113.7",
        "the client, not the balancer"
    );

    // The balancer's own health checks say LOCAL: served as the balancer.
    let local = [
        b"\r\n\r\n\0\r\nQUIT\n".as_slice(),
        &[0x20, 0x00, 0x00, 0x00],
    ]
    .concat();
    let health = app
        .client(None)
        .through_balancer(balancer(), local)
        .get("/healthz")
        .await
        .expect("health check through the balancer");
    assert_eq!(health.status, 200, "{}", health.body);
    app.stop().await;
}

#[tokio::test]
async fn the_accept_time_caps_count_the_client_the_header_names() {
    let app = behind_balancer(|s| s.connections.max_open_per_address = 1).await;
    let mut held = via_balancer(&app, Some("archivist-1"), "203.0.113.7:5555")
        .kept_alive()
        .await
        .expect("the client's first connection");
    assert_eq!(held.get("/").await.expect("page").status, 200);

    let second = via_balancer(&app, Some("archivist-1"), "203.0.113.7:5556")
        .kept_alive()
        .await;
    assert!(
        second.is_err(),
        "a second connection of 203.0.113.7 is over its cap"
    );
    let other = via_balancer(&app, Some("archivist-2"), "203.0.113.8:5555")
        .get("/")
        .await
        .expect("another client through the same balancer");
    assert_eq!(other.status, 200, "the balancer itself is not capped");
    app.stop().await;
}

/// A raw connection from the balancer that sends `bytes`, then (when `end`) closes its side.
/// Returns whether the server closed the connection within `wait`.
async fn balancer_sends(app: &TestApp, bytes: &[u8], end: bool, wait: Duration) -> bool {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::new(balancer(), 0))
        .expect("bind the balancer's address");
    let mut tcp: TcpStream = socket.connect(app.addr).await.expect("connect");
    tcp.write_all(bytes).await.expect("write");
    if end {
        tcp.shutdown().await.expect("shutdown");
    }
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(wait, tcp.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn bad_headers_from_the_balancer_close_the_connection_and_are_counted() {
    let app = behind_balancer(|s| s.tls.handshake_timeout_secs = 1).await;
    let server = app.addr;
    let whole = proxy_header("203.0.113.7:5555".parse().expect("client"), server);
    let mut bad_version = whole.clone();
    bad_version[12] = 0x11;
    let mut too_long = whole.clone();
    too_long[14..16].copy_from_slice(&4000u16.to_be_bytes());

    let wait = Duration::from_secs(3);
    assert!(
        balancer_sends(&app, &whole[..20], true, wait).await,
        "cut short"
    );
    assert!(refused_for(&app, "truncated").await);
    assert!(
        balancer_sends(&app, &bad_version, false, wait).await,
        "version 1 bits"
    );
    assert!(refused_for(&app, "malformed").await);
    assert!(
        balancer_sends(&app, &too_long, false, wait).await,
        "4000 bytes announced"
    );
    assert!(refused_for(&app, "too_long").await);
    assert!(
        balancer_sends(&app, &whole[..10], false, wait).await,
        "never finished"
    );
    assert!(refused_for(&app, "timed_out").await);

    // A balancer that sends no header at all (misconfigured: TLS straight away).
    let plain = app
        .client(Some("archivist-1"))
        .through_balancer(balancer(), Vec::new());
    assert!(plain.get("/").await.is_err(), "served without a header");
    assert!(refused_for(&app, "no_signature").await);

    // Nothing of it stopped the balancer's good connections.
    let page = via_balancer(&app, Some("archivist-1"), "203.0.113.7:5555")
        .get("/")
        .await
        .expect("a good header afterwards");
    assert_eq!(page.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn a_proxy_header_from_anyone_but_a_listed_balancer_is_refused() {
    let app = behind_balancer(|_| {}).await;
    let direct = app.client(Some("archivist-1"));
    let header = proxy_header("203.0.113.9:5555".parse().expect("client"), app.addr);
    let forged = direct.through_balancer("127.0.0.1".parse().expect("ip"), header);
    assert!(
        forged.get("/").await.is_err(),
        "a client chose its own address"
    );
    assert!(refused_for(&app, "not_from_balancer").await);

    let mut db = app.db().await;
    let (claimed,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_log WHERE client_address = '203.0.113.9'")
            .fetch_one(&mut db)
            .await
            .expect("audit rows");
    assert_eq!(claimed, 0, "the claimed address is nowhere");

    let page = direct.get("/").await.expect("the same client, directly");
    assert_eq!(page.status, 200, "{}", page.body);
    app.stop().await;
}
