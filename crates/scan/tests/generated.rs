//! Cards rendered with real fonts and photographed badly (`tools/gen_cards.py`: perspective, blur,
//! noise, uneven light, some taken sideways or upside down; Chinese, English, bilingual; four
//! layouts), found in the photo, turned upright and read back field by field.
//! The full 200-card figures come from `cargo run --release -p mingpian-scan --example evaluate`.

use std::process::Command;

use mingpian_card::Region;
use mingpian_scan::evaluate::{Tally, score};
use mingpian_scan::{Frame, Ocr, card_from_lines, ocr};

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
    let (mut framed, mut upright) = (0, 0);
    // Names set top to bottom (the vertical layout): (read right, cards).
    let mut vertical_names = (0, 0);
    for i in 0..24 {
        let base = dir.path().join(format!("card-{i:03}"));
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(base.with_extension("json")).unwrap())
                .unwrap();
        let img = ocr::decode_image(&std::fs::read(base.with_extension("jpg")).unwrap()).unwrap();
        let reading = ocr.read_card(&img, Frame::Find).unwrap();
        if let Some(found) = reading.frame {
            // Each corner within 2% of the card's diagonal of the printed card's corner.
            let t: Vec<[f32; 2]> = serde_json::from_value(truth["corners"].clone()).unwrap();
            let diagonal = (t[0][0] - t[2][0]).hypot(t[0][1] - t[2][1]);
            let close = found.0.iter().all(|c| {
                t.iter()
                    .any(|p| (c[0] - p[0]).hypot(c[1] - p[1]) < 0.02 * diagonal)
            });
            framed += usize::from(close);
            if !close {
                println!("card-{i:03}: frame {:?}, printed corners {t:?}", found.0);
            }
        }
        let photo_turned = truth["turned"].as_u64().unwrap() as u16;
        upright += usize::from(reading.turned == (360 - photo_turned) % 360);
        let lines = reading.lines;
        let region = Region::parse(if truth["language"] == "en" {
            "US"
        } else {
            "CN"
        })
        .unwrap();
        let card = card_from_lines(&lines, region);
        for (field, t) in score(&card, &truth) {
            if field == "name" && truth["layout"] == "vertical" {
                vertical_names.0 += t.right;
                vertical_names.1 += 1;
            }
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
        "precision {:.3} recall {:.3} F1 {:.3}; framed {framed}/24, upright {upright}/24",
        all.precision(),
        all.recall(),
        all.f1()
    );
    println!("vertical names read right: {vertical_names:?}");
    assert!(
        vertical_names.1 >= 4 && vertical_names.0 * 4 >= vertical_names.1 * 3,
        "names set top to bottom: {} of {} read right",
        vertical_names.0,
        vertical_names.1
    );
    assert!(
        framed >= 22,
        "the card's corners found in {framed} of 24 photos"
    );
    assert_eq!(
        upright, 24,
        "every photo turned upright (6 of 24 are sideways or upside down)"
    );
    assert!(
        all.f1() >= 0.9,
        "field F1 {:.3} over 24 generated cards; 0.9 expected",
        all.f1()
    );
}
