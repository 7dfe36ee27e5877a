//! Any scanned text: classification must not panic, and a card link must round-trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mingpian_card::qr::{CardLink, Scanned, classify};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(Scanned::Link(link)) = classify(text) {
        let again = CardLink::parse(&link.url()).expect("our URL parses").expect("and is a link");
        assert_eq!(again, link, "a card link round-trips through its URL");
    }
});
