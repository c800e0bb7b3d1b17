//! The `archivist` command line.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

use crate::{config::Settings, db, demo, startup, telemetry, tls};

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
    /// Create the demo PKI (certificates, keys, CRL, PKCS#12) under DIR/pki.
    Demo {
        /// Folder for the demo material.
        #[arg(long, default_value = "demo", value_name = "DIR")]
        dir: PathBuf,
        /// Make a new PKI even if DIR/pki already has one (browsers must re-import).
        #[arg(long)]
        force: bool,
    },
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
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let settings = Settings::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    telemetry::init(&settings.log);
    // One crypto provider for the whole process (TLS server and the database client), chosen
    // before anything asks for a default.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;

    match cli.command {
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
        Command::Demo { dir, force } => {
            let (pki_dir, created) = demo::create(&dir, force).map_err(|e| e.to_string())?;
            if created {
                println!("demo PKI written to {}", pki_dir.display());
            } else {
                println!(
                    "demo PKI already in {} (use --force to make a new one)",
                    pki_dir.display()
                );
            }
            Ok(())
        }
    }
}
