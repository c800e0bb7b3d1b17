//! `archivist-card` against a real pcscd with the vpcd virtual reader and the tests' virtual
//! FINEID card: every failure's exit code and message, a good card's report, enrolment into a
//! working sign-in, and the server's card status answer.

mod support {
    pub mod pcscd;
    pub mod virtual_card;
}

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::Duration,
};

use identity::{CardKey, CardNumber, CardNumberRule, demo::DEMO_CARD_POLICY};
use rustls::pki_types::{CertificateDer, pem::PemObject};
use server::{
    admin_commands,
    administration::{self, Actor},
    archive::ControllerOid,
    store::cards::{self, Validity},
};
use sqlx::PgPool;
use support::{
    pcscd::Pcscd,
    virtual_card::{Mode, VirtualCard},
};

// The server's own test fixtures (a server per test, a client presenting a demo card).
use test_support::{TestApp, database_url, issuer, pki};

/// The token serial the virtual cards carry; the printed card number is its last nine.
const TOKEN_SERIAL: &[u8] = b"FI0000123456789";
const PRINTED: &str = "123456789";

fn certificate(stem: &str) -> Vec<u8> {
    CertificateDer::from_pem_file(pki().file(&format!("{stem}.pem")))
        .expect("demo card certificate")
        .to_vec()
}

/// The server's configuration as the archivist's workstation would have it: the issuing CA,
/// its CRL and the card policy.
fn config(dir: &Path) -> PathBuf {
    config_with(dir, "")
}

fn config_with(dir: &Path, more: &str) -> PathBuf {
    let path = dir.join("archivist.toml");
    std::fs::write(
        &path,
        format!(
            "[tls]\nclient_ca = [{:?}]\nclient_crl = [{:?}]\ncard_policies = [{DEMO_CARD_POLICY:?}]\n{more}",
            pki().file("issuing-ca.pem"),
            pki().file("issuing-ca.crl"),
        ),
    )
    .expect("config");
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn tool(socket: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_archivist-card"))
        .args(args)
        .env("PCSCLITE_CSOCK_NAME", socket)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .output()
        .expect("run archivist-card");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn check(socket: &Path, dir: &Path, extra: &[&str]) -> Run {
    let config = config(dir);
    let mut args = vec!["check", "--config", config.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    tool(socket, &args)
}

/// Checks the card `stem` in `mode` and returns the run.
fn check_card(stem: &str, mode: Mode, extra: &[&str]) -> Run {
    let daemon = Pcscd::with_reader();
    let _card = VirtualCard::insert(daemon.port(), &certificate(stem), TOKEN_SERIAL, mode);
    let dir = tempfile::tempdir().expect("dir");
    check(&daemon.socket(), dir.path(), extra)
}

fn assert_failure(run: &Run, code: i32, english: &str) {
    assert_eq!(run.code, Some(code), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(english),
        "{english:?} in {}",
        run.stderr
    );
}

#[test]
fn pcscd_not_running() {
    let dir = tempfile::tempdir().expect("dir");
    let nowhere = dir.path().join("no-pcscd.comm");
    let run = tool(&nowhere, &["readers"]);
    assert_failure(
        &run,
        3,
        "The card reader service (PC/SC, pcscd) is not running",
    );
    let fi = tool(&nowhere, &["--lang", "fi", "check"]);
    assert_failure(
        &fi,
        3,
        "Kortinlukijapalvelu (PC/SC, pcscd) ei ole käynnissä",
    );
    let sv = tool(&nowhere, &["--lang", "sv", "check"]);
    assert_failure(&sv, 3, "Kortläsartjänsten (PC/SC, pcscd) är inte igång");
}

#[test]
fn no_reader() {
    let daemon = Pcscd::without_reader();
    let run = tool(&daemon.socket(), &["readers"]);
    assert_failure(&run, 4, "No card reader was found. Connect the card reader");
    let run = tool(&daemon.socket(), &["check"]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
}

#[test]
fn a_reader_without_a_card() {
    let daemon = Pcscd::with_reader();
    let run = tool(&daemon.socket(), &["readers"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains("Virtual PCD 00 00: no card"),
        "{}",
        run.stdout
    );
    let run = tool(&daemon.socket(), &["check"]);
    assert_failure(&run, 5, "There is no card in the reader");
    let run = tool(
        &daemon.socket(),
        &["check", "--reader", "Nonexistent 00 00"],
    );
    assert_failure(&run, 4, "The named card reader was not found");
}

#[test]
fn a_good_card_reports_what_the_server_would_use() {
    let run = check_card("archivist-1", Mode::Fineid, &[]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    // The card number the server derives is the one its rule reads from the certificate.
    let derived = CardNumberRule::default()
        .derive(&certificate("archivist-1"))
        .expect("derive")
        .card_number;
    for line in [
        "Reader: Virtual PCD 00 00".to_owned(),
        "Holder: Virtanen Aino Maria".to_owned(),
        format!("Card number: {PRINTED}"),
        "Chip token serial: FI0000123456789".to_owned(),
        format!("Card number the service uses: {derived}"),
        "Key usage: digitalSignature".to_owned(),
        format!("Certificate policies: {DEMO_CARD_POLICY}"),
        "Result: the card and its certificate are fine".to_owned(),
    ] {
        assert!(run.stdout.contains(&line), "{line:?} in {}", run.stdout);
    }
    let fi = check_card("archivist-1", Mode::Fineid, &["--lang", "fi"]);
    assert!(
        fi.stdout
            .contains("Tulos: kortti ja varmenne ovat kunnossa"),
        "{}",
        fi.stdout
    );
}

#[test]
fn a_card_inserted_while_waiting_is_read() {
    let daemon = Pcscd::with_reader();
    let dir = tempfile::tempdir().expect("dir");
    let socket = daemon.socket();
    let port = daemon.port();
    let waiting = std::thread::spawn(move || check(&socket, dir.path(), &["--wait"]));
    std::thread::sleep(Duration::from_secs(2));
    let _card = VirtualCard::insert(
        port,
        &certificate("archivist-2"),
        TOKEN_SERIAL,
        Mode::Fineid,
    );
    let run = waiting.join().expect("check");
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Korhonen"), "{}", run.stdout);
}

#[test]
fn not_a_fineid_card() {
    let run = check_card("archivist-1", Mode::NotFineid, &[]);
    assert_failure(&run, 6, "The card is not a DVV professional card");
}

#[test]
fn a_card_without_its_certificate() {
    let run = check_card("archivist-1", Mode::NoCertificate, &["--lang", "sv"]);
    assert_failure(&run, 7, "Kortet har inget autentiseringscertifikat");
}

#[test]
fn a_damaged_or_cut_certificate() {
    let garbled = check_card("archivist-1", Mode::Garbled, &[]);
    assert_failure(&garbled, 8, "The certificate on the card is damaged");
    let truncated = check_card("archivist-1", Mode::Truncated, &[]);
    assert_failure(&truncated, 8, "The certificate on the card is damaged");
    assert!(
        truncated.stderr.contains("the file ends after"),
        "{}",
        truncated.stderr
    );
}

#[test]
fn expired_revoked_and_foreign_certificates() {
    let expired = check_card("expired", Mode::Fineid, &[]);
    assert_failure(&expired, 9, "The card's certificate is not valid");
    // What was read is still shown, so that the help desk sees the dates.
    assert!(
        expired.stdout.contains("Valid until:"),
        "{}",
        expired.stdout
    );
    let revoked = check_card("revoked", Mode::Fineid, &[]);
    assert_failure(&revoked, 10, "The card's certificate has been revoked");
    let foreign = check_card("foreign", Mode::Fineid, &[]);
    assert_failure(&foreign, 11, "The certificate's issuer is not accepted");
}

#[test]
fn the_servers_other_checks_and_the_card_number_rule() {
    let policy = check_card("other-policy", Mode::Fineid, &[]);
    assert_failure(&policy, 13, "reason: policy_not_allowed");
    let no_satu = check_card("no-satu", Mode::Fineid, &[]);
    assert_failure(&no_satu, 14, "card_number_missing");
}

#[test]
fn a_card_pulled_out_during_reading() {
    let run = check_card("archivist-1", Mode::RemovedAfter(4), &[]);
    assert_failure(&run, 12, "The card was removed while it was being read");
}

#[test]
fn the_locale_chooses_the_language() {
    let dir = tempfile::tempdir().expect("dir");
    let output = Command::new(env!("CARGO_BIN_EXE_archivist-card"))
        .arg("readers")
        .env("PCSCLITE_CSOCK_NAME", dir.path().join("none"))
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "sv_FI.UTF-8")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Kortläsartjänsten"));
}

#[tokio::test]
async fn an_enrolled_card_signs_in_and_the_server_says_it_is_linked() {
    let app = TestApp::spawn_with(|s| s.auth.card_number_rule = CardNumberRule::Enrolled).await;
    let daemon = Pcscd::with_reader();
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("enrolment.csv");
    let socket = daemon.socket();

    // Enrol archivist-1's card, twice: the second run changes nothing.
    let card = VirtualCard::insert(
        daemon.port(),
        &certificate("archivist-1"),
        TOKEN_SERIAL,
        Mode::Fineid,
    );
    // The server's own configuration, enrolled rule included.
    let config = config_with(dir.path(), "[auth.card_number_rule]\nkind = \"enrolled\"\n");
    let enrol = |socket: PathBuf, out: PathBuf, config: PathBuf| {
        tokio::task::spawn_blocking(move || {
            tool(
                &socket,
                &[
                    "enrol",
                    "--out",
                    out.to_str().expect("path"),
                    "--config",
                    config.to_str().expect("path"),
                ],
            )
        })
    };
    let first = enrol(socket.clone(), out.clone(), config.clone())
        .await
        .expect("enrol");
    assert_eq!(first.code, Some(0), "{}{}", first.stdout, first.stderr);
    assert!(
        first
            .stdout
            .contains(&format!("Written to {}: {PRINTED}", out.display())),
        "{}",
        first.stdout
    );
    let again = enrol(socket.clone(), out.clone(), config.clone())
        .await
        .expect("enrol");
    assert!(again.stdout.contains("Already in"), "{}", again.stdout);
    drop(card);

    // The file goes through the import command's own reader and import.
    let issuers = vec![issuer()];
    let rows =
        admin_commands::read_enrolment_file(&out, &issuers).expect("the import reads the file");
    assert_eq!(rows.len(), 1);
    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("connect");
    let imported = admin_commands::import_enrolment(&pool, &out, &rows)
        .await
        .expect("import");
    assert!(imported.contains("1 bindings added"), "{imported}");

    let controller = ControllerOid::parse("1.2.246.10.99887766.10.0").expect("oid");
    administration::create_controller(&pool, &Actor::Operator, &controller, "Testikunta")
        .await
        .expect("controller");
    let key = CardKey {
        issuer: issuer(),
        card_number: CardNumber::parse(PRINTED).expect("number"),
    };

    // Before the link: the server knows the card but it reaches no controller.
    let server = format!("https://localhost:{}", app.addr.port());
    let root = pki().file("root-ca.pem");
    let ask = |socket: PathBuf, config: PathBuf, server: String, root: PathBuf| {
        tokio::task::spawn_blocking(move || {
            tool(
                &socket,
                &[
                    "check",
                    "--config",
                    config.to_str().expect("path"),
                    "--server",
                    &server,
                    "--server-ca",
                    root.to_str().expect("path"),
                ],
            )
        })
    };
    let card = VirtualCard::insert(
        daemon.port(),
        &certificate("archivist-1"),
        TOKEN_SERIAL,
        Mode::Fineid,
    );
    let unlinked = ask(socket.clone(), config.clone(), server.clone(), root.clone())
        .await
        .expect("check");
    assert_failure(&unlinked, 17, "it is not linked to any controller");
    assert!(
        unlinked
            .stdout
            .contains(&format!("Card number the service uses: {PRINTED}")),
        "the enrolled number comes from the server: {}",
        unlinked.stdout
    );

    cards::link(&pool, &key, &controller, Validity::default(), "test")
        .await
        .expect("link");
    let linked = ask(socket.clone(), config.clone(), server.clone(), root.clone())
        .await
        .expect("check");
    assert_eq!(linked.code, Some(0), "{}{}", linked.stdout, linked.stderr);
    assert!(
        linked.stdout.contains("Linked to controllers: 1"),
        "{}",
        linked.stdout
    );
    drop(card);

    // And the card signs in (TLS with its key) and sees its controller.
    let page = app
        .client(Some("archivist-1"))
        .get("/")
        .await
        .expect("get")
        .body;
    assert!(
        page.contains(&format!(r#"data-controller="{controller}""#)),
        "{page}"
    );
    assert!(page.contains(PRINTED), "{page}");

    let mut db = app.db().await;
    let asked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'card.status_checked' AND card_number = $1",
    )
    .bind(PRINTED)
    .fetch_one(&mut db)
    .await
    .expect("count");
    assert_eq!(asked, 2, "every question is on the audit log");
    app.stop().await;
}
