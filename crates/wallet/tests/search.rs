//! The search index after the first search: it catches up from the wallet's change log, in this
//! process and from another that has the same wallet open, and finds what a fresh index finds.

mod common;

use common::wallet;
use mingpian_card::{Card, Phone};
use mingpian_wallet::{ContactEdit, Wallet};

fn card(name: &str, phone: &str) -> Card {
    Card {
        formatted_name: name.into(),
        phones: vec![Phone {
            value: phone.into(),
            ..Phone::default()
        }],
        ..Card::default()
    }
}

fn names(w: &Wallet, q: &str) -> Vec<String> {
    w.search(q, 100)
        .expect("search")
        .contacts
        .into_iter()
        .map(|c| c.name)
        .collect()
}

#[test]
fn search_follows_edits_deletions_and_other_processes() {
    let (w, _dir) = wallet();
    let li = w
        .add_card(card("Li Lei", "+86 138 0013 8000"))
        .expect("add")
        .contact_id;
    w.add_card(card("Anna Berg", "+49 151 2345 6789"))
        .expect("add");
    w.add_card(card("Zhou Min", "+86 139 0000 0001"))
        .expect("add");
    assert_eq!(
        names(&w, ""),
        ["Anna Berg", "Li Lei", "Zhou Min"],
        "the index is built"
    );

    // The user's own edit of the contact: the name "Yang Li", and a title or none.
    let edit = |title: Option<&str>| {
        w.edit_contact(
            &li,
            &ContactEdit {
                name: Some("Yang Li".into()),
                title: title.map(str::to_owned),
                ..ContactEdit::default()
            },
        )
        .expect("edit")
    };

    // A rename moves the contact in list order and changes what finds it.
    edit(None);
    assert_eq!(names(&w, ""), ["Anna Berg", "Yang Li", "Zhou Min"]);
    assert_eq!(names(&w, "yang"), ["Yang Li"]);
    // The card itself is still Li Lei's, and still found by it.
    assert_eq!(names(&w, "li lei"), ["Yang Li"]);

    // A title only the contact's row holds (no card has one): its search text stores nothing
    // new (the row's fields are read from the row), and the index hears of it all the same.
    edit(Some("Harbour Master"));
    assert_eq!(names(&w, "harbour master"), ["Yang Li"]);
    edit(None);
    assert_eq!(names(&w, "harbour"), Vec::<String>::new());

    // The bin, and back.
    w.delete_contact(&li).expect("delete");
    assert_eq!(names(&w, "yang"), Vec::<String>::new());
    w.undelete_contact(&li).expect("undelete");
    assert_eq!(names(&w, "yang"), ["Yang Li"]);

    // Another process with the same wallet open: its changes reach this index.
    let other = Wallet::open(w.dir()).expect("the same wallet, opened again");
    other.set_tags(&li, &["vip".into()]).expect("tag");
    other
        .add_card(card("Wang Fang", "+86 10 8888 6666"))
        .expect("add");
    assert_eq!(names(&w, "vip"), ["Yang Li"]);
    assert_eq!(names(&w, "wang"), ["Wang Fang"]);

    // Past the catch-up limit the index is rebuilt, with the same result.
    for i in 0..2_100 {
        other.set_tags(&li, &[format!("t{i}")]).expect("tag");
    }
    assert_eq!(names(&w, "t2099"), ["Yang Li"]);
    assert_eq!(names(&w, "vip"), Vec::<String>::new());
    let fresh = Wallet::open(w.dir()).expect("reopen");
    for q in ["", "a", "86", "t20"] {
        assert_eq!(names(&w, q), names(&fresh, q), "{q:?}");
    }
}

/// A large import does not leave a change-log row per contact in the wallet file (every index
/// from before it rebuilds anyway), and the search of a process that had the wallet open before
/// the import, and of this one, both find what it brought.
#[test]
fn a_large_import_leaves_no_log_behind_and_every_index_finds_it() {
    let (w, _dir) = wallet();
    w.add_card(card("Anna Berg", "+49 151 2345 6789"))
        .expect("add");
    let other = Wallet::open(w.dir()).expect("the same wallet, opened again");
    assert_eq!(names(&other, "anna"), ["Anna Berg"], "its index is built");
    let mut file = String::new();
    for i in 0..3_000 {
        file.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i:04}\r\nTEL:+86 138 {:04} {:04}\r\nEND:VCARD\r\n",
            i / 10_000,
            i % 10_000
        ));
    }
    let report = w
        .import_many(&[("people.vcf".into(), file.into_bytes())], &mut |_| {})
        .expect("import");
    assert_eq!(report.added, 3_000, "{report:?}");
    let conn = rusqlite::Connection::open(w.dir().join(mingpian_wallet::DB_FILE)).expect("open");
    let logged: i64 = conn
        .query_row("SELECT COUNT(*) FROM search_log", [], |r| r.get(0))
        .expect("count");
    assert_eq!(logged, 1, "only the newest log row is left");
    for wallet in [&w, &other] {
        assert_eq!(names(wallet, "person 2999"), ["Person 2999"]);
        assert_eq!(names(wallet, "anna"), ["Anna Berg"]);
        assert_eq!(names(wallet, "person").len(), 100, "a page of them");
    }
    let total = w.search("person", 10).expect("search").total;
    assert_eq!(total, 3_000);
}

/// A Chinese name's pinyin is found as typed with spaces between its syllables ("chen yan" for
/// 陈燕), as well as run together and by initials; a Latin name still by its words.
#[test]
fn pinyin_with_spaces_finds_a_chinese_name() {
    let (w, _dir) = wallet();
    w.add_card(card("陈燕", "+86 138 0013 8000")).expect("add");
    w.add_card(card("Robert Williams", "+1 555 0100"))
        .expect("add");
    w.add_card(card("Chen Yanling", "+86 139 0000 0001"))
        .expect("add");
    for q in ["chen yan", "Chen  Yan", "chenyan", "cy"] {
        assert!(
            names(&w, q).contains(&"陈燕".to_owned()),
            "{q}: {:?}",
            names(&w, q)
        );
    }
    assert_eq!(names(&w, "robert williams"), ["Robert Williams"]);
    assert_eq!(names(&w, "williams robert"), Vec::<String>::new());
    // A separator of the index in a query matches nothing across contacts.
    assert_eq!(names(&w, "robert williams\u{0}"), ["Robert Williams"]);
    assert_eq!(names(&w, "\u{1}\u{0}"), names(&w, ""));
    let both = w.search("chen yan", 1).expect("search");
    assert_eq!(
        (both.contacts.len(), both.total),
        (1, 2),
        "陈燕 and Chen Yanling, counted once each"
    );
}
