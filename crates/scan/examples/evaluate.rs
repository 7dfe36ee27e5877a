//! Reads every generated card photo in a directory (from `tools/gen_cards.py`) and prints
//! per-field precision and recall, overall F1, time per card (model load excluded) and peak memory.
//!
//!     python3 tools/gen_cards.py /tmp/cards 200
//!     cargo run --release -p mingpian-scan --example evaluate -- /tmp/cards
//!
//! Also prints how often the four-corner frame found the card and how close its corners came to
//! the printed card's, and how often the card was turned upright. `EVALUATE_FRAME=whole` reads
//! each photo as it is instead (no frame, no turning), for comparison.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mingpian_scan::evaluate::{Tally, score};
use mingpian_scan::{Frame, Ocr, card_from_lines, ocr};

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
    let whole = std::env::var("EVALUATE_FRAME").is_ok_and(|v| v == "whole");
    let (mut found, mut corner_errors, mut upright) = (0, Vec::new(), 0);
    for file in &files {
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file.with_extension("json")).unwrap())
                .unwrap();
        let started = Instant::now();
        let img = ocr::decode_image(&std::fs::read(file).unwrap()).unwrap();
        let lines = if whole {
            ocr.read(&img).unwrap()
        } else {
            let reading = ocr.read_card(&img, Frame::Find).unwrap();
            if let Some(quad) = reading.frame {
                found += 1;
                // The largest corner error as a share of the card's diagonal.
                let t: Vec<[f32; 2]> = serde_json::from_value(truth["corners"].clone()).unwrap();
                let diag = (t[0][0] - t[2][0]).hypot(t[0][1] - t[2][1]);
                let err = (0..4)
                    .map(|k| {
                        // The found corners start at the photo's top-left whichever way it lies.
                        (0..4)
                            .map(|j| (quad.0[k][0] - t[j][0]).hypot(quad.0[k][1] - t[j][1]))
                            .fold(f32::MAX, f32::min)
                    })
                    .fold(0f32, f32::max);
                corner_errors.push(err / diag);
            }
            let want = (360 - truth["turned"].as_u64().unwrap_or(0) as u16) % 360;
            if reading.turned == want {
                upright += 1;
            } else if std::env::var_os("EVALUATE_VERBOSE").is_some() {
                println!("{}: turned {} want {want}", file.display(), reading.turned);
            }
            reading.lines
        };
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
                if ["address", "website", "company", "name", "title"].contains(&field) {
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
    if !whole {
        corner_errors.sort_by(f32::total_cmp);
        let pct = |q: usize| corner_errors.get(q).map_or(f32::NAN, |e| e * 100.0);
        println!(
            "frame: card found in {found}/{n}; worst corner off by p50 {:.1}%, p90 {:.1}%, max {:.1}% of the diagonal; upright {upright}/{n}",
            pct(corner_errors.len() / 2),
            pct(corner_errors.len() * 9 / 10),
            pct(corner_errors.len().saturating_sub(1)),
            n = files.len()
        );
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
    }
}
