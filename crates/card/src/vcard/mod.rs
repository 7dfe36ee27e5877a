//! vCard files in and out.
//!
//! Reading accepts what phones and address books really write: vCard 2.1, 3.0 and 4.0; folded
//! lines; quoted-printable; `CHARSET` (UTF-8, GBK/GB18030, Shift_JIS, Latin-1, Windows code
//! pages); UTF-16 files; base64 and `data:` photos; Apple `itemN.` groups with `X-ABLabel`; many
//! cards per file. Reading never fails as a whole: each card that cannot be read becomes a
//! [`Problem`] with its position, and every other card is still returned.
//!
//! Writing produces 3.0 (what iOS and Android import best) or 4.0.
//!
//! We read with our own code rather than a crate: the candidates measured either accepted 4.0
//! only and dropped cards after a blank line (`vcard-parser`), or had no notion of a broken card
//! that the rest of the file survives, nor of legacy character sets per value. Keeping the
//! grammar here also keeps the wire format under our control.

mod lex;
mod read;
mod text;
mod write;

use serde::Serialize;

use crate::card::Card;

/// Which vCard version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// vCard 3.0 (RFC 2426): what iOS and Android import best.
    #[default]
    V3,
    /// vCard 4.0 (RFC 6350).
    V4,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V3 => "3.0",
            Version::V4 => "4.0",
        }
    }
}

impl std::str::FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "3" | "3.0" | "vcf3" => Ok(Version::V3),
            "4" | "4.0" | "vcf4" => Ok(Version::V4),
            other => Err(format!(
                "unknown vCard version {other:?} (expected 3.0 or 4.0)"
            )),
        }
    }
}

/// Something wrong in a file, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based number of the card in the file (0: outside any card).
    pub card: usize,
    /// 1-based line where the card (or the offending property) starts.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A zero is "the file as a whole" (a card number) or "no line" (a line number).
        match (self.card, self.line) {
            (0, 0) => write!(f, "{}", self.message),
            (0, line) => write!(f, "line {line}: {}", self.message),
            (card, 0) => write!(f, "card {card}: {}", self.message),
            (card, line) => write!(f, "card {card} (line {line}): {}", self.message),
        }
    }
}

/// What reading a file gave.
#[derive(Debug, Clone, Default)]
pub struct ReadReport {
    /// Every card that could be read, in file order.
    pub cards: Vec<Card>,
    /// Cards that could not be read, or were read only in part (cut short).
    pub errors: Vec<Problem>,
    /// Lines that were skipped or decoded by guessing; the card itself was read.
    pub warnings: Vec<Problem>,
}

/// How to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Character set for values that are neither valid UTF-8 nor labelled with `CHARSET`.
    /// `None`: guess (GB18030 for GBK-looking bytes, otherwise Windows-1252).
    pub fallback_charset: Option<&'static encoding_rs::Encoding>,
}

/// A vCard file's bytes as the reader sees them: UTF-16 (with or without a byte-order mark)
/// transcoded to UTF-8 and a UTF-8 byte-order mark dropped; anything else as it is. Reading the
/// result gives what reading `data` gives, line for line, so a UTF-16 file can be split into
/// pieces once transcoded.
pub fn container_as_utf8(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    lex::normalise_container(data)
}

/// Reads every card in `data`.
pub fn read(data: &[u8]) -> ReadReport {
    read::read(data, &ReadOptions::default())
}

/// Reads every card in `data` with explicit options.
pub fn read_with(data: &[u8], options: &ReadOptions) -> ReadReport {
    read::read(data, options)
}

/// Reads every card in `data`, handing each to `each` as it is read instead of collecting them
/// (a large file's cards never all sit in memory); the report carries the problems and no cards.
pub fn read_each(data: &[u8], options: &ReadOptions, each: &mut dyn FnMut(Card)) -> ReadReport {
    read::read_each(data, options, each)
}

pub use write::WriteNote;

/// Writes one card.
pub fn write(card: &Card, version: Version) -> String {
    let mut out = String::new();
    write::write(card, version, &mut out, &mut Vec::new());
    out
}

/// Writes many cards into one stream.
pub fn write_all<'a>(cards: impl IntoIterator<Item = &'a Card>, version: Version) -> String {
    write_all_noted(cards, version).0
}

/// Writes many cards into one stream, with what had to be changed or left out to write valid
/// vCard of that version: `(card number from 1, note)`.
pub fn write_all_noted<'a>(
    cards: impl IntoIterator<Item = &'a Card>,
    version: Version,
) -> (String, Vec<(usize, WriteNote)>) {
    let mut out = String::new();
    let mut all = Vec::new();
    for (i, card) in cards.into_iter().enumerate() {
        let mut notes = Vec::new();
        write::write(card, version, &mut out, &mut notes);
        all.extend(notes.into_iter().map(|n| (i + 1, n)));
    }
    (out, all)
}

#[cfg(test)]
mod tests;
