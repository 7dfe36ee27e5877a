//! QR decoding on real camera photos (`../shared/testdata/qr`), against `zbarimg` run on the same
//! images in the same test: we must decode at least as many codes right as zbar does.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use mingpian_card::qr::image::decode;
use serde::Deserialize;

fn qr_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/qr");
    assert!(
        dir.is_dir(),
        "QR test photos not found at {}",
        dir.display()
    );
    dir
}

#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    expected_file: String,
}

fn expected(dir: &Path, entry: &Entry) -> Option<BTreeSet<String>> {
    if entry.expected_file.is_empty() {
        return None;
    }
    let text = std::fs::read_to_string(dir.join(&entry.expected_file)).expect("expected text");
    Some(if entry.expected_file.ends_with("expected-set.txt") {
        text.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        BTreeSet::from([text])
    })
}

fn zbar(path: &Path) -> BTreeSet<String> {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary"])
        .arg(path)
        .output()
        .expect("zbarimg must be installed (Debian package zbar-tools) for this comparison");
    if out.stdout.is_empty() {
        return BTreeSet::new();
    }
    let text = String::from_utf8(out.stdout.clone())
        .unwrap_or_else(|_| out.stdout.iter().map(|&b| b as char).collect());
    BTreeSet::from([text.strip_suffix('\n').unwrap_or(&text).to_owned()])
}

#[test]
fn decodes_real_photos_at_least_as_well_as_zbar() {
    let dir = qr_dir();
    let manifest: Vec<Entry> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("manifest JSON");
    let (mut ours_right, mut zbar_right, mut ours_found, mut with_expected) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for entry in &manifest {
        let path = dir.join(&entry.file);
        let bytes = std::fs::read(&path).expect("image");
        let ours: BTreeSet<String> = decode(&bytes)
            .expect("every test photo is a readable image")
            .into_iter()
            .collect();
        ours_found += usize::from(!ours.is_empty());
        let Some(want) = expected(&dir, entry) else {
            continue;
        };
        with_expected += 1;
        if want.is_subset(&ours) {
            ours_right += 1;
        } else {
            misses.push(entry.file.clone());
        }
        if want.is_subset(&zbar(&path)) {
            zbar_right += 1;
        }
    }
    println!(
        "{} images: we found a code in {ours_found}; right on {ours_right}/{with_expected}, zbarimg {zbar_right}/{with_expected}",
        manifest.len()
    );
    println!("we missed: {misses:?}");
    assert!(
        ours_right >= zbar_right,
        "we decoded {ours_right} right, zbarimg {zbar_right}: we must match zbar at least"
    );
    assert!(
        with_expected > 70,
        "the corpus has 81 images with an expected text, saw {with_expected}"
    );
}
