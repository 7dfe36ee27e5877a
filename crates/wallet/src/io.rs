//! Batch import and export (claim 9): vCard 2.1/3.0/4.0 and CSV files in, vCard 3.0/4.0 and CSV
//! out. A broken card is one entry in the report; every other card imports. Re-importing a file
//! changes nothing (see [`crate::contacts::import`] for what counts as an update).

use std::path::Path;

use mingpian_card::Card;
use mingpian_card::vcard::{self, Version};
use serde::{Deserialize, Serialize};

use crate::contacts::{self, Arrival};
use crate::csv_layout;
use crate::error::{Result, WalletError};
use crate::model::{ImportProblem, ImportReport, Outcome, Progress, Source};
use crate::util::now_ms;
use crate::Wallet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Vcf3,
    Vcf4,
    Csv,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "vcf3" | "vcf" | "vcard" | "3.0" => Ok(ExportFormat::Vcf3),
            "vcf4" | "4.0" => Ok(ExportFormat::Vcf4),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(WalletError::Invalid(format!(
                "unknown export format {other:?}: use vcf3, vcf4 or csv"
            ))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            _ => "vcf",
        }
    }
}

/// How often the progress callback hears from a long import.
const PROGRESS_EVERY: usize = 250;

fn looks_like_csv(name: &str, bytes: &[u8]) -> bool {
    if name.to_ascii_lowercase().ends_with(".csv") {
        return true;
    }
    if name.to_ascii_lowercase().ends_with(".vcf") {
        return false;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_uppercase();
    !head.contains("BEGIN:VCARD") && !head.contains("B\0E\0G\0I\0N\0")
}

/// Cards of one file, read, with what went wrong.
struct Parsed {
    name: String,
    cards: Vec<(usize, Card)>,
    errors: Vec<ImportProblem>,
    warnings: Vec<ImportProblem>,
}

fn parse(name: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed {
        name: name.to_owned(),
        cards: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    if looks_like_csv(name, bytes) {
        let read = csv_layout::read(&csv_layout::decode(bytes));
        parsed.cards = read.cards;
        parsed.errors = read
            .errors
            .into_iter()
            .map(|e| ImportProblem {
                file: name.to_owned(),
                item: e.row,
                line: e.line,
                message: e.message,
            })
            .collect();
        return parsed;
    }
    let report = vcard::read(bytes);
    let problem = |p: vcard::Problem| ImportProblem {
        file: name.to_owned(),
        item: p.card,
        line: p.line,
        message: p.message,
    };
    parsed.cards = report.cards.into_iter().enumerate().map(|(i, c)| (i + 1, c)).collect();
    parsed.errors = report.errors.into_iter().map(problem).collect();
    parsed.warnings = report.warnings.into_iter().map(problem).collect();
    if parsed.cards.is_empty() && parsed.errors.is_empty() {
        parsed.errors.push(ImportProblem {
            file: name.to_owned(),
            item: 0,
            line: 0,
            message: "no vCard or CSV contacts in this file".into(),
        });
    }
    parsed
}

impl Wallet {
    /// Imports vCard and CSV files. Files that cannot be read are reported and the rest import.
    pub fn import_files(
        &self,
        paths: &[impl AsRef<Path>],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let mut files = Vec::new();
        let mut unreadable = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let name = path.display().to_string();
            match std::fs::read(path) {
                Ok(bytes) => files.push((name, bytes)),
                Err(e) => unreadable.push(ImportProblem {
                    file: name,
                    item: 0,
                    line: 0,
                    message: format!("cannot read the file: {e}"),
                }),
            }
        }
        let mut report = self.import_many(&files, progress)?;
        report.files += unreadable.len();
        report.errors.splice(0..0, unreadable);
        Ok(report)
    }

    /// Imports files already in memory (the app hands over picked files this way).
    pub fn import_many(
        &self,
        files: &[(String, Vec<u8>)],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let parsed: Vec<Parsed> = files.iter().map(|(n, b)| parse(n, b)).collect();
        let total: usize = parsed.iter().map(|p| p.cards.len()).sum();
        let mut report = ImportReport {
            files: files.len(),
            read: total,
            ..ImportReport::default()
        };
        progress(Progress { done: 0, total });
        let mut done = 0;
        for file in parsed {
            report.errors.extend(file.errors);
            report.warnings.extend(file.warnings);
            // One transaction per file: a 10,000-card file is one commit, not 10,000.
            self.write(|c, region| {
                let now = now_ms();
                for (item, card) in file.cards {
                    let mut arrival = Arrival::local(card, Source::Import);
                    arrival.received_at = now;
                    match contacts::import(c, arrival, region) {
                        Ok(r) => match r.outcome {
                            Outcome::Added => report.added += 1,
                            Outcome::Linked => report.linked += 1,
                            Outcome::Updated => report.updated += 1,
                            Outcome::Unchanged => report.unchanged += 1,
                        },
                        // A card the database refuses is reported; the file goes on.
                        Err(e @ WalletError::Corrupt(_)) | Err(e @ WalletError::Invalid(_)) => {
                            report.errors.push(ImportProblem {
                                file: file.name.clone(),
                                item,
                                line: 0,
                                message: e.to_string(),
                            })
                        }
                        Err(e) => return Err(e),
                    }
                    done += 1;
                    if done % PROGRESS_EVERY == 0 {
                        progress(Progress { done, total });
                    }
                }
                Ok(())
            })?;
        }
        progress(Progress { done, total });
        Ok(report)
    }

    /// Exports the current version of every card of the given contacts (all contacts when
    /// `None`), the contact's tags added to each card's categories.
    pub fn export(
        &self,
        format: ExportFormat,
        contact_ids: Option<&[String]>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<u8>> {
        let cards: Vec<Card> = self.read(|c| {
            let ids: Vec<String> = match contact_ids {
                Some(ids) => ids.to_vec(),
                None => contacts::list(c)?.into_iter().map(|k| k.id).collect(),
            };
            let mut out = Vec::new();
            for id in ids {
                let contact = contacts::get(c, &id)?;
                for stored in contacts::cards_of(c, &id)? {
                    let mut card = stored.card;
                    for tag in &contact.tags {
                        if !card.categories.contains(tag) {
                            card.categories.push(tag.clone());
                        }
                    }
                    out.push(card);
                }
            }
            Ok(out)
        })?;
        let total = cards.len();
        progress(Progress { done: 0, total });
        let bytes = match format {
            ExportFormat::Csv => csv_layout::write(&cards)
                .map_err(|e| WalletError::Invalid(format!("writing CSV: {e}")))?,
            ExportFormat::Vcf3 | ExportFormat::Vcf4 => {
                let version = if format == ExportFormat::Vcf3 {
                    Version::V3
                } else {
                    Version::V4
                };
                let mut out = String::new();
                for (i, card) in cards.iter().enumerate() {
                    out.push_str(&vcard::write(card, version));
                    if (i + 1) % PROGRESS_EVERY == 0 {
                        progress(Progress { done: i + 1, total });
                    }
                }
                out.into_bytes()
            }
        };
        progress(Progress { done: total, total });
        Ok(bytes)
    }
}
