//! `mingpian`: the command line over the card domain (and, as they land, the wallet and the
//! cloud client).
//!
//! Every command prints for people by default and JSON with the global `--json` flag. Failures
//! are one line on stderr and a non-zero exit: 1 when the command ran but something it was given
//! was bad (a broken card, an image without a code), 2 when it could not run at all.

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, check and convert vCard files.
    #[command(subcommand)]
    Vcard(cmd::vcard::VcardCommand),
    /// Make QR codes and read them from pictures.
    #[command(subcommand)]
    Qr(cmd::qr::QrCommand),
}

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The command ran but some input was bad (reported already).
    Problems,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.json);
    let result = match cli.command {
        Command::Vcard(c) => cmd::vcard::run(c, &out),
        Command::Qr(c) => cmd::qr::run(c, &out),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(e) => {
            eprintln!("mingpian: {e:#}");
            ExitCode::from(2)
        }
    }
}
