//! Reader and writer behaviour on the shapes real exporters produce.

use super::*;
use crate::card::Media;

fn one(text: &str) -> Card {
    let report = read(text.as_bytes());
    assert!(
        report.errors.is_empty(),
        "unexpected errors: {:?}",
        report.errors
    );
    assert_eq!(report.cards.len(), 1, "one card expected");
    report.cards.into_iter().next().expect("one card")
}

#[test]
fn vcard_21_bare_types_quoted_printable_and_charset() {
    let card = one(
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=BC=9F;;;\r\n\
         TEL;CELL;PREF:138 0013 8000\r\nTEL;WORK;FAX:010-6552 9988\r\n\
         ORG;CHARSET=GB2312;ENCODING=QUOTED-PRINTABLE:=C3=FB=C6=AC;=D1=D0=B7=A2=B2=BF\r\nEND:VCARD\r\n",
    );
    assert_eq!(
        card.formatted_name, "张伟",
        "FN is derived from N when absent, family first for Chinese"
    );
    assert_eq!(card.phones[0].kinds, vec!["cell"]);
    assert!(card.phones[0].pref, "bare PREF marks the preferred number");
    assert_eq!(card.phones[1].kinds, vec!["work", "fax"]);
    assert_eq!(
        card.org.as_deref(),
        Some("名片"),
        "GB2312 quoted-printable decodes"
    );
    assert_eq!(card.departments, vec!["研发部"]);
}

#[test]
fn apple_item_groups_attach_labels_in_either_order() {
    let card = one(
        "BEGIN:VCARD\nVERSION:3.0\nFN:A\nitem1.TEL:+1 555 0100\nitem1.X-ABLabel:_$!<Assistant>!$_\n\
         item2.X-ABLabel:WeChat\nitem2.X-SOCIALPROFILE;type=wechat:zhangwei88\nitem3.URL:https://a.example\nEND:VCARD\n",
    );
    assert_eq!(card.phones[0].label.as_deref(), Some("_$!<Assistant>!$_"));
    assert_eq!(
        card.socials[0].label.as_deref(),
        Some("WeChat"),
        "a label before its item still attaches"
    );
    assert_eq!(card.socials[0].service, "wechat");
    assert_eq!(card.urls[0].label, None);
}

#[test]
fn vcard_4_uris_pref_and_data_photos() {
    let card = one(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Li Na\r\nTEL;VALUE=uri;TYPE=\"voice,cell\";PREF=1:tel:+86-138-0013-8000\r\n\
         EMAIL:mailto:li.na@example.com\r\nPHOTO:data:image/png;base64,iVBORw0KGgo=\r\n\
         IMPP;PREF=1:xmpp:li.na@example.com\r\nEND:VCARD\r\n",
    );
    assert_eq!(
        card.phones[0].value, "+86-138-0013-8000",
        "tel: scheme is stripped"
    );
    assert_eq!(card.phones[0].kinds, vec!["voice", "cell"]);
    assert!(card.phones[0].pref);
    assert_eq!(card.emails[0].value, "li.na@example.com");
    assert_eq!(
        card.photo,
        Some(Media::Inline {
            mime: Some("image/png".into()),
            data: b"\x89PNG\r\n\x1a\n".to_vec()
        })
    );
    assert_eq!(
        (card.socials[0].service.as_str(), card.socials[0].im),
        ("xmpp", true)
    );
}

#[test]
fn a_broken_card_is_reported_and_the_rest_are_read() {
    let text = "BEGIN:VCARD\nVERSION:3.0\nFN:One\nEND:VCARD\n\
                BEGIN:VCARD\nVERSION:3.0\nFN:Two (cut)\n\
                BEGIN:VCARD\nVERSION:3.0\nFN:Three\nthis line is junk\nEND:VCARD\n";
    let report = read(text.as_bytes());
    let names: Vec<_> = report
        .cards
        .iter()
        .map(|c| c.formatted_name.as_str())
        .collect();
    assert_eq!(names, ["One", "Two (cut)", "Three"]);
    assert_eq!(
        report.errors,
        vec![Problem {
            card: 2,
            line: 5,
            message: "card has no END:VCARD before the next BEGIN:VCARD".into()
        }]
    );
    assert_eq!(
        report.warnings.len(),
        1,
        "the junk line is a warning: {:?}",
        report.warnings
    );
    assert_eq!(report.warnings[0].line, 11);
}

#[test]
fn not_a_vcard_and_empty_files() {
    assert_eq!(
        read(b"hello world").errors.len(),
        1,
        "text without BEGIN:VCARD is an error"
    );
    let empty = read(b"\xEF\xBB\xBF\r\n");
    assert!(
        empty.cards.is_empty() && empty.errors.is_empty(),
        "an empty file is an empty address book"
    );
}

#[test]
fn vcard_21_nested_agent_is_kept_not_split() {
    let report = read(include_bytes!(
        "../../../../../shared/testdata/vcard/aosp-vcard/v21_nest.vcf"
    ));
    assert_eq!(
        report.cards.len(),
        1,
        "the nested cards belong to their parent"
    );
    let card = &report.cards[0];
    assert_eq!(
        card.phones[0].value, "1",
        "properties after the nested cards still count"
    );
    assert_eq!(card.extra.iter().filter(|p| p.name == "AGENT").count(), 2);
}

#[test]
fn writer_escapes_and_reader_unescapes() {
    let mut card = Card {
        formatted_name: "O'Brien, Pat; Jr.".into(),
        ..Card::default()
    };
    card.note = Some("line 1\nline 2, with comma; and semicolon \\ backslash".into());
    card.org = Some("Acme; Inc".into());
    card.departments = vec!["R&D, Platform".into()];
    for version in [Version::V3, Version::V4] {
        let text = write(&card, version);
        assert!(text.lines().all(|l| l.len() <= 76), "folded: {text}");
        let back = one(&text);
        assert_eq!(back.formatted_name, card.formatted_name);
        assert_eq!(back.note, card.note);
        assert_eq!(back.org, card.org);
        assert_eq!(back.departments, card.departments);
    }
}

#[test]
fn writer_uses_utf8_and_never_splits_characters() {
    let card = Card {
        formatted_name: "欧阳娜娜".repeat(10),
        ..Card::default()
    };
    let text = write(&card, Version::V3);
    assert!(
        text.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:"),
        "{text}"
    );
    assert_eq!(one(&text).formatted_name, card.formatted_name);
}

/// A card's own character set, named in a parameter that a fold or a quoted-printable soft
/// break splits, still decodes its unlabelled values.
#[test]
fn a_split_charset_parameter_still_names_the_card_charset() {
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("田中");
    for split in [&b"CHARS\r\n ET"[..], b"CHARS=\r\nET", b"C\n\tHARSET"] {
        let mut file = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE;".to_vec();
        file.extend_from_slice(split);
        file.extend_from_slice(b"=SHIFT_JIS:x\r\nFN:");
        file.extend_from_slice(&sjis);
        file.extend_from_slice(b"\r\nEND:VCARD\r\n");
        let report = read(&file);
        assert_eq!(report.cards.len(), 1);
        assert_eq!(
            report.cards[0].formatted_name,
            "田中",
            "{}",
            String::from_utf8_lossy(split)
        );
    }
}

/// A header with a hundred thousand parameter names keeps each one (looking names up in a
/// list made this quadratic: minutes of work for one hostile line).
#[test]
fn many_parameter_names_are_each_kept() {
    let mut line = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nX-MANY");
    for i in 0..100_000 {
        line.push_str(&format!(";P{i}=v"));
    }
    line.push_str(";P7=w;p20=x:value\r\nEND:VCARD\r\n");
    let report = read(line.as_bytes());
    let extra = &report.cards[0].extra[0];
    assert_eq!(extra.params.len(), 100_000);
    assert_eq!(extra.params[7], ("P7".into(), vec!["v".into(), "w".into()]));
    assert_eq!(
        extra.params[20],
        ("P20".into(), vec!["v".into(), "x".into()])
    );
}

/// A problem says where it is, leaving out a card or line number that is zero.
#[test]
fn problems_name_only_the_places_they_have() {
    let at = |card, line| {
        Problem {
            card,
            line,
            message: "m".into(),
        }
        .to_string()
    };
    assert_eq!(at(0, 0), "m");
    assert_eq!(at(0, 3), "line 3: m");
    assert_eq!(at(2, 0), "card 2: m");
    assert_eq!(at(2, 5), "card 2 (line 5): m");
}
