//! The client commands as a user runs them: the real `mingpian` binary, separate data dirs, a
//! real cloud on port 0.

mod common;

use std::path::Path;
use std::process::Command;

use common::run;
use mingpian_testkit::ThreadCloud;
use serde_json::Value;

/// A real cloud on port 0, on SQLite in a temp dir, served from a thread of its own so the test
/// can run the binary synchronously.
fn cloud() -> ThreadCloud {
    ThreadCloud::sqlite(|_| {})
}

fn ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let out = run(dir, &[&["--json"], args].concat(), stdin);
    assert!(
        out.status.success(),
        "mingpian {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn testdata(rel: &str) -> String {
    mingpian_testkit::testdata(rel).display().to_string()
}

#[test]
fn two_people_exchange_cards_with_the_command_line() {
    let cloud = cloud();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let pw = Some("correct horse battery\n");
    let server = cloud.base.as_str();
    let session = ok(
        a.path(),
        &[
            "register",
            "--server",
            server,
            "--name",
            "Zhang Wei",
            "--phone",
            "+86 138 0013 8000",
            "--password-stdin",
        ],
        pw,
    );
    assert_eq!(session["account"]["name"], "Zhang Wei");
    ok(
        b.path(),
        &[
            "register",
            "--server",
            server,
            "--name",
            "Anna Berg",
            "--email",
            "anna@example.com",
            "--password-stdin",
        ],
        pw,
    );

    // A shows the live code as a picture; B scans the picture.
    let png = a.path().join("code.png");
    let shown = ok(
        a.path(),
        &["qr", "show", "--set", "1", "-o", png.to_str().unwrap()],
        None,
    );
    assert!(
        shown["url"].as_str().unwrap().contains("?t="),
        "a live code unless --printed: {shown}"
    );
    let scanned = ok(
        b.path(),
        &["scan", png.to_str().unwrap(), "--place", "Canton Fair"],
        None,
    );
    assert_eq!(scanned["status"], "saved", "{scanned}");
    assert_eq!(scanned["card"]["formatted_name"], "Zhang Wei");
    assert_eq!(scanned["outcome"], "added");

    // A's inbox brings B's card.
    let inbox = ok(a.path(), &["inbox", "--wait", "5"], None);
    assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox}");
    assert_eq!(inbox[0]["card"]["formatted_name"], "Anna Berg");

    // `--json wallet list`: contacts with name, phones, emails and cards.
    let list = ok(b.path(), &["wallet", "list"], None);
    let first = &list[0];
    assert_eq!(first["name"], "Zhang Wei");
    assert_eq!(first["phones"][0], "+8613800138000");
    assert_eq!(first["cards"].as_array().unwrap().len(), 1);
    assert!(first["emails"].is_array());
    let found = ok(b.path(), &["wallet", "search", "zhang"], None);
    assert_eq!(found["total"], 1);

    // A second set of A with the same phone joins the same contact in B's wallet. (A's first
    // `card add` fills set 1, which registration made from the name and number alone.)
    let first_vcf = a.path().join("first.vcf");
    std::fs::write(&first_vcf, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zhang Wei\r\nTITLE:Engineer\r\nTEL;TYPE=CELL:+86 138 0013 8000\r\nEND:VCARD\r\n").unwrap();
    let first_set = ok(
        a.path(),
        &["card", "add", "--vcf", first_vcf.to_str().unwrap()],
        None,
    );
    assert_eq!(first_set["set_no"], 1, "the first card fills set 1");
    let vcf = a.path().join("second.vcf");
    std::fs::write(&vcf, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:张伟\r\nORG:华为\r\nTEL;TYPE=CELL:138 0013 8000\r\nEND:VCARD\r\n").unwrap();
    let set = ok(
        a.path(),
        &["card", "add", "--vcf", vcf.to_str().unwrap()],
        None,
    );
    assert_eq!(set["set_no"], 2);
    let shown = ok(a.path(), &["qr", "show", "--set", "2"], None);
    let linked = ok(b.path(), &["scan", shown["url"].as_str().unwrap()], None);
    assert_eq!(linked["outcome"], "linked", "{linked}");
    assert_eq!(
        ok(b.path(), &["wallet", "list"], None)
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Import, export, sync, and restore into an empty data dir.
    let report = ok(
        b.path(),
        &["import", &testdata("vcard/ez-vcard/outlook-2007.vcf")],
        None,
    );
    assert!(report["added"].as_u64().unwrap() > 0, "{report}");
    let exported = b.path().join("all.csv");
    ok(
        b.path(),
        &[
            "export",
            "--format",
            "csv",
            "-o",
            exported.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        std::fs::read_to_string(&exported)
            .unwrap()
            .contains("Zhang Wei")
    );
    ok(b.path(), &["sync"], None);
    let fresh = tempfile::tempdir().unwrap();
    ok(
        fresh.path(),
        &[
            "login",
            "--server",
            server,
            "--name",
            "anna@example.com",
            "--password-stdin",
        ],
        pw,
    );
    ok(fresh.path(), &["restore"], None);
    assert_eq!(
        ok(fresh.path(), &["wallet", "list"], None),
        ok(b.path(), &["wallet", "list"], None)
    );
}

#[test]
fn client_errors_are_one_line_with_the_right_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    // Not logged in: the user must do something first (1).
    let out = run(dir.path(), &["qr", "show"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not logged in"));
    // An unreachable cloud cannot be helped by the user's input (2), and JSON mode says so in JSON.
    let out = run(
        dir.path(),
        &[
            "--json",
            "register",
            "--server",
            "http://127.0.0.1:9",
            "--name",
            "X",
            "--password-stdin",
        ],
        Some("pw-long-enough\n"),
    );
    assert_eq!(out.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&out.stderr).expect("a JSON error body on stderr");
    assert_eq!(body["code"], "offline");
    // Unknown contact: 1.
    let out = run(dir.path(), &["wallet", "show", "nope"], None);
    assert_eq!(out.status.code(), Some(1));
    // Text that is no card code.
    let out = run(dir.path(), &["scan", "hello"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a business card code"));
}

/// Issue 16, finding 2: a new user types exactly `register`, `card add`, `qr show`, and the people
/// who scan them get the card they added, with its number (claim 8 links by it).
#[test]
fn a_new_users_first_card_is_the_one_they_share() {
    let cloud = cloud();
    let (new, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pw = Some("correct horse battery\n");
    let server = cloud.base.as_str();
    for (dir, name) in [(&new, "Chen Jing"), (&other, "Scanner Sun")] {
        ok(
            dir.path(),
            &[
                "register",
                "--server",
                server,
                "--name",
                name,
                "--password-stdin",
            ],
            pw,
        );
    }
    let vcf = new.path().join("mycard.vcf");
    std::fs::write(&vcf, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Chen Jing\r\nORG:Acme\r\nTEL;TYPE=CELL:+86 139 1234 5678\r\nEND:VCARD\r\n").unwrap();
    let added = run(
        new.path(),
        &["card", "add", "--vcf", vcf.to_str().unwrap()],
        None,
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let said = String::from_utf8_lossy(&added.stdout);
    assert!(said.contains("set 1"), "the first card fills set 1: {said}");
    let shown = run(new.path(), &["qr", "show"], None);
    let shown_text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown_text.contains("set 1: Chen Jing · Acme"),
        "`qr show` says which set it shows: {shown_text}"
    );
    let url = shown_text
        .lines()
        .find(|l| l.starts_with("http"))
        .expect("the code's URL");
    let scanned = ok(other.path(), &["scan", url], None);
    assert_eq!(scanned["card"]["org"], "Acme", "{scanned}");
    assert_eq!(
        scanned["card"]["phones"][0]["value"], "+86 139 1234 5678",
        "the scanner gets the number: {scanned}"
    );
}

/// Issue 16, finding 5: the command line shows dates and times as the user's locale writes them,
/// never as raw milliseconds.
#[test]
fn the_command_line_shows_local_dates() {
    let cloud = cloud();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pw = Some("correct horse battery\n");
    let server = cloud.base.as_str();
    for (dir, name) in [(&a, "Date Owner"), (&b, "Date Scanner")] {
        ok(
            dir.path(),
            &[
                "register",
                "--server",
                server,
                "--name",
                name,
                "--phone",
                if name == "Date Owner" {
                    "13900001111"
                } else {
                    "13900002222"
                },
                "--password-stdin",
            ],
            pw,
        );
    }
    let url = ok(a.path(), &["qr", "show"], None)["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let scanned = ok(b.path(), &["scan", &url, "--place", "Canton Fair"], None);
    let contact = scanned["contact_id"].as_str().unwrap().to_owned();
    let show = |lang: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_mingpian"))
            .arg("--data-dir")
            .arg(b.path())
            .args(["wallet", "show", &contact])
            .env("LC_ALL", lang)
            .env("TZ", "Asia/Shanghai")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let zh = show("zh_CN.UTF-8");
    let met = zh
        .lines()
        .find(|l| l.starts_with("met:"))
        .expect("a meeting");
    assert!(
        !met.chars()
            .collect::<Vec<_>>()
            .windows(13)
            .any(|w| w.iter().all(char::is_ascii_digit)),
        "no raw milliseconds: {met}"
    );
    assert!(
        met.contains('年') && met.contains('月') && met.contains('日'),
        "{met}"
    );
    assert!(
        met.contains("you scanned their code") && met.contains("Canton Fair"),
        "{met}"
    );
    let en = show("en_US.UTF-8");
    let met = en
        .lines()
        .find(|l| l.starts_with("met:"))
        .expect("a meeting");
    assert!(met.contains("AM") || met.contains("PM"), "{met}");
}
