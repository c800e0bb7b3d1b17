//! What one card, one address and one network may ask for: the per-card request limit (GCRA)
//! answers 429 with `Retry-After` and a page in three languages, leaves other cards and the
//! site's files alone, and puts the refusal on the audit log; connections over the per-address
//! and per-network caps are closed at accept time, before any TLS work. Traffic comes from
//! loopback addresses only (127.0.0.0/8).

use std::{net::SocketAddr, time::Duration};

use tokio::{
    io::AsyncReadExt,
    net::{TcpSocket, TcpStream},
};

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

/// A raw TCP connection to the server from `source`, a loopback address of its own (the caps
/// count by address and by /24).
async fn connect_from(source: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source.parse().expect("address"), 0))
        .expect("bind the loopback address");
    socket.connect(server).await.expect("connect")
}

/// Whether the server closed the connection at once: an admitted one waits for our handshake
/// until its deadline, so it is still open half a second later.
async fn closed_at_once(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test]
async fn connections_over_a_cap_are_closed_before_tls_and_other_networks_are_served() {
    let app = TestApp::spawn_with(|settings| {
        settings.connections.max_open_per_address = 2;
        settings.connections.max_open_per_network = 3;
    })
    .await;
    let server = app.addr;
    // 127.0.1.0/24 is the attacker's network; the test client comes from 127.0.0.1.
    let mut first = connect_from("127.0.1.2", server).await;
    let second = connect_from("127.0.1.2", server).await;
    let mut third = connect_from("127.0.1.2", server).await;
    assert!(closed_at_once(&mut third).await, "a third from one address");
    assert!(
        !closed_at_once(&mut first).await,
        "the first two are admitted"
    );
    let mut neighbour = connect_from("127.0.1.3", server).await;
    assert!(
        !closed_at_once(&mut neighbour).await,
        "another address of the /24"
    );
    let mut fourth_of_network = connect_from("127.0.1.4", server).await;
    assert!(
        closed_at_once(&mut fourth_of_network).await,
        "a fourth from the /24"
    );
    // Everyone else is served meanwhile.
    let page = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("served");
    assert_eq!(page.status, 200);

    // Closed connections free their places.
    drop((first, second));
    let mut admitted = false;
    for _ in 0..20 {
        let mut again = connect_from("127.0.1.2", server).await;
        if !closed_at_once(&mut again).await {
            admitted = true;
            break;
        }
    }
    assert!(admitted, "the address's places did not come free");
    let (_, metrics) = app.scrape().await;
    for reason in ["address_open", "network_open"] {
        assert!(
            metrics.contains(&format!(
                "archivist_connections_refused_total{{reason=\"{reason}\"}}"
            )),
            "{reason}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_address_opening_connections_too_fast_is_closed_at_accept() {
    let app = TestApp::spawn_with(|settings| {
        settings.connections.new_per_second_per_address = 1;
    })
    .await;
    // A burst of four seconds' worth, then one a second: six at once, the last two closed.
    let mut opened = Vec::new();
    for _ in 0..6 {
        opened.push(connect_from("127.0.2.2", app.addr).await);
    }
    assert!(closed_at_once(&mut opened[5]).await, "the sixth");
    assert!(!closed_at_once(&mut opened[0]).await, "the first");
    let mut other = connect_from("127.0.2.3", app.addr).await;
    assert!(
        !closed_at_once(&mut other).await,
        "another address has a rate of its own"
    );
    app.stop().await;
}

/// A raw HTTP/2 connection with a demo card: the client half and the connection's task, which
/// ends with the connection (and says how).
async fn raw_h2(
    app: &TestApp,
) -> (
    h2::client::SendRequest<hyper::body::Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tls = app
        .client(Some("archivist-1"))
        .tls(&[b"h2"])
        .await
        .expect("TLS with ALPN h2");
    let (sender, connection) = h2::client::handshake(tls).await.expect("h2 handshake");
    (sender, tokio::spawn(connection))
}

fn get(path: &str) -> http::Request<()> {
    http::Request::get(format!("https://localhost{path}"))
        .body(())
        .expect("request")
}

#[tokio::test]
async fn an_http2_rapid_reset_flood_ends_its_connection_and_others_are_served() {
    let app = TestApp::spawn().await;
    let (mut sender, connection) = raw_h2(&app).await;
    // Bounded: at most 5,000 streams opened and reset at once, or 20 s.
    let flood = async {
        for _ in 0..5_000 {
            let Ok(ready) = sender.clone().ready().await else {
                return;
            };
            sender = ready;
            let Ok((_, mut stream)) = sender.send_request(get("/"), true) else {
                return;
            };
            stream.send_reset(h2::Reason::CANCEL);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), flood)
        .await
        .expect("the flood is bounded");
    // A connection that was not cut would stay open: the client half is still held here (with
    // the two reset limits lifted, this test fails on the deadline below).
    let ended = tokio::time::timeout(Duration::from_secs(10), connection)
        .await
        .expect("the server ended the connection")
        .expect("the connection task");
    // GOAWAY ENHANCE_YOUR_CALM, or the socket closed under a client still writing.
    let error = ended.expect_err("the connection ended with an error");
    assert!(
        error.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM) || error.is_io(),
        "{error}"
    );
    // The server itself is unharmed.
    let page = app
        .client(Some("archivist-1"))
        .get_h2("/")
        .await
        .expect("served");
    assert_eq!(page.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn an_http2_header_list_over_the_limit_gets_431() {
    let app = TestApp::spawn().await;
    let (sender, connection) = raw_h2(&app).await;
    let mut sender = sender.ready().await.expect("ready");
    let mut request = get("/");
    // 40 KiB of headers in 2 KiB values: over the 32 KiB list, each value within frame limits.
    for i in 0..20 {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(format!("x-padding-{i}").as_bytes()).expect("name"),
            http::HeaderValue::from_str(&"a".repeat(2048)).expect("value"),
        );
    }
    let (response, _) = sender.send_request(request, true).expect("sent");
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("an answer")
        .expect("a response");
    assert_eq!(response.status(), 431);
    // A normal request on the same connection is still served.
    let mut sender = sender.ready().await.expect("ready");
    let (response, _) = sender.send_request(get("/"), true).expect("sent");
    let response = response.await.expect("response");
    assert_eq!(response.status(), 200);
    drop(sender);
    connection.abort();
    app.stop().await;
}

#[tokio::test]
async fn the_serving_pool_cancels_long_statements_but_migrates_without_a_limit() {
    let database = crate::helpers::create_database().await;
    // The owner migrating through a serving pool whose limit no migration fits in.
    let owner = settings::DatabaseSettings {
        url: Some(crate::helpers::database_url(&database)),
        statement_timeout_millis: 1,
        ..settings::DatabaseSettings::default()
    };
    let pool = server::db::connect_for_serving(&owner)
        .await
        .expect("connect");
    server::db::migrate_if_pending(&pool)
        .await
        .expect("the migrations are not cut off");
    pool.close().await;

    let serving = settings::DatabaseSettings {
        url: Some(crate::helpers::serving_database_url(&database).await),
        statement_timeout_millis: 200,
        ..settings::DatabaseSettings::default()
    };
    let pool = server::db::connect_for_serving(&serving)
        .await
        .expect("connect");
    let error = sqlx::query("SELECT pg_sleep(2)")
        .execute(&pool)
        .await
        .expect_err("a two-second statement is cancelled");
    assert_eq!(
        error.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("57014"),
        "{error}"
    );
    // The connection is fine for the next statement.
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("a short one runs");
    pool.close().await;
}

#[tokio::test]
async fn requests_over_the_bound_in_flight_are_answered_503_at_once() {
    let app = TestApp::spawn_with(|settings| settings.connections.max_requests_in_flight = 2).await;
    // Signing in stores a session: with the session table locked, two sign-ins stay in flight.
    let mut holder = app.db().await;
    sqlx::query("BEGIN")
        .execute(&mut holder)
        .await
        .expect("begin");
    sqlx::query("LOCK TABLE tower_sessions.session IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await
        .expect("lock");
    let held: Vec<_> = ["archivist-1", "archivist-2"]
        .into_iter()
        .map(|card| {
            let client = app.client(Some(card));
            tokio::spawn(async move { client.get("/").await })
        })
        .collect();
    assert_eq!(
        app.until_waiting_on("tower_sessions", 2).await,
        2,
        "two requests wait for the session table"
    );

    // A third request, and the load balancer's health check, are answered while the two are
    // still waiting: not queued behind them.
    let client = app.client(Some("archivist-1"));
    for path in ["/", "/healthz"] {
        let shed = client.get(path).await.expect("answered");
        assert_eq!(shed.status, 503, "{path}: {}", shed.body);
        assert!(shed.retry_after() >= 1, "{path}");
        assert!(held.iter().all(|request| !request.is_finished()));
    }
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_requests_shed_total"),
        "{metrics}"
    );

    // Once the lock is gone, the two held requests are served, and so is the next one.
    sqlx::query("COMMIT")
        .execute(&mut holder)
        .await
        .expect("commit");
    for request in held {
        let response = request.await.expect("joined").expect("answered");
        assert_eq!(response.status, 200, "{}", response.body);
    }
    assert_eq!(client.get("/").await.expect("get").status, 200);
    app.stop().await;
}

#[tokio::test]
async fn at_the_total_cap_the_connection_idle_longest_is_closed_to_make_room() {
    let app = TestApp::spawn_with(|settings| settings.connections.max_open = 3).await;
    let client = app.client(Some("archivist-1"));
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut connection = client.kept_alive().await.expect("connect");
        let response = connection.get("/healthz").await.expect("get");
        assert_eq!(response.status, 200);
        open.push(connection);
    }
    // A fourth is served, and the first, idle the longest, is closed to make room for it.
    let mut fourth = client.kept_alive().await.expect("admitted");
    assert_eq!(fourth.get("/healthz").await.expect("get").status, 200);
    assert!(
        open[0].closed_by_server().await,
        "the oldest idle connection is closed"
    );
    for connection in &mut open[1..] {
        let response = connection.get("/healthz").await.expect("still open");
        assert_eq!(response.status, 200);
    }
    let (_, metrics) = app.scrape().await;
    assert!(
        metrics.contains("archivist_idle_connections_closed_total"),
        "{metrics}"
    );
    app.stop().await;
}

/// A fresh HTTP/2 connection of archivist-1 for raw frames: TLS with ALPN h2, the connection
/// preface and an empty SETTINGS frame written.
async fn raw_http2(app: &TestApp) -> tokio_rustls::client::TlsStream<TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut tls = app
        .client(Some("archivist-1"))
        .tls(&[b"h2"])
        .await
        .expect("TLS with ALPN h2");
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .expect("preface");
    tls
}

/// Writes `frame` over and over on a fresh HTTP/2 connection without reading anything back,
/// until the server stops taking them (a write waits a second) or `most` were written; how
/// many it took.
async fn flood_with(app: &TestApp, frame: &[u8], most: usize) -> usize {
    use tokio::io::AsyncWriteExt;
    let mut tls = raw_http2(app).await;
    let batch: Vec<u8> = frame.repeat(1_000);
    let mut written = 0;
    while written < most {
        let write = tokio::time::timeout(Duration::from_secs(1), tls.write_all(&batch)).await;
        if !matches!(write, Ok(Ok(()))) {
            break;
        }
        written += 1_000;
    }
    written
}

#[tokio::test]
async fn http2_ping_and_settings_floods_are_pushed_back_and_others_are_served() {
    let app = TestApp::spawn().await;
    // A PING (8 bytes of payload) and a SETTINGS frame (max concurrent streams 100), each of
    // which asks the server for an answer that this client never reads.
    let ping = b"\0\0\x08\x06\0\0\0\0\0\x01\x02\x03\x04\x05\x06\x07\x08";
    let settings = b"\0\0\x06\x04\0\0\0\0\0\0\x03\0\0\0\x64";
    // Two million frames are 30 to 34 MB, three times what the kernel's socket buffers on
    // both ends hold on loopback: the server stops reading once its answers are not taken
    // (here after 5 to 8 MB, the buffers), so its memory does not grow with the flood.
    const MOST: usize = 2_000_000;
    for (name, frame) in [("PING", &ping[..]), ("SETTINGS", &settings[..])] {
        let flooding = flood_with(&app, frame, MOST).await;
        assert!(
            flooding < MOST,
            "the server took all {MOST} {name} frames without them being read"
        );
        let response = app
            .client(Some("archivist-2"))
            .get_h2("/")
            .await
            .expect("get");
        assert_eq!(response.status, 200, "served during the {name} flood");
    }
    app.stop().await;
}

#[tokio::test]
async fn connections_that_send_nothing_hold_no_handshake_slot() {
    let app = TestApp::spawn_with(|settings| {
        settings.connections.max_concurrent_handshakes = 2;
        settings.tls.handshake_timeout_secs = 4;
    })
    .await;
    // More silent connections than there are handshake slots, each from an address of its own.
    let mut silent = Vec::new();
    for n in 0..4 {
        silent.push(connect_from(&format!("127.0.3.{}", n + 1), app.addr).await);
    }
    let page = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("served");
    assert_eq!(page.status, 200);
    // Had the page waited for a slot, it would have been served only once the silent
    // connections' deadline had closed them; they are still open.
    for connection in &mut silent {
        assert!(
            !closed_at_once(connection).await,
            "the silent connection was closed before its deadline"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_http2_continuation_flood_ends_its_connection_and_others_are_served() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let mut tls = raw_http2(&app).await;
    // HEADERS on stream 1 (GET https /, END_STREAM) without END_HEADERS, then CONTINUATION
    // frames that never end the block, each a 16,000-byte literal header never indexed.
    tls.write_all(b"\0\0\x03\x01\x01\0\0\0\x01\x82\x87\x84")
        .await
        .expect("HEADERS");
    let mut continuation = vec![0x00, 0x3e, 0x80, 0x09, 0x00, 0x00, 0x00, 0x00, 0x01];
    let mut block = vec![0x10, 0x01, b'x', 0x7f, 0xf9, 0x7c];
    block.resize(16_000, b'a');
    continuation.extend_from_slice(&block);
    // Two thousand frames are 32 MB, a thousand times the header list allowed; h2 ends the
    // connection (GOAWAY, ENHANCE_YOUR_CALM) after a handful of them.
    const MOST: usize = 2_000;
    let mut written = 0;
    let mut ended = false;
    while written < MOST {
        match tokio::time::timeout(Duration::from_secs(5), tls.write_all(&continuation)).await {
            Ok(Ok(())) => written += 1,
            Ok(Err(_)) => {
                ended = true;
                break;
            }
            Err(_) => break,
        }
    }
    if !ended {
        // Whatever was still buffered: the server must have closed the connection by now.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut rest),
        )
        .await;
        // Closed within the wait (an end or an error), rather than left open.
        ended = read.is_ok();
    }
    assert!(
        ended,
        "the connection took {written} CONTINUATION frames and stayed open"
    );
    assert!(written < MOST, "the server read all {MOST} frames");
    let response = app
        .client(Some("archivist-2"))
        .get_h2("/")
        .await
        .expect("get");
    assert_eq!(response.status, 200, "served after the flood");
    app.stop().await;
}
