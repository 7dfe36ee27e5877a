//! The real photos in ../shared/testdata/bizcard, read field by field against their ground truth.
//! Prints every field; fails when fewer than 90% of the printed fields are read right.

use std::path::PathBuf;

use mingpian_card::{Card, PhoneNumber, Region};
use mingpian_scan::{Frame, Ocr, card_from_lines, ocr};
use serde_json::Value;

fn photo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/bizcard")
        .join(rel)
}

fn norm(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// (field, expected, got, right?) for every field the ground truth gives.
fn compare(
    card: &Card,
    truth: &Value,
    region: Region,
) -> Vec<(&'static str, String, String, bool)> {
    let mut out = Vec::new();
    let t = |k: &str| truth.get(k).and_then(Value::as_str).map(str::to_owned);
    let phone_of = |kind: &str| {
        card.phones
            .iter()
            .find(|p| {
                if kind == "any" {
                    true
                } else {
                    p.kinds.iter().any(|k| k == kind)
                        && (kind == "fax" || !p.kinds.iter().any(|k| k == "fax"))
                }
            })
            .map(|p| p.value.clone())
            .unwrap_or_default()
    };
    let text_fields: [(&str, Option<String>); 6] = [
        ("name", Some(card.formatted_name.clone())),
        ("title", card.title.clone()),
        ("department", card.departments.first().cloned()),
        ("email", card.emails.first().map(|e| e.value.clone())),
        ("website", card.urls.first().map(|u| u.value.clone())),
        ("address", card.addresses.first().map(|a| a.street.clone())),
    ];
    for (field, got) in text_fields {
        if let Some(want) = t(field) {
            let got = got.unwrap_or_default();
            let right = norm(&got).trim_end_matches('/') == norm(&want).trim_end_matches('/');
            out.push((field, want, got, right));
        }
    }
    if let Some(want) = t("company") {
        let got = card.org.clone().unwrap_or_default();
        // mindee's truth carries a remark in brackets; the printed name is before it.
        let printed = want.split(" (").next().unwrap_or(&want).to_owned();
        out.push((
            "company",
            printed.clone(),
            got.clone(),
            norm(&got) == norm(&printed),
        ));
    }
    for (field, kind) in [
        ("mobile", "cell"),
        ("work_phone", "work"),
        ("fax", "fax"),
        ("phone", "any"),
    ] {
        if let Some(want) = t(field) {
            let got = phone_of(kind);
            // The same number: the truth as printed, in E.164 through the card crate.
            let right = PhoneNumber::parse(&want, region).is_ok_and(|n| n.e164() == got);
            out.push((field, want, got, right));
        }
    }
    out
}

#[test]
fn the_real_card_photos_read_field_by_field() {
    let ocr =
        Ocr::load(&ocr::default_model_dir()).expect("OCR models: run scripts/fetch-models.sh");
    println!("models loaded in {:?}", ocr.load_time);
    let (mut right, mut total) = (0, 0);
    // Whether the card's whole outline shows (checked by eye): the first card runs off the photo,
    // and its printed grey panel must not be taken for the card.
    for (file, truth, region, outline_shows) in [
        (
            "azure-samples/business_card.jpg",
            "azure-samples/business_card.ground_truth.json",
            "US",
            false,
        ),
        (
            "azure-samples/business-card-english.jpg",
            "azure-samples/business-card-english.ground_truth.json",
            "GB",
            true,
        ),
        (
            "azure-samples/businessCard.png",
            "azure-samples/businessCard.ground_truth.json",
            "GB",
            true,
        ),
        (
            "mindee/default_sample.jpg",
            "mindee/default_sample.ground_truth.json",
            "US",
            true,
        ),
    ] {
        let img = ocr::decode_image(&std::fs::read(photo(file)).unwrap()).unwrap();
        let started = std::time::Instant::now();
        let reading = ocr.read_card(&img, Frame::Find).unwrap();
        let took = started.elapsed();
        println!(
            "== {file}: frame {:?}, turned {}",
            reading.frame, reading.turned
        );
        assert_eq!(reading.frame.is_some(), outline_shows, "{file}: frame");
        assert_eq!(reading.turned, 0, "{file} is upright");
        let lines = reading.lines;
        let card = card_from_lines(&lines, Region::parse(region).unwrap());
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(photo(truth)).unwrap()).unwrap();
        println!("   {} lines in {took:?} (debug build)", lines.len());
        for (field, want, got, ok) in compare(&card, &truth, Region::parse(region).unwrap()) {
            println!(
                "   {} {field:<10} want {want:?} got {got:?}",
                if ok { "ok  " } else { "MISS" }
            );
            total += 1;
            right += usize::from(ok);
        }
    }
    println!("fields right: {right}/{total}");
    assert!(
        right * 10 >= total * 9,
        "{right} of {total} fields right; at least 90% expected"
    );
}
