//! The fixtures every test here shares: the `test-support` crate, which the card tool's tests
//! use too, so that both start servers, databases and card clients the same way.

pub use test_support::*;

use std::process::Output;

use tokio::process::Command;

/// Runs the `archivist` binary of this build against `database`, with the demo PKI's issuing CA
/// configured and an operator named `admin-test`. Asynchronous, because the test's server runs on
/// the same thread: a blocking wait would stop it from answering, or from releasing a lock the
/// command is waiting for.
pub async fn archivist(database: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_archivist"))
        .args(args)
        .env("DATABASE_URL", database_url(database))
        .env(
            "ARCHIVIST_TLS__CLIENT_CA",
            format!("[{}]", pki().file("issuing-ca.pem").display()),
        )
        .env("USER", "admin-test")
        .env_remove("SUDO_USER")
        .output()
        .await
        .expect("run archivist")
}
