//! Reads every generated card photo in a directory (from `tools/gen_cards.py`) and prints
//! per-field precision and recall, overall F1, time per card (model load excluded) and peak memory.
//!
//!     python3 tools/gen_cards.py /tmp/cards 200
//!     cargo run --release -p mingpian-scan --example evaluate -- /tmp/cards

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mingpian_scan::evaluate::{Tally, score};
use mingpian_scan::{Ocr, card_from_lines, ocr};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: evaluate DIR"));
    let ocr = Ocr::load(&ocr::default_model_dir()).expect("models: scripts/fetch-models.sh");
    println!("model load: {:.0} ms", ocr.load_time.as_secs_f64() * 1e3);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut times: Vec<Duration> = Vec::new();
    for file in &files {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file.with_extension("json")).unwrap())
                .unwrap();
        let started = Instant::now();
        let img = ocr::decode_image(&std::fs::read(file).unwrap()).unwrap();
        let lines = ocr.read(&img).unwrap();
        let region = if truth["language"] == "en" {
            "US"
        } else {
            "CN"
        };
        let card = card_from_lines(&lines, mingpian_card::Region::parse(region).unwrap());
        times.push(started.elapsed());
        for (field, t) in score(&card, &truth) {
            if std::env::var_os("EVALUATE_VERBOSE").is_some() && (t.wrong + t.missed + t.extra) > 0
            {
                println!(
                    "{}: {field} {t:?} truth {:?}",
                    file.display(),
                    truth.get(field)
                );
                if field == "address" || field == "website" || field == "company" || field == "name"
                {
                    println!(
                        "   lines {:?}",
                        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>()
                    );
                    println!(
                        "   card org {:?} urls {:?} adr {:?}",
                        card.org,
                        card.urls,
                        card.addresses.first().map(|a| a.display())
                    );
                }
            }
            tally.entry(field).or_default().add(t);
        }
    }
    times.sort();
    let mut all = Tally::default();
    println!(
        "{:<12} {:>9} {:>9} {:>6}",
        "field", "precision", "recall", "F1"
    );
    for (field, t) in &tally {
        println!(
            "{field:<12} {:>9.3} {:>9.3} {:>6.3}",
            t.precision(),
            t.recall(),
            t.f1()
        );
        all.add(*t);
    }
    println!(
        "{:<12} {:>9.3} {:>9.3} {:>6.3}  ({} cards)",
        "overall",
        all.precision(),
        all.recall(),
        all.f1(),
        files.len()
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "per card (decode + OCR + fields): p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        ms(*times.last().unwrap())
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
    }
}
