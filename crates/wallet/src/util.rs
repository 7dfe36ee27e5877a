//! Small helpers: record ids, clocks, content hashes.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// A new record id, 20 characters of `0-9a-z`: the time in milliseconds (42 bits, enough until
/// 2109), then 61 random bits, written in base 36 at a fixed width. Every id is stored about
/// eight times over, in rows and indexes, so each character costs a card eight bytes (hex ids
/// took 32 characters, the first base-36 ones 25).
/// Random enough that records made offline on two phones never collide in sync: two ids can
/// only meet within one millisecond, and then one time in 2^61. Time-ordered, so that a batch
/// import appends to the tables' indexes instead of writing all over them (random ids made a
/// 10,000-card import 13% slower and left the indexes' pages part empty): a fixed width and
/// digits in ASCII order sort as the numbers do. Lower case only, so that no two ids differ by
/// case alone.
/// Within a process each id sorts after the one before, even in the same millisecond (then it is
/// the one before plus one, as ULIDs do): where two cards tie on everything else, the one made
/// first (first in an imported file) comes first, rather than the one whose random bits were
/// smaller.
pub fn new_id() -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    const RANDOM_BITS: u32 = 61;
    static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);
    let time = (now_ms() as u128) & ((1 << 42) - 1);
    let random = rand::random::<u128>() >> (128 - RANDOM_BITS);
    let fresh = (time << RANDOM_BITS) | random;
    let mut n = {
        let mut last = LAST
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // 42 + 61 = 103 bits < 36^20 (about 2^103.4): one more carries into the time, at worst
        // an id a millisecond ahead.
        *last = fresh.max(*last + 1);
        *last
    };
    let mut out = [b'0'; ID_LEN];
    for digit in out.iter_mut().rev() {
        *digit = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// The length of [`new_id`]'s ids.
const ID_LEN: usize = 20;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A card's content hash (`cards.hash`), to spot a card that did not change: the first 12 bytes
/// of the SHA-256 of its JSON. 96 bits: no two contents of any wallet share one by chance, and
/// making a card that shares a given card's hash (so that an import skips it as held) takes
/// about 2^96 tries. Wallets before format 7 kept 16 bytes as hex; the upgrade keeps their
/// first 12.
pub type ContentHash = [u8; 12];

pub fn content_hash(json: &str) -> ContentHash {
    let mut first = [0u8; 12];
    first.copy_from_slice(&Sha256::digest(json.as_bytes())[..12]);
    first
}

/// A stored content hash read from a row: bytes (this format); hex text, as a build from
/// before format 7 still running while the wallet was upgraded may write it (its first 12
/// bytes, as the upgrade keeps); anything else (a card synced ahead of its first version)
/// matches no content.
pub fn stored_hash(value: rusqlite::types::ValueRef<'_>) -> Vec<u8> {
    match value {
        rusqlite::types::ValueRef::Blob(b) => b.to_vec(),
        rusqlite::types::ValueRef::Text(t) if t.len() >= 24 => {
            let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
            t[..24]
                .chunks(2)
                .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
                .collect::<Option<Vec<u8>>>()
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// Every real-world vCard file in the shared test data, in a stable order.
#[cfg(test)]
pub(crate) fn test_vcard_files() -> Vec<std::path::PathBuf> {
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/vcard"
    ))];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("testdata") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "vcf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::{content_hash, new_id, stored_hash};
    use rusqlite::types::ValueRef;

    /// A hash reads as bytes, or from the hex an older build wrote (its first 12 bytes);
    /// anything else matches nothing.
    #[test]
    fn stored_hashes_read_as_bytes_or_hex() {
        let hash = content_hash("{}");
        assert_eq!(stored_hash(ValueRef::Blob(&hash)), hash);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let old = format!("{hex}0123abcd");
        assert_eq!(stored_hash(ValueRef::Text(old.as_bytes())), hash);
        assert_eq!(
            stored_hash(ValueRef::Text(hex.to_uppercase().as_bytes())),
            hash
        );
        for nothing in [&b""[..], b"xyz", &[b'g'; 32]] {
            assert!(stored_hash(ValueRef::Text(nothing)).is_empty());
        }
        assert!(stored_hash(ValueRef::Null).is_empty());
    }

    /// Ids are 20 lower-case characters, distinct, and sort as they were made: across a
    /// millisecond's turn (the time comes first) and within one (many made at once).
    #[test]
    fn ids_are_short_distinct_and_sort_by_time() {
        let mut made = Vec::new();
        for _ in 0..50 {
            made.push(new_id());
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        made.extend((0..5000).map(|_| new_id()));
        for id in &made {
            assert_eq!(id.len(), 20, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
                "{id}"
            );
        }
        let mut sorted = made.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, made, "in the order made, none twice");
    }
}
