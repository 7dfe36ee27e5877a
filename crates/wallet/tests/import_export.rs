//! Batch import and export (claim 9) on real files: the real-world vCard corpus, Google and
//! Outlook CSV, broken cards in a batch, re-imports, round trips.

mod common;

use std::path::{Path, PathBuf};

use common::{testdata, wallet};
use mingpian_card::{Card, vcard};
use mingpian_wallet::{ExportFormat, Progress, Wallet};

fn vcard_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![testdata("vcard")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("../shared/testdata/vcard is readable") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("vcf") || e == "ref")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(
        out.len() > 50,
        "expected the real-world vCard corpus, found {}",
        out.len()
    );
    out
}

/// Every card the wallet holds, in every version.
fn held(w: &Wallet) -> Vec<Card> {
    let mut out = Vec::new();
    for contact in w.contacts_with_cards().unwrap() {
        for card in contact.cards {
            out.extend(
                w.card_versions(&card.id)
                    .unwrap()
                    .into_iter()
                    .map(|v| v.card),
            );
        }
    }
    out
}

fn local(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn the_real_world_vcard_files_import_with_nothing_lost() {
    let mut total = 0;
    for file in vcard_files() {
        let bytes = std::fs::read(&file).unwrap();
        let read = vcard::read(&bytes);
        let (w, _d) = wallet();
        let report = w.import_files(&[&file], &mut |_| {}).unwrap();
        let name = file.display();
        assert_eq!(
            report.read,
            read.cards.len(),
            "{name}: every card read is imported"
        );
        // A file with no card at all is itself one reported problem.
        let nothing = usize::from(read.cards.is_empty() && read.errors.is_empty());
        assert_eq!(
            report.errors.len(),
            read.errors.len() + nothing,
            "{name}: {:?}",
            report.errors
        );
        assert_eq!(
            report.added + report.linked + report.updated + report.unchanged,
            read.cards.len(),
            "{name}: {report:?}"
        );
        let held = held(&w);
        for (i, card) in read.cards.iter().enumerate() {
            assert!(
                held.contains(card),
                "{name}: card {} ({}) is in the wallet exactly as read",
                i + 1,
                card.display_name()
            );
        }
        total += read.cards.len();
    }
    assert!(
        total > 1000,
        "the corpus holds over a thousand cards; imported {total}"
    );
}

#[test]
fn importing_the_same_file_again_changes_nothing() {
    let (w, _d) = wallet();
    let files = [
        testdata("vcard/ez-vcard/outlook-2007.vcf"),
        testdata("vcard/aosp-vcard/v21_japanese_1.vcf"),
        local("google.csv"),
        local("outlook.csv"),
    ];
    let first = w.import_files(&files, &mut |_| {}).unwrap();
    assert!(first.added > 0, "{first:?}");
    let before = w.contacts_with_cards().unwrap();
    let again = w.import_files(&files, &mut |_| {}).unwrap();
    assert_eq!(again.added + again.linked + again.updated, 0, "{again:?}");
    assert_eq!(
        again.unchanged, first.read,
        "every card read is found unchanged"
    );
    assert_eq!(w.contacts_with_cards().unwrap(), before);
}

#[test]
fn a_changed_card_imports_as_a_new_version_of_the_same_card() {
    let (w, dir) = wallet();
    let v1 =
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc-1\r\nFN:Li Lei\r\nTITLE:Engineer\r\nEND:VCARD\r\n";
    let v2 = v1.replace("Engineer", "Manager");
    let path = dir.path().join("c.vcf");
    std::fs::write(&path, v1).unwrap();
    w.import_files(&[&path], &mut |_| {}).unwrap();
    std::fs::write(&path, v2).unwrap();
    let report = w.import_files(&[&path], &mut |_| {}).unwrap();
    assert_eq!(report.updated, 1, "same UID: an update {report:?}");
    let contacts = w.contacts_with_cards().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].cards[0].card.title.as_deref(), Some("Manager"));
    assert_eq!(contacts[0].cards[0].versions, 2, "the old version is kept");

    // Same phone, different name: a colleague on the office line, not an update.
    let a = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Han Mei\r\nTEL:+86 10 6288 0000\r\nEND:VCARD\r\n";
    let b = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Li Hua\r\nTEL:+86 10 6288 0000\r\nEND:VCARD\r\n";
    std::fs::write(&path, format!("{a}{b}")).unwrap();
    let report = w.import_files(&[&path], &mut |_| {}).unwrap();
    assert_eq!(
        (report.added, report.linked, report.updated),
        (1, 1, 0),
        "{report:?}"
    );
    let cards: usize = w
        .contacts_with_cards()
        .unwrap()
        .iter()
        .map(|c| c.cards.len())
        .sum();
    assert_eq!(cards, 3, "both colleagues' cards are kept");
}

#[test]
fn a_broken_card_is_reported_and_the_rest_import() {
    let (w, dir) = wallet();
    let path = dir.path().join("batch.vcf");
    std::fs::write(
        &path,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:One\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Two\r\nN:broken\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Three\r\nEND:VCARD\r\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.vcf");
    let report = w.import_files(&[&path, &missing], &mut |_| {}).unwrap();
    assert!(!report.errors.is_empty(), "{report:?}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.file.ends_with("missing.vcf") && e.message.contains("cannot read")),
        "{:?}",
        report.errors
    );
    let names: Vec<String> = w.contacts().unwrap().into_iter().map(|c| c.name).collect();
    assert!(
        names.contains(&"One".to_owned()) && names.contains(&"Three".to_owned()),
        "{names:?}"
    );
}

#[test]
fn google_and_outlook_csv_import() {
    let (w, _d) = wallet();
    let report = w
        .import_files(
            &[
                local("google.csv"),
                local("outlook.csv"),
                local("outlook-gbk.csv"),
            ],
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(report.read, 6, "{report:?}");
    assert!(
        report.errors.is_empty(),
        "an empty Outlook row is skipped, not an error: {report:?}"
    );
    let zhang = &w.search("张伟", 5).unwrap().contacts[0];
    assert_eq!(zhang.org.as_deref(), Some("华为技术有限公司"));
    assert_eq!(zhang.title.as_deref(), Some("产品经理"));
    assert_eq!(zhang.tags, Vec::<String>::new());
    let detail = w.contact(&zhang.id).unwrap();
    let card = &detail.cards[0].card;
    assert_eq!(card.categories, ["客户"]);
    assert_eq!(card.departments, ["终端BG"]);
    assert_eq!(card.addresses[0].locality, "北京");
    assert_eq!(card.birthday.as_deref(), Some("1985-03-02"));
    let john = &w.search("contoso", 5).unwrap().contacts[0];
    assert_eq!(john.name, "Mr. John Q Public Jr.");
    assert_eq!(john.title.as_deref(), Some("Engineer"));
    let wang = &w.search("王芳", 5).unwrap().contacts;
    assert_eq!(wang.len(), 1, "GBK Outlook export decoded");
    assert_eq!(wang[0].org.as_deref(), Some("中信"));
    let richter = &w.search("richter", 5).unwrap().contacts[0];
    assert_eq!(
        richter.phones.len(),
        2,
        "Google's ::: cell holds two numbers"
    );
}

#[test]
fn exports_read_back_and_report_progress() {
    let (w, _d) = wallet();
    w.import_files(
        &[
            testdata("vcard/ez-vcard/outlook-2007.vcf"),
            local("google.csv"),
            testdata("vcard/aosp-vcard/v30_simple.vcf"),
        ],
        &mut |_| {},
    )
    .unwrap();
    let names = |w: &Wallet| {
        let mut n: Vec<String> = w.contacts().unwrap().into_iter().map(|c| c.name).collect();
        n.sort();
        n
    };
    for format in [ExportFormat::Vcf3, ExportFormat::Vcf4, ExportFormat::Csv] {
        let mut seen: Vec<Progress> = Vec::new();
        let bytes = w.export(format, None, &mut |p| seen.push(p)).unwrap();
        let last = seen.last().unwrap();
        assert_eq!(last.done, last.total, "{format:?}: progress ends complete");
        let (back, dir) = wallet();
        let path = dir.path().join(format!("export.{}", format.extension()));
        std::fs::write(&path, &bytes).unwrap();
        let report = back.import_files(&[&path], &mut |_| {}).unwrap();
        assert!(report.errors.is_empty(), "{format:?}: {:?}", report.errors);
        assert_eq!(
            names(&back),
            names(&w),
            "{format:?} round trip keeps every contact"
        );
    }
    // A selection exports only those contacts.
    let first = w.contacts().unwrap()[0].clone();
    let bytes = w
        .export(
            ExportFormat::Vcf3,
            Some(std::slice::from_ref(&first.id)),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(vcard::read(&bytes).cards.len() as i64, first.card_count);
}

#[test]
fn the_list_interleaves_chinese_and_latin_names_by_pinyin() {
    let (w, _d) = wallet();
    for name in ["张伟", "Anna", "白雪", "Zoe", "陈晨", "123 Pizza"] {
        w.add_card(Card {
            formatted_name: name.into(),
            ..Card::default()
        })
        .unwrap();
    }
    let list: Vec<(String, String)> = w
        .contacts()
        .unwrap()
        .into_iter()
        .map(|c| (c.section, c.name))
        .collect();
    let expect = [
        ("#", "123 Pizza"),
        ("A", "Anna"),
        ("B", "白雪"),
        ("C", "陈晨"),
        ("Z", "张伟"),
        ("Z", "Zoe"),
    ];
    assert_eq!(
        list,
        expect
            .iter()
            .map(|(s, n)| ((*s).to_owned(), (*n).to_owned()))
            .collect::<Vec<_>>()
    );
    // Deleting goes to the bin and can be undone.
    let id = w.search("白雪", 1).unwrap().contacts[0].id.clone();
    w.delete_contact(&id).unwrap();
    assert_eq!(w.search("baixue", 5).unwrap().total, 0);
    w.undelete_contact(&id).unwrap();
    assert_eq!(w.search("bx", 5).unwrap().total, 1);
}

/// A file whose cards share a number (a company's switchboard on every employee's card) links
/// them into one contact, refreshed once at the end rather than after each card (which read
/// N²/2 cards: 1,000 such cards took 8.7 s). What it gives equals importing the cards one file
/// at a time, each refreshed at once: the same contacts showing the same fields, found by the
/// same searches. Inside the file, a card updated by its UID links a later card by its new
/// number at once.
#[test]
fn cards_sharing_a_number_import_as_they_would_one_at_a_time() {
    let mut cards = vec![
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:zl-1\r\nFN:Zhao Lei\r\nTEL:+86 139 0000 0001\r\nEND:VCARD\r\n".to_owned(),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:zl-1\r\nFN:Zhao Lei\r\nTITLE:Director\r\nTEL:+86 139 0000 0002\r\nEND:VCARD\r\n".to_owned(),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Qian Yu\r\nTEL:+86 139 0000 0002\r\nEND:VCARD\r\n".to_owned(),
    ];
    for i in 0..150 {
        cards.push(format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nORG:Acme\r\nTITLE:Engineer {i}\r\n\
             TEL;TYPE=WORK:+86 10 6552 8888\r\nEMAIL:p{i}@acme.example\r\nEND:VCARD\r\n"
        ));
    }
    // The same person again, on the switchboard only, past the 64 cards an import looks at for
    // the same person on one number: kept beside them as another card (nothing is lost).
    cards.push("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person 120\r\nNOTE:met at the fair\r\nTEL;TYPE=WORK:+86 10 6552 8888\r\nEND:VCARD\r\n".to_owned());

    let (whole, dir) = wallet();
    let path = dir.path().join("all.vcf");
    std::fs::write(&path, cards.concat()).unwrap();
    let report = whole.import_files(&[&path], &mut |_| {}).unwrap();
    assert_eq!(report.read, cards.len(), "{report:?}");

    let (one_by_one, dir) = wallet();
    let mut added_linked_updated_unchanged = (0, 0, 0, 0);
    for (i, card) in cards.iter().enumerate() {
        let path = dir.path().join(format!("{i}.vcf"));
        std::fs::write(&path, card).unwrap();
        let r = one_by_one.import_files(&[&path], &mut |_| {}).unwrap();
        added_linked_updated_unchanged.0 += r.added;
        added_linked_updated_unchanged.1 += r.linked;
        added_linked_updated_unchanged.2 += r.updated;
        added_linked_updated_unchanged.3 += r.unchanged;
    }
    assert_eq!(
        (
            report.added,
            report.linked,
            report.updated,
            report.unchanged
        ),
        added_linked_updated_unchanged
    );
    // Zhao Lei and Qian Yu (linked by Zhao Lei's new number), and the switchboard's contact.
    assert_eq!(report.added, 2, "{report:?}");

    let shown = |w: &Wallet| {
        let mut all: Vec<_> = w
            .contacts()
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.org, c.title, c.phones, c.emails, c.card_count))
            .collect();
        all.sort();
        all
    };
    assert_eq!(shown(&whole), shown(&one_by_one));
    assert_eq!(
        shown(&whole).iter().map(|c| c.5).sum::<i64>(),
        cards.len() as i64 - 1,
        "every card kept but Zhao Lei's update, a version of his card"
    );
    for query in [
        "person 149",
        "p77@acme",
        "qian yu",
        "director",
        "6552 8888",
        "engineer 3",
    ] {
        let found = |w: &Wallet| {
            let ids = w.search(query, 10).unwrap().contacts;
            let mut names: Vec<String> = ids.into_iter().map(|c| c.name).collect();
            names.sort();
            names
        };
        let names = found(&whole);
        assert!(!names.is_empty(), "{query}");
        assert_eq!(names, found(&one_by_one), "{query}");
    }
}
