//! `mingpian`: the command line over the card domain, the wallet and the cloud client.
//!
//! Every command prints for people by default and JSON with the global `--json` flag. Failures
//! are one line on stderr and a non-zero exit: 1 when the command ran but something it was given
//! was bad (a broken card, an image without a code), 2 when it could not run at all.

mod cmd;
mod output;
mod when;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mingpian_wallet::{Wallet, WalletError};

/// The same allocator the app uses: the wallet's batch import runs on two threads, and glibc's
/// malloc spent ~40% of it in lock contention between them.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "mingpian",
    version,
    about = "Mingpian (名片): business cards, vCards and QR codes"
)]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Where the wallet lives (default: the platform's data directory, e.g.
    /// ~/.local/share/mingpian).
    #[arg(long, global = true, env = "MINGPIAN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, check and convert vCard files.
    #[command(subcommand)]
    Vcard(cmd::vcard::VcardCommand),
    /// Make QR codes and read them from pictures; show your own code.
    #[command(subcommand)]
    Qr(QrCommand),
    /// Create an account on a Mingpian cloud and log this wallet in.
    Register(cmd::client::RegisterArgs),
    /// Log this wallet in to an existing account.
    Login(cmd::client::LoginArgs),
    /// Your own card sets.
    #[command(subcommand)]
    Card(cmd::client::CardCommand),
    /// Scan someone's code (a picture or its text): get their card, give them yours.
    Scan(cmd::client::ScanArgs),
    /// Bring cards people sent you into the wallet.
    Inbox {
        /// Wait on the live stream up to SECONDS for a card when none is waiting.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// The cards you hold.
    #[command(subcommand)]
    Wallet(cmd::wallet::WalletCommand),
    /// Import vCard (2.1/3.0/4.0) and CSV (Google, Outlook) files into the wallet.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Export the wallet (or chosen contacts) as vCard 3.0, 4.0 or CSV.
    Export {
        #[arg(long, default_value = "vcf3", value_parser = ["vcf3", "vcf4", "csv"])]
        format: String,
        #[arg(short, long)]
        output: PathBuf,
        /// Only this contact (repeatable).
        #[arg(long = "contact")]
        contacts: Vec<String>,
    },
    /// Back up the wallet to the cloud and take in changes from your other devices.
    Sync,
    /// The wallet as your phone's own address book (CardDAV): app passwords and the address.
    #[command(subcommand)]
    Carddav(cmd::carddav::CardDavCommand),
    /// Bring back the wallet from the cloud (after logging in on a new phone).
    Restore,
}

#[derive(Debug, Subcommand)]
enum QrCommand {
    #[command(flatten)]
    Image(cmd::qr::QrCommand),
    /// Show one of your card set's codes: a live one (whole card, expires) unless --printed.
    Show(cmd::client::QrShowArgs),
}

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The command ran but some input was bad (reported already).
    Problems,
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?);
            Some(if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".local/share")
            })
        })
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .context("no data directory: pass --data-dir")?;
    Ok(base.join("mingpian"))
}

fn open_wallet(dir: Option<PathBuf>) -> anyhow::Result<Wallet> {
    let dir = match dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    Wallet::open(&dir).with_context(|| format!("opening the wallet in {}", dir.display()))
}

fn run(cli: Cli, out: &output::Output) -> anyhow::Result<Outcome> {
    use cmd::client;
    let dir = cli.data_dir;
    match cli.command {
        Command::Vcard(c) => cmd::vcard::run(c, out),
        Command::Qr(QrCommand::Image(c)) => cmd::qr::run(c, out),
        Command::Qr(QrCommand::Show(a)) => client::qr_show(&open_wallet(dir)?, a, out),
        Command::Register(a) => client::register(&open_wallet(dir)?, a, out),
        Command::Login(a) => client::login(&open_wallet(dir)?, a, out),
        Command::Card(c) => client::card(&open_wallet(dir)?, c, out),
        Command::Scan(a) => client::scan(&open_wallet(dir)?, a, out),
        Command::Inbox { wait } => client::inbox(&open_wallet(dir)?, wait, out),
        Command::Wallet(c) => cmd::wallet::run(&open_wallet(dir)?, c, out),
        Command::Import { files } => cmd::wallet::import(&open_wallet(dir)?, &files, out),
        Command::Export {
            format,
            output,
            contacts,
        } => cmd::wallet::export(&open_wallet(dir)?, &format, &output, &contacts, out),
        Command::Sync => client::sync(&open_wallet(dir)?, false, out),
        Command::Carddav(c) => cmd::carddav::run(&open_wallet(dir)?, c, out),
        Command::Restore => client::sync(&open_wallet(dir)?, true, out),
    }
}

/// Exit 1 for what the user gave (a wrong password, an unknown contact, a rotated code), 2 for
/// what kept the command from running (no network, a damaged database).
fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<WalletError>() {
        Some(
            WalletError::Offline(_)
            | WalletError::Db(_)
            | WalletError::Io(_)
            | WalletError::Corrupt(_),
        ) => 2,
        Some(w) if w.is_transient() => 2,
        Some(_) => 1,
        None => 2,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.json);
    match run(cli, &out) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        // The reader went away (`mingpian vcard check big.vcf | head`): nothing more to say,
        // as other command-line tools behave.
        Err(e) if e.downcast_ref::<output::StdoutClosed>().is_some() => ExitCode::from(141),
        Err(e) => {
            let code = exit_code(&e);
            if out.json() {
                let body = match e.downcast_ref::<WalletError>() {
                    Some(w) => w.to_body(),
                    // Not the wallet's: a file that could not be read, a picture without a card.
                    None => mingpian_wallet::ErrorBody {
                        code: mingpian_wallet::ErrorCode::Io,
                        message: format!("{e:#}"),
                    },
                };
                eprintln!("{}", serde_json::to_string(&body).unwrap_or_default());
            } else {
                eprintln!("mingpian: {e:#}");
            }
            ExitCode::from(code)
        }
    }
}
