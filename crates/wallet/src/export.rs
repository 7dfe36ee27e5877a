//! Batch export (claim 9): the wallet's cards out as vCard 3.0/4.0 or CSV, tags as categories.

use mingpian_card::Card;
use mingpian_card::vcard::{self, Version};
use serde::{Deserialize, Serialize};

use crate::Wallet;
use crate::contacts;
use crate::csv_layout;
use crate::error::{Result, WalletError};
use crate::import::PROGRESS_EVERY;
use crate::model::Progress;

impl Wallet {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
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

/// A file the wallet wrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Exported {
    pub path: String,
    pub bytes: u32,
}

impl Wallet {
    /// Exports every card into `dir` as `mingpian-cards.{vcf,csv}`, written whole or not at all
    /// (a temporary file renamed into place).
    pub fn export_to_dir(&self, format: ExportFormat, dir: &std::path::Path) -> Result<Exported> {
        let data = self.export(format, None, &mut |_| {})?;
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("mingpian-cards.{}", format.extension()));
        let part = dir.join(format!(".mingpian-cards.{}.part", format.extension()));
        std::fs::write(&part, &data)?;
        std::fs::rename(&part, &path)?;
        Ok(Exported {
            path: path.display().to_string(),
            bytes: u32::try_from(data.len()).unwrap_or(u32::MAX),
        })
    }
}
