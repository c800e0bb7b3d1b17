//! `/readyz`: whether the load balancer should send this instance new connections. Not while it
//! drains for a stop (it still serves meanwhile), not while its database takes no writes (a
//! standby left behind by a failover), not while a revocation list is stale.

use std::time::{Duration, Instant};

use crate::helpers::{TestApp, set_read_only};

async fn readiness(app: &TestApp) -> (u16, String) {
    let answer = app
        .client(None)
        .get("/readyz")
        .await
        .expect("/readyz answers");
    (answer.status, answer.body)
}

/// Polls `/readyz` (for at most ten seconds) until it answers `status`.
async fn until_readiness(app: &TestApp, status: u16) -> (u16, String) {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = readiness(app).await;
        if answer.0 == status || Instant::now() > end {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_serving_instance_is_ready_and_says_so_without_a_card() {
    let app = TestApp::spawn().await;
    assert_eq!(readiness(&app).await, (200, "ready\n".to_owned()));
    let (_, metrics) = app.scrape().await;
    assert!(metrics.contains("archivist_ready 1\n"), "{metrics}");
    assert!(
        metrics.contains("archivist_not_ready{reason=\"draining\"} 0\n"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_database_that_takes_no_writes_makes_the_instance_unready_until_it_does() {
    let app = TestApp::spawn().await;
    assert_eq!(readiness(&app).await.0, 200);

    set_read_only(&app.database, true).await;
    let (status, body) = until_readiness(&app, 503).await;
    assert_eq!(
        (status, body.as_str()),
        (503, "no database that takes writes\n")
    );
    // Monitoring sees it too, with the reason.
    let (_, metrics) = app.scrape().await;
    assert!(metrics.contains("archivist_ready 0\n"), "{metrics}");
    assert!(
        metrics.contains("archivist_not_ready{reason=\"no_writable_database\"} 1\n"),
        "{metrics}"
    );
    // Alive all the same: it reads, so it is not for a restart.
    let health = app.client(None).get("/healthz").await.expect("health");
    assert_eq!(health.status, 200);

    set_read_only(&app.database, false).await;
    assert_eq!(
        until_readiness(&app, 200).await,
        (200, "ready\n".to_owned())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stop_takes_the_instance_out_of_rotation_while_it_still_serves() {
    let mut app = TestApp::spawn_with(|s| s.ops.drain_delay_secs = 3).await;
    assert_eq!(readiness(&app).await.0, 200);

    let signalled = Instant::now();
    app.signal_stop();
    assert_eq!(
        until_readiness(&app, 503).await,
        (503, "draining for a stop\n".to_owned())
    );
    // New connections are still accepted and served while the load balancer moves on.
    let page = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("served while draining");
    assert_eq!(page.status, 200);
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "the checks above took the whole delay; nothing was shown"
    );
    let addr = app.addr;
    app.stop().await;
    assert!(
        signalled.elapsed() >= Duration::from_secs(3),
        "the server stopped before its drain delay"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after the stop"
    );
}
