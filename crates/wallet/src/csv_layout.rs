//! Contacts as CSV, in the column layouts people actually have: Google Contacts' export (old
//! `Given Name`/`E-mail 1 - Value` and new `First Name`/`Phone 1 - Label` headers) and Outlook's
//! (`First Name`, `Job Title`, `Mobile Phone`, `Business Street`...). Columns are found by their
//! header names, so any mix of them is read; unknown columns are ignored. We write Google's
//! current layout, which Google, Outlook and Apple all import.

use mingpian_card::card::is_cjk;
use mingpian_card::{Address, Card, Email, Name, Phone, Url};

/// One row's problem: the row (1-based, header excluded) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct CsvRead {
    pub cards: Vec<(usize, Card)>,
    pub errors: Vec<RowError>,
}

/// Text of a CSV file in whatever encoding it came in: UTF-8 (with or without BOM), UTF-16 with
/// a BOM, else GB18030 (Chinese Outlook) when that decodes cleanly, else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    let (gb, _, bad) = encoding_rs::GB18030.decode(bytes);
    if !bad {
        return gb.into_owned();
    }
    encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned()
}

fn norm(h: &str) -> String {
    h.trim().to_ascii_lowercase()
}

struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn find(&self, wanted: &[&str]) -> Option<usize> {
        wanted
            .iter()
            .find_map(|w| self.names.iter().position(|n| n == w))
    }
}

fn get(record: &csv::StringRecord, col: Option<usize>) -> &str {
    col.and_then(|c| record.get(c))
        .map(|v| restore_cell(v.trim()))
        .unwrap_or("")
}

/// First characters that make Excel, WPS or LibreOffice read a cell as a formula (OWASP "CSV
/// injection"): a card named `=HYPERLINK(…)` would run when the export is opened.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A value as written to a cell: one a spreadsheet would run gets a leading `'`, which
/// spreadsheets show as text. A value that already starts with quotes before such a character
/// gets one more, so [`restore_cell`] takes exactly one off and every value reads back as it was.
pub fn neutralise_cell(value: &str) -> std::borrow::Cow<'_, str> {
    if value.trim_start_matches('\'').starts_with(FORMULA_START) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// A cell as read: undoes [`neutralise_cell`].
pub fn restore_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_START) => rest,
        _ => cell,
    }
}

fn label_kinds(label: &str) -> (Vec<String>, Option<String>) {
    let l = label.trim().trim_start_matches("* ").to_ascii_lowercase();
    let mut kinds = Vec::new();
    for (word, kind) in [
        ("mobile", "cell"),
        ("cell", "cell"),
        ("work", "work"),
        ("business", "work"),
        ("home", "home"),
        ("fax", "fax"),
        ("pager", "pager"),
        ("main", "main"),
        ("other", "other"),
    ] {
        if l.contains(word) && !kinds.iter().any(|k| k == kind) {
            kinds.push(kind.to_owned());
        }
    }
    let label = (!label.trim().is_empty() && kinds.is_empty()).then(|| label.trim().to_owned());
    (kinds, label)
}

/// Google puts several values in one cell, separated by ` ::: `.
fn split_multi(value: &str) -> impl Iterator<Item = &str> {
    value.split(":::").map(str::trim).filter(|v| !v.is_empty())
}

fn compose_name(n: &Name) -> String {
    let cjk = n.family.chars().chain(n.given.chars()).any(is_cjk);
    if cjk {
        format!("{}{}", n.family, n.given)
    } else {
        [&n.prefixes, &n.given, &n.additional, &n.family, &n.suffixes]
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Where each field is in a file's columns: Google's numbered layout (`Phone 1 - Value`) and
/// Outlook's named one (`Mobile Phone`), found from the header row.
struct Layout {
    cols: Columns,
    formatted_name: Option<usize>,
    given: Option<usize>,
    additional: Option<usize>,
    family: Option<usize>,
    prefix: Option<usize>,
    suffix: Option<usize>,
    phonetic_given: Option<usize>,
    phonetic_family: Option<usize>,
    nickname: Option<usize>,
    org: Option<usize>,
    dept: Option<usize>,
    job: Option<usize>,
    notes: Option<usize>,
    birthday: Option<usize>,
    groups: Option<usize>,
    /// Google: (value column, type/label column).
    phones: Vec<(usize, Option<usize>)>,
    emails: Vec<(usize, Option<usize>)>,
    urls: Vec<(usize, Option<usize>)>,
    /// Google: (address number, type/label column).
    addresses: Vec<(usize, Option<usize>)>,
    /// Outlook: (column, the kinds its header means).
    named_phones: Vec<(usize, &'static [&'static str])>,
    named_emails: Vec<usize>,
    named_web: Option<usize>,
    /// Outlook: (kind, [street, street 2, city, state, postal code, country]).
    named_addresses: Vec<(&'static str, [Option<usize>; 6])>,
}

/// Outlook's phone columns and what each means.
const NAMED_PHONES: [(&str, &[&str]); 12] = [
    ("mobile phone", &["cell"]),
    ("business phone", &["work"]),
    ("business phone 2", &["work"]),
    ("company main phone", &["work", "main"]),
    ("home phone", &["home"]),
    ("home phone 2", &["home"]),
    ("business fax", &["work", "fax"]),
    ("home fax", &["home", "fax"]),
    ("other phone", &[]),
    ("primary phone", &[]),
    ("car phone", &["car"]),
    ("pager", &["pager"]),
];

impl Layout {
    fn new(cols: Columns) -> Layout {
        let c = |names: &[&str]| cols.find(names);
        // Numbered Google columns: "Phone 1 - Value" with "Phone 1 - Type" or "- Label".
        let numbered = |what: &str, field: &str| -> Vec<(usize, Option<usize>)> {
            (1..=20)
                .filter_map(|i| {
                    let value = cols.find(&[&format!("{what} {i} - {field}")])?;
                    let kind = cols.find(&[
                        &format!("{what} {i} - type"),
                        &format!("{what} {i} - label"),
                    ]);
                    Some((value, kind))
                })
                .collect()
        };
        let addresses = (1..=10)
            .filter(|i| {
                let prefix = format!("address {i} - ");
                cols.names.iter().any(|n| n.starts_with(&prefix))
            })
            .map(|i| {
                let kind = cols.find(&[
                    &format!("address {i} - type"),
                    &format!("address {i} - label"),
                ]);
                (i, kind)
            })
            .collect();
        let named_addresses = [("business", "work"), ("home", "home"), ("other", "other")]
            .into_iter()
            .map(|(p, kind)| {
                let col = |f: &str| cols.find(&[&format!("{p} {f}")]);
                let country = cols.find(&[&format!("{p} country/region"), &format!("{p} country")]);
                (
                    kind,
                    [
                        col("street"),
                        col("street 2"),
                        col("city"),
                        col("state"),
                        col("postal code"),
                        country,
                    ],
                )
            })
            .collect();
        Layout {
            formatted_name: c(&["name", "display name", "full name"]),
            given: c(&["given name", "first name"]),
            additional: c(&["additional name", "middle name"]),
            family: c(&["family name", "last name"]),
            prefix: c(&["name prefix", "title"]),
            suffix: c(&["name suffix", "suffix"]),
            phonetic_given: c(&["given name yomi", "phonetic first name"]),
            phonetic_family: c(&["family name yomi", "phonetic last name"]),
            nickname: c(&["nickname"]),
            org: c(&["organization 1 - name", "organization name", "company"]),
            dept: c(&[
                "organization 1 - department",
                "organization department",
                "department",
            ]),
            job: c(&["organization 1 - title", "organization title", "job title"]),
            notes: c(&["notes", "note"]),
            birthday: c(&["birthday"]),
            groups: c(&["group membership", "labels", "categories"]),
            phones: numbered("phone", "value"),
            emails: numbered("e-mail", "value"),
            urls: numbered("website", "value"),
            addresses,
            named_phones: NAMED_PHONES
                .into_iter()
                .filter_map(|(h, k)| Some((cols.find(&[h])?, k)))
                .collect(),
            named_emails: ["e-mail address", "e-mail 2 address", "e-mail 3 address"]
                .iter()
                .filter_map(|h| cols.find(&[h]))
                .collect(),
            named_web: c(&["web page"]),
            named_addresses,
            cols,
        }
    }

    /// One row as a card (its name possibly empty: the caller decides what such a row is).
    fn card(&self, record: &csv::StringRecord) -> Card {
        let mut card = Card::default();
        self.names(record, &mut card);
        self.phones(record, &mut card);
        self.emails_and_urls(record, &mut card);
        self.addresses(record, &mut card);
        if card.formatted_name.is_empty() {
            card.formatted_name = card
                .org
                .clone()
                .or_else(|| card.emails.first().map(|e| e.value.clone()))
                .or_else(|| card.phones.first().map(|p| p.value.clone()))
                .unwrap_or_default();
        }
        card
    }

    fn names(&self, record: &csv::StringRecord, card: &mut Card) {
        let text = |col: Option<usize>| Some(get(record, col).to_owned()).filter(|s| !s.is_empty());
        let name = Name {
            family: get(record, self.family).to_owned(),
            given: get(record, self.given).to_owned(),
            additional: get(record, self.additional).to_owned(),
            prefixes: get(record, self.prefix).to_owned(),
            suffixes: get(record, self.suffix).to_owned(),
        };
        card.formatted_name = match get(record, self.formatted_name) {
            "" => compose_name(&name),
            full => full.to_owned(),
        };
        card.name = Some(name).filter(|n| !n.is_empty());
        card.phonetic = Some(Name {
            family: get(record, self.phonetic_family).to_owned(),
            given: get(record, self.phonetic_given).to_owned(),
            ..Name::default()
        })
        .filter(|n| !n.is_empty());
        card.nicknames = split_multi(get(record, self.nickname))
            .map(str::to_owned)
            .collect();
        card.org = text(self.org);
        card.departments = split_multi(get(record, self.dept))
            .map(str::to_owned)
            .collect();
        card.title = text(self.job);
        card.note = text(self.notes);
        card.birthday = text(self.birthday);
        card.categories = get(record, self.groups)
            .split([';'])
            .flat_map(split_multi)
            .map(|g| g.trim_start_matches("* ").to_owned())
            .filter(|g| !g.is_empty() && g != "myContacts" && g != "starred")
            .collect();
    }

    fn phones(&self, record: &csv::StringRecord, card: &mut Card) {
        for &(value, kind) in &self.phones {
            let (kinds, label) = label_kinds(get(record, kind));
            for v in split_multi(get(record, Some(value))) {
                card.phones.push(Phone {
                    value: v.to_owned(),
                    kinds: kinds.clone(),
                    pref: false,
                    label: label.clone(),
                });
            }
        }
        for &(col, kinds) in &self.named_phones {
            let v = get(record, Some(col));
            if !v.is_empty() {
                card.phones.push(Phone {
                    value: v.to_owned(),
                    kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
                    pref: false,
                    label: None,
                });
            }
        }
    }

    fn emails_and_urls(&self, record: &csv::StringRecord, card: &mut Card) {
        for &(value, kind) in &self.emails {
            let (kinds, label) = label_kinds(get(record, kind));
            for v in split_multi(get(record, Some(value))) {
                card.emails.push(Email {
                    value: v.to_owned(),
                    kinds: kinds.clone(),
                    pref: false,
                    label: label.clone(),
                });
            }
        }
        for &col in &self.named_emails {
            let v = get(record, Some(col));
            if !v.is_empty() {
                card.emails.push(Email {
                    value: v.to_owned(),
                    ..Email::default()
                });
            }
        }
        for &(value, kind) in &self.urls {
            let (kinds, label) = label_kinds(get(record, kind));
            for v in split_multi(get(record, Some(value))) {
                card.urls.push(Url {
                    value: v.to_owned(),
                    kinds: kinds.clone(),
                    label: label.clone(),
                });
            }
        }
        if let Some(v) = Some(get(record, self.named_web)).filter(|v| !v.is_empty()) {
            card.urls.push(Url {
                value: v.to_owned(),
                ..Url::default()
            });
        }
    }

    fn addresses(&self, record: &csv::StringRecord, card: &mut Card) {
        for &(i, kind) in &self.addresses {
            let part =
                |f: &str| get(record, self.cols.find(&[&format!("address {i} - {f}")])).to_owned();
            let (kinds, label) = label_kinds(get(record, kind));
            let mut a = Address {
                po_box: part("po box"),
                extended: part("extended address"),
                street: part("street"),
                locality: part("city"),
                region: part("region"),
                postal_code: part("postal code"),
                country: part("country"),
                kinds,
                pref: false,
                label,
            };
            if a.is_empty() {
                // Only the formatted address was given: keep it whole as the street.
                a.street = part("formatted");
            }
            if !a.is_empty() {
                card.addresses.push(a);
            }
        }
        for (kind, parts) in &self.named_addresses {
            let p = |i: usize| get(record, parts[i]).to_owned();
            let street = [p(0), p(1)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            let a = Address {
                street,
                locality: p(2),
                region: p(3),
                postal_code: p(4),
                country: p(5),
                kinds: vec![(*kind).to_owned()],
                ..Address::default()
            };
            if !a.is_empty() {
                card.addresses.push(a);
            }
        }
    }
}

/// Reads a CSV export (Google Contacts, Outlook, or any with recognisable headers): every row a
/// card, or an error saying which row and line could not be read.
pub fn read(text: &str) -> CsvRead {
    let mut cards = Vec::new();
    let errors = read_each(text, &mut |row, card| {
        cards.push((row, card));
        true
    });
    CsvRead { cards, errors }
}

/// [`read`], handing each card to `each` as it is read (with its row) instead of collecting
/// them, so a large file's cards never all sit in memory; stops when `each` answers false.
/// Returns the rows that could not be read.
pub fn read_each(text: &str, each: &mut dyn FnMut(usize, Card) -> bool) -> Vec<RowError> {
    let mut errors = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errors.push(RowError {
                row: 0,
                line: 1,
                message: format!("not a CSV file: {e}"),
            });
            return errors;
        }
    };
    let layout = Layout::new(Columns {
        names: headers.iter().map(norm).collect(),
    });
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(RowError {
                    row,
                    line: e.position().map(|p| p.line() as usize).unwrap_or(0),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let card = layout.card(&record);
        if !card.formatted_name.is_empty() {
            if !each(row, card) {
                break;
            }
        } else if !record.iter().all(|f| f.trim().is_empty()) {
            errors.push(RowError {
                row,
                line: record.position().map(|p| p.line() as usize).unwrap_or(0),
                message: "no name, company, phone or email in this row".into(),
            });
        }
    }
    errors
}

/// How many numbered email, phone, address and website columns an export has: as many as the
/// fullest card needs, at least one of each.
#[derive(Debug, Clone, Copy)]
struct ColumnCounts {
    emails: usize,
    phones: usize,
    addresses: usize,
    urls: usize,
}

/// The address columns after "Address N - ", in order.
const ADDRESS_PARTS: [&str; 9] = [
    "Label",
    "Formatted",
    "Street",
    "City",
    "PO Box",
    "Region",
    "Postal Code",
    "Country",
    "Extended Address",
];

/// Writes cards in Google Contacts' CSV layout, with as many numbered phone/email/address/website
/// columns as the fullest card needs.
pub fn write(cards: &[Card]) -> Result<Vec<u8>, csv::Error> {
    let max = |f: fn(&Card) -> usize| cards.iter().map(f).max().unwrap_or(0).max(1);
    let columns = ColumnCounts {
        emails: max(|c| c.emails.len()),
        phones: max(|c| c.phones.len()),
        addresses: max(|c| c.addresses.len()),
        urls: max(|c| c.urls.len()),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header(columns))?;
    for card in cards {
        w.write_record(
            row(card, columns)
                .iter()
                .map(|cell| neutralise_cell(cell).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

fn header(columns: ColumnCounts) -> Vec<String> {
    let mut header: Vec<String> = [
        "Name",
        "First Name",
        "Middle Name",
        "Last Name",
        "Phonetic First Name",
        "Phonetic Last Name",
        "Name Prefix",
        "Name Suffix",
        "Nickname",
        "Organization Name",
        "Organization Title",
        "Organization Department",
        "Birthday",
        "Notes",
        "Labels",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for i in 1..=columns.emails {
        header.push(format!("E-mail {i} - Label"));
        header.push(format!("E-mail {i} - Value"));
    }
    for i in 1..=columns.phones {
        header.push(format!("Phone {i} - Label"));
        header.push(format!("Phone {i} - Value"));
    }
    for i in 1..=columns.addresses {
        for f in ADDRESS_PARTS {
            header.push(format!("Address {i} - {f}"));
        }
    }
    for i in 1..=columns.urls {
        header.push(format!("Website {i} - Label"));
        header.push(format!("Website {i} - Value"));
    }
    header
}

/// The label Google Contacts shows for a number, email, address or website: the card's own
/// label, else one from its kinds.
fn column_label(kinds: &[String], label: Option<&str>) -> String {
    if let Some(l) = label {
        return l.to_owned();
    }
    let has = |k: &str| kinds.iter().any(|x| x == k);
    match (has("cell"), has("work"), has("home"), has("fax")) {
        (true, ..) => "Mobile".into(),
        (_, true, _, true) => "Work Fax".into(),
        (_, _, true, true) => "Home Fax".into(),
        (_, true, ..) => "Work".into(),
        (_, _, true, _) => "Home".into(),
        _ => kinds.first().cloned().unwrap_or_default(),
    }
}

/// One card's cells, as stored (the caller neutralises them).
fn row(card: &Card, columns: ColumnCounts) -> Vec<String> {
    let name = card.name.clone().unwrap_or_default();
    let ph = card.phonetic.clone().unwrap_or_default();
    let mut row: Vec<String> = vec![
        card.display_name(),
        name.given,
        name.additional,
        name.family,
        ph.given,
        ph.family,
        name.prefixes,
        name.suffixes,
        card.nicknames.join(" ::: "),
        card.org.clone().unwrap_or_default(),
        card.title.clone().unwrap_or_default(),
        card.departments.join(" ::: "),
        card.birthday.clone().unwrap_or_default(),
        card.note.clone().unwrap_or_default(),
        card.categories.join(" ::: "),
    ];
    for i in 0..columns.emails {
        match card.emails.get(i) {
            Some(e) => row.extend([column_label(&e.kinds, e.label.as_deref()), e.value.clone()]),
            None => row.extend([String::new(), String::new()]),
        }
    }
    for i in 0..columns.phones {
        match card.phones.get(i) {
            Some(p) => row.extend([column_label(&p.kinds, p.label.as_deref()), p.value.clone()]),
            None => row.extend([String::new(), String::new()]),
        }
    }
    for i in 0..columns.addresses {
        match card.addresses.get(i) {
            Some(a) => row.extend([
                column_label(&a.kinds, a.label.as_deref()),
                a.display(),
                a.street.clone(),
                a.locality.clone(),
                a.po_box.clone(),
                a.region.clone(),
                a.postal_code.clone(),
                a.country.clone(),
                a.extended.clone(),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), ADDRESS_PARTS.len())),
        }
    }
    for i in 0..columns.urls {
        match card.urls.get(i) {
            Some(u) => row.extend([column_label(&u.kinds, u.label.as_deref()), u.value.clone()]),
            None => row.extend([String::new(), String::new()]),
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_written_as_text_and_read_back_unchanged() {
        for value in [
            "=1+1",
            "=HYPERLINK(\"http://x\",\"y\")",
            "+86 138 0013 8000",
            "-5",
            "@SUM(A1)",
            "\tx",
            "'=x",
            "''+y",
            "'plain",
            "plain",
            "",
        ] {
            let cell = neutralise_cell(value);
            assert!(
                !cell.starts_with(FORMULA_START),
                "{value:?} is written as {cell:?}, which no spreadsheet runs"
            );
            assert_eq!(
                restore_cell(&cell),
                value,
                "{value:?} reads back as written"
            );
        }
        assert_eq!(
            neutralise_cell("plain"),
            "plain",
            "ordinary values are untouched"
        );
    }

    #[test]
    fn google_and_outlook_layouts_read() {
        let google = "Name,Given Name,Family Name,Organization 1 - Name,Organization 1 - Title,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,Group Membership\n\
            张伟,伟,张,华为,工程师,* Work,zw@example.cn,Mobile,138 0013 8000 ::: 139 0000 0000,Work Fax,+86 10 1234 5678,* myContacts ::: 客户\n";
        let read = read(google);
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let card = &read.cards[0].1;
        assert_eq!(card.formatted_name, "张伟");
        assert_eq!(card.org.as_deref(), Some("华为"));
        assert_eq!(
            card.phones.len(),
            3,
            "Google's ::: holds two mobiles, plus the fax"
        );
        assert_eq!(card.phones[2].kinds, vec!["work", "fax"]);
        assert_eq!(card.categories, vec!["客户"]);

        let outlook = "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,Business Street,Business City,Business Postal Code,Business Country/Region,Business Phone,Mobile Phone,E-mail Address,Web Page\n\
            Ms.,Anna,,Berg,,Acme,Sales,Manager,1 Main St,Springfield,12345,USA,+1 555 0100,+1 555 0199,anna@acme.test,acme.test\n";
        let read = super::read(outlook);
        let card = &read.cards[0].1;
        assert_eq!(card.formatted_name, "Ms. Anna Berg");
        assert_eq!(
            card.title.as_deref(),
            Some("Manager"),
            "Outlook's Title is the prefix; Job Title is the title"
        );
        assert_eq!(card.phones.len(), 2);
        assert_eq!(card.addresses[0].locality, "Springfield");
        assert_eq!(card.urls[0].value, "acme.test");
    }

    #[test]
    fn an_empty_row_is_skipped_and_a_nameless_one_reported() {
        let read = read("First Name,Notes\n,,\n,just a note\nLi,\n");
        assert_eq!(read.cards.len(), 1);
        assert_eq!(read.errors.len(), 1);
        assert_eq!(read.errors[0].row, 2);
    }

    #[test]
    fn written_csv_reads_back() {
        let card = Card {
            formatted_name: "Li Na".into(),
            name: Some(Name {
                family: "Li".into(),
                given: "Na".into(),
                ..Name::default()
            }),
            org: Some("Acme, Inc.".into()),
            phones: vec![Phone {
                value: "+86 138 0013 8000".into(),
                kinds: vec!["cell".into()],
                ..Phone::default()
            }],
            emails: vec![Email {
                value: "li@acme.test".into(),
                ..Email::default()
            }],
            ..Card::default()
        };
        let bytes = write(std::slice::from_ref(&card)).unwrap();
        let back = read(&decode(&bytes));
        let got = &back.cards[0].1;
        assert_eq!(got.formatted_name, "Li Na");
        assert_eq!(got.org, card.org);
        assert_eq!(got.phones[0].value, card.phones[0].value);
        assert_eq!(got.phones[0].kinds, vec!["cell"]);
        assert_eq!(got.emails[0].value, "li@acme.test");
    }
}
