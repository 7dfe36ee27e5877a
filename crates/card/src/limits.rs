//! How large a card may be. The cloud refuses a card set past these limits (a free account must
//! not be able to fill the disk with one "card"), and the wallet checks a card before uploading
//! it, so both sides apply the same rule.
//!
//! The limits are far above any real card: the longest real-world vCard in our test corpus has
//! 11 numbers and a 900-character note. Images are limited separately (by bytes and pixels,
//! where they are decoded).

use crate::card::{Card, Media};

/// The largest vCard or CSV file read whole (an import, a check): far above any address book's
/// export, and bounded because the file is held in memory while it is read.
pub const MAX_CARD_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The most one import reads in all: its files are held in memory while they import.
pub const MAX_CARD_FILES_TOTAL_BYTES: u64 = 512 * 1024 * 1024;

/// Longest one-line value (a name part, a company, a number, an address line…), in characters.
pub const MAX_FIELD_CHARS: usize = 256;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// Most entries of one repeated field (numbers, emails, links, social profiles).
pub const MAX_ENTRIES: usize = 20;
/// Most postal addresses.
pub const MAX_ADDRESSES: usize = 10;
/// Most types on one entry (`cell`, `work`, `pref`…).
pub const MAX_KINDS: usize = 8;
/// Most unmodelled vCard properties kept on a card.
pub const MAX_EXTRA: usize = 100;
/// Longest unmodelled property value, in bytes (a linked sound or key may be long).
pub const MAX_EXTRA_BYTES: usize = 8 * 1024;
/// All the card's text together, images excluded, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Most card images (front and back).
pub const MAX_CARD_IMAGES: usize = 2;

/// What is over a limit, for people ("the note is longer than 2000 characters").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LimitError(pub String);

fn field(what: &str, value: &str, max: usize) -> Result<usize, LimitError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(LimitError(format!(
            "the {what} is longer than {max} characters"
        )));
    }
    Ok(value.len())
}

fn count<T>(what: &str, items: &[T], max: usize) -> Result<(), LimitError> {
    if items.len() > max {
        return Err(LimitError(format!("a card has at most {max} {what}")));
    }
    Ok(())
}

fn kinds(what: &str, kinds: &[String]) -> Result<usize, LimitError> {
    count(&format!("types on one {what}"), kinds, MAX_KINDS)?;
    kinds
        .iter()
        .map(|k| field(&format!("{what} type"), k, MAX_FIELD_CHARS))
        .sum()
}

fn media(what: &str, m: &Option<Media>) -> Result<usize, LimitError> {
    match m {
        Some(Media::Uri { uri }) => field(&format!("{what} link"), uri, 2 * MAX_FIELD_CHARS),
        Some(Media::Inline { mime, .. }) => {
            field(&format!("{what} type"), mime.as_deref().unwrap_or(""), 64)
        }
        None => Ok(0),
    }
}

/// Checks a card against every limit above. Returns the first problem found.
pub fn check(card: &Card) -> Result<(), LimitError> {
    let short = |what: &str, v: &str| field(what, v, MAX_FIELD_CHARS);
    let opt = |what: &str, v: &Option<String>| short(what, v.as_deref().unwrap_or(""));
    let mut bytes = 0usize;
    bytes += opt("UID", &card.uid)?;
    bytes += opt("revision", &card.revision)?;
    bytes += short("name", &card.formatted_name)?;
    for name in [&card.name, &card.phonetic].into_iter().flatten() {
        for part in [
            &name.family,
            &name.given,
            &name.additional,
            &name.prefixes,
            &name.suffixes,
        ] {
            bytes += short("name", part)?;
        }
    }
    count("nicknames", &card.nicknames, MAX_ENTRIES)?;
    for n in &card.nicknames {
        bytes += short("nickname", n)?;
    }
    bytes += opt("company", &card.org)?;
    count("departments", &card.departments, MAX_ENTRIES)?;
    for d in &card.departments {
        bytes += short("department", d)?;
    }
    bytes += opt("title", &card.title)?;
    bytes += opt("role", &card.role)?;
    count("phone numbers", &card.phones, MAX_ENTRIES)?;
    for p in &card.phones {
        bytes += short("phone number", &p.value)? + kinds("phone number", &p.kinds)?;
        bytes += opt("label", &p.label)?;
    }
    count("email addresses", &card.emails, MAX_ENTRIES)?;
    for e in &card.emails {
        bytes += short("email address", &e.value)? + kinds("email address", &e.kinds)?;
        bytes += opt("label", &e.label)?;
    }
    count("addresses", &card.addresses, MAX_ADDRESSES)?;
    for a in &card.addresses {
        for part in [
            &a.po_box,
            &a.extended,
            &a.street,
            &a.locality,
            &a.region,
            &a.postal_code,
            &a.country,
        ] {
            bytes += short("address", part)?;
        }
        bytes += kinds("address", &a.kinds)? + opt("label", &a.label)?;
    }
    count("links", &card.urls, MAX_ENTRIES)?;
    for u in &card.urls {
        bytes += field("link", &u.value, 2 * MAX_FIELD_CHARS)? + kinds("link", &u.kinds)?;
        bytes += opt("label", &u.label)?;
    }
    count("social profiles", &card.socials, MAX_ENTRIES)?;
    for s in &card.socials {
        bytes += short("social service", &s.service)? + short("social profile", &s.value)?;
        bytes += opt("label", &s.label)?;
    }
    bytes += field("note", card.note.as_deref().unwrap_or(""), MAX_NOTE_CHARS)?;
    bytes += opt("birthday", &card.birthday)?;
    count("categories", &card.categories, MAX_ENTRIES)?;
    for c in &card.categories {
        bytes += short("category", c)?;
    }
    bytes += media("photo", &card.photo)? + media("logo", &card.logo)?;
    count("card images", &card.card_images, MAX_CARD_IMAGES)?;
    for m in &card.card_images {
        bytes += media("card image", &Some(m.clone()))?;
    }
    count("other vCard properties", &card.extra, MAX_EXTRA)?;
    for p in &card.extra {
        let size = p.name.len()
            + p.group.as_deref().map_or(0, str::len)
            + p.value.len()
            + p.params
                .iter()
                .map(|(k, vs)| k.len() + vs.iter().map(String::len).sum::<usize>())
                .sum::<usize>();
        if size > MAX_EXTRA_BYTES {
            return Err(LimitError(format!(
                "the vCard property {} is larger than {} KB",
                p.name.chars().take(32).collect::<String>(),
                MAX_EXTRA_BYTES / 1024
            )));
        }
        bytes += size;
    }
    if bytes > MAX_TEXT_BYTES {
        return Err(LimitError(format!(
            "the card's text is larger than {} KB",
            MAX_TEXT_BYTES / 1024
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Phone;

    #[test]
    fn real_cards_pass_and_oversize_ones_say_what_is_over() {
        let mut card = crate::sample::cards(1).remove(0);
        assert_eq!(check(&card), Ok(()), "the sample card is an ordinary card");
        card.note = Some("字".repeat(MAX_NOTE_CHARS));
        assert_eq!(check(&card), Ok(()), "a note of exactly the limit is fine");
        card.note = Some("字".repeat(MAX_NOTE_CHARS + 1));
        let err = check(&card).expect_err("a longer note is refused");
        assert!(err.0.contains("note"), "{err}");
        card.note = None;
        card.phones = vec![Phone::default(); MAX_ENTRIES + 1];
        assert!(check(&card).expect_err("21 numbers").0.contains("phone"));
    }

    #[test]
    fn many_fields_each_under_the_limit_still_count_together() {
        let mut card = Card {
            formatted_name: "A".into(),
            ..Card::default()
        };
        card.extra = (0..MAX_EXTRA)
            .map(|i| crate::card::Property {
                name: format!("X-{i}"),
                value: "v".repeat(MAX_EXTRA_BYTES - 10),
                ..Default::default()
            })
            .collect();
        let err = check(&card).expect_err("100 × 8 KB is over 64 KB in all");
        assert!(err.0.contains("text"), "{err}");
    }
}
