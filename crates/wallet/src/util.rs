//! Small helpers: record ids, clocks, content hashes.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// A new record id, 25 characters of `0-9a-z`: the time in milliseconds (48 bits), then 80
/// random bits, written in base 36 at a fixed width (hex took 32: every id is stored about ten
/// times over, in rows and indexes, so each character costs a card ten bytes).
/// Random enough that records made offline on two phones never collide in sync; time-ordered so
/// that a batch import appends to the tables' indexes instead of writing all over them (random
/// ids made a 10,000-card import 13% slower): a fixed width and digits in ASCII order sort as the
/// numbers do. Lower case only, so that no two ids differ by case alone.
pub fn new_id() -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let time = (now_ms() as u128) & ((1 << 48) - 1);
    let random = rand::random::<u128>() >> 48;
    let mut n = (time << 80) | random;
    let mut out = [b'0'; ID_LEN];
    for digit in out.iter_mut().rev() {
        *digit = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

/// The length of [`new_id`]'s ids: 36^25 > 2^128.
const ID_LEN: usize = 25;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Short content hash (first 16 bytes of SHA-256, hex) of a card's JSON.
pub fn content_hash(json: &str) -> String {
    hex(&Sha256::digest(json.as_bytes())[..16])
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
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
    use super::new_id;

    /// Ids are 25 lower-case characters, distinct, and sort as they were made (across a
    /// millisecond's turn: the time comes first).
    #[test]
    fn ids_are_short_distinct_and_sort_by_time() {
        let mut made = Vec::new();
        for _ in 0..50 {
            made.push(new_id());
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        for id in &made {
            assert_eq!(id.len(), 25, "{id}");
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
