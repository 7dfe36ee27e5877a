//! Inputs that once broke a fuzz target (`crates/card/fuzz`), kept so they never break again.
//! Each file under `fuzz_regressions/<target>/` is run through the same property its target checks.

use std::path::Path;

use mingpian_card::qr::{CardLink, Scanned, classify};
use mingpian_card::vcard::{self, Version};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("entry").path())
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(&p).expect("readable"),
            )
        })
        .collect()
}

#[test]
fn vcard_read_crashes_stay_fixed() {
    let cases = inputs("vcard_read");
    assert!(!cases.is_empty(), "the recorded crash inputs are present");
    for (name, data) in cases {
        let report = vcard::read(&data);
        for version in [Version::V3, Version::V4] {
            let written = vcard::write_all(&report.cards, version);
            let again = vcard::read(written.as_bytes());
            assert_eq!(
                again.cards.len(),
                report.cards.len(),
                "{name}: our {version:?} output must read back whole"
            );
        }
    }
}

#[test]
fn qr_payload_crashes_stay_fixed() {
    for (name, data) in inputs("qr_payload") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Ok(Scanned::Link(link)) = classify(text) {
            assert_eq!(
                CardLink::parse(&link.url()),
                Ok(Some(link)),
                "{name}: link round-trips"
            );
        }
    }
}
