//! Batch import (claim 9): vCard 2.1/3.0/4.0 and CSV files in, read on two threads while a third
//! writes. A broken card is one entry in the report; every other card imports. Re-importing a
//! file changes nothing (see [`crate::linking::import`] for what counts as an update).

use std::path::Path;

use mingpian_card::Card;
use mingpian_card::vcard::{self};

use crate::Wallet;
use crate::csv_layout;
use crate::error::{Result, WalletError};
use crate::linking::{self, Arrival};
use crate::model::{ImportProblem, ImportReport, Outcome, Progress, Source};
use crate::util::now_ms;

/// How often the progress callback hears from a long import.
pub(crate) const PROGRESS_EVERY: usize = 250;

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

/// How many cards are parsed at a time: parsing streams into the import in pieces this big.
const CHUNK_CARDS: usize = 500;

/// How many threads read and prepare cards while one writes them. Reading a card (parsing,
/// JSON, compression, hashes, phone numbers, pinyin) costs about twice what writing it does, so
/// with one reader the writer waited half the time; with two, every core is busy.
const READERS: usize = 2;

/// A vCard file cut before top-level `BEGIN:VCARD` lines every `per` cards, so that parsing can
/// stream into the import and run on more than one thread: each piece with the cards and lines
/// before it, and the cards counted. A file whose pieces could read differently from the whole
/// stays whole: one with NUL bytes, or one that mixes line feeds with bare carriage returns
/// (its line breaks depend on whether a piece holds a line feed). A file whose lines all end in
/// a bare CR (old Mac exports) is cut at those.
struct Pieces<'a> {
    pieces: Vec<(&'a [u8], usize, usize)>,
    /// The file could not be cut: one piece (read whole like any piece; kept for the tests).
    #[cfg(test)]
    whole: bool,
    /// The cards in the file (for a whole file, its top-level `BEGIN:VCARD` lines counted
    /// roughly: this is only a progress total).
    cards: usize,
}

fn vcard_chunks(bytes: &[u8], per: usize) -> Pieces<'_> {
    let has_lf = memchr::memchr(b'\n', bytes).is_some();
    // A carriage return not followed by a line feed (found by a search for the few `\r`s, not
    // a look at every byte).
    let bare_cr = has_lf
        && memchr::memchr_iter(b'\r', bytes).any(|i| i + 1 < bytes.len() && bytes[i + 1] != b'\n');
    let whole = memchr::memchr(0, bytes).is_some() || bare_cr;
    let separator = if has_lf { b'\n' } else { b'\r' };
    let mut out = Vec::new();
    let (mut start, mut start_cards, mut start_lines) = (0, 0, 0);
    let (mut depth, mut cards, mut lines) = (0usize, 0usize, 0usize);
    let mut pos = 0;
    while pos < bytes.len() {
        // A whole file's lines are counted at either break, as its reader may see them.
        let end = if whole {
            memchr::memchr2(b'\n', b'\r', &bytes[pos..])
        } else {
            memchr::memchr(separator, &bytes[pos..])
        }
        .map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        let starts_with =
            |p: &[u8]| line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p);
        if starts_with(b"BEGIN:VCARD") {
            if depth == 0 {
                if !whole && cards > start_cards && (cards - start_cards) % per == 0 {
                    out.push((&bytes[start..pos], start_cards, start_lines));
                    (start, start_cards, start_lines) = (pos, cards, lines);
                }
                cards += 1;
            }
            depth += 1;
        } else if starts_with(b"END:VCARD") {
            depth = depth.saturating_sub(1);
        }
        lines += 1;
        pos = end;
    }
    out.push((&bytes[start..], start_cards, start_lines));
    Pieces {
        pieces: out,
        #[cfg(test)]
        whole,
        cards,
    }
}

/// What a reader hands the writer.
#[expect(
    clippy::large_enum_variant,
    reason = "almost every piece is a card; boxing would add an allocation per card"
)]
enum Piece {
    Card(usize, Card, Result<linking::Prepared>),
    Problems(Vec<ImportProblem>, Vec<ImportProblem>),
    /// The end of one part: the writer turns to the next.
    End,
}

/// A file, ready to be read in parts.
struct FileText<'a> {
    name: &'a str,
    /// vCard transcoded to UTF-8 (most files: borrowed as they are), or CSV's bytes.
    text: std::borrow::Cow<'a, [u8]>,
    csv: bool,
}

impl<'a> FileText<'a> {
    fn new(name: &'a str, bytes: &'a [u8]) -> Self {
        let csv = looks_like_csv(name, bytes);
        let text = if csv {
            std::borrow::Cow::Borrowed(bytes)
        } else {
            vcard::container_as_utf8(bytes)
        };
        FileText { name, text, csv }
    }
}

/// One part of one file, read by one reader.
enum Part<'a> {
    Csv(&'a [u8]),
    /// A piece of a vCard file (the whole of one that cannot be cut), with the cards and lines
    /// before it in its file.
    Vcard(&'a [u8], usize, usize),
}

/// A file's parts and its cards (counted roughly where counting is not free: a progress total).
fn parts<'a>(file: &'a FileText<'_>) -> (Vec<Part<'a>>, usize) {
    let bytes: &'a [u8] = &file.text;
    if file.csv {
        return (
            vec![Part::Csv(bytes)],
            memchr::memchr_iter(b'\n', bytes).count().saturating_sub(1),
        );
    }
    let Pieces { pieces, cards, .. } = vcard_chunks(bytes, CHUNK_CARDS);
    let parts = pieces
        .into_iter()
        .map(|(chunk, cards, lines)| Part::Vcard(chunk, cards, lines))
        .collect();
    (parts, cards)
}

/// Reads one part, handing each card on prepared; then [`Piece::End`]. Stops once `send`
/// answers false (the writer is gone).
fn read_part(
    name: &str,
    part: &Part<'_>,
    region: mingpian_card::Region,
    send: &mut dyn FnMut(Piece) -> bool,
) {
    match *part {
        Part::Csv(bytes) => {
            // Streamed: a large file's cards never all sit in memory.
            let mut open = true;
            let errors = csv_layout::read_each(&csv_layout::decode(bytes), &mut |row, card| {
                let prepared = linking::prepare(&card, region);
                open = send(Piece::Card(row, card, prepared));
                open
            });
            let errors = errors
                .into_iter()
                .map(|e| ImportProblem {
                    file: name.to_owned(),
                    item: e.row,
                    line: e.line,
                    message: e.message,
                })
                .collect();
            if !open || !send(Piece::Problems(errors, Vec::new())) {
                return;
            }
        }
        Part::Vcard(chunk, cards_before, lines_before) => {
            // Streamed: the cards of a piece, or of a large file that cannot be cut, are never
            // all in memory. (Its problems come after its cards; the writer sorts a file's.)
            let (mut n, mut open) = (cards_before, true);
            let report = vcard::read_each(chunk, &vcard::ReadOptions::default(), &mut |card| {
                n += 1;
                if open {
                    let prepared = linking::prepare(&card, region);
                    open = send(Piece::Card(n, card, prepared));
                }
            });
            let shift = |p: vcard::Problem| ImportProblem {
                file: name.to_owned(),
                item: if p.card == 0 {
                    0
                } else {
                    p.card + cards_before
                },
                line: p.line + lines_before,
                message: p.message,
            };
            let errors = report.errors.into_iter().map(shift).collect();
            let warnings = report.warnings.into_iter().map(shift).collect();
            if !open || !send(Piece::Problems(errors, warnings)) {
                return;
            }
        }
    }
    send(Piece::End);
}

/// A vCard or CSV file's bytes, or why it cannot be read: a file past
/// [`MAX_CARD_FILE_BYTES`](mingpian_card::limits::MAX_CARD_FILE_BYTES) is refused without
/// reading more of it than that.
pub fn read_card_file(path: &Path) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read as _;
    let limit = mingpian_card::limits::MAX_CARD_FILE_BYTES;
    let cannot = |e: std::io::Error| format!("cannot read the file: {e}");
    let too_large = || {
        format!(
            "the file is larger than {} MB, more than any address book holds",
            limit >> 20
        )
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    // A file's size when it has one (not a pipe): refused before reading, read into one buffer.
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    if size.is_some_and(|s| s > limit) {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(size.unwrap_or(0) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

impl Wallet {
    /// Imports vCard and CSV files. Files that cannot be read are reported and the rest import.
    pub fn import_files(
        &self,
        paths: &[impl AsRef<Path>],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        self.import_files_within(
            paths,
            mingpian_card::limits::MAX_CARD_FILES_TOTAL_BYTES,
            progress,
        )
    }

    /// [`Wallet::import_files`], holding at most `total` bytes of files.
    fn import_files_within(
        &self,
        paths: &[impl AsRef<Path>],
        total: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let mut files = Vec::new();
        let mut unreadable = Vec::new();
        // Every file is held in memory while they import: past the total, a file is left for
        // another import.
        let mut held = 0u64;
        let too_many = || {
            format!(
                "not read: with the files before it this import would hold more than {} MB; \
                 import it on its own",
                total >> 20
            )
        };
        for path in paths {
            let path = path.as_ref();
            let name = path.display().to_string();
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            let read = if held + size > total {
                Err(too_many())
            } else {
                read_card_file(path).and_then(|bytes| {
                    if held + bytes.len() as u64 > total {
                        Err(too_many())
                    } else {
                        Ok(bytes)
                    }
                })
            };
            match read {
                Ok(bytes) => {
                    held += bytes.len() as u64;
                    files.push((name, bytes));
                }
                Err(message) => unreadable.push(ImportProblem {
                    file: name,
                    item: 0,
                    line: 0,
                    message,
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
        let texts: Vec<FileText> = files.iter().map(|(n, b)| FileText::new(n, b)).collect();
        let mut total = 0;
        // Every file's parts in order, with the file each belongs to.
        let mut all_parts = Vec::new();
        for (file, text) in texts.iter().enumerate() {
            let (parts, cards) = parts(text);
            total += cards;
            all_parts.extend(parts.into_iter().map(|p| (file, p)));
        }
        let mut report = ImportReport {
            files: files.len(),
            ..ImportReport::default()
        };
        progress(Progress { done: 0, total });
        let region = self.region()?;
        let all_parts = &all_parts;
        let texts = &texts;
        std::thread::scope(|scope| -> Result<()> {
            // Reader `r` reads parts r, r + READERS, ...; the writer takes their pieces in
            // part order, so cards are written in file order whatever the threads' speeds. A
            // channel holds a part and more, so a reader can read a whole part ahead.
            let readers = READERS.min(all_parts.len()).max(1);
            let mut receivers = Vec::new();
            for r in 0..readers {
                let (tx, rx) = std::sync::mpsc::sync_channel(CHUNK_CARDS + 2);
                receivers.push(rx);
                scope.spawn(move || {
                    for (file, part) in all_parts.iter().skip(r).step_by(readers) {
                        let mut open = true;
                        read_part(texts[*file].name, part, region, &mut |piece| {
                            open = tx.send(piece).is_ok();
                            open
                        });
                        if !open {
                            return;
                        }
                    }
                });
            }
            let mut next = 0;
            let mut done = 0;
            for (file, text) in texts.iter().enumerate() {
                // One transaction per file: a 10,000-card file is one commit, not 10,000.
                let mut found = false;
                self.write(|c, region| {
                    let now = now_ms();
                    let log_started = crate::search::log_position(c)?;
                    let mut touched = linking::Touched::default();
                    let (errors_before, warnings_before) =
                        (report.errors.len(), report.warnings.len());
                    while all_parts.get(next).is_some_and(|(f, _)| *f == file) {
                        let rx = &receivers[next % readers];
                        next += 1;
                        loop {
                            // A reader gone before the end of its part panicked: the file's
                            // transaction is rolled back rather than committed with a hole, and
                            // the panic ends the import when the threads are joined.
                            let Ok(piece) = rx.recv() else {
                                return Err(WalletError::Io(std::io::Error::other(
                                    "a reading thread stopped before the end of the file",
                                )));
                            };
                            let (item, card, prepared) = match piece {
                                Piece::End => break,
                                Piece::Problems(errors, warnings) => {
                                    found |= !errors.is_empty();
                                    report.errors.extend(errors);
                                    report.warnings.extend(warnings);
                                    continue;
                                }
                                Piece::Card(item, card, prepared) => (item, card, prepared),
                            };
                            found = true;
                            report.read += 1;
                            let mut arrival = Arrival::local(card, Source::Import);
                            arrival.received_at = now;
                            let result = prepared
                                .and_then(|p| linking::import(c, arrival, p, region, &mut touched));
                            match result {
                                Ok(r) => match r.outcome {
                                    Outcome::Added => report.added += 1,
                                    Outcome::Linked => report.linked += 1,
                                    Outcome::Updated => report.updated += 1,
                                    Outcome::Unchanged => report.unchanged += 1,
                                },
                                // A card that cannot be stored is reported; the file goes on.
                                Err(e @ WalletError::Corrupt(_))
                                | Err(e @ WalletError::Invalid(_)) => {
                                    report.errors.push(ImportProblem {
                                        file: text.name.to_owned(),
                                        item,
                                        line: 0,
                                        message: e.to_string(),
                                    })
                                }
                                Err(e) => return Err(e),
                            }
                            done += 1;
                            total = total.max(done);
                            if done % PROGRESS_EVERY == 0 {
                                progress(Progress { done, total });
                                crate::search::trim_bulk_log(c, log_started)?;
                            }
                        }
                    }
                    // What the contacts the file linked into show, worked out once each. One
                    // whose stored data cannot be read is reported; the file goes on.
                    touched.refresh(c, region, &mut |contact_id, e| {
                        report.errors.push(ImportProblem {
                            file: text.name.to_owned(),
                            item: 0,
                            line: 0,
                            message: format!(
                                "contact {contact_id} was not brought up to date: {e}"
                            ),
                        })
                    })?;
                    crate::search::trim_bulk_log(c, log_started)?;
                    // The file's problems in one order (a part's reading problems arrive after
                    // its cards, and the cards' writing problems as they are written): those
                    // read from a line by line, then those found writing, card by card.
                    let by_place = |a: &ImportProblem, b: &ImportProblem| {
                        (a.line == 0, a.line, a.item).cmp(&(b.line == 0, b.line, b.item))
                    };
                    report.errors[errors_before..].sort_by(by_place);
                    report.warnings[warnings_before..].sort_by(by_place);
                    Ok(())
                })?;
                if !found && !text.csv {
                    report.errors.push(ImportProblem {
                        file: text.name.to_owned(),
                        item: 0,
                        line: 0,
                        message: "no vCard or CSV contacts in this file".into(),
                    });
                }
            }
            progress(Progress { done, total: done });
            Ok(())
        })?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file past the size limit is one problem in the report, read no further than the
    /// limit; the other files import.
    #[test]
    fn an_oversized_file_is_reported_and_the_rest_import() {
        let dir = tempfile::tempdir().expect("temp dir");
        let huge = dir.path().join("huge.vcf");
        // Sparse: no disk is used for its zeros.
        std::fs::File::create(&huge)
            .and_then(|f| f.set_len(mingpian_card::limits::MAX_CARD_FILE_BYTES + 1))
            .expect("huge file");
        let good = dir.path().join("good.vcf");
        std::fs::write(
            &good,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李雷\r\nEND:VCARD\r\n",
        )
        .expect("good file");
        let wallet = Wallet::open(dir.path().join("w")).expect("wallet");
        let report = wallet
            .import_files(&[&huge, &good], &mut |_| {})
            .expect("import");
        assert_eq!((report.files, report.added), (2, 1), "{report:?}");
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert!(report.errors[0].message.contains("larger than 256 MB"));
    }

    /// Files that would together hold more than the total are left for another import; the
    /// ones before them import. (A small total stands in for 512 MB.)
    #[test]
    fn files_past_the_total_are_left_for_another_import() {
        let dir = tempfile::tempdir().expect("temp dir");
        let card = |name: &str| format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nEND:VCARD\r\n");
        let paths: Vec<_> = ["First", "Second", "Third"]
            .iter()
            .map(|name| {
                let path = dir.path().join(format!("{name}.vcf"));
                std::fs::write(&path, card(name)).expect("file");
                path
            })
            .collect();
        let one = card("First").len() as u64;
        let wallet = Wallet::open(dir.path().join("w")).expect("wallet");
        let report = wallet
            .import_files_within(&paths, 2 * one + 1, &mut |_| {})
            .expect("import");
        assert_eq!((report.files, report.added), (3, 2), "{report:?}");
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert!(report.errors[0].file.ends_with("Third.vcf"));
        assert!(report.errors[0].message.contains("on its own"));
    }

    /// A file with NUL bytes, or one that mixes line feeds with bare carriage returns, stays
    /// whole; CRLF, LF and CR-only files split, a last lone CR included; UTF-16 splits once
    /// transcoded. Every file's cards are counted.
    #[test]
    fn only_files_that_split_cleanly_are_split() {
        let card = |end: &str| format!("BEGIN:VCARD{end}FN:A{end}END:VCARD{end}");
        for (bytes, pieces) in [
            (card("\r\n").repeat(3), 3),
            (card("\n").repeat(3), 3),
            (card("\r\n").repeat(3) + "\r", 3),
            (card("\r").repeat(3), 3),
            (card("\r\n").repeat(2) + &card("\r"), 1),
            (card("\r\n").repeat(3) + "\0", 1),
        ] {
            let chunks = vcard_chunks(bytes.as_bytes(), 1);
            assert_eq!(chunks.pieces.len(), pieces, "{bytes:?}");
            assert_eq!(chunks.whole, pieces == 1, "{bytes:?}");
            assert_eq!(chunks.cards, 3, "{bytes:?}");
        }
        let utf16: Vec<u8> = std::iter::once(0xFEFF)
            .chain(card("\r\n").repeat(3).encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let text = FileText::new("utf16.vcf", &utf16);
        let chunks = vcard_chunks(&text.text, 1);
        assert_eq!((chunks.pieces.len(), chunks.cards), (3, 3));
    }

    /// Reading a file in pieces gives exactly what reading it whole gives: the same cards, and
    /// problems at the same card numbers and lines; and so does the import's reading by parts.
    #[test]
    fn chunked_reading_equals_whole_reading() {
        let mut files = crate::util::test_vcard_files();
        files.push(std::path::PathBuf::from("inline-broken"));
        let region = mingpian_card::Region::parse("CN").unwrap();
        for path in files {
            let bytes = std::fs::read(&path).unwrap_or_else(|_| {
                b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:B\r\nN:x\r\nbegin:vcard\r\nFN:C\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:D\r\nEND:VCARD\r\n".to_vec()
            });
            let whole = vcard::read(&bytes);
            let expect = |ps: &[vcard::Problem]| {
                let mut all: Vec<_> = ps
                    .iter()
                    .map(|p| (p.card, p.line, p.message.clone()))
                    .collect();
                all.sort();
                all
            };
            let name = path.display().to_string();
            let text = FileText::new(&name, &bytes);
            let mut cards = Vec::new();
            let mut errors = Vec::new();
            let mut warnings = Vec::new();
            for (chunk, cards_before, lines_before) in vcard_chunks(&text.text, 1).pieces {
                let part = vcard::read(chunk);
                cards.extend(part.cards);
                let shift = |p: &vcard::Problem| {
                    (
                        if p.card == 0 {
                            0
                        } else {
                            p.card + cards_before
                        },
                        p.line + lines_before,
                        p.message.clone(),
                    )
                };
                errors.extend(part.errors.iter().map(shift));
                warnings.extend(part.warnings.iter().map(shift));
            }
            errors.sort();
            warnings.sort();
            assert_eq!(cards, whole.cards, "{name}: cards");
            assert_eq!(errors, expect(&whole.errors), "{name}: errors");
            assert_eq!(warnings, expect(&whole.warnings), "{name}: warnings");
            // The import's own parts, read as its readers read them.
            let (mut items, mut read_errors, mut read_warnings) =
                (Vec::new(), Vec::new(), Vec::new());
            let (parts, _) = parts(&text);
            for part in &parts {
                read_part(&name, part, region, &mut |p| {
                    match p {
                        Piece::Card(item, card, _) => items.push((item, card)),
                        Piece::Problems(e, w) => {
                            read_errors.extend(e.into_iter().map(|p| (p.item, p.line, p.message)));
                            read_warnings
                                .extend(w.into_iter().map(|p| (p.item, p.line, p.message)));
                        }
                        Piece::End => {}
                    }
                    true
                });
            }
            read_errors.sort();
            read_warnings.sort();
            let numbered: Vec<_> = whole
                .cards
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, c)| (i + 1, c))
                .collect();
            assert_eq!(items, numbered, "{name}: the import's cards");
            assert_eq!(
                read_errors,
                expect(&whole.errors),
                "{name}: the import's errors"
            );
            assert_eq!(
                read_warnings,
                expect(&whole.warnings),
                "{name}: the import's warnings"
            );
        }
    }

    /// A contact the file links into whose stored data cannot be read is reported once the
    /// file is written; the file's cards are kept, and the other contacts are refreshed
    /// (without this handling the whole file would be rolled back).
    #[test]
    fn a_contact_that_cannot_be_refreshed_is_reported_and_the_file_goes_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let wallet = Wallet::open(dir.path().join("w")).expect("wallet");
        let card = |name: &str, tel: &str| {
            format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nTEL:{tel}\r\nEND:VCARD\r\n")
        };
        let first = card("Li Lei", "+86 139 0000 0001") + &card("Zhang San", "+86 139 0000 0003");
        wallet
            .import_many(&[("a.vcf".to_owned(), first.into_bytes())], &mut |_| {})
            .expect("first import");
        wallet
            .write(|c, _| {
                Ok(c.execute(
                    "UPDATE contacts SET tags = 'not json' WHERE name = 'Li Lei'",
                    [],
                )?)
            })
            .expect("damage");
        // Han Mei links into Li Lei's damaged contact, Zhao Si into Zhang San's, Wang Wu is new.
        let second = card("Han Mei", "+86 139 0000 0001")
            + &card("Zhao Si", "+86 139 0000 0003")
            + &card("Wang Wu", "+86 139 0000 0002");
        let report = wallet
            .import_many(&[("b.vcf".to_owned(), second.into_bytes())], &mut |_| {})
            .expect("second import");
        assert_eq!((report.added, report.linked), (1, 2), "{report:?}");
        assert_eq!(report.errors.len(), 1, "{report:?}");
        assert!(
            report.errors[0]
                .message
                .contains("was not brought up to date"),
            "{report:?}"
        );
        let cards: i64 = wallet
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0))?))
            .expect("count");
        assert_eq!(cards, 5);
        // Zhang San's contact was refreshed after the damaged one: it is found by its new card.
        let found = wallet.search("zhao si", 5).expect("search").contacts;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].name.as_str(), found[0].card_count),
            ("Zhang San", 2)
        );
    }
}
