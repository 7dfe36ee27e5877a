//! Cards rendered with real fonts and photographed badly (`tools/gen_cards.py`: perspective, blur,
//! noise, uneven light; Chinese, English, bilingual; four layouts), read back field by field.
//! The full 200-card figures come from `cargo run --release -p mingpian-scan --example evaluate`.

use std::process::Command;

use mingpian_card::Region;
use mingpian_scan::evaluate::{Tally, score};
use mingpian_scan::{Ocr, card_from_lines, ocr};

#[test]
fn generated_card_photos_read_with_field_f1_over_0_9() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/gen_cards.py");
    let status = Command::new("python3")
        .args([script, dir.path().to_str().unwrap(), "24", "7"])
        .status()
        .expect("python3 with Pillow (scripts/setup.sh installs it)");
    assert!(status.success(), "the card generator ran");
    let ocr =
        Ocr::load(&ocr::default_model_dir()).expect("OCR models: run scripts/fetch-models.sh");
    let mut all = Tally::default();
    for i in 0..24 {
        let base = dir.path().join(format!("card-{i:03}"));
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(base.with_extension("json")).unwrap())
                .unwrap();
        let img = ocr::decode_image(&std::fs::read(base.with_extension("jpg")).unwrap()).unwrap();
        let lines = ocr.read(&img).unwrap();
        let region = Region::parse(if truth["language"] == "en" {
            "US"
        } else {
            "CN"
        })
        .unwrap();
        let card = card_from_lines(&lines, region);
        for (field, t) in score(&card, &truth) {
            if t.right == 0 && (t.wrong + t.missed + t.extra) > 0 {
                println!(
                    "card-{i:03} {field}: printed {:?}, read lines {:?}",
                    truth.get(field),
                    lines.iter().map(|l| &l.text).collect::<Vec<_>>()
                );
            }
            all.add(t);
        }
    }
    println!(
        "precision {:.3} recall {:.3} F1 {:.3}",
        all.precision(),
        all.recall(),
        all.f1()
    );
    assert!(
        all.f1() >= 0.9,
        "field F1 {:.3} over 24 generated cards; 0.9 expected",
        all.f1()
    );
}
