//! The wallet against a real cloud on port 0: exchange through a QR image, linking by phone,
//! offline scans completing exactly once, live delivery, living cards, restore.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Mode, Proxy, TestCloud, register_request, wallet};
use mingpian_card::api::LoginRequest;
use mingpian_card::qr::image::{decode, encode_png};
use mingpian_card::{Card, Phone};
use mingpian_wallet::{ErrorCode, EventKind, LinkedBy, Outcome, ScanResult, Wallet};

/// A's live code as a PNG, read back the way B's phone reads a photo of it.
async fn live_code_text(a: &Wallet, set: u32) -> String {
    let codes = a.codes(set).await.expect("A's codes");
    let png = encode_png(&codes.live_url, 8).expect("draw the live code");
    let found = decode(&png).expect("decode the QR image");
    assert_eq!(
        found,
        vec![codes.live_url.clone()],
        "the QR image must carry A's live URL"
    );
    found.into_iter().next().unwrap()
}

fn saved(result: ScanResult) -> mingpian_wallet::Received {
    match result {
        ScanResult::Saved { received, .. } => *received,
        ScanResult::Pending(p) => panic!("expected the scan to complete, it waits: {p:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_wallets_exchange_through_a_live_code_image_and_both_hold_both_cards() {
    let cloud = TestCloud::sqlite().await;
    let (a, _da) = wallet();
    let (b, _db) = wallet();
    a.register(
        &cloud.base,
        register_request("Zhang Wei", "+86 138 0013 8000"),
    )
    .await
    .expect("A registers");
    b.register(
        &cloud.base,
        register_request("Anna Berg", "+49 151 2345 6789"),
    )
    .await
    .expect("B registers");
    assert_eq!(
        a.my_sets().unwrap().len(),
        1,
        "registration gives set 1 (claim 5)"
    );

    // A keeps the live inbox open, as the QR screen does.
    let a = Arc::new(a);
    let listener = {
        let a = a.clone();
        tokio::spawn(async move { a.wait_for_cards(Duration::from_secs(20)).await })
    };
    let text = live_code_text(&a, 1).await;
    let got = saved(
        b.scan(&text, Some(1), Some("Canton Fair".into()))
            .await
            .expect("B scans"),
    );
    assert_eq!(got.outcome, Outcome::Added);
    assert_eq!(got.card.formatted_name, "Zhang Wei", "B holds A's card");

    let arrived = listener.await.unwrap().expect("A's live inbox");
    assert_eq!(
        arrived.len(),
        1,
        "A sees exactly B's card arrive: {arrived:?}"
    );
    assert_eq!(arrived[0].card.formatted_name, "Anna Berg");

    let a_list = a.contacts().unwrap();
    let b_list = b.contacts().unwrap();
    assert_eq!(
        a_list.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Anna Berg"]
    );
    assert_eq!(
        b_list.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Zhang Wei"]
    );
    assert_eq!(
        b_list[0].phones,
        ["+8613800138000"],
        "the live code gives the whole card"
    );

    let b_detail = b.contact(&b_list[0].id).unwrap();
    assert_eq!(b_detail.history.len(), 1);
    assert_eq!(b_detail.history[0].kind, EventKind::Scanned);
    assert_eq!(b_detail.history[0].place.as_deref(), Some("Canton Fair"));
    assert!(
        !b_detail.history[0]
            .code
            .as_deref()
            .unwrap_or("")
            .contains("?t="),
        "history keeps the code without its live token"
    );

    // Catching up again brings nothing twice.
    assert!(a.pull_inbox().await.unwrap().is_empty());
    assert_eq!(a.contacts().unwrap().len(), 1);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_set_with_the_same_phone_links_to_the_same_contact_and_can_be_unlinked() {
    let cloud = TestCloud::sqlite().await;
    let (a, _da) = wallet();
    let (b, _db) = wallet();
    a.register(&cloud.base, register_request("Li Na", "+86 139 0000 1111"))
        .await
        .unwrap();
    b.register(&cloud.base, register_request("Bo", "+86 137 0000 2222"))
        .await
        .unwrap();
    // A fills in her first card (registration made set 1 from her name and number alone).
    let mut first_card = a.my_sets().unwrap()[0].card.clone();
    first_card.title = Some("Professor".into());
    let filled = a
        .publish_set(first_card, None)
        .await
        .expect("A's first card");
    assert_eq!(filled.set_no.get(), 1, "the first card fills set 1");
    let mut second = a.my_sets().unwrap()[0].card.clone();
    second.formatted_name = "李娜".into();
    second.org = Some("北京大学".into());
    second.phones = vec![Phone {
        value: "139-0000-1111".into(), // written differently, same number
        kinds: vec!["cell".into()],
        ..Phone::default()
    }];
    second.emails.clear();
    let set2 = a
        .publish_set(second, None)
        .await
        .expect("A publishes set 2");
    assert_eq!(set2.set_no.get(), 2);

    let first = saved(
        b.scan(&live_code_text(&a, 1).await, Some(1), None)
            .await
            .unwrap(),
    );
    let linked = saved(
        b.scan(&live_code_text(&a, 2).await, Some(1), None)
            .await
            .unwrap(),
    );
    assert_eq!(first.outcome, Outcome::Added);
    assert_eq!(
        linked.outcome,
        Outcome::Linked,
        "same E.164 number: same contact"
    );
    assert_eq!(linked.linked_by, Some(LinkedBy::Phone));
    assert_eq!(linked.contact_id, first.contact_id);
    let contacts = b.contacts().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].card_count, 2, "two cards, nothing merged away");

    // Found by the Chinese name, its pinyin, and the initials.
    for q in ["李娜", "lina", "ln", "北京", "1390000"] {
        let hits = b.search(q, 10).unwrap();
        assert_eq!(hits.total, 1, "{q:?} should find Li Na");
    }

    // Undo the link: the second card becomes its own contact.
    let own = b.unlink_card(&linked.card_id).unwrap();
    assert_ne!(own, first.contact_id);
    assert_eq!(b.contacts().unwrap().len(), 2);
    // Scanning the same set again keeps it where the user put it.
    let again = saved(
        b.scan(&live_code_text(&a, 2).await, Some(1), None)
            .await
            .unwrap(),
    );
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(again.contact_id, own);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_while_the_cloud_is_unreachable_completes_exactly_once_when_it_returns() {
    let cloud = TestCloud::sqlite().await;
    let proxy = Proxy::spawn(cloud.addr).await;
    let (a, _da) = wallet();
    let (b, b_dir) = wallet();
    a.register(
        &cloud.base,
        register_request("Wang Fang", "+86 135 0000 3333"),
    )
    .await
    .unwrap();
    b.register(
        &proxy.base,
        register_request("Chen Jie", "+86 136 0000 4444"),
    )
    .await
    .unwrap();
    let code = live_code_text(&a, 1).await;

    // Unreachable: the scan waits.
    proxy.set(Mode::Down);
    let pending = b
        .scan(&code, Some(1), None)
        .await
        .expect("an offline scan is not an error");
    assert!(matches!(pending, ScanResult::Pending(_)), "{pending:?}");
    // The cloud does the exchange but the answer is lost on the way back.
    proxy.set(Mode::LoseAnswers);
    let results = b.flush_outbox().await.unwrap();
    assert!(
        matches!(results.as_slice(), [Ok(ScanResult::Pending(_))]),
        "an answer lost in transit keeps the scan waiting: {results:?}"
    );
    assert_eq!(b.outbox().unwrap().len(), 1);

    // The phone restarts; the outbox is on disk.
    drop(b);
    let b = Wallet::open(b_dir.path()).unwrap();
    proxy.set(Mode::Pass);
    let results = b.flush_outbox().await.unwrap();
    let got = match results.as_slice() {
        [Ok(ScanResult::Saved { received, .. })] => (**received).clone(),
        other => panic!("the waiting scan should complete now: {other:?}"),
    };
    assert_eq!(got.card.formatted_name, "Wang Fang");
    assert!(
        b.outbox().unwrap().is_empty(),
        "done scans leave the outbox"
    );
    assert!(b.flush_outbox().await.unwrap().is_empty());
    assert_eq!(b.contacts().unwrap().len(), 1);
    let detail = b.contact(&got.contact_id).unwrap();
    assert_eq!(
        detail.history.len(),
        1,
        "one exchange, once: {:?}",
        detail.history
    );

    // The cloud made one exchange, however often the phone asked: A received B's card once.
    let delivered = a.pull_inbox().await.unwrap();
    assert_eq!(
        delivered.len(),
        1,
        "A gets Chen Jie's card exactly once: {delivered:?}"
    );
    assert_eq!(a.contacts().unwrap().len(), 1);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_vcard_code_is_saved_with_no_cloud() {
    let (w, _d) = wallet();
    let text =
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:王芳\r\nTEL;TYPE=CELL:13500003333\r\nEND:VCARD\r\n";
    let got = saved(w.scan(text, Some(1), None).await.expect("no login needed"));
    assert_eq!(got.card.formatted_name, "王芳");
    let mecard = "MECARD:N:Berg,Anna;TEL:+4915123456789;EMAIL:anna@example.com;;";
    saved(w.scan(mecard, Some(1), None).await.unwrap());
    assert_eq!(w.contacts().unwrap().len(), 2);
    let err = w.scan("hello world", Some(1), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid, "{err}");
    let err = w
        .scan(
            "https://mingpian.example/c/AAAAAAAAAAAAAAAAAAAAAA/1",
            Some(1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::NotLoggedIn,
        "a Mingpian code needs an account: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_set_reaches_its_holders_as_a_new_version() {
    let cloud = TestCloud::sqlite().await;
    let (a, _da) = wallet();
    let (b, _db) = wallet();
    a.register(
        &cloud.base,
        register_request("Zhou Min", "+86 131 0000 5555"),
    )
    .await
    .unwrap();
    b.register(&cloud.base, register_request("Xu Lei", "+86 132 0000 6666"))
        .await
        .unwrap();
    let got = saved(
        b.scan(&live_code_text(&a, 1).await, Some(1), None)
            .await
            .unwrap(),
    );
    let mut card: Card = a.my_sets().unwrap()[0].card.clone();
    card.title = Some("CTO".into());
    a.edit_set(1, card, None).await.unwrap();
    let report = b.sync().await.unwrap();
    assert_eq!(report.card_updates, 1, "{report:?}");
    let held = b.card(&got.card_id).unwrap();
    assert_eq!(held.card.title.as_deref(), Some("CTO"));
    assert_eq!(held.versions, 2, "the old version is kept");
    assert_eq!(b.card_versions(&got.card_id).unwrap()[1].card.title, None);
    cloud.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_into_an_empty_data_dir_reproduces_the_wallet() {
    let cloud = TestCloud::sqlite().await;
    let (a, _da) = wallet();
    let (b, _db) = wallet();
    a.register(&cloud.base, register_request("Sun Li", "+86 133 0000 7777"))
        .await
        .unwrap();
    b.register(&cloud.base, register_request("Ma Tao", "+86 134 0000 8888"))
        .await
        .unwrap();
    let got = saved(
        b.scan(
            &live_code_text(&a, 1).await,
            Some(1),
            Some("Shenzhen".into()),
        )
        .await
        .unwrap(),
    );
    b.set_note(&got.contact_id, "met at the booth; wants a demo")
        .unwrap();
    b.set_tags(&got.contact_id, &["客户".into(), "2026".into()])
        .unwrap();
    let report = b
        .import_files(
            &[common::testdata("vcard/ez-vcard/outlook-2007.vcf")],
            &mut |_| {},
        )
        .unwrap();
    assert!(report.added > 0, "{report:?}");
    let deleted = b
        .contacts()
        .unwrap()
        .into_iter()
        .find(|c| c.id != got.contact_id)
        .unwrap();
    b.delete_contact(&deleted.id).unwrap();
    let pushed = b.sync().await.unwrap();
    assert!(pushed.pushed > 0);
    // Everything pushed was marked clean (card versions by their row), and what came back
    // from the cloud was known (card versions by their card and seq).
    let again = b.sync().await.unwrap();
    assert_eq!((again.pushed, again.pulled), (0, 0), "{again:?}");

    // A new phone: empty data dir, log in, restore.
    let (fresh, _dn) = wallet();
    fresh
        .login(
            &cloud.base,
            LoginRequest {
                login: "Ma Tao".into(),
                password: "correct horse battery".into(),
                device_name: Some("new phone".into()),
            },
        )
        .await
        .unwrap();
    let restored = fresh.restore().await.unwrap();
    assert!(
        restored.pulled >= pushed.pushed,
        "{restored:?} vs {pushed:?}"
    );
    assert_eq!(
        fresh.contacts_with_cards().unwrap(),
        b.contacts_with_cards().unwrap(),
        "the restored wallet equals the lost one: contacts, cards, notes, tags, history"
    );
    assert!(fresh.contact(&deleted.id).is_err(), "the bin stays the bin");
    let settled = fresh.sync().await.unwrap();
    assert_eq!(
        (settled.pushed, settled.pulled),
        (0, 0),
        "a restored wallet has nothing to send back: {settled:?}"
    );
    assert_eq!(fresh.my_sets().unwrap(), b.my_sets().unwrap());
    // Restoring pulled the inbox too, and stored nothing twice.
    assert_eq!(fresh.search("客户", 10).unwrap().total, 1);
    cloud.stop().await;
}

/// Issue 16, finding 1: a printed code of a card held whole never takes the whole card's fields
/// away; the scan is still a meeting in the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_rescan_never_downgrades_a_card_held_whole() {
    let cloud = TestCloud::sqlite().await;
    let (a, _da) = wallet();
    let (b, _db) = wallet();
    a.register(
        &cloud.base,
        register_request("Printed Owner", "+86 138 0000 3001"),
    )
    .await
    .unwrap();
    b.register(
        &cloud.base,
        register_request("Rescanner", "+86 138 0000 3002"),
    )
    .await
    .unwrap();
    let whole = saved(
        b.scan(&live_code_text(&a, 1).await, Some(1), None)
            .await
            .unwrap(),
    );
    assert_eq!(whole.card.phones.len(), 1, "the live code gave the mobile");
    let printed_url = a.codes(1).await.unwrap().printed_url;
    let again = saved(b.scan(&printed_url, Some(1), None).await.unwrap());
    assert_eq!(
        again.outcome,
        Outcome::Unchanged,
        "the printed view adds nothing"
    );
    let contact = b.contact(&whole.contact_id).unwrap();
    assert_eq!(
        contact.contact.phones,
        ["+8613800003001"],
        "the contact still shows the number"
    );
    let card = &contact.cards[0];
    assert!(card.full, "the card is still held whole");
    assert_eq!(card.card.phones.len(), 1);
    assert_eq!(contact.history.len(), 2, "both scans are in the history");
    cloud.stop().await;
}

/// Issue 16, finding 3: a contact is not renamed by whichever card arrived last; it follows the
/// rule, which the user can override by choosing a card.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_card_does_not_rename_the_contact() {
    let cloud = TestCloud::sqlite().await;
    let (a, _da) = wallet();
    let (b, _db) = wallet();
    a.register(&cloud.base, register_request("张伟", "+86 138 0000 3101"))
        .await
        .unwrap();
    b.register(&cloud.base, register_request("Holder", "+86 138 0000 3102"))
        .await
        .unwrap();
    let mut main = a.my_sets().unwrap()[0].card.clone();
    main.org = Some("华为".into());
    a.publish_set(main, None).await.unwrap();
    let consulting = Card {
        formatted_name: "Wei Zhang (Consulting)".into(),
        phones: vec![Phone {
            value: "+86 138 0000 3101".into(),
            ..Phone::default()
        }],
        org: Some("Zhang Consulting".into()),
        ..Card::default()
    };
    assert_eq!(
        a.publish_set(consulting, None).await.unwrap().set_no.get(),
        2
    );
    let first = saved(
        b.scan(&live_code_text(&a, 1).await, Some(1), None)
            .await
            .unwrap(),
    );
    let second = saved(
        b.scan(&live_code_text(&a, 2).await, Some(1), None)
            .await
            .unwrap(),
    );
    assert_eq!(second.outcome, Outcome::Linked);
    let contact = b.contact(&first.contact_id).unwrap().contact;
    assert_eq!(
        contact.name, "张伟",
        "the card held longest, met as often, stays shown"
    );
    assert_eq!(contact.org.as_deref(), Some("华为"));
    assert_eq!(contact.shown_by, mingpian_wallet::ShownBy::Rule);
    // The user chooses the consulting card; an arriving card never undoes the choice.
    b.set_primary_card(&first.contact_id, Some(&second.card_id))
        .unwrap();
    b.scan(&live_code_text(&a, 1).await, Some(1), None)
        .await
        .unwrap();
    let contact = b.contact(&first.contact_id).unwrap().contact;
    assert_eq!(contact.name, "Wei Zhang (Consulting)");
    assert_eq!(contact.shown_by, mingpian_wallet::ShownBy::Primary);
    // And the user's own edit comes first of all.
    b.edit_contact(
        &first.contact_id,
        &mingpian_wallet::ContactEdit {
            name: Some("老张".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let contact = b.contact(&first.contact_id).unwrap().contact;
    assert_eq!(contact.name, "老张");
    assert_eq!(contact.shown_by, mingpian_wallet::ShownBy::Own);
    cloud.stop().await;
}

/// Two phones of one account update the same card offline (each imports a newer copy of it, by
/// its vCard UID): both make version 2, and the cloud keeps one of the two. The other is kept as
/// the card's next version and pushed as a record of its own: after syncing, both phones hold
/// all three versions, in the same order, and show the same one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_two_phones_made_at_once_are_both_kept() {
    let cloud = TestCloud::sqlite().await;
    let (phone, _dp) = wallet();
    let (tablet, _dt) = wallet();
    phone
        .register(
            &cloud.base,
            register_request("Gao Min", "+86 135 0000 9999"),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vcard = |title: &str| {
        let path = dir.path().join(format!("{title}.vcf"));
        std::fs::write(
            &path,
            format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:7d5c0c3e-0000-4000-8000-000000000001\r\n\
                 FN:Zhou Jie\r\nTITLE:{title}\r\nTEL:+86 136 0000 1234\r\nEND:VCARD\r\n"
            ),
        )
        .unwrap();
        path
    };
    let first = phone
        .import_files(&[vcard("Engineer")], &mut |_| {})
        .unwrap();
    assert_eq!(first.added, 1, "{first:?}");
    phone.sync().await.unwrap();
    tablet
        .login(
            &cloud.base,
            LoginRequest {
                login: "Gao Min".into(),
                password: "correct horse battery".into(),
                device_name: Some("tablet".into()),
            },
        )
        .await
        .unwrap();
    tablet.restore().await.unwrap();
    // Offline, each updates the card from a file of its own.
    for (w, title) in [(&phone, "Lead Engineer"), (&tablet, "Architect")] {
        let report = w.import_files(&[vcard(title)], &mut |_| {}).unwrap();
        assert_eq!(report.updated, 1, "{report:?}");
    }
    // Each syncs; the phone, which learns of the other version second, keeps its own as the
    // next version and sends it; the tablet takes it at its next sync.
    phone.sync().await.unwrap();
    tablet.sync().await.unwrap();
    phone.sync().await.unwrap();
    tablet.sync().await.unwrap();
    let titles = |w: &Wallet| -> Vec<Option<String>> {
        let contact = &w.contacts_with_cards().unwrap()[0];
        assert_eq!(contact.cards.len(), 1);
        let mut versions = w.card_versions(&contact.cards[0].id).unwrap();
        versions.sort_by_key(|v| v.seq);
        versions.into_iter().map(|v| v.card.title).collect()
    };
    let held = titles(&phone);
    let mut every = held.clone();
    every.sort();
    let expected: Vec<Option<String>> = ["Architect", "Engineer", "Lead Engineer"]
        .into_iter()
        .map(|t| Some(t.to_owned()))
        .collect();
    assert_eq!(every, expected, "the phone holds every version: {held:?}");
    assert_eq!(
        titles(&tablet),
        held,
        "the tablet holds the same, in the same order"
    );
    let shown = |w: &Wallet| {
        let detail = w.contacts_with_cards().unwrap().remove(0);
        (detail.contact, detail.cards[0].card.clone())
    };
    assert_eq!(shown(&phone), shown(&tablet), "both show the same");
    cloud.stop().await;
}
