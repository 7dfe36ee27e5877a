//! The wallet as the phone's address book, with a real CardDAV client: `vdirsyncer` (PyPI,
//! installed by `scripts/setup.sh`) syncs the account's address book with a folder of `.vcf`
//! files, both ways, against a real cloud on port 0; the wallet side is the real `mingpian`
//! binary. A missing `vdirsyncer` fails the test.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use common::run;
use mingpian_testkit::ThreadCloud;
use serde_json::Value;

fn ok(dir: &Path, args: &[&str]) -> Value {
    let out = run(dir, &[&["--json"], args].concat(), None);
    assert!(
        out.status.success(),
        "mingpian {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Runs `python3 -m vdirsyncer` with the test's config; returns what it printed (its log goes to stderr).
fn vdirsyncer(config: &Path, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("python3")
        .args(["-m", "vdirsyncer", "-c"])
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vdirsyncer is installed (scripts/setup.sh installs it from PyPI)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("vdirsyncer ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "vdirsyncer {args:?} failed:\n{text}");
    text
}

/// What a sync run transferred: its copy and delete lines.
fn transfers(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.starts_with("Copying") || l.starts_with("Deleting"))
        .collect()
}

fn contact<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no contact {name:?} in {list}"))
}

const LI: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Li Lei\r\nN:Li;Lei;;;\r\nORG:Acme Trading\r\nTITLE:Buyer\r\nTEL;TYPE=CELL:+86 138 0013 8000\r\nEMAIL:li.lei@acme.example\r\nEND:VCARD\r\n";
const HAN: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:韩梅梅\r\nN:韩;梅梅;;;\r\nORG:北京示例科技有限公司\r\nTEL;TYPE=WORK:+86 10 6552 9988\r\nEND:VCARD\r\n";
const ANNA: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Berg\r\nN:Berg;Anna;;;\r\nEMAIL:anna@example.com\r\nEND:VCARD\r\n";

#[test]
fn vdirsyncer_keeps_a_folder_and_the_wallet_in_step_both_ways() {
    let cloud = ThreadCloud::sqlite(|_| {});
    let wallet = tempfile::tempdir().expect("temp dir");
    let work = tempfile::tempdir().expect("temp dir");
    let w = wallet.path();
    let out = run(
        w,
        &[
            "register",
            "--server",
            &cloud.base,
            "--name",
            "Zhang Wei",
            "--phone",
            "+86 139 1111 2222",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Cards from people, plus a real client's file with its oddities (kcontacts' test data).
    let mine = work.path().join("cards.vcf");
    std::fs::write(&mine, [LI, HAN, ANNA].concat()).expect("write");
    let kcontacts = mingpian_testkit::testdata("vcard/kcontacts/vcard10.vcf");
    ok(
        w,
        &[
            "import",
            mine.to_str().expect("utf-8"),
            kcontacts.to_str().expect("utf-8"),
        ],
    );
    ok(w, &["sync"]);
    let list = ok(w, &["wallet", "list"]);
    let held = list.as_array().expect("list").len();
    let li_id = contact(&list, "Li Lei")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let han_id = contact(&list, "韩梅梅")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let anna_id = contact(&list, "Anna Berg")["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let access = ok(
        w,
        &[
            "carddav",
            "new-password",
            "--label",
            "vdirsyncer on a laptop",
        ],
    );
    // The phone number: ASCII, which every client's Basic auth sends intact.
    assert_eq!(access["username"], "+8613911112222");
    assert_eq!(access["url"], format!("{}/dav/", cloud.base));
    let folder = work.path().join("contacts");
    let config = work.path().join("vdirsyncer.cfg");
    // Discovery from the server's root, as a user would type it: /.well-known/carddav, the
    // principal, its address-book home, the address book.
    std::fs::write(
        &config,
        format!(
            "[general]\nstatus_path = \"{status}\"\n\n\
             [pair wallet]\na = \"remote\"\nb = \"local\"\ncollections = [\"from a\"]\n\
             conflict_resolution = \"a wins\"\n\n\
             [storage remote]\ntype = \"carddav\"\nurl = \"{url}\"\nusername = \"{user}\"\npassword = \"{password}\"\n\n\
             [storage local]\ntype = \"filesystem\"\npath = \"{folder}/\"\nfileext = \".vcf\"\n",
            status = work.path().join("status").display(),
            url = cloud.base,
            user = access["username"].as_str().expect("username"),
            password = access["password"].as_str().expect("password"),
            folder = folder.display(),
        ),
    )
    .expect("write config");
    std::fs::create_dir_all(&folder).expect("folder");
    vdirsyncer(&config, &["discover"], "y\n");
    let first = vdirsyncer(&config, &["sync"], "");
    let book = folder.join("wallet");
    let file = |id: &str| book.join(format!("{id}.vcf"));
    let files = std::fs::read_dir(&book)
        .expect("the address book's folder")
        .count();
    assert_eq!(files, held, "one entry per wallet contact:\n{first}");
    let li = std::fs::read_to_string(file(&li_id)).expect("Li Lei's entry");
    assert!(
        li.contains("FN:Li Lei") && li.contains("+86 138 0013 8000"),
        "{li}"
    );
    assert!(
        li.contains(&format!("UID:{li_id}")),
        "the contact's id is its UID: {li}"
    );

    // Nothing changed: nothing moves.
    let idle = vdirsyncer(&config, &["sync"], "");
    assert!(
        transfers(&idle).is_empty(),
        "a second run transferred:\n{idle}"
    );

    // An edit in the address book (a corrected name, an added number, a note) reaches the
    // wallet as the user's own edit; the card Li gave stays as given.
    let edited = li.replace("FN:Li Lei", "FN:Li Lei (Acme)").replace(
        "END:VCARD",
        "TEL;TYPE=HOME:+86 138 0013 8999\r\nNOTE:prefers WeChat\r\nEND:VCARD",
    );
    std::fs::write(file(&li_id), edited).expect("edit");
    let pushed = vdirsyncer(&config, &["sync"], "");
    assert_eq!(transfers(&pushed).len(), 1, "{pushed}");
    ok(w, &["sync"]);
    let shown = ok(w, &["wallet", "show", &li_id]);
    assert_eq!(shown["name"], "Li Lei (Acme)", "{shown}");
    assert_eq!(shown["shown_by"], "own");
    assert_eq!(shown["note"], "prefers WeChat");
    let phones: Vec<&str> = shown["phones"]
        .as_array()
        .expect("phones")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(phones.iter().any(|p| p.contains("8999")), "{phones:?}");
    assert!(
        phones
            .iter()
            .any(|p| p.contains("138 0013 8000") || p.contains("13800138000"))
    );
    assert!(
        shown["cards"][0]["card"]["formatted_name"] == "Li Lei",
        "the received card is untouched: {shown}"
    );

    // A change made in the wallet reaches the folder; so does a deletion (into the bin).
    ok(w, &["wallet", "note", &han_id, "met at the Canton Fair"]);
    ok(w, &["wallet", "delete", &anna_id]);
    ok(w, &["sync"]);
    let pulled = vdirsyncer(&config, &["sync"], "");
    let han = std::fs::read_to_string(file(&han_id)).expect("Han's entry");
    assert!(
        han.contains("NOTE:met at the Canton Fair"),
        "{pulled}\n{han}"
    );
    assert!(!file(&anna_id).exists(), "deleted in the wallet:\n{pulled}");

    // A deletion in the folder moves the contact to the wallet's bin, where undo works.
    std::fs::remove_file(file(&han_id)).expect("delete");
    vdirsyncer(&config, &["sync"], "");
    ok(w, &["sync"]);
    let list = ok(w, &["wallet", "list"]);
    assert!(
        !list.to_string().contains(&han_id),
        "Han is in the bin: {list}"
    );
    ok(w, &["wallet", "undelete", &han_id]);
    ok(w, &["sync"]);
    vdirsyncer(&config, &["sync"], "");
    assert!(
        file(&han_id).exists(),
        "undo brought Han back to the folder"
    );

    // A contact created in the folder becomes a wallet contact.
    std::fs::write(
        book.join("made-in-the-address-book.vcf"),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:made-in-the-address-book\r\nFN:Wang Fang\r\nN:Wang;Fang;;;\r\nORG:Example Ltd\r\nTEL;TYPE=WORK:+86 10 8888 6666\r\nCATEGORIES:supplier\r\nEND:VCARD\r\n",
    )
    .expect("new entry");
    vdirsyncer(&config, &["sync"], "");
    ok(w, &["sync"]);
    let list = ok(w, &["wallet", "list"]);
    let wang = contact(&list, "Wang Fang");
    assert_eq!(wang["org"], "Example Ltd");
    assert_eq!(wang["tags"][0], "supplier");

    // Settled: the server's renderings of the edited and created entries come back once, then
    // nothing moves.
    vdirsyncer(&config, &["sync"], "");
    let idle = vdirsyncer(&config, &["sync"], "");
    assert!(
        transfers(&idle).is_empty(),
        "a run with nothing changed transferred:\n{idle}"
    );

    // A revoked app password opens nothing.
    let id = access["id"].as_i64().expect("id").to_string();
    ok(w, &["carddav", "revoke", &id]);
    let refused = Command::new("python3")
        .args(["-m", "vdirsyncer", "-c"])
        .arg(&config)
        .arg("sync")
        .output()
        .expect("vdirsyncer runs");
    assert!(!refused.status.success(), "a revoked password still syncs");
}
