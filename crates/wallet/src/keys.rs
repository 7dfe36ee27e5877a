//! How a contact is sorted, sectioned, searched and linked: derived text, computed once when its
//! cards change and stored, so listing and searching never parse a card.

use mingpian_card::card::is_cjk;
use mingpian_card::{Card, PhoneNumber, Region};
use pinyin::{ToPinyin, ToPinyinMulti};

/// Separates fields in a search text, so a query never matches across two fields.
pub const FIELD_SEP: char = '\u{1}';

/// Sort key: Chinese characters as their pinyin (`张伟` → `zhang wei`), everything else lower-case,
/// so Chinese and Latin names interleave alphabetically as phone contact lists do.
pub fn sort_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for c in name.trim().chars() {
        if is_cjk(c)
            && let Some(p) = c.to_pinyin()
        {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str(p.plain());
            out.push(' ');
            continue;
        }
        out.extend(c.to_lowercase());
    }
    out.trim_end().to_owned()
}

/// The list section a sort key falls in: `A`–`Z`, or `#` for anything else.
pub fn section(sort_key: &str) -> String {
    match sort_key.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => c.to_ascii_uppercase().to_string(),
        _ => "#".to_owned(),
    }
}

/// Full pinyin and initials of every reading of a name: `张伟` → (`zhangwei`, `zw`). The first
/// character (the surname) contributes all its readings, since surnames are where the common
/// reading is most often wrong (单 shàn, 曾 zēng, 解 xiè).
fn pinyin_forms(name: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    if !chars.iter().any(|&c| is_cjk(c)) {
        return Vec::new();
    }
    let mut first_readings: Vec<(String, String)> = Vec::new();
    if let Some(&c) = chars.first()
        && is_cjk(c)
        && let Some(multi) = c.to_pinyin_multi()
    {
        for p in multi {
            let r = (p.plain().to_owned(), p.first_letter().to_owned());
            if !first_readings.contains(&r) {
                first_readings.push(r);
            }
        }
    }
    let (mut full, mut initials) = (String::new(), String::new());
    let mut rest_full = String::new();
    let mut rest_initials = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let (f, ini) = match c.to_pinyin() {
            Some(p) if is_cjk(c) => (p.plain().to_owned(), p.first_letter().to_owned()),
            _ => {
                let lower: String = c.to_lowercase().collect();
                (lower.clone(), lower)
            }
        };
        if i > 0 {
            rest_full.push_str(&f);
            rest_initials.push_str(&ini);
        }
        full.push_str(&f);
        initials.push_str(&ini);
    }
    let mut forms = vec![(full, initials)];
    for (f, ini) in first_readings {
        let form = (format!("{f}{rest_full}"), format!("{ini}{rest_initials}"));
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// A search text being written: each field once, lower-case, and none of the fields the
/// contact's row gives the search index anyway ([`row_search_text`]).
#[derive(Default)]
struct SearchText {
    out: String,
    /// The fields the row gives.
    row: Vec<String>,
    /// Where each field written lies in `out`.
    written: Vec<std::ops::Range<usize>>,
    /// The fields written, once there are many (a contact with many cards): looked up by hash
    /// instead of one by one.
    many: Option<std::collections::HashSet<String>>,
}

impl SearchText {
    fn push_field(&mut self, value: &str) {
        let start = self.out.len();
        push_lower_field(&mut self.out, value);
        if self.out.len() == start {
            return;
        }
        // The field without its separator.
        let field = &self.out[start..self.out.len() - FIELD_SEP.len_utf8()];
        let seen = self.row.iter().any(|f| f == field)
            || match &self.many {
                Some(many) => many.contains(field),
                None => self.written.iter().any(|r| &self.out[r.clone()] == field),
            };
        if seen {
            self.out.truncate(start);
            return;
        }
        let range = start..start + field.len();
        match &mut self.many {
            Some(many) => {
                many.insert(field.to_owned());
            }
            None if self.written.len() >= 32 => {
                let mut many: std::collections::HashSet<String> = self
                    .written
                    .iter()
                    .map(|r| self.out[r.clone()].to_owned())
                    .collect();
                many.insert(field.to_owned());
                self.many = Some(many);
            }
            None => {}
        }
        self.written.push(range);
    }

    /// A name's [`written_forms`].
    fn push_written_name(&mut self, name: &str) {
        for form in written_forms(name) {
            self.push_field(&form);
        }
    }

    /// A name as written, and its pinyin.
    fn push_name(&mut self, name: &str) {
        self.push_written_name(name);
        for (full, initials) in pinyin_forms(name) {
            self.push_field(&full);
            if initials.chars().count() > 1 {
                self.push_field(&initials);
            }
        }
    }
}

/// The fields of a contact's search text that its row holds anyway: its name and company as
/// written (with and without spaces) and its title. The search index puts them in front of the
/// stored search text (`contacts.search`), which leaves them out: they are most of a card's
/// text, and would otherwise be stored twice. The same in every version: stored texts depend on
/// it.
pub fn row_search_text(name: &str, org: Option<&str>, title: Option<&str>) -> String {
    let mut out = String::new();
    push_row_search_text(&mut out, name, org, title);
    out
}

/// [`row_search_text`] written at the end of `out` (the search index builds every contact's
/// text this way, without a string of its own). A field the row holds twice is written twice.
pub fn push_row_search_text(out: &mut String, name: &str, org: Option<&str>, title: Option<&str>) {
    for written in [Some(name), org].into_iter().flatten() {
        for form in written_forms(written) {
            push_lower_field(out, &form);
        }
    }
    if let Some(title) = title {
        push_lower_field(out, title);
    }
}

/// A name as written, and run together when it has spaces (`robertwilliams`): the forms both a
/// stored search text and the row's fields are made of, so the one leaves out exactly what the
/// other holds.
fn written_forms(name: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    let joined = name
        .contains(char::is_whitespace)
        .then(|| std::borrow::Cow::Owned(name.split_whitespace().collect()));
    std::iter::once(std::borrow::Cow::Borrowed(name)).chain(joined)
}

/// `value` trimmed and lower-cased, then [`FIELD_SEP`]; nothing when it is empty.
fn push_lower_field(out: &mut String, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    push_lower(out, value);
    out.push(FIELD_SEP);
}

/// `value` lower-cased at the end of `out`: ASCII and CJK (which has no case) without looking
/// each character up.
fn push_lower(out: &mut String, value: &str) {
    if value.is_ascii() {
        let start = out.len();
        out.push_str(value);
        out[start..].make_ascii_lowercase();
        return;
    }
    for c in value.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if is_cjk(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

/// A card's phone number, parsed once for both search and linking.
#[derive(Debug, Clone)]
pub struct ParsedPhone {
    /// The digits as written (`138 0013` → `1380013`), full-width digits folded.
    pub written: String,
    /// E.164 when the number parses for the region.
    pub e164: Option<String>,
    pub fax: bool,
}

pub fn parse_phones(card: &Card, region: Region) -> Vec<ParsedPhone> {
    card.phones
        .iter()
        .map(|p| ParsedPhone {
            written: p
                .value
                .chars()
                .filter_map(|c| match c {
                    '0'..='9' => Some(c),
                    '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                    _ => None,
                })
                .collect(),
            e164: PhoneNumber::parse(&p.value, region)
                .ok()
                .map(|n| n.e164().to_owned()),
            fax: p.kinds.iter().any(|k| k == "fax"),
        })
        .collect()
}

/// The text a contact is found by, as stored: names (with pinyin), company, department, title,
/// phone digits, emails, tags, each once. Lower-case; fields separated by [`FIELD_SEP`]. The
/// fields `row` holds ([`row_search_text`] of the contact's name, company and title) are left
/// out: the search index reads them from the row.
pub fn search_text<'a>(
    cards: impl IntoIterator<Item = &'a Card>,
    tags: &[String],
    region: Region,
    row: &str,
) -> String {
    let cards: Vec<(&Card, Vec<ParsedPhone>)> = cards
        .into_iter()
        .map(|c| (c, parse_phones(c, region)))
        .collect();
    search_text_parsed(cards.iter().map(|(c, p)| (*c, p.as_slice())), tags, row)
}

/// [`search_text`] with the phones already parsed.
pub fn search_text_parsed<'a>(
    cards: impl IntoIterator<Item = (&'a Card, &'a [ParsedPhone])>,
    tags: &[String],
    row: &str,
) -> String {
    let mut text = SearchText {
        row: row
            .split(FIELD_SEP)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        ..SearchText::default()
    };
    for (card, phones) in cards {
        text.push_name(&card.display_name());
        for name in [&card.name, &card.phonetic].into_iter().flatten() {
            let display = name.display();
            if !display.is_empty() && display != card.display_name() {
                text.push_name(&display);
            }
        }
        for nick in &card.nicknames {
            text.push_name(nick);
        }
        if let Some(org) = &card.org {
            text.push_name(org);
        }
        for d in &card.departments {
            text.push_field(d);
        }
        if let Some(t) = &card.title {
            text.push_field(t);
        }
        for p in phones {
            if !p.written.is_empty() {
                text.push_field(&p.written);
            }
            if let Some(e164) = &p.e164
                && e164[1..] != p.written
            {
                text.push_field(&e164[1..]);
            }
        }
        for e in &card.emails {
            text.push_field(&e.value);
        }
    }
    for t in tags {
        text.push_field(t);
    }
    text.out
}

/// What a search query matches against: lower-case; a query that looks like a phone number is
/// reduced to its digits. Control characters are dropped: the index separates fields and
/// contacts with them, and a query holding one could match across a contact's end.
pub fn normalize_query(query: &str) -> String {
    let cleaned: String = query.chars().filter(|c| !c.is_control()).collect();
    let q = cleaned.trim();
    let phone_like = q
        .chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
        && q.chars().all(|c| {
            c.is_ascii_digit()
                || ('０'..='９').contains(&c)
                || matches!(c, '+' | '-' | ' ' | '(' | ')' | '.' | '＋')
        });
    if phone_like {
        return q
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                _ => None,
            })
            .collect();
    }
    let lower: String = q.chars().flat_map(char::to_lowercase).collect();
    if lower.chars().any(is_cjk) {
        lower.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        lower.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Keys that link a card to a contact (claim 8): each phone number in E.164 (fax lines excluded:
/// a shared fax is not a person), then each email, lower-case.
pub fn link_keys(card: &Card, region: Region) -> Vec<String> {
    link_keys_parsed(card, &parse_phones(card, region))
}

/// [`link_keys`] with the phones already parsed.
pub fn link_keys_parsed(card: &Card, phones: &[ParsedPhone]) -> Vec<String> {
    let mut keys = Vec::new();
    for p in phones {
        if p.fax {
            continue;
        }
        if let Some(e164) = &p.e164 {
            let key = format!("tel:{e164}");
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    for e in &card.emails {
        let v = e.value.trim().to_lowercase();
        if v.contains('@') {
            let key = format!("email:{v}");
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// What a link key is stored and looked up by (`card_keys.key_hash`): the first 12 bytes of its
/// SHA-256. Never change it: stored keys depend on it.
pub fn key_hash(key: &str) -> [u8; 12] {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 12];
    first.copy_from_slice(&digest[..12]);
    first
}

/// A name reduced for "is this the same person" comparisons.
pub fn name_key(card: &Card) -> String {
    card.display_name()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cn() -> Region {
        Region::parse("CN").unwrap()
    }

    #[test]
    fn chinese_names_sort_and_search_by_pinyin() {
        assert_eq!(sort_key("张伟"), "zhang wei");
        assert_eq!(section(&sort_key("张伟")), "Z");
        assert_eq!(section(&sort_key("Anna")), "A");
        assert_eq!(section(&sort_key("123")), "#");
        let card = Card {
            formatted_name: "张伟".into(),
            ..Card::default()
        };
        let text = search_text([&card], &[], cn(), "");
        for q in ["张伟", "伟", "zhangwei", "zw", "zhang"] {
            assert!(
                text.contains(&normalize_query(q)),
                "{q:?} should find 张伟 in {text:?}"
            );
        }
    }

    /// What the row holds (name, company, title) is not stored again, and the row's fields in
    /// front of the stored text find everything the whole text found.
    #[test]
    fn the_rows_fields_are_stored_once() {
        let card = Card {
            formatted_name: "Robert Williams".into(),
            org: Some("Acme, Inc.".into()),
            title: Some("Engineer".into()),
            nicknames: vec!["Bob".into(), "bob".into()],
            emails: vec![mingpian_card::Email {
                value: "Bob@Example.com".into(),
                ..Default::default()
            }],
            ..Card::default()
        };
        let whole = search_text([&card, &card], &[], cn(), "");
        let row = row_search_text(
            &card.formatted_name,
            card.org.as_deref(),
            card.title.as_deref(),
        );
        let stored = search_text([&card, &card], &[], cn(), &row);
        let fields = |t: &str| -> Vec<String> {
            let mut f: Vec<String> = t.split(FIELD_SEP).map(str::to_owned).collect();
            f.sort();
            f
        };
        assert_eq!(
            fields(&format!("{row}{stored}")),
            fields(&whole),
            "the same fields, each once"
        );
        for field in [
            "robert williams",
            "robertwilliams",
            "acme, inc.",
            "engineer",
        ] {
            assert!(row.contains(field), "{field:?} in {row:?}");
            assert!(!stored.contains(field), "{field:?} not in {stored:?}");
        }
        assert_eq!(stored.matches("bob@example.com").count(), 1, "{stored:?}");
        assert_eq!(stored.matches("bob\u{1}").count(), 1, "{stored:?}");
    }

    /// A contact with many cards (past the point where fields are looked up by hash) still
    /// stores each field once, and every field.
    #[test]
    fn many_cards_store_each_field_once() {
        let cards: Vec<Card> = (0..60)
            .map(|i| Card {
                formatted_name: format!("Person {}", i % 45),
                title: Some(format!("Title {}", i % 7)),
                emails: vec![mingpian_card::Email {
                    value: "same@example.com".into(),
                    ..Default::default()
                }],
                ..Card::default()
            })
            .collect();
        let text = search_text(&cards, &["vip".into()], cn(), "");
        let mut fields: Vec<&str> = text.split(FIELD_SEP).filter(|f| !f.is_empty()).collect();
        let all = fields.len();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), all, "each field once: {text:?}");
        // 45 names, each also run together, 7 titles, one email, one tag.
        assert_eq!(all, 45 * 2 + 7 + 1 + 1, "{text:?}");
    }

    #[test]
    fn surname_heteronyms_are_searchable() {
        let card = Card {
            formatted_name: "单田芳".into(),
            ..Card::default()
        };
        let text = search_text([&card], &[], cn(), "");
        assert!(
            text.contains("shantianfang"),
            "单 as a surname reads shàn: {text:?}"
        );
    }

    #[test]
    fn phone_queries_match_digits_however_written() {
        let card = Card {
            formatted_name: "Li".into(),
            phones: vec![mingpian_card::Phone {
                value: "+86 138-0013-8000".into(),
                ..Default::default()
            }],
            ..Card::default()
        };
        let text = search_text([&card], &[], cn(), "");
        for q in ["138 0013", "+86 138", "8000", "１３８"] {
            assert!(text.contains(&normalize_query(q)), "{q:?} in {text:?}");
        }
        assert_eq!(link_keys(&card, cn()), vec!["tel:+8613800138000"]);
    }
}
