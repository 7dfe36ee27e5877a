//! Small helpers: record ids, clocks, content hashes.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// A new record id, 32 hex digits: the time in milliseconds (48 bits), then 80 random bits.
/// Random enough that records made offline on two phones never collide in sync; time-ordered so
/// that a batch import appends to the tables' indexes instead of writing all over them (random
/// ids made a 10,000-card import 13% slower).
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&now_ms().to_be_bytes()[2..]);
    let random: [u8; 10] = rand::random();
    bytes[6..].copy_from_slice(&random);
    hex(&bytes)
}

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
