//! Any bytes: the reader must not panic, and whatever it reads must survive a write and re-read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mingpian_card::vcard::{self, Version};

fuzz_target!(|data: &[u8]| {
    let report = vcard::read(data);
    for version in [Version::V3, Version::V4] {
        let written = vcard::write_all(&report.cards, version);
        let again = vcard::read(written.as_bytes());
        assert_eq!(again.cards.len(), report.cards.len(), "our own output must read back whole");
    }
});
