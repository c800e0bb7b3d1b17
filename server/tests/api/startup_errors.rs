//! Bad settings end start-up with one clear error that names the file or the setting.

use std::{path::PathBuf, process::Command};

use server::startup::Application;

use crate::helpers::{create_database, drop_database, pki, settings};

async fn start_error(adjust: impl FnOnce(&mut settings::Settings)) -> String {
    let database = create_database().await;
    let site = tempfile::tempdir().expect("site");
    let mut settings = settings(&database, site.path());
    adjust(&mut settings);
    let result = Application::build(&settings).await;
    drop_database(&database).await;
    match result {
        Ok(_) => panic!("the server started with broken settings"),
        Err(error) => error.to_string(),
    }
}

#[tokio::test]
async fn a_key_that_does_not_fit_the_certificate_is_named() {
    let error = start_error(|s| s.tls.private_key = pki().file("archivist-1.key")).await;
    assert!(error.contains("tls.private_key"), "{error}");
}

#[tokio::test]
async fn an_unreadable_key_is_named() {
    let error = start_error(|s| s.tls.private_key = PathBuf::from("/nonexistent/server.key")).await;
    assert!(
        error.contains("tls.private_key") && error.contains("/nonexistent/server.key"),
        "{error}"
    );
}

#[tokio::test]
async fn a_ca_file_without_certificates_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let empty = dir.path().join("empty-ca.pem");
    std::fs::write(&empty, "no certificates here\n").expect("write");
    let path = empty.clone();
    let error = start_error(move |s| s.tls.client_ca = vec![path]).await;
    assert!(error.contains("tls.client_ca"), "{error}");
    assert!(error.contains(&empty.display().to_string()), "{error}");
}

#[tokio::test]
async fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let error = start_error(move |s| s.listen = addr).await;
    assert!(
        error.contains("listen") && error.contains(&addr.to_string()),
        "{error}"
    );
}

#[tokio::test]
async fn a_metrics_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let error = start_error(|s| s.metrics.listen = addr.to_string()).await;
    assert!(
        error.contains("metrics.listen") && error.contains(&addr.to_string()),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_named() {
    let error = start_error(|s| {
        s.database.url = Some("postgres://nobody@127.0.0.1:1/none".to_owned());
        s.database.acquire_timeout_secs = 2;
    })
    .await;
    assert!(error.contains("database.url"), "{error}");
}

#[test]
fn the_binary_reports_a_missing_config_file_in_one_line() {
    let output = Command::new(env!("CARGO_BIN_EXE_archivist"))
        .args(["--config", "/nonexistent/archivist.toml", "migrate"])
        .output()
        .expect("run archivist");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("/nonexistent/archivist.toml"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_binary_reports_a_malformed_config_file_in_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("archivist.toml");
    std::fs::write(&file, "[tls]\nhandshake_timeout_secs = \"soon\"\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_archivist"))
        .arg("--config")
        .arg(&file)
        .arg("migrate")
        .output()
        .expect("run archivist");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("handshake_timeout_secs"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `archivist crl status` for the demo CRL, checked against the demo CA file `ca`.
fn crl_status_against(ca: &str) -> std::process::Output {
    let pki = pki();
    Command::new(env!("CARGO_BIN_EXE_archivist"))
        .args(["crl", "status"])
        .env(
            "ARCHIVIST_TLS__CLIENT_CA",
            format!("[{}]", pki.file(ca).display()),
        )
        .env(
            "ARCHIVIST_TLS__CLIENT_CRL",
            format!("[{}]", pki.file("issuing-ca.crl").display()),
        )
        .output()
        .expect("run archivist")
}

#[test]
fn crl_status_reports_the_configured_crl() {
    let output = crl_status_against("issuing-ca.pem");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("revoked:     1"), "{stdout}");
    assert!(
        stdout.contains("verified with a tls.client_ca certificate"),
        "{stdout}"
    );

    // Checked against a CA that did not sign it: reported, and exit code 1 for monitoring.
    let output = crl_status_against("foreign-ca.pem");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("NOT signed"));
    assert!(
        String::from_utf8_lossy(&output.stderr).starts_with("error: 1 CRL(s) stale or not signed")
    );
}
