//! The `archivist` command line.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use settings::Settings;

use crate::{
    admin_commands,
    archive::{ControllerOid, DocumentOid},
    audit_commands, commands, db, demo,
    notice_commands::{self, NoticeFields},
    startup,
    store::cards::Validity,
    telemetry, tls,
};

#[derive(Debug, Parser)]
#[command(
    name = "archivist",
    version,
    about = "The Kanta Archivist's interface: mutual-TLS web server and operator commands"
)]
pub struct Cli {
    /// TOML configuration file; environment variables (ARCHIVIST_…, DATABASE_URL) override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations, then serve HTTPS until Ctrl-C or SIGTERM.
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Certificate revocation lists of the card CAs.
    Crl {
        #[command(subcommand)]
        command: CrlCommand,
    },
    /// Archive CDA documents (and their transfer frames) from files and directories; `-`
    /// reads one document from standard input. Exits with 1 when any file was refused.
    Import {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<String>,
        /// Documents prepared and stored at the same time (default: archive.import_concurrency).
        #[arg(long)]
        jobs: Option<usize>,
        /// Write the run's figures to FILE in the Prometheus text format (for node_exporter's
        /// textfile collector), replacing it whole.
        #[arg(long, value_name = "FILE")]
        metrics_file: Option<PathBuf>,
    },
    /// Print a document version's metadata and archive data as JSON (recorded in the audit log).
    Show {
        #[arg(value_name = "DOCUMENT_OID")]
        document_oid: String,
    },
    /// Write a document's stored bytes to standard output, unchanged (recorded in the audit log).
    Export {
        #[arg(value_name = "DOCUMENT_OID")]
        document_oid: String,
        /// The CDA document as received, or the transfer frame it came in.
        #[arg(long, value_enum, default_value_t = Part::Cda)]
        part: Part,
    },
    /// Link card numbers to controllers, end links, list them (each change is audited).
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Administrators, identified by card number like archivists (each change is audited).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Controllers: create ahead of their first document, rename, merge (each change is
    /// audited).
    Controller {
        #[command(subcommand)]
        command: ControllerCommand,
    },
    /// A controller's deployment test (käyttöönottokoe): define its test case, reset it with a
    /// reason (each change is audited). Archivists check and confirm it on their page.
    DeploymentTest {
        #[command(subcommand)]
        command: DeploymentTestCommand,
    },
    /// Notices to the archivists: the banner on every page and the public feeds (each change
    /// is audited).
    Notice {
        #[command(subcommand)]
        command: NoticeCommand,
    },
    /// Close the service to all but administrators for an unplanned break, or open it again
    /// (audited).
    Maintenance {
        #[command(subcommand)]
        command: MaintenanceCommand,
    },
    /// Create the demo PKI under DIR/pki and demo documents under DIR/documents.
    #[command(args_conflicts_with_subcommands = true)]
    Demo {
        #[command(subcommand)]
        command: Option<DemoCommand>,
        /// Folder for the demo material.
        #[arg(long, default_value = "demo", value_name = "DIR")]
        dir: PathBuf,
        /// Make a new PKI and new documents even if DIR has them (browsers must re-import).
        #[arg(long)]
        force: bool,
        /// Number of demo documents.
        #[arg(long, default_value_t = 600)]
        documents: u64,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Part {
    Cda,
    Frame,
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Generate realistic documents (CDA + transfer frame pairs) for demos, tests and
    /// benchmarks. The same seed and options give the same bytes.
    Data {
        /// Output folder (documents go to OUT/controller-NN/chunk-NNNNNN/).
        #[arg(long, value_name = "OUT")]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 3)]
        controllers: u32,
        /// Clients per controller.
        #[arg(long, default_value_t = 200)]
        clients: u32,
        /// Document versions in all.
        #[arg(long, default_value_t = 1000)]
        documents: u64,
    },
}

/// The issuing CA of a card number, when several are configured in tls.client_ca.
#[derive(Debug, clap::Args)]
pub struct IssuerArg {
    /// The issuing CA's subject name exactly as `archivist card list` shows it; needed only when
    /// tls.client_ca names several CAs.
    #[arg(long, value_name = "DN")]
    pub issuer: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Let the card see a controller's material.
    Link {
        #[arg(value_name = "CARD_NUMBER")]
        card_number: String,
        #[arg(long, value_name = "OID")]
        controller: String,
        /// Start of validity, RFC 3339 (default: now).
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// End of validity, RFC 3339 (default: until unlinked).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        #[command(flatten)]
        issuer: IssuerArg,
    },
    /// End the card's link to a controller; the history keeps it.
    Unlink {
        #[arg(value_name = "CARD_NUMBER")]
        card_number: String,
        #[arg(long, value_name = "OID")]
        controller: String,
        #[command(flatten)]
        issuer: IssuerArg,
    },
    /// Every link ever made (of one card number, or of all), tab-separated.
    List {
        #[arg(value_name = "CARD_NUMBER")]
        card_number: Option<String>,
    },
    /// Import bindings of certificates to card numbers, for `auth.card_number_rule = { kind =
    /// "enrolled" }`: a CSV file with the header
    /// `card_number,issuer,certificate_serial,public_key_sha256` (README: "Enrolment file").
    /// All rows or none.
    ImportEnrolment {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make a card an administrator (the first one is made this way).
    Grant {
        #[arg(value_name = "CARD_NUMBER")]
        card_number: String,
        #[command(flatten)]
        issuer: IssuerArg,
    },
    /// End a card's administrator right.
    Revoke {
        #[arg(value_name = "CARD_NUMBER")]
        card_number: String,
        #[command(flatten)]
        issuer: IssuerArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and the tree heads from the rows and check every signed
    /// checkpoint (database and checkpoint directories). Exit codes: 0 intact, 1 tampering
    /// found, 2 could not verify. Names sequence numbers, row ids and times, never contents.
    Verify {
        /// A checkpoint directory to check too (repeatable; default: audit.checkpoint_dir).
        #[arg(long = "checkpoints", value_name = "DIR")]
        checkpoints: Vec<PathBuf>,
        /// A public key (`archivist audit public-key`; repeatable after a key change); default:
        /// audit.signing_key_file's.
        #[arg(long = "public-key", value_name = "FILE")]
        public_key: Vec<PathBuf>,
    },
    /// Add the rows written since the last round to the chain now (the server does this every
    /// second), signing a checkpoint when one is due.
    Seal,
    /// An inclusion proof of the row at SEQ in a signed checkpoint, as JSON on standard output
    /// (the proof holds the row; making it is audited).
    Prove {
        #[arg(value_name = "SEQ")]
        seq: u64,
        /// The checkpoint's size (default: the newest checkpoint).
        #[arg(long, value_name = "SIZE")]
        checkpoint: Option<u64>,
    },
    /// A consistency proof between the checkpoints of OLD and NEW rows (the log only grew), as
    /// JSON on standard output.
    ProveConsistency {
        #[arg(value_name = "OLD")]
        old: u64,
        #[arg(value_name = "NEW")]
        new: u64,
    },
    /// Check a proof file offline, with the public key only. Exits with 1 when it does not hold.
    CheckProof {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
    },
    /// Print the public key of audit.signing_key_file, for auditors.
    PublicKey,
    /// Make a new Ed25519 signing key file (never replaces one) and print its public key.
    NewKey {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Rows of the audit log as CSV on standard output, oldest first (the export is itself
    /// audited).
    Export {
        /// From this time on, RFC 3339.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Before this time, RFC 3339.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// An action code or its beginning, e.g. `admin.` or `tls.certificate_refused`.
        #[arg(long)]
        action: Option<String>,
        #[arg(long, value_name = "CARD_NUMBER")]
        card_number: Option<String>,
        #[arg(long, value_name = "OID")]
        controller: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ControllerCommand {
    /// Add a controller, so that cards can be linked before its first document arrives.
    Create {
        #[arg(value_name = "OID")]
        oid: String,
        #[arg(long)]
        name: String,
    },
    /// Change a controller's name.
    Rename {
        #[arg(value_name = "OID")]
        oid: String,
        #[arg(long)]
        name: String,
    },
    /// Record a merger: SUCCESSOR took over OID and becomes the active controller of its
    /// documents. Not undone.
    Merge {
        #[arg(value_name = "OID")]
        oid: String,
        #[arg(long, value_name = "OID")]
        into: String,
    },
    /// Every controller, tab-separated.
    List,
}

#[derive(Debug, Subcommand)]
pub enum DeploymentTestCommand {
    /// Create the controller's test (in progress) if it has none, and add documents and test
    /// clients to its case. A test client's documents belong to the case whenever they arrive.
    Define {
        #[arg(value_name = "CONTROLLER_OID")]
        controller: String,
        /// A document version of the test case, by OID (repeatable).
        #[arg(long = "document", value_name = "OID")]
        documents: Vec<String>,
        /// A test client by identifier, e.g. a 900-series personal identity code (repeatable).
        #[arg(long = "client", value_name = "ID")]
        clients: Vec<String>,
    },
    /// Start the test again: a new round without checks, and the controller back in
    /// deployment until the test is confirmed again.
    Reset {
        #[arg(value_name = "CONTROLLER_OID")]
        controller: String,
        /// Why, for the record (shown to the archivists).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Add a notice (--kind, --text-fi and --text-sv are required); prints its id.
    Add {
        #[command(flatten)]
        fields: NoticeFields,
    },
    /// Change a notice that has not ended; the fields not given stay as they are.
    Edit {
        #[arg(value_name = "ID")]
        id: i64,
        #[command(flatten)]
        fields: NoticeFields,
    },
    /// End a notice now (one not yet begun is withdrawn).
    End {
        #[arg(value_name = "ID")]
        id: i64,
    },
    /// The newest notices, ended ones too, tab-separated.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Close the service now until --until: pages answer 503 with the maintenance notice,
    /// administrators still get in.
    Start {
        /// When the service opens again, RFC 3339.
        #[arg(long, value_name = "TIME")]
        until: String,
        /// Why, for the record (administrators and the audit log see it, archivists do not).
        #[arg(long)]
        reason: String,
    },
    /// Open the service again: end the maintenance break that closes it.
    End,
}

#[derive(Debug, Subcommand)]
pub enum CrlCommand {
    /// Show each configured CRL's issuer, number, this and next update and signature check.
    /// Exits with 1 when any CRL is stale or not signed by a configured CA (for monitoring).
    Status,
}

/// Runs the command; every failure ends in one `error:` line and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let settings = Settings::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    telemetry::init(&settings.log);
    // One crypto provider for the whole process (TLS server and the database client), chosen
    // before anything asks for a default.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;

    let done = match cli.command {
        // Its own exit codes: tampering found (1) is not the same as could not check (2).
        Command::Audit {
            command:
                AuditCommand::Verify {
                    checkpoints,
                    public_key,
                },
        } => {
            return Ok(runtime.block_on(audit_commands::verify(
                &settings,
                checkpoints,
                &public_key,
            )));
        }
        Command::Audit {
            command: AuditCommand::Seal,
        } => runtime.block_on(audit_commands::seal(&settings)),
        Command::Audit {
            command: AuditCommand::Prove { seq, checkpoint },
        } => runtime.block_on(audit_commands::prove(&settings, seq, checkpoint)),
        Command::Audit {
            command: AuditCommand::ProveConsistency { old, new },
        } => runtime.block_on(audit_commands::prove_consistency(&settings, old, new)),
        Command::Audit {
            command: AuditCommand::CheckProof { file, public_key },
        } => audit_commands::check_proof(&file, &public_key),
        Command::Audit {
            command: AuditCommand::PublicKey,
        } => audit_commands::print_public_key(&settings),
        Command::Audit {
            command: AuditCommand::NewKey { file },
        } => audit_commands::new_key(&file),
        Command::Serve => runtime.block_on(async {
            let app = startup::Application::build(&settings)
                .await
                .map_err(|e| e.to_string())?;
            app.run_until(startup::shutdown_signal()).await;
            Ok(())
        }),
        Command::Migrate => runtime.block_on(async {
            let pool = db::connect(&settings.database)
                .await
                .map_err(|e| e.to_string())?;
            db::migrate(&pool).await.map_err(|e| e.to_string())?;
            tracing::info!("database migrations applied");
            Ok(())
        }),
        Command::Crl {
            command: CrlCommand::Status,
        } => {
            let statuses = tls::crl_status::crl_status(&settings.tls).map_err(|e| e.to_string())?;
            let now = time::OffsetDateTime::now_utc();
            for status in &statuses {
                println!("{}", status.report(now));
            }
            let unusable = statuses.iter().filter(|s| !s.is_current(now)).count();
            if statuses.is_empty() {
                Err("tls.client_crl names no CRL: revocation is not checked".to_owned())
            } else if unusable > 0 {
                Err(format!(
                    "{unusable} CRL(s) stale or not signed by a configured CA"
                ))
            } else {
                Ok(())
            }
        }
        Command::Import {
            paths,
            jobs,
            metrics_file,
        } => runtime.block_on(commands::import(
            &settings,
            &paths,
            jobs,
            metrics_file.as_deref(),
        )),
        Command::Card { command } => runtime.block_on(card(&settings, command)),
        Command::Admin { command } => runtime.block_on(admin(&settings, command)),
        Command::Notice { command } => runtime.block_on(notice(&settings, command)),
        Command::Maintenance { command } => runtime.block_on(maintenance(&settings, command)),
        Command::Controller { command } => runtime.block_on(controller(&settings, command)),
        Command::DeploymentTest { command } => {
            runtime.block_on(deployment_test(&settings, command))
        }
        Command::Audit {
            command:
                AuditCommand::Export {
                    since,
                    until,
                    action,
                    card_number,
                    controller,
                },
        } => {
            let filter = crate::audit::AuditFilter {
                since: since
                    .map(|t| admin_commands::parse_time("--since", &t))
                    .transpose()?,
                until: until
                    .map(|t| admin_commands::parse_time("--until", &t))
                    .transpose()?,
                action,
                card_number: card_number
                    .map(|n| admin_commands::parse_card_number(&n).map(|n| n.to_string()))
                    .transpose()?,
                controller_oid: controller
                    .map(|c| controller_oid(&c).map(|c| c.to_string()))
                    .transpose()?,
            };
            runtime.block_on(admin_commands::export_audit(&settings, &filter))
        }
        Command::Show { document_oid } => {
            runtime.block_on(commands::show(&settings, &document_oid))
        }
        Command::Export { document_oid, part } => {
            let part = match part {
                Part::Cda => "cda",
                Part::Frame => "frame",
            };
            runtime.block_on(commands::export(&settings, &document_oid, part))
        }
        Command::Demo {
            command:
                Some(DemoCommand::Data {
                    out,
                    seed,
                    controllers,
                    clients,
                    documents,
                }),
            ..
        } => commands::generate(
            &out,
            &demo::documents::Options {
                seed,
                controllers,
                clients,
                documents,
            },
        ),
        Command::Demo {
            command: None,
            dir,
            force,
            documents,
        } => {
            let (pki_dir, created) = demo::create(&dir, force).map_err(|e| e.to_string())?;
            if created {
                println!("demo PKI written to {}", pki_dir.display());
            } else {
                println!(
                    "demo PKI already in {} (use --force to make a new one)",
                    pki_dir.display()
                );
            }
            let documents_dir = dir.join("documents");
            if documents_dir.exists() && !force {
                println!(
                    "demo documents already in {} (use --force to make new ones)",
                    documents_dir.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            if documents_dir.exists() {
                std::fs::remove_dir_all(&documents_dir)
                    .map_err(|e| format!("cannot replace {}: {e}", documents_dir.display()))?;
            }
            commands::generate(
                &documents_dir,
                &demo::documents::Options {
                    seed: 1,
                    controllers: 3,
                    clients: 40,
                    documents,
                },
            )
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn controller_oid(value: &str) -> Result<ControllerOid, String> {
    ControllerOid::parse(value).map_err(|e| format!("--controller: {e}"))
}

async fn card(settings: &Settings, command: CardCommand) -> Result<(), String> {
    let message = match command {
        CardCommand::Link {
            card_number,
            controller,
            from,
            until,
            issuer,
        } => {
            let card = admin_commands::card_key(settings, &card_number, issuer.issuer.as_deref())?;
            let controller = controller_oid(&controller)?;
            let validity = Validity {
                from: from
                    .map(|t| admin_commands::parse_time("--from", &t))
                    .transpose()?,
                until: until
                    .map(|t| admin_commands::parse_time("--until", &t))
                    .transpose()?,
            };
            let pool = commands::pool(settings).await?;
            admin_commands::link(&pool, &card, &controller, validity).await?
        }
        CardCommand::Unlink {
            card_number,
            controller,
            issuer,
        } => {
            let card = admin_commands::card_key(settings, &card_number, issuer.issuer.as_deref())?;
            let controller = controller_oid(&controller)?;
            let pool = commands::pool(settings).await?;
            admin_commands::unlink(&pool, &card, &controller).await?
        }
        CardCommand::List { card_number } => {
            let card_number = card_number
                .map(|n| admin_commands::parse_card_number(&n))
                .transpose()?;
            let pool = commands::pool(settings).await?;
            admin_commands::list(&pool, card_number.as_ref()).await?
        }
        CardCommand::ImportEnrolment { file } => {
            let issuers = admin_commands::configured_issuers(settings)?;
            let rows = admin_commands::read_enrolment_file(&file, &issuers)?;
            let pool = commands::pool(settings).await?;
            admin_commands::import_enrolment(&pool, &file, &rows).await?
        }
    };
    println!("{message}");
    Ok(())
}

async fn admin(settings: &Settings, command: AdminCommand) -> Result<(), String> {
    let message = match command {
        AdminCommand::Grant {
            card_number,
            issuer,
        } => {
            let card = admin_commands::card_key(settings, &card_number, issuer.issuer.as_deref())?;
            let pool = commands::pool(settings).await?;
            admin_commands::grant(&pool, &card).await?
        }
        AdminCommand::Revoke {
            card_number,
            issuer,
        } => {
            let card = admin_commands::card_key(settings, &card_number, issuer.issuer.as_deref())?;
            let pool = commands::pool(settings).await?;
            admin_commands::revoke(&pool, &card).await?
        }
    };
    println!("{message}");
    Ok(())
}

async fn controller(settings: &Settings, command: ControllerCommand) -> Result<(), String> {
    let oid =
        |value: &str, what: &str| ControllerOid::parse(value).map_err(|e| format!("{what}: {e}"));
    let message = match command {
        ControllerCommand::Create { oid: id, name } => {
            let id = oid(&id, "OID")?;
            let pool = commands::pool(settings).await?;
            admin_commands::create_controller(&pool, &id, &name).await?
        }
        ControllerCommand::Rename { oid: id, name } => {
            let id = oid(&id, "OID")?;
            let pool = commands::pool(settings).await?;
            admin_commands::rename_controller(&pool, &id, &name).await?
        }
        ControllerCommand::Merge { oid: id, into } => {
            let id = oid(&id, "OID")?;
            let into = oid(&into, "--into")?;
            let pool = commands::pool(settings).await?;
            admin_commands::merge_controller(&pool, &id, &into).await?
        }
        ControllerCommand::List => {
            let pool = commands::pool(settings).await?;
            admin_commands::list_controllers(&pool).await?
        }
    };
    println!("{message}");
    Ok(())
}

async fn deployment_test(
    settings: &Settings,
    command: DeploymentTestCommand,
) -> Result<(), String> {
    let controller_oid =
        |value: &str| ControllerOid::parse(value).map_err(|e| format!("CONTROLLER_OID: {e}"));
    let message = match command {
        DeploymentTestCommand::Define {
            controller,
            documents,
            clients,
        } => {
            let controller = controller_oid(&controller)?;
            let documents = documents
                .iter()
                .map(|d| DocumentOid::parse(d).map_err(|e| format!("--document {d}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let pool = commands::pool(settings).await?;
            admin_commands::define_deployment_test(&pool, &controller, &documents, &clients).await?
        }
        DeploymentTestCommand::Reset { controller, reason } => {
            let controller = controller_oid(&controller)?;
            let pool = commands::pool(settings).await?;
            admin_commands::reset_deployment_test(&pool, &controller, &reason).await?
        }
    };
    println!("{message}");
    Ok(())
}

async fn notice(settings: &Settings, command: NoticeCommand) -> Result<(), String> {
    let pool = commands::pool(settings).await?;
    let message = match command {
        NoticeCommand::Add { fields } => notice_commands::add(&pool, fields).await?,
        NoticeCommand::Edit { id, fields } => notice_commands::edit(&pool, id, fields).await?,
        NoticeCommand::End { id } => notice_commands::end(&pool, id).await?,
        NoticeCommand::List { limit } => notice_commands::list(&pool, limit).await?,
    };
    println!("{message}");
    Ok(())
}

async fn maintenance(settings: &Settings, command: MaintenanceCommand) -> Result<(), String> {
    let pool = commands::pool(settings).await?;
    let message = match command {
        MaintenanceCommand::Start { until, reason } => {
            notice_commands::start_maintenance(&pool, &until, &reason).await?
        }
        MaintenanceCommand::End => notice_commands::end_maintenance(&pool).await?,
    };
    println!("{message}");
    Ok(())
}
