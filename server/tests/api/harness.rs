//! The test harness itself: a test that fails leaves no database behind.

use sqlx::{Connection, PgConnection};

use crate::helpers::{admin_url, create_database};

async fn exists(name: &str) -> bool {
    let mut admin = PgConnection::connect(&admin_url()).await.expect("connect");
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut admin)
        .await
        .expect("look up")
}

#[tokio::test]
async fn a_failing_test_drops_its_database_all_the_same() {
    let database = create_database().await;
    let name = database.to_string();
    assert!(exists(&name).await);
    // A test body that panics while it holds its database, as a failing assertion does.
    let failed = std::thread::spawn(move || {
        let _held = database;
        panic!("a failing test");
    })
    .join();
    assert!(failed.is_err(), "the test body failed");
    assert!(!exists(&name).await, "{name} was left behind");
}
