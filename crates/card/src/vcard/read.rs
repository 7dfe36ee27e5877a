//! Content lines → [`Card`]s, one card at a time, so that a broken card costs only itself.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;

use super::lex::{self, ContentLine, LineError};
use super::text::{self, CharsetNote};
use super::{Problem, ReadOptions, ReadReport};
use crate::card::{Address, Card, Email, Media, Name, Phone, Property, Social, Url};

/// Lenient base64: real exporters write missing padding and stray whitespace.
pub(crate) const LENIENT_B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Property names of messaging handles some clients write as their own properties.
const SOCIAL_PROPERTIES: &[(&str, &str)] = &[
    ("X-WECHAT", "wechat"),
    ("X-WEIXIN", "wechat"),
    ("X-QQ", "qq"),
    ("X-LINKEDIN", "linkedin"),
    ("X-TWITTER", "twitter"),
    ("X-FACEBOOK", "facebook"),
    ("X-AIM", "aim"),
    ("X-ICQ", "icq"),
    ("X-JABBER", "jabber"),
    ("X-MSN", "msn"),
    ("X-YAHOO", "yahoo"),
    ("X-SKYPE", "skype"),
    ("X-SKYPE-USERNAME", "skype"),
    ("X-GOOGLE-TALK", "gtalk"),
    ("X-GTALK", "gtalk"),
    ("X-LINE", "line"),
    ("X-WHATSAPP", "whatsapp"),
    ("X-TELEGRAM", "telegram"),
];

pub(crate) fn read(data: &[u8], options: &ReadOptions) -> ReadReport {
    let mut cards = Vec::new();
    let mut report = read_each(data, options, &mut |card| cards.push(card));
    report.cards = cards;
    report
}

/// Reads every card in `data`, handing each to `each` as soon as it is read; the report carries
/// the problems and no cards.
pub(crate) fn read_each(
    data: &[u8],
    options: &ReadOptions,
    each: &mut dyn FnMut(Card),
) -> ReadReport {
    let data = lex::normalise_container(data);
    // The legacy character set each card names, by the line its BEGIN is on; looked for only
    // in a file that may name one.
    let charsets = if may_name_charset(&data) {
        card_charsets(&data)
    } else {
        HashMap::new()
    };
    let mut report = ReadReport::default();
    let mut card_no = 0usize;
    let mut current: Option<Builder> = None;
    let mut nested: Option<Nested> = None;
    let mut seen_begin = false;

    for line in lex::LogicalLines::new(&data) {
        if let Some(n) = nested.as_mut() {
            n.text.push_str(&String::from_utf8_lossy(&line.bytes));
            n.text.push('\n');
            if is_marker(&line.bytes, b"BEGIN") {
                n.depth += 1;
            } else if is_marker(&line.bytes, b"END") {
                n.depth -= 1;
                if n.depth == 0 {
                    let done = nested.take().map(|n| n.text).unwrap_or_default();
                    if let Some(b) = current.as_mut() {
                        b.card.extra.push(Property {
                            name: "AGENT".into(),
                            value: text::escape(done.trim_end()).into_owned(),
                            ..Property::default()
                        });
                    }
                }
            }
            continue;
        }
        if is_marker(&line.bytes, b"BEGIN") {
            seen_begin = true;
            if let Some(b) = current.as_mut() {
                if b.version.as_deref() == Some("2.1") {
                    // vCard 2.1 nests cards (AGENT); keep the nested one whole.
                    nested = Some(Nested {
                        depth: 1,
                        text: "BEGIN:VCARD\n".into(),
                    });
                    continue;
                }
                let b = current.take().expect("checked above");
                report.errors.push(Problem {
                    card: b.number,
                    line: b.start_line,
                    message: "card has no END:VCARD before the next BEGIN:VCARD".into(),
                });
                finish(b, &mut report, each);
            }
            card_no += 1;
            let mut builder = Builder::new(card_no, line.line);
            builder.fallback = options
                .fallback_charset
                .or_else(|| charsets.get(&line.line).copied());
            current = Some(builder);
            continue;
        }
        if is_marker(&line.bytes, b"END") {
            match current.take() {
                Some(b) => finish(b, &mut report, each),
                None => report.warnings.push(Problem {
                    card: card_no,
                    line: line.line,
                    message: "END:VCARD without BEGIN:VCARD".into(),
                }),
            }
            continue;
        }
        let Some(builder) = current.as_mut() else {
            continue; // text between cards: mail headers, comments, blank padding
        };
        match lex::parse_content_line(&line.bytes) {
            Ok(content) => builder.add(content, line.line),
            Err(e) => {
                let what = match e {
                    LineError::NoColon => "line is not a property (no ':')",
                    LineError::BadName => "line does not start with a property name",
                };
                builder.warn(line.line, what.to_owned());
            }
        }
    }
    if let Some(b) = current.take() {
        report.errors.push(Problem {
            card: b.number,
            line: b.start_line,
            message: "card has no END:VCARD (file cut short?); kept what was there".into(),
        });
        finish(b, &mut report, each);
    }
    if !seen_begin && !data.iter().all(u8::is_ascii_whitespace) {
        report.errors.push(Problem {
            card: 0,
            line: 1,
            message: "not a vCard file: no BEGIN:VCARD in it".into(),
        });
    }
    report
}

struct Nested {
    depth: usize,
    text: String,
}

fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    // Most lines fail on their first letter.
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if !first.is_some_and(|b| b.eq_ignore_ascii_case(&marker[0])) {
        return false;
    }
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    line[..colon].trim_ascii().eq_ignore_ascii_case(marker)
        && line[colon + 1..]
            .trim_ascii()
            .eq_ignore_ascii_case(b"VCARD")
}

/// Whether `CHARSET` may be in the file's unfolded lines: its letters, case aside, with only
/// what unfolding removes between them (line breaks, the space or tab that folds, a
/// quoted-printable soft break's `=`). A false yes costs one more pass over the file.
fn may_name_charset(data: &[u8]) -> bool {
    const WORD: &[u8] = b"CHARSET";
    // Linear: a scan from one `C` never passes another (the rest of the word has none).
    memchr::memchr2_iter(b'C', b'c', data).any(|start| {
        let mut i = start + 1;
        WORD[1..].iter().all(|want| {
            while data
                .get(i)
                .is_some_and(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | b'='))
            {
                i += 1;
            }
            let found = data.get(i).is_some_and(|b| b.eq_ignore_ascii_case(want));
            i += 1;
            found
        })
    })
}

/// The legacy character set each card names anywhere in its `CHARSET` parameters, by the line
/// its `BEGIN` is on. Exporters that label some values leave others unlabelled in the same set
/// (Windows code pages, Shift_JIS), so the card's own choice is a better guess for those than
/// any global one.
fn card_charsets(data: &[u8]) -> HashMap<usize, &'static encoding_rs::Encoding> {
    let mut found = HashMap::new();
    // The BEGIN line of the card being searched, until its first charset or its end.
    let mut open = None;
    for line in lex::LogicalLines::new(data) {
        if is_marker(&line.bytes, b"BEGIN") {
            open = Some(line.line);
            continue;
        }
        if is_marker(&line.bytes, b"END") {
            open = None;
            continue;
        }
        let Some(begin) = open else {
            continue;
        };
        let header = &line.bytes[..lex::find_value_colon(&line.bytes).unwrap_or(0)];
        let Some(at) = header
            .windows(8)
            .position(|w| w.eq_ignore_ascii_case(b"CHARSET="))
        else {
            continue;
        };
        let label = &header[at + 8..];
        let label = &label[..label.iter().position(|&b| b == b';').unwrap_or(label.len())];
        match encoding_rs::Encoding::for_label(label.trim_ascii()) {
            Some(e) if e != encoding_rs::UTF_8 => {
                found.insert(begin, e);
                open = None;
            }
            _ => {}
        }
    }
    found
}

fn finish(builder: Builder, report: &mut ReadReport, each: &mut dyn FnMut(Card)) {
    let number = builder.number;
    let start = builder.start_line;
    let (card, warnings) = builder.build();
    report.warnings.extend(warnings);
    if !card.has_content() {
        // Still returned: a card we cannot show may carry properties someone else can use.
        report.warnings.push(Problem {
            card: number,
            line: start,
            message: "card has no name, organisation, phone, email or other content".into(),
        });
    }
    each(card);
}

/// Which item an Apple `itemN.` group belongs to, so its `X-ABLabel` can find it.
#[derive(Debug, Clone, Copy)]
enum Labelled {
    Phone(usize),
    Email(usize),
    Address(usize),
    Url(usize),
    Social(usize),
}

struct Builder {
    number: usize,
    start_line: usize,
    version: Option<String>,
    card: Card,
    groups: HashMap<String, Labelled>,
    /// Labels whose group has no item (yet), in the order read.
    pending_labels: Vec<(String, String)>,
    warnings: Vec<Problem>,
    /// Character set for unlabelled values that are not UTF-8.
    fallback: Option<&'static encoding_rs::Encoding>,
}

impl Builder {
    fn new(number: usize, start_line: usize) -> Self {
        Builder {
            number,
            start_line,
            version: None,
            card: Card::default(),
            groups: HashMap::new(),
            pending_labels: Vec::new(),
            warnings: Vec::new(),
            fallback: None,
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Problem {
            card: self.number,
            line,
            message,
        });
    }

    /// The value as text: quoted-printable and character set undone, escapes kept.
    fn text_value<'a>(&mut self, content: &ContentLine<'a>, line: usize) -> Cow<'a, str> {
        let qp =
            param(content, "ENCODING").is_some_and(|v| v.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
        let charset = param(content, "CHARSET");
        let (text, note) = if qp {
            let bytes = text::decode_quoted_printable(content.value);
            let (t, n) = text::decode_charset(&bytes, charset, self.fallback);
            (Cow::Owned(t.into_owned()), n)
        } else {
            text::decode_charset(content.value, charset, self.fallback)
        };
        // Quoted-printable carries the writer's line breaks (`=0D=0A`); text uses `\n`.
        let text = if text.contains('\r') {
            Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            text
        };
        match note {
            Some(CharsetNote::UnknownCharset(name)) => {
                self.warn(
                    line,
                    format!("unknown character set {name:?}; guessed instead"),
                );
            }
            Some(CharsetNote::Malformed(name)) => {
                self.warn(
                    line,
                    format!("{} has bytes that are not valid {name}", content.name),
                );
            }
            None => {}
        }
        text
    }

    /// Adds one property to the card. Long by design: one arm per property the card models,
    /// so that what each vCard property becomes is read in one place (splitting it
    /// would scatter that table across helpers that each take the whole reader).
    fn add(&mut self, content: ContentLine<'_>, line: usize) {
        let name = content.name.as_str();
        if name == "PROFILE" {
            return; // RFC 2426's `PROFILE:VCARD` restates the container; it is not card data.
        }
        if name == "VERSION" {
            self.version = Some(String::from_utf8_lossy(content.value).trim().to_owned());
            return;
        }
        if matches!(name, "PHOTO" | "LOGO" | "X-MINGPIAN-CARDIMAGE") {
            match self.media(&content, line) {
                Some(media) => {
                    let card = &mut self.card;
                    let slot = match name {
                        "PHOTO" => &mut card.photo,
                        "LOGO" => &mut card.logo,
                        _ => {
                            card.card_images.push(media);
                            return;
                        }
                    };
                    if slot.is_none() {
                        *slot = Some(media);
                    } else {
                        self.keep(&content, line);
                    }
                }
                None => self.keep(&content, line),
            }
            return;
        }
        if binary(&content) {
            self.keep(&content, line);
            return;
        }
        let raw = self.text_value(&content, line);
        let value = trim_line_breaks(&raw);
        let card = &mut self.card;
        let mut labelled = None;
        match name {
            "FN" if card.formatted_name.is_empty() => {
                card.formatted_name = text::unescape(value).trim().to_owned()
            }
            "N" if param(&content, "PHONETIC").is_some() => {
                card.phonetic = Some(name_from(value));
            }
            "N" if card.name.is_none() => {
                card.name = Some(name_from(value)).filter(|n| !n.is_empty())
            }
            "SOUND" if has_type(&content, "X-IRMC-N") && card.phonetic.is_none() => {
                card.phonetic = Some(name_from(value));
            }
            "X-PHONETIC-FIRST-NAME" | "X-PHONETIC-LAST-NAME" | "X-PHONETIC-MIDDLE-NAME" => {
                let phonetic = card.phonetic.get_or_insert_with(Name::default);
                let slot = match name {
                    "X-PHONETIC-FIRST-NAME" => &mut phonetic.given,
                    "X-PHONETIC-LAST-NAME" => &mut phonetic.family,
                    _ => &mut phonetic.additional,
                };
                *slot = text::unescape(value).into_owned();
            }
            "NICKNAME" => card
                .nicknames
                .extend(non_empty(text::split_unescaped(value, ','))),
            "ORG" if card.org.is_none() => {
                let mut parts = text::split_unescaped(value, ';')
                    .into_iter()
                    .map(|p| p.trim().to_owned());
                card.org = parts.next().filter(|o| !o.is_empty());
                card.departments = parts.filter(|p| !p.is_empty()).collect();
            }
            "TITLE" if card.title.is_none() => {
                card.title = Some(text::unescape(value).into_owned())
            }
            "ROLE" if card.role.is_none() => card.role = Some(text::unescape(value).into_owned()),
            "TEL" => {
                let number = strip_scheme(text::unescape(value).trim(), "tel:");
                if !number.is_empty() {
                    let (kinds, pref) = kinds(&content);
                    card.phones.push(Phone {
                        value: number,
                        kinds,
                        pref,
                        label: None,
                    });
                    labelled = Some(Labelled::Phone(card.phones.len() - 1));
                }
            }
            "EMAIL" => {
                let address = strip_scheme(text::unescape(value).trim(), "mailto:");
                if !address.is_empty() {
                    let (mut kinds, pref) = kinds(&content);
                    kinds.retain(|k| k != "internet" && k != "x400");
                    card.emails.push(Email {
                        value: address,
                        kinds,
                        pref,
                        label: None,
                    });
                    labelled = Some(Labelled::Email(card.emails.len() - 1));
                }
            }
            "ADR" => {
                let parts = text::split_unescaped(value, ';');
                let part = |i: usize| {
                    parts
                        .get(i)
                        .map(|p| p.trim().to_owned())
                        .unwrap_or_default()
                };
                let (kinds, pref) = kinds(&content);
                let address = Address {
                    po_box: part(0),
                    extended: part(1),
                    street: part(2),
                    locality: part(3),
                    region: part(4),
                    postal_code: part(5),
                    country: part(6),
                    kinds,
                    pref,
                    label: None,
                };
                if !address.is_empty() {
                    card.addresses.push(address);
                    labelled = Some(Labelled::Address(card.addresses.len() - 1));
                }
            }
            "URL" => {
                let url = text::unescape(value).trim().to_owned();
                if !url.is_empty() {
                    let (kinds, _) = kinds(&content);
                    card.urls.push(Url {
                        value: url,
                        kinds,
                        label: None,
                    });
                    labelled = Some(Labelled::Url(card.urls.len() - 1));
                }
            }
            "X-SOCIALPROFILE" | "SOCIALPROFILE" | "IMPP" => {
                let handle = text::unescape(value).trim().to_owned();
                if !handle.is_empty() {
                    let im = name == "IMPP";
                    let service = param(&content, "SERVICE-TYPE")
                        .or_else(|| param(&content, "X-SERVICE-TYPE"))
                        .map(str::to_owned)
                        .or_else(|| {
                            kinds(&content)
                                .0
                                .into_iter()
                                .find(|k| !matches!(k.as_str(), "home" | "work" | "other"))
                        })
                        .or_else(|| handle.split_once(':').map(|(scheme, _)| scheme.to_owned()))
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    card.socials.push(Social {
                        service,
                        value: handle,
                        im,
                        label: None,
                    });
                    labelled = Some(Labelled::Social(card.socials.len() - 1));
                }
            }
            "NOTE" if card.note.is_none() => card.note = Some(text::unescape(value).into_owned()),
            "BDAY" if card.birthday.is_none() => {
                card.birthday = Some(text::unescape(value).trim().to_owned())
            }
            "CATEGORIES" => card
                .categories
                .extend(non_empty(text::split_unescaped(value, ','))),
            "UID" if card.uid.is_none() => card.uid = Some(text::unescape(value).trim().to_owned()),
            "REV" if card.revision.is_none() => card.revision = Some(value.trim().to_owned()),
            "X-ABLABEL" => {
                let label = text::unescape(value).into_owned();
                match content.group.as_ref() {
                    Some(group) => match self.groups.get(&group.to_ascii_lowercase()).copied() {
                        Some(target) => self.set_label(target, label),
                        None => {
                            self.pending_labels.push((group.clone(), label));
                        }
                    },
                    None => self.keep(&content, line),
                }
                return;
            }
            other => {
                if let Some((_, service)) = SOCIAL_PROPERTIES.iter().find(|(n, _)| *n == other) {
                    let handle = text::unescape(value).trim().to_owned();
                    if !handle.is_empty() {
                        card.socials.push(Social {
                            service: (*service).to_owned(),
                            value: handle,
                            im: false,
                            label: None,
                        });
                        labelled = Some(Labelled::Social(card.socials.len() - 1));
                    }
                } else {
                    let kept = value.to_owned();
                    self.keep_text(&content, kept);
                    return;
                }
            }
        }
        if let (Some(group), Some(target)) = (content.group.as_ref(), labelled) {
            let key = group.to_ascii_lowercase();
            if let Some(at) = self
                .pending_labels
                .iter()
                .position(|(g, _)| g.eq_ignore_ascii_case(&key))
            {
                let (_, label) = self.pending_labels.remove(at);
                self.set_label(target, label);
            }
            self.groups.insert(key, target);
        }
    }

    fn set_label(&mut self, target: Labelled, label: String) {
        let card = &mut self.card;
        let slot = match target {
            Labelled::Phone(i) => &mut card.phones[i].label,
            Labelled::Email(i) => &mut card.emails[i].label,
            Labelled::Address(i) => &mut card.addresses[i].label,
            Labelled::Url(i) => &mut card.urls[i].label,
            Labelled::Social(i) => &mut card.socials[i].label,
        };
        *slot = Some(label);
    }

    /// Keeps a property we do not model (or a second FN, a photo we could not decode...).
    fn keep(&mut self, content: &ContentLine<'_>, line: usize) {
        if binary(content) {
            let value = String::from_utf8_lossy(content.value).into_owned();
            self.card.extra.push(Property {
                group: content.group.clone(),
                name: content.name.clone(),
                params: content.params.clone(),
                value,
            });
        } else {
            let value = self.text_value(content, line).into_owned();
            self.keep_text(content, value);
        }
    }

    fn keep_text(&mut self, content: &ContentLine<'_>, value: String) {
        let params = content
            .params
            .iter()
            .filter(|(n, v)| {
                n != "CHARSET"
                    && !(n == "ENCODING"
                        && v.iter().any(|e| e.eq_ignore_ascii_case("QUOTED-PRINTABLE")))
            })
            .cloned()
            .collect();
        // Quoted-printable values carry raw line breaks; a kept value is in escaped text form.
        let value = if value.contains(['\r', '\n']) {
            value.replace("\r\n", "\\n").replace(['\r', '\n'], "\\n")
        } else {
            value
        };
        self.card.extra.push(Property {
            group: content.group.clone(),
            name: content.name.clone(),
            params,
            value,
        });
    }

    fn media(&mut self, content: &ContentLine<'_>, line: usize) -> Option<Media> {
        let type_mime = kinds(content).0.into_iter().find_map(|t| mime_for(&t));
        if binary(content) {
            let cleaned: Vec<u8> = content
                .value
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            let decoded = LENIENT_B64.decode(&cleaned).or_else(|e| {
                // A dangling last character (a truncated export) cannot carry a byte: drop it
                // and keep the picture's other bytes rather than the whole photo.
                let unpadded = cleaned.iter().take_while(|&&b| b != b'=').count();
                if unpadded % 4 == 1 {
                    self.warn(
                        line,
                        format!("{} had a truncated last base64 character", content.name),
                    );
                    LENIENT_B64.decode(&cleaned[..unpadded - 1])
                } else if unpadded < cleaned.len() {
                    // Padding where none belongs (`…/9k=` after a whole group): the data is
                    // whole without it.
                    LENIENT_B64.decode(&cleaned[..unpadded]).map_err(|_| e)
                } else {
                    Err(e)
                }
            });
            return match decoded {
                Ok(data) if !data.is_empty() => {
                    let mime = type_mime.or_else(|| sniff_mime(&data));
                    Some(Media::Inline { mime, data })
                }
                _ => {
                    self.warn(
                        line,
                        format!("{} is not valid base64; kept as it was", content.name),
                    );
                    None
                }
            };
        }
        let value = self.text_value(content, line).trim().to_owned();
        if value.is_empty() {
            return None;
        }
        if let Some(rest) = value.strip_prefix("data:") {
            let (meta, payload) = rest.split_once(',')?;
            let mime = meta
                .split(';')
                .next()
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            let data = if meta.ends_with(";base64") {
                LENIENT_B64.decode(payload.trim()).ok()?
            } else {
                payload.as_bytes().to_vec()
            };
            let mime = mime.or_else(|| sniff_mime(&data));
            return Some(Media::Inline { mime, data });
        }
        Some(Media::Uri { uri: value })
    }

    fn build(mut self) -> (Card, Vec<Problem>) {
        for (group, label) in std::mem::take(&mut self.pending_labels) {
            self.card.extra.push(Property {
                group: Some(group),
                name: "X-ABLABEL".into(),
                params: Vec::new(),
                value: label,
            });
        }
        if self.card.formatted_name.is_empty() {
            self.card.formatted_name = self.card.display_name();
        }
        (self.card, self.warnings)
    }
}

fn param<'a>(content: &'a ContentLine<'_>, name: &str) -> Option<&'a str> {
    content
        .params
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

fn has_type(content: &ContentLine<'_>, wanted: &str) -> bool {
    content
        .params
        .iter()
        .filter(|(n, _)| n == "TYPE")
        .flat_map(|(_, v)| v)
        .any(|t| t.eq_ignore_ascii_case(wanted))
}

/// Whether the value is base64 binary (`ENCODING=b` / `BASE64`).
fn binary(content: &ContentLine<'_>) -> bool {
    param(content, "ENCODING")
        .is_some_and(|e| e.eq_ignore_ascii_case("B") || e.eq_ignore_ascii_case("BASE64"))
}

/// Lower-case types and whether the property is preferred (`TYPE=pref` or `PREF=1`).
fn kinds(content: &ContentLine<'_>) -> (Vec<String>, bool) {
    let mut pref = content.params.iter().any(|(n, _)| n == "PREF");
    let mut kinds = Vec::new();
    for (_, values) in content.params.iter().filter(|(n, _)| n == "TYPE") {
        for v in values {
            let v = v.to_ascii_lowercase();
            if v == "pref" {
                pref = true;
            } else if !kinds.contains(&v) {
                kinds.push(v);
            }
        }
    }
    (kinds, pref)
}

/// `value` without line breaks at either end.
fn trim_line_breaks(value: &str) -> &str {
    let bytes = value.as_bytes();
    let start = bytes.iter().position(|b| !matches!(b, b'\r' | b'\n'));
    let Some(start) = start else {
        return "";
    };
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(start, |e| e + 1);
    // Both ends are next to ASCII bytes, so on character boundaries.
    &value[start..end]
}

fn name_from(value: &str) -> Name {
    let parts = text::split_unescaped(value, ';');
    let part = |i: usize| {
        parts
            .get(i)
            .map(|p| p.trim().to_owned())
            .unwrap_or_default()
    };
    Name {
        family: part(0),
        given: part(1),
        additional: part(2),
        prefixes: part(3),
        suffixes: part(4),
    }
}

fn non_empty(values: Vec<Cow<'_, str>>) -> impl Iterator<Item = String> {
    values
        .into_iter()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn strip_scheme(value: &str, scheme: &str) -> String {
    match value.get(..scheme.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(scheme) => {
            value[scheme.len()..].trim().to_owned()
        }
        _ => value.to_owned(),
    }
}

fn mime_for(kind: &str) -> Option<String> {
    let mime = match kind {
        "jpeg" | "jpg" | "image/jpeg" => "image/jpeg",
        "png" | "image/png" => "image/png",
        "gif" | "image/gif" => "image/gif",
        "webp" | "image/webp" => "image/webp",
        "bmp" | "image/bmp" => "image/bmp",
        "tiff" | "image/tiff" => "image/tiff",
        _ => return None,
    };
    Some(mime.to_owned())
}

fn sniff_mime(data: &[u8]) -> Option<String> {
    let mime = if data.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else if data.starts_with(b"\x89PNG") {
        "image/png"
    } else if data.starts_with(b"GIF8") {
        "image/gif"
    } else if data.len() > 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    };
    Some(mime.to_owned())
}
