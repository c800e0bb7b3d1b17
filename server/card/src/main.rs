// Request paths and commands report failures as errors; a panic is for tests only.
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::panic))]
use std::{path::PathBuf, process::ExitCode, time::Duration};

use archivist_card::{
    Failure, Lang, checks,
    enrol::{self, EnrolmentRecord, Written},
    fineid::{self, CardContents},
    pkcs11::CardKey,
    reader::Readers,
    report::{self, Label},
    server_query,
};
use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;

const EXIT_CODES: &str = "\
Exit codes:
   0  the card is fine (check), the record was written (enrol)
   1  the tool itself failed (reader error, cannot write the file)
   2  wrong command-line usage
   3  the PC/SC service (pcscd) is not running
   4  no card reader (or no reader of the given name)
   5  no card in the reader
   6  not a FINEID card
   7  no authentication certificate on the card
   8  the certificate is damaged
   9  the certificate has expired or is not yet valid
  10  the certificate has been revoked
  11  the certificate's issuer is not a configured issuing CA
  12  the card was removed during reading
  13  the server's other checks refuse the certificate (key usage, policy, revocation status)
  14  the card number cannot be read or derived
  15  the configuration is incomplete or unreadable
  16  the server could not be asked (--server)
  17  the server says the card is not linked to any controller (--server with
      --pkcs11-module: it says so only to a question that proves the card)
  18  the card's PKCS#11 module cannot sign with this card (--pkcs11-module)
  19  the card did not accept the PIN, or none was given";

/// Reads the professional card in a local reader: why sign-in fails, and enrolment records.
/// Asks for the PIN only with `--pkcs11-module`, and gives it only to that module.
#[derive(Parser)]
#[command(name = "archivist-card", version, after_help = EXIT_CODES)]
struct Cli {
    /// Language of the messages; default from the locale (LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, global = true, value_enum)]
    lang: Option<Lang>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the card readers and whether a card is in each.
    Readers,
    /// Read the card and run the server's certificate checks on it.
    Check {
        #[command(flatten)]
        card: CardArgs,
        /// Also ask this server (https://…) what it makes of the card: accepted or why not, and
        /// the card number it uses.
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// The CA certificate (PEM) the server's own certificate is issued by; default: the
        /// system's trusted roots.
        #[arg(long, value_name = "FILE", requires = "server")]
        server_ca: Option<PathBuf>,
        /// The card software's PKCS#11 module (e.g. OpenSC's `opensc-pkcs11.so`): the card
        /// signs the connection to the server, which then also tells how many controllers the
        /// card is linked to. Asks for the card's PIN1 (the authentication PIN).
        #[arg(long, value_name = "FILE", requires = "server")]
        pkcs11_module: Option<PathBuf>,
        /// Read the PIN from the first line of standard input instead of the terminal.
        #[arg(long, requires = "pkcs11_module")]
        pin_stdin: bool,
    },
    /// For administrators: append the card's enrolment record (card number, issuer, serial,
    /// public-key hash) to FILE, for `archivist card import-enrolment`.
    Enrol {
        #[command(flatten)]
        card: CardArgs,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Args)]
struct CardArgs {
    /// The reader to use (see `readers`); default: the first reader with a card.
    #[arg(long, value_name = "NAME")]
    reader: Option<String>,
    /// Wait up to two minutes for a card to be inserted.
    #[arg(long)]
    wait: bool,
    /// The server's configuration file (issuing CAs, CRLs, card policies, card number rule);
    /// ARCHIVIST_… environment variables override it as for the server.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

const WAIT: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = cli
        .lang
        .unwrap_or_else(|| Lang::from_locale(|name| std::env::var(name).ok()));
    let outcome = match cli.command {
        Command::Readers => readers(lang),
        Command::Check {
            card,
            server,
            server_ca,
            pkcs11_module,
            pin_stdin,
        } => {
            let question = server.map(|url| Question {
                url,
                server_ca,
                pkcs11_module,
                pin_stdin,
            });
            check(lang, &card, question.as_ref())
        }
        Command::Enrol { card, out } => enrol(lang, &card, &out),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{}", failure.message(lang));
            ExitCode::from(failure.exit_code())
        }
    }
}

fn readers(lang: Lang) -> Result<(), Failure> {
    let (card, no_card) = match lang {
        Lang::Fi => ("kortti lukijassa", "ei korttia"),
        Lang::Sv => ("kort i läsaren", "inget kort"),
        Lang::En => ("card present", "no card"),
    };
    for reader in Readers::connect()?.list()? {
        let state = if reader.card_present { card } else { no_card };
        println!("{}: {state}", reader.name);
    }
    Ok(())
}

/// Reads the card in the chosen reader, in one card session.
fn read(args: &CardArgs, lang: Lang) -> Result<CardContents, Failure> {
    let readers = Readers::connect()?;
    let reader = readers.choose(args.reader.as_deref(), args.wait.then_some(WAIT))?;
    println!("{}: {}", Label::Reader.text(lang), reader.to_string_lossy());
    readers.with_card(&reader, fineid::read_card)
}

/// `--server` and what goes with it.
struct Question {
    url: String,
    server_ca: Option<PathBuf>,
    pkcs11_module: Option<PathBuf>,
    pin_stdin: bool,
}

fn check(lang: Lang, args: &CardArgs, question: Option<&Question>) -> Result<(), Failure> {
    let contents = read(args, lang)?;
    report::print(&report::describe(&contents, lang)?, lang);
    let settings = checks::load_settings(args.config.as_deref())?;
    let notes = checks::verify(&settings, &contents.certificate, OffsetDateTime::now_utc())?;
    if notes.revocation_unchecked {
        println!("{}", revocation_unchecked(lang));
    }
    let derived =
        checks::derived_card_number(&settings.auth.card_number_rule, &contents.certificate)?;
    if let Some(number) = &derived {
        println!("{}: {number}", Label::ServerCardNumber.text(lang));
    }
    if let Some(question) = question {
        let card = match &question.pkcs11_module {
            Some(module) => {
                let pin = read_pin(lang, question.pin_stdin)?;
                Some(CardKey::open(module, &contents.certificate, &pin)?)
            }
            None => None,
        };
        let status = server_query::ask(
            &question.url,
            question.server_ca.as_deref(),
            &contents.certificate,
            card.as_ref(),
        )?;
        // First: a disruption may be why the card does not work.
        for notice in &status.notices {
            println!("{}: {}", Label::Notice.text(lang), notice.line(lang));
        }
        if !status.accepted {
            return Err(Failure::Refused {
                code: status.refusal.unwrap_or_else(|| "refused".to_owned()),
            });
        }
        // Under the enrolled rule only the server knows the number; a number that differs
        // from the local derivation means the configuration given here is not the server's.
        if let Some(number) = &status.card_number
            && derived.as_ref() != Some(number)
        {
            println!("{}: {number}", Label::ServerCardNumber.text(lang));
        }
        match status.linked_controllers {
            Some(linked) => {
                println!("{}: {linked}", Label::Linked.text(lang));
                if linked == 0 {
                    return Err(Failure::NotLinked);
                }
            }
            None => println!(
                "{}: {}",
                Label::Linked.text(lang),
                Label::LinksNotTold.text(lang)
            ),
        }
    }
    println!("{}: {}", Label::Result.text(lang), card_ok(lang));
    Ok(())
}

/// The card's PIN1, from the terminal without echo or from standard input's first line.
fn read_pin(lang: Lang, from_stdin: bool) -> Result<String, Failure> {
    let read = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map(|_| line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        rpassword::prompt_password(format!("{}: ", Label::Pin.text(lang)))
    };
    match read {
        Ok(pin) if !pin.is_empty() => Ok(pin),
        Ok(_) => Err(Failure::Pin("no PIN was given".to_owned())),
        Err(error) => Err(Failure::Pin(format!("cannot read the PIN: {error}"))),
    }
}

fn enrol(lang: Lang, args: &CardArgs, out: &std::path::Path) -> Result<(), Failure> {
    let contents = read(args, lang)?;
    let record = EnrolmentRecord::from_card(&contents)?;
    report::print(&report::describe(&contents, lang)?, lang);
    let settings = checks::load_settings(args.config.as_deref())?;
    checks::verify(&settings, &contents.certificate, OffsetDateTime::now_utc())?;
    let written = enrol::append(out, &record)?;
    let (added, present) = match lang {
        Lang::Fi => ("Kirjoitettu tiedostoon", "On jo tiedostossa"),
        Lang::Sv => ("Skrivet till filen", "Finns redan i filen"),
        Lang::En => ("Written to", "Already in"),
    };
    let verb = if written == Written::Added {
        added
    } else {
        present
    };
    println!("{verb} {}: {}", out.display(), record.card_number);
    Ok(())
}

fn card_ok(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => "kortti ja varmenne ovat kunnossa",
        Lang::Sv => "kortet och certifikatet är i ordning",
        Lang::En => "the card and its certificate are fine",
    }
}

fn revocation_unchecked(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => "Huom.: sulkulistaa ei ole asetettu, joten sulkua ei tarkistettu.",
        Lang::Sv => "Obs.: ingen spärrlista är konfigurerad, så spärr kontrollerades inte.",
        Lang::En => "Note: no CRL is configured, so revocation was not checked.",
    }
}
