//! `mingpian vcard check|convert`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use mingpian_card::vcard::{self, Problem, Version};
use mingpian_card::{Card, vcard::ReadReport};
use serde::Serialize;

use crate::Outcome;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum VcardCommand {
    /// Read each file and report every card; exit 1 when any card could not be read.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Convert all cards of all files into one vCard stream.
    Convert {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// vCard version to write: 3.0 (best for phones) or 4.0.
        #[arg(long, default_value = "3.0")]
        to: Version,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run(command: VcardCommand, out: &Output) -> anyhow::Result<Outcome> {
    match command {
        VcardCommand::Check { files } => check(&files, out),
        VcardCommand::Convert { files, to, output } => convert(&files, to, output, out),
    }
}

#[derive(Debug, Serialize)]
struct CardSummary {
    #[serde(rename = "fn")]
    formatted_name: String,
    tel: Vec<String>,
    email: Vec<String>,
    org: Option<String>,
    title: Option<String>,
}

impl From<Card> for CardSummary {
    /// Takes the card's values rather than copying them (a check holds every card's summary).
    fn from(card: Card) -> Self {
        CardSummary {
            formatted_name: card.display_name(),
            tel: card.phones.into_iter().map(|p| p.value).collect(),
            email: card.emails.into_iter().map(|e| e.value).collect(),
            org: card.org,
            title: card.title,
        }
    }
}

#[derive(Debug, Serialize)]
struct FileCheck {
    file: String,
    cards: Vec<CardSummary>,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

/// Reads a file, handing each card to `each`; a file that cannot be opened is one error in its
/// report, not the end of the run.
fn read_file_each(path: &Path, each: &mut dyn FnMut(Card)) -> ReadReport {
    match mingpian_wallet::read_card_file(path) {
        Ok(bytes) => vcard::read_each(&bytes, &vcard::ReadOptions::default(), each),
        Err(message) => ReadReport {
            errors: vec![Problem {
                card: 0,
                line: 0,
                message,
            }],
            ..ReadReport::default()
        },
    }
}

/// Reads a file whole.
fn read_file(path: &Path) -> ReadReport {
    let mut cards = Vec::new();
    let mut report = read_file_each(path, &mut |card| cards.push(card));
    report.cards = cards;
    report
}

fn check(files: &[PathBuf], out: &Output) -> anyhow::Result<Outcome> {
    let mut results = Vec::new();
    let mut failed = false;
    for path in files {
        // Each card is summarised as it is read and then dropped: a large file's cards (their
        // pictures included) never all sit in memory.
        let mut cards = Vec::new();
        let report = read_file_each(path, &mut |card| cards.push(CardSummary::from(card)));
        failed |= !report.errors.is_empty();
        let file = path.display().to_string();
        if !out.json() {
            out.line(format!(
                "{file}: {} card(s), {} error(s), {} warning(s)",
                cards.len(),
                report.errors.len(),
                report.warnings.len()
            ))?;
            for card in &cards {
                let mut line = format!("  {}", card.formatted_name);
                for extra in card.org.iter().chain(&card.tel).chain(&card.email) {
                    line.push_str(" · ");
                    line.push_str(extra);
                }
                out.line(line)?;
            }
            for problem in &report.errors {
                out.line(format!("  error: {problem}"))?;
            }
            for problem in &report.warnings {
                out.line(format!("  warning: {problem}"))?;
            }
        }
        results.push(FileCheck {
            file,
            cards,
            errors: report.errors,
            warnings: report.warnings,
        });
    }
    if out.json() {
        out.one_or_many(results)?;
    }
    Ok(if failed {
        Outcome::Problems
    } else {
        Outcome::Ok
    })
}

fn convert(
    files: &[PathBuf],
    to: Version,
    output: Option<PathBuf>,
    out: &Output,
) -> anyhow::Result<Outcome> {
    let mut cards = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let report = read_file(path);
        for problem in report.errors {
            problems.push(format!("{}: {problem}", path.display()));
        }
        cards.extend(report.cards);
    }
    let (text, notes) = vcard::write_all_noted(&cards, to);
    for problem in &problems {
        eprintln!("mingpian: {problem}");
    }
    // What could not be written as valid vCard of that version is said, never silently lost.
    let dropped: Vec<String> = notes
        .iter()
        .filter(|(_, n)| n.dropped)
        .map(|(card, n)| format!("card {card}: left out {}: {}", n.property, n.why))
        .collect();
    for d in &dropped {
        eprintln!("mingpian: {d}");
    }
    match &output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            if out.json() {
                out.value(&serde_json::json!({
                    "output": path.display().to_string(),
                    "cards": cards.len(),
                    "errors": problems,
                    "dropped": dropped,
                }))?;
            } else {
                eprintln!(
                    "mingpian: wrote {} card(s) as vCard {} to {}",
                    cards.len(),
                    to.as_str(),
                    path.display()
                );
            }
        }
        None if out.json() => {
            out.value(
                &serde_json::json!({ "cards": cards.len(), "errors": problems, "dropped": dropped, "vcf": text }),
            )?;
        }
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(crate::output::stdout_error)?;
        }
    }
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Problems
    })
}
