//! Parses a 10,000-card mixed Chinese/English vCard 3.0 file (folded lines, escapes, QP-free) with
//! our reader and with Python's vobject on the same file, and prints both times.
//!
//! Run: `cargo bench -p mingpian-card --bench vcard_parse` (target: at least 20× vobject).

use std::process::Command;
use std::time::Instant;

use mingpian_card::sample;
use mingpian_card::vcard::{self, Version};

const CARDS: usize = 10_000;

fn generate() -> String {
    vcard::write_all(&sample::cards(CARDS), Version::V3)
}

fn main() {
    let text = generate();
    let dir = std::env::temp_dir();
    let path = dir.join("mingpian-bench-10000.vcf");
    std::fs::write(&path, &text).expect("write bench file");
    let folded = text.lines().filter(|l| l.starts_with(' ')).count();
    println!(
        "input: {} cards, {:.1} MB, {} folded continuation lines, {}",
        CARDS,
        text.len() as f64 / 1e6,
        folded,
        path.display()
    );

    // Warm up, then the best of five runs.
    let _ = vcard::read(text.as_bytes());
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let report = vcard::read(text.as_bytes());
        best = best.min(start.elapsed().as_secs_f64());
        assert_eq!(report.cards.len(), CARDS, "every card read");
        assert!(
            report.errors.is_empty(),
            "no errors: {:?}",
            report.errors.first()
        );
    }
    println!(
        "mingpian-card: {:.1} ms (best of 5), {:.2} µs per card",
        best * 1e3,
        best * 1e6 / CARDS as f64
    );

    match Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tools/vobject_time.py"
        ))
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let mut parts = stdout.split_whitespace();
            let n: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let secs: f64 = parts
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN);
            println!("python vobject: {:.1} ms for {n} cards", secs * 1e3);
            println!("speed-up: {:.0}× (target ≥ 20×)", secs / best);
        }
        Ok(out) => println!(
            "python vobject failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!("python3 not available: {e}"),
    }
}
