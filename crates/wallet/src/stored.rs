//! A card version's content as the wallet stores it: the card's JSON (exactly what its hash is
//! of, and what sync sends) compressed with zstd against a fixed dictionary of the card's own
//! field names, so the names and the empty fields every card repeats cost almost nothing.
//!
//! Stored as a BLOB whose first byte says the format. Wallets written before this hold the
//! JSON as TEXT; both are read, and TEXT rows are rewritten compressed when the wallet is
//! upgraded (see `db`).

use std::cell::RefCell;

use mingpian_card::Card;
use rusqlite::types::ValueRef;

use crate::error::{Result, WalletError};

/// The first byte of a stored BLOB: zstd with [`DICTIONARY_V1`]. A new dictionary is a new
/// format byte; the old ones stay readable forever.
const ZSTD_V1: u8 = 1;
/// The first byte of a stored BLOB written from format 7 on: the same frame without its 4-byte
/// magic number, which the first byte makes redundant (4 bytes of every card).
const ZSTD_V1_BARE: u8 = 2;
/// What every zstd frame begins with.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// zstd's level: 3 is its default, within a few percent of its best ratio on cards at a small
/// fraction of the time.
const LEVEL: i32 = 3;

/// No card is stored larger than this, nor read back (a damaged BLOB is refused rather than
/// allowed to allocate what its header claims). A card's pictures are its largest part; the
/// cloud takes versions of at most 8 MB.
const MAX_JSON_BYTES: usize = 64 << 20;

/// Raw-content dictionary, format 1. Never change it: stored cards depend on these exact bytes.
/// It is the JSON of an empty card followed by the fields most cards fill, as serde writes them.
const DICTIONARY_V1: &[u8] = br#"{"uid":null,"revision":null,"formatted_name":"","name":{"family":"","given":"","additional":"","prefixes":"","suffixes":""},"phonetic":null,"nicknames":[],"org":null,"departments":[],"title":null,"role":null,"phones":[],"emails":[],"addresses":[],"urls":[],"socials":[],"note":null,"birthday":null,"categories":[],"photo":null,"logo":null,"card_images":[],"extra":[]}{"value":"+86 1","kinds":["cell"],"pref":true,"label":null},{"value":"","kinds":["work","voice"],"pref":false,"label":null}],"emails":[{"value":"@gmail.com","kinds":["work"],"pref":false,"label":null}],"addresses":[{"po_box":"","extended":"","street":"","locality":"","region":"","postal_code":"","country":"","kinds":["work"],"pref":false,"label":null}],"urls":[{"value":"https://www.","kinds":[],"label":null}],"socials":[{"service":"wechat","value":"","im":false,"label":null}],"extra":[{"group":null,"name":"X-","params":[["TYPE",[""]]],"value":""}],"photo":{"kind":"inline","mime":"image/jpeg","data":"/9j/4AAQSkZJRgABAQ"}"#;

thread_local! {
    // Contexts are reused per thread: making one costs more than compressing a card.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored form of a card's JSON.
pub(crate) fn encode(json: &str) -> Result<Vec<u8>> {
    encode_bytes(json.as_bytes())
}

/// [`encode`] of JSON as bytes.
pub(crate) fn encode_bytes(json: &[u8]) -> Result<Vec<u8>> {
    if json.len() > MAX_JSON_BYTES {
        return Err(WalletError::Invalid(format!(
            "a card of {} MB is too large to keep (at most {} MB, pictures included)",
            json.len() >> 20,
            MAX_JSON_BYTES >> 20
        )));
    }
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(zstd::bulk::Compressor::with_dictionary(
                LEVEL,
                DICTIONARY_V1,
            )?),
        };
        let frame = compressor.compress(json)?;
        let Some(bare) = frame.strip_prefix(&ZSTD_MAGIC[..]) else {
            return Err(WalletError::Corrupt("zstd wrote no frame".into()));
        };
        let mut out = Vec::with_capacity(bare.len() + 1);
        out.push(ZSTD_V1_BARE);
        out.extend_from_slice(bare);
        Ok(out)
    })
}

/// [`encode_bytes`] as formats 4 to 6 stored a card: the whole frame, its magic number
/// included. The format-4 upgrade writes this, so that a wallet whose upgrade stopped before
/// format 7 holds only what a build of its format reads.
pub(crate) fn encode_bytes_whole(json: &[u8]) -> Result<Vec<u8>> {
    let bare = encode_bytes(json)?;
    let mut whole = Vec::with_capacity(bare.len() + ZSTD_MAGIC.len());
    whole.push(ZSTD_V1);
    whole.extend_from_slice(&ZSTD_MAGIC);
    whole.extend_from_slice(&bare[1..]);
    Ok(whole)
}

/// A stored card: compressed (this format) or JSON text (wallets before it).
pub(crate) fn decode(value: ValueRef<'_>) -> Result<Card> {
    match value {
        ValueRef::Text(json) => Ok(serde_json::from_slice(json)?),
        ValueRef::Blob(blob) => Ok(serde_json::from_slice(&decompress(blob)?)?),
        other => Err(WalletError::Corrupt(format!(
            "a card is stored as {:?}",
            other.data_type()
        ))),
    }
}

/// A stored card read into an owned value (inside a row mapping), or none: a card row synced
/// ahead of its first version.
pub(crate) fn decode_value(value: &rusqlite::types::Value) -> Result<Card> {
    match value {
        rusqlite::types::Value::Null => Ok(Card::default()),
        v => decode(v.into()),
    }
}

/// The JSON of a stored card, as stored or decompressed.
pub(crate) fn json(value: ValueRef<'_>) -> Result<String> {
    let bytes = match value {
        ValueRef::Text(json) => json.to_vec(),
        ValueRef::Blob(blob) => decompress(blob)?,
        other => {
            return Err(WalletError::Corrupt(format!(
                "a card is stored as {:?}",
                other.data_type()
            )));
        }
    };
    String::from_utf8(bytes).map_err(|e| WalletError::Corrupt(e.to_string()))
}

fn decompress(blob: &[u8]) -> Result<Vec<u8>> {
    let corrupt = |why: &str| WalletError::Corrupt(format!("a stored card {why}"));
    let frame: std::borrow::Cow<'_, [u8]> = match blob.split_first() {
        Some((&ZSTD_V1, frame)) => frame.into(),
        Some((&ZSTD_V1_BARE, bare)) => [&ZSTD_MAGIC[..], bare].concat().into(),
        _ => return Err(corrupt("has an unknown format")),
    };
    let frame = &frame[..];
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= MAX_JSON_BYTES as u64 => size as usize,
        _ => return Err(corrupt("has no valid size")),
    };
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let decompressor = match cell.as_mut() {
            Some(d) => d,
            None => cell.insert(zstd::bulk::Decompressor::with_dictionary(DICTIONARY_V1)?),
        };
        let json = decompressor
            .decompress(frame, size)
            .map_err(|_| corrupt("cannot be decompressed"))?;
        if json.len() != size {
            return Err(corrupt("is shorter than its header says"));
        }
        Ok(json)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_test_card() -> Vec<Card> {
        crate::util::test_vcard_files()
            .iter()
            .flat_map(|path| {
                let bytes = std::fs::read(path).expect("read");
                mingpian_card::vcard::read(&bytes).cards
            })
            .collect()
    }

    /// Every card of every real-world file comes back exactly, pictures included, and is
    /// smaller stored than as JSON.
    #[test]
    fn every_real_card_round_trips_and_shrinks() {
        let cards = every_test_card();
        assert!(cards.len() > 100, "{} cards", cards.len());
        let (mut json_bytes, mut stored_bytes) = (0, 0);
        for card in &cards {
            let json = serde_json::to_string(card).expect("json");
            let stored = encode(&json).expect("encode");
            assert_eq!(&decode(ValueRef::Blob(&stored)).expect("decode"), card);
            assert_eq!(json_of(&stored), json);
            json_bytes += json.len();
            stored_bytes += stored.len();
        }
        assert!(
            stored_bytes * 2 < json_bytes,
            "{stored_bytes} stored for {json_bytes} of JSON"
        );
    }

    fn json_of(stored: &[u8]) -> String {
        json(ValueRef::Blob(stored)).expect("json")
    }

    /// Cards stored by formats 4 to 6 (the whole frame, magic number included) still read; new
    /// ones are stored without it, 4 bytes shorter.
    #[test]
    fn whole_frames_still_read() {
        let card = Card {
            formatted_name: "李雷".into(),
            ..Card::default()
        };
        let json = serde_json::to_string(&card).expect("json");
        let stored = encode(&json).expect("encode");
        assert_eq!(stored[0], ZSTD_V1_BARE);
        let mut whole = vec![ZSTD_V1];
        whole.extend_from_slice(&ZSTD_MAGIC);
        whole.extend_from_slice(&stored[1..]);
        assert_eq!(
            encode_bytes_whole(json.as_bytes()).expect("encode"),
            whole,
            "the format-4 upgrade writes whole frames"
        );
        assert_eq!(decode(ValueRef::Blob(&whole)).expect("decode"), card);
        assert_eq!(json_of(&whole), json);
    }

    /// A wallet written before compression keeps its cards readable.
    #[test]
    fn text_rows_are_read_as_json() {
        let card = Card {
            formatted_name: "李雷".into(),
            ..Card::default()
        };
        let text = serde_json::to_string(&card).expect("json");
        assert_eq!(
            decode(ValueRef::Text(text.as_bytes())).expect("decode"),
            card
        );
    }

    /// Damaged or foreign bytes are an error, never a panic or a huge allocation.
    #[test]
    fn damaged_blobs_are_errors() {
        let stored = encode(&serde_json::to_string(&Card::default()).unwrap()).unwrap();
        // Frame headers claiming 1 TB, and one byte over the cap, of content: a single-segment
        // frame (descriptor 0xE0) with an 8-byte content size.
        let claiming = |size: u64| {
            let mut blob = vec![ZSTD_V1, 0x28, 0xB5, 0x2F, 0xFD, 0xE0];
            blob.extend_from_slice(&size.to_le_bytes());
            blob
        };
        for (size, blob) in [1u64 << 40, MAX_JSON_BYTES as u64 + 1]
            .into_iter()
            .flat_map(|size| {
                let whole = claiming(size);
                let mut bare = vec![ZSTD_V1_BARE];
                bare.extend_from_slice(&whole[5..]);
                [(size, whole), (size, bare)]
            })
        {
            let whole: Vec<u8> = match blob[0] {
                ZSTD_V1_BARE => [&ZSTD_MAGIC[..], &blob[1..]].concat(),
                _ => blob[1..].to_vec(),
            };
            assert_eq!(
                zstd::zstd_safe::get_frame_content_size(&whole).ok(),
                Some(Some(size)),
                "the header is well formed"
            );
            let err = decode(ValueRef::Blob(&blob)).expect_err("refused");
            assert!(err.to_string().contains("no valid size"), "{err}");
        }
        for bad in [
            &[][..],
            &[9, 1, 2][..],
            &stored[..stored.len() / 2],
            &[ZSTD_V1][..],
            &[ZSTD_V1_BARE][..],
            &[ZSTD_V1_BARE, 0x28, 0xB5, 0x2F, 0xFD][..],
        ] {
            assert!(decode(ValueRef::Blob(bad)).is_err(), "{bad:?}");
        }
        // What cannot be read back is never stored.
        let huge = "x".repeat(MAX_JSON_BYTES + 1);
        assert!(matches!(encode(&huge), Err(WalletError::Invalid(_))));
        assert!(decode(ValueRef::Integer(3)).is_err());
    }
}
