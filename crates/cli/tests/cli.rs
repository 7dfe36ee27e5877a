//! The `mingpian` binary as a user runs it: real files, real processes, exit codes and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Runs the command line with a wallet of its own (never the user's own data folder).
fn mingpian(args: &[&str]) -> Output {
    let data = tempfile::tempdir().expect("temp dir");
    Command::new(env!("CARGO_BIN_EXE_mingpian"))
        .args(args)
        .env("MINGPIAN_DATA_DIR", data.path())
        .output()
        .expect("mingpian runs")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn testdata(rel: &str) -> String {
    let path = repo_root().join("../shared/testdata").join(rel);
    assert!(path.exists(), "missing test data {}", path.display());
    path.display().to_string()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn vcard_check_reports_each_card_as_json() {
    let file = testdata("vcard/kcontacts/vcard1.vcf");
    let out = mingpian(&["--json", "vcard", "check", &file]);
    assert!(
        out.status.success(),
        "a clean file exits 0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(
        report["file"],
        file.as_str(),
        "one file gives one object, not an array"
    );
    assert_eq!(report["cards"][0]["fn"], "Frank Dawson");
    assert_eq!(
        report["cards"][0]["tel"],
        serde_json::json!(["+1-919-676-9515", "+1-919-676-9564"])
    );
    assert_eq!(report["cards"][0]["org"], "Lotus Development Corporation");
    assert_eq!(report["errors"], serde_json::json!([]));
}

#[test]
fn vcard_check_flags_a_broken_card_and_still_reads_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mixed.vcf");
    std::fs::write(
        &path,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张伟\r\nTEL;TYPE=CELL:138 0013 8000\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Short\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Li Na\r\nEMAIL:li.na@example.com\r\nEND:VCARD\r\n",
    )
    .expect("write");
    let file = path.display().to_string();
    let out = mingpian(&["--json", "vcard", "check", &file, &file]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a broken card makes check exit 1"
    );
    let reports = json(&out);
    assert!(reports.is_array(), "two files give an array");
    let report = &reports[0];
    let names: Vec<&str> = report["cards"]
        .as_array()
        .expect("cards")
        .iter()
        .map(|c| c["fn"].as_str().expect("fn"))
        .collect();
    assert_eq!(
        names,
        ["张伟", "Cut Short", "Li Na"],
        "the cards around the broken one are read"
    );
    assert_eq!(
        report["errors"][0]["card"], 2,
        "the error names the broken card"
    );
    assert_eq!(
        report["errors"][0]["line"], 6,
        "and the line where it starts"
    );
}

#[test]
fn vcard_check_text_output_and_missing_file() {
    let out = mingpian(&["vcard", "check", "/nonexistent/cards.vcf"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("cannot read the file"), "says why: {text}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "no backtrace"
    );
}

#[test]
fn converted_output_is_read_by_vobject_with_the_same_names_and_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let vcard_dir = repo_root().join("../shared/testdata/vcard");
    let mut files: Vec<String> = Vec::new();
    for sub in [
        "aosp-vcard",
        "ez-vcard",
        "kcontacts",
        "folkerkinzel-vcards",
        "sabre-vobject",
    ] {
        for entry in std::fs::read_dir(vcard_dir.join(sub)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "vcf") {
                files.push(path.display().to_string());
            }
        }
    }
    files.sort();
    for version in ["3.0", "4.0"] {
        let output = dir.path().join(format!("all-{version}.vcf"));
        let output_s = output.display().to_string();
        let mut args = vec!["vcard", "convert", "--to", version, "-o", &output_s];
        args.extend(files.iter().map(String::as_str));
        let out = mingpian(&args);
        assert!(
            output.exists(),
            "convert writes the output even when some input cards are broken"
        );
        let _ = out;

        let ours = json(&mingpian(&["--json", "vcard", "check", &output_s]));
        assert_eq!(
            ours["errors"],
            serde_json::json!([]),
            "our own {version} output reads back cleanly"
        );
        let ours = ours["cards"].as_array().expect("cards").clone();

        let oracle = Command::new("python3")
            .arg(repo_root().join("tools/vobject_oracle.py"))
            .arg(&output)
            .output()
            .expect("python3 runs");
        assert!(
            oracle.status.success(),
            "vobject oracle: {}",
            String::from_utf8_lossy(&oracle.stderr)
        );
        let theirs: Value = serde_json::from_slice(&oracle.stdout).expect("oracle JSON");
        let theirs = &theirs[output_s.as_str()];
        if version == "3.0" {
            assert_eq!(
                theirs["error"],
                Value::Null,
                "vobject reads our whole 3.0 file"
            );
            let theirs = theirs["cards"].as_array().expect("cards");
            assert_eq!(theirs.len(), ours.len(), "vobject sees every card we wrote");
            for (t, o) in theirs.iter().zip(&ours) {
                let name = o["fn"].as_str().expect("fn");
                if !name.is_empty() {
                    assert_eq!(
                        t["fn"].as_str(),
                        Some(name),
                        "vobject reads the FN we wrote"
                    );
                }
                assert_eq!(
                    t["tel"].as_u64(),
                    Some(o["tel"].as_array().expect("tel").len() as u64),
                    "TEL count for {name}"
                );
                assert_eq!(
                    t["email"].as_u64(),
                    Some(o["email"].as_array().expect("email").len() as u64),
                    "EMAIL count for {name}"
                );
            }
        }
    }
}

#[test]
fn qr_encode_then_decode_gives_the_text_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let png = dir.path().join("code.png").display().to_string();
    let svg = dir.path().join("code.svg").display().to_string();
    let text = "https://mp.example.cn/c/BwcHBwcHBwcHBwcHBwcHBw/1?t=名片";
    assert!(
        mingpian(&["qr", "encode", text, "-o", &png])
            .status
            .success()
    );
    assert!(
        mingpian(&["qr", "encode", text, "-o", &svg])
            .status
            .success()
    );
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));
    let out = mingpian(&["--json", "qr", "decode", &png]);
    assert!(out.status.success());
    assert_eq!(
        json(&out),
        serde_json::json!({"image": png, "texts": [text]})
    );
}

#[test]
fn qr_decode_reads_a_real_photo_and_reports_images_without_codes() {
    let photo = testdata("qr/jsqr-e2e/angel-hotel.png");
    let out = mingpian(&["qr", "decode", &photo]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "http://en.qrwp.org/The_Angel_Hotel,_Monmouth"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, "hello").expect("write");
    let out = mingpian(&["qr", "decode", &not_image.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(stderr.contains("could not read the image"), "{stderr}");
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    let out = mingpian(&["qr", "encode", "x", "-o", "/tmp/code.gif"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(".png or .svg"), "{stderr}");
}

#[test]
fn card_from_photo_prints_the_draft_card_as_json() {
    let photo = testdata("bizcard/azure-samples/business_card.jpg");
    let out = mingpian(&["--json", "card", "from-photo", &photo, "--region", "US"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let card = json(&out);
    assert_eq!(card["fn"], "Chris Smith");
    assert_eq!(card["title"], "Senior Researcher");
    assert_eq!(card["org"], "CONTOSO");
    assert_eq!(card["email"][0], "chris.smith@contoso.com");
    assert_eq!(
        card["tel"],
        serde_json::json!(["+19871234567", "+19872135674", "+19873126745"]),
        "mobile, office and fax in E.164"
    );
    assert_eq!(card["adr"][0], "4001 1st Ave NE Redmond, WA 98052");
}

#[test]
fn card_from_photo_reads_inside_the_corners_the_user_set() {
    let photo = testdata("bizcard/azure-samples/business-card-english.jpg");
    // The card's corners in the 4032 × 3024 photo, set by eye.
    let corners = "180,1050 2840,460 3855,1560 500,2835";
    let out = mingpian(&[
        "--json",
        "card",
        "from-photo",
        &photo,
        "--region",
        "GB",
        "--corners",
        corners,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let card = json(&out);
    assert_eq!(card["fn"], "Avery Smith");
    assert_eq!(card["org"], "Contoso");
    assert_eq!(card["email"][0], "avery.smith@contoso.com");
    assert_eq!(
        card["frame"],
        serde_json::json!([
            [180.0, 1050.0],
            [2840.0, 460.0],
            [3855.0, 1560.0],
            [500.0, 2835.0]
        ])
    );
    assert_eq!(card["turned"], 0);

    for bad in ["1,2 3", "0,0 10,0 0,0 0,10"] {
        let out = mingpian(&["--json", "card", "from-photo", &photo, "--corners", bad]);
        assert_eq!(out.status.code(), Some(1), "--corners {bad:?} is bad input");
        let err: Value = serde_json::from_slice(&out.stderr).unwrap();
        assert_eq!(err["code"], "invalid");
        assert!(err["message"].as_str().unwrap().contains("--corners"));
    }
}
