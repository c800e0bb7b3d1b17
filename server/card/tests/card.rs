//! `archivist-card` against a real pcscd with the vpcd virtual reader and the tests' virtual
//! FINEID card: every failure's exit code and message, a good card's report, enrolment into a
//! working sign-in, and the server's card status answer.

mod support {
    pub mod pcscd;
    pub mod soft_token;
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
};
use sqlx::PgPool;
use support::{
    pcscd::Pcscd,
    soft_token::{self, SoftToken},
    virtual_card::{Mode, VirtualCard},
};

// The server's own test fixtures (a server per test, a client presenting a demo card).
use test_support::{TestApp, database_url, issuer, pki, seed};

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
    tool_with(socket, args, None, "")
}

/// The tool with SoftHSM's configuration (`token`) and `stdin` as its standard input.
fn tool_with(socket: &Path, args: &[&str], token: Option<&Path>, stdin: &str) -> Run {
    use std::io::Write as _;
    let mut command = Command::new(env!("CARGO_BIN_EXE_archivist-card"));
    command
        .args(args)
        .env("PCSCLITE_CSOCK_NAME", socket)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(conf) = token {
        command.env("SOFTHSM2_CONF", conf);
    }
    let mut child = command.spawn().expect("run archivist-card");
    if let Some(mut input) = child.stdin.take() {
        // A tool that stops before reading its input closes the pipe: nothing to report.
        let _ = input.write_all(stdin.as_bytes());
    }
    let output: Output = child.wait_with_output().expect("run archivist-card");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A controller for the card to be linked to.
async fn new_controller(pool: &PgPool) -> ControllerOid {
    let controller = ControllerOid::parse("1.2.246.10.99887766.10.0").expect("oid");
    administration::create_controller(pool, &Actor::Operator, &controller, "Testikunta")
        .await
        .expect("controller");
    controller
}

/// The demo issuing CA's card `number`.
fn card_key(number: &str) -> CardKey {
    CardKey {
        issuer: issuer(),
        card_number: CardNumber::parse(number).expect("number"),
    }
}

/// `check --server` against a test server, from a blocking thread (the server runs on the
/// test's runtime).
struct Asking {
    socket: PathBuf,
    config: PathBuf,
    server: String,
    root: PathBuf,
}

impl Asking {
    async fn ask(&self, extra: &[String], token: Option<PathBuf>, stdin: &str) -> Run {
        let mut args = vec![
            "check".to_owned(),
            "--config".to_owned(),
            self.config.to_str().expect("path").to_owned(),
            "--server".to_owned(),
            self.server.clone(),
            "--server-ca".to_owned(),
            self.root.to_str().expect("path").to_owned(),
        ];
        args.extend_from_slice(extra);
        let (socket, stdin) = (self.socket.clone(), stdin.to_owned());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tool_with(&socket, &args, token.as_deref(), &stdin)
        })
        .await
        .expect("check")
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
async fn an_enrolled_card_signs_in_and_the_server_knows_its_number() {
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

    let controller = new_controller(&pool).await;
    let key = card_key(PRINTED);

    // The server knows the card and its number, but tells the tool (which does not sign with
    // the card) nothing about its links, linked or not.
    let server = format!("https://localhost:{}", app.addr.port());
    let root = pki().file("root-ca.pem");
    let card = VirtualCard::insert(
        daemon.port(),
        &certificate("archivist-1"),
        TOKEN_SERIAL,
        Mode::Fineid,
    );
    let asking = Asking {
        socket: socket.clone(),
        config: config.clone(),
        server,
        root,
    };
    let unlinked = asking.ask(&[], None, "").await;
    seed::link(&pool, &key, &controller).await;
    let linked = asking.ask(&[], None, "").await;
    for run in [&unlinked, &linked] {
        assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains(&format!("Card number the service uses: {PRINTED}")),
            "the enrolled number comes from the server: {}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("Linked to controllers: the service tells this only to the card itself"),
            "{}",
            run.stdout
        );
    }
    assert_eq!(
        unlinked.stdout, linked.stdout,
        "the answer without proof does not depend on the links"
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
        "SELECT count(*) FROM audit_log WHERE action = 'card.status_checked'
         AND card_number IS NULL AND details->>'card_number' = $1",
    )
    .bind(PRINTED)
    .fetch_one(&mut db)
    .await
    .expect("count");
    assert_eq!(
        asked, 2,
        "every question is on the audit log, not in the holder's name"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_card_proven_through_its_module_learns_its_links() {
    let app = TestApp::spawn().await;
    let daemon = Pcscd::with_reader();
    let dir = tempfile::tempdir().expect("dir");
    let config = config(dir.path());
    let socket = daemon.socket();
    let token = SoftToken::holding(&pki().file("archivist-1.key"), &certificate("archivist-1"));
    let stranger = SoftToken::holding(&pki().file("archivist-2.key"), &certificate("archivist-2"));
    let _card = VirtualCard::insert(
        daemon.port(),
        &certificate("archivist-1"),
        TOKEN_SERIAL,
        Mode::Fineid,
    );
    let server = format!("https://localhost:{}", app.addr.port());
    let root = pki().file("root-ca.pem");
    let asking = Asking {
        socket,
        config,
        server,
        root,
    };
    let asking = &asking;
    let ask = |module: &str, token: &SoftToken, pin: &str| {
        let conf = token.conf().to_owned();
        let pin = format!("{pin}\n");
        let args = ["--pkcs11-module", module, "--pin-stdin"].map(str::to_owned);
        async move { asking.ask(&args, Some(conf), &pin).await }
    };
    let unlinked = ask(soft_token::MODULE, &token, soft_token::PIN).await;
    assert_failure(&unlinked, 17, "it is not linked to any controller");
    assert!(
        unlinked.stdout.contains("Linked to controllers: 0"),
        "{}",
        unlinked.stdout
    );

    let pool = PgPool::connect(&database_url(&app.database))
        .await
        .expect("connect");
    let controller = new_controller(&pool).await;
    let key = card_key("999000110");
    seed::link(&pool, &key, &controller).await;
    // A notice on: the tool prints it, whatever the card's result.
    sqlx::query(
        "INSERT INTO notice (kind, text_fi, text_sv, text_en, starts_at, created_by)
         VALUES ('disruption', 'Kortit', 'Korten', 'Card sign-in is slow', now(), 'test')",
    )
    .execute(&pool)
    .await
    .expect("notice");
    // The test server reads the notices every second.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let linked = ask(soft_token::MODULE, &token, soft_token::PIN).await;
    assert_eq!(linked.code, Some(0), "{}{}", linked.stdout, linked.stderr);
    assert!(
        linked.stdout.contains("Linked to controllers: 1"),
        "{}",
        linked.stdout
    );
    assert!(
        linked
            .stdout
            .contains("Service notice: [disruption] Card sign-in is slow ("),
        "{}",
        linked.stdout
    );

    let wrong_pin = ask(soft_token::MODULE, &token, "0000").await;
    assert_failure(&wrong_pin, 19, "The card did not accept the PIN");
    let no_pin = ask(soft_token::MODULE, &token, "").await;
    assert_failure(&no_pin, 19, "no PIN was given");
    let other_card = ask(soft_token::MODULE, &stranger, soft_token::PIN).await;
    assert_failure(
        &other_card,
        18,
        "no token holds the card's authentication certificate",
    );
    let no_module = ask("/nonexistent/pkcs11.so", &token, soft_token::PIN).await;
    assert_failure(&no_module, 18, "cannot load the module");

    // The two proven questions are the holder's on the audit log.
    let proven: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'card.status_checked'
         AND card_number = '999000110' AND details->>'proof' = 'tls_client_certificate'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(proven, 2);
    app.stop().await;
}
