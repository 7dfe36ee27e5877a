//! What a Mingpian QR code says, and what any scanned text is.
//!
//! Patent claims 2 and 6: a code is a URL plus the user's ID plus the set number. Ours is
//! `{cloud public URL}/c/{public_id}/{set_no}`, where `public_id` is at least 96 random bits in
//! URL-safe base64 (never a sequential or guessable ID) and `set_no` names one of the user's card
//! sets. A *printed* code is exactly that URL; a *live* code, shown on the owner's phone during an
//! in-person exchange, adds a short-lived token `?t=…` that the cloud checks.
//!
//! [`classify`] sorts any scanned text into one of: our card link (from any host: another
//! Mingpian cloud is as valid as ours), a plain vCard, a MECARD or BIZCARD, or not a card.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::card::{Address, Card, Email, Name, Phone, Url};
use crate::vcard;

/// Smallest public ID we accept: 16 base64 characters carry 96 bits.
const MIN_ID_CHARS: usize = 16;
const MAX_ID_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("this is not a business card code")]
    NotACard,
    #[error("this looks like a Mingpian card link but {0}")]
    BadLink(String),
    #[error("the vCard in this code could not be read: {0}")]
    BadVCard(String),
}

/// The public, unguessable identity of a user in codes and links.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = "^[A-Za-z0-9_-]{16,64}$"))]
#[cfg_attr(feature = "specta", derive(specta::Type), specta(transparent))]
pub struct PublicId(String);

impl PublicId {
    /// An ID from 16 random bytes (128 bits): the caller supplies the randomness (the cloud uses
    /// the operating system's generator), keeping this crate free of I/O.
    pub fn from_random_bytes(bytes: [u8; 16]) -> PublicId {
        PublicId(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn parse(text: &str) -> Result<PublicId, PayloadError> {
        let ok_len = (MIN_ID_CHARS..=MAX_ID_CHARS).contains(&text.len());
        let ok_chars = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok_len && ok_chars {
            Ok(PublicId(text.to_owned()))
        } else {
            Err(PayloadError::BadLink(format!(
                "its user ID {text:?} is not {MIN_ID_CHARS}–{MAX_ID_CHARS} URL-safe characters"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PublicId {
    type Error = PayloadError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PublicId::parse(&value)
    }
}

impl From<PublicId> for String {
    fn from(id: PublicId) -> String {
        id.0
    }
}

impl fmt::Display for PublicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of a user's card sets (claim 6's 组号), from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "SetNumber", into = "u32")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = u32))]
#[cfg_attr(feature = "specta", derive(specta::Type), specta(transparent))]
pub struct CardSetNo(u32);

impl CardSetNo {
    pub const MAX: u32 = 999;
    pub const FIRST: CardSetNo = CardSetNo(1);

    pub fn new(n: u32) -> Result<CardSetNo, PayloadError> {
        if (1..=Self::MAX).contains(&n) {
            Ok(CardSetNo(n))
        } else {
            Err(PayloadError::BadLink(format!(
                "its set number {n} is not between 1 and {}",
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A set number as JSON writes it: `3`, or `3.0` (JSON has one number type; an integral float is
/// the same integer).
#[derive(Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(untagged)]
enum SetNumber {
    Int(u32),
    Float(f64),
}

impl TryFrom<SetNumber> for CardSetNo {
    type Error = PayloadError;
    fn try_from(value: SetNumber) -> Result<Self, Self::Error> {
        match value {
            SetNumber::Int(n) => CardSetNo::new(n),
            SetNumber::Float(f)
                if f.fract() == 0.0 && (1.0..=f64::from(CardSetNo::MAX)).contains(&f) =>
            {
                CardSetNo::new(f as u32)
            }
            SetNumber::Float(f) => Err(PayloadError::BadLink(format!(
                "its set number {f} is not between 1 and {}",
                CardSetNo::MAX
            ))),
        }
    }
}

impl TryFrom<u32> for CardSetNo {
    type Error = PayloadError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        CardSetNo::new(value)
    }
}

impl From<CardSetNo> for u32 {
    fn from(n: CardSetNo) -> u32 {
        n.0
    }
}

impl fmt::Display for CardSetNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The short-lived token of a live code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LiveToken(String);

impl LiveToken {
    pub fn parse(text: &str) -> Result<LiveToken, PayloadError> {
        let ok = (8..=256).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(LiveToken(text.to_owned()))
        } else {
            Err(PayloadError::BadLink("its live token is malformed".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LiveToken {
    type Error = PayloadError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        LiveToken::parse(&value)
    }
}

impl From<LiveToken> for String {
    fn from(t: LiveToken) -> String {
        t.0
    }
}

/// The scheme the desktop app registers for card links (`mingpian://…`).
pub const APP_SCHEME: &str = "mingpian";

/// A Mingpian card code: `{base}/c/{public_id}/{set_no}[?t={token}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardLink {
    /// The cloud's public URL, without a trailing slash: `https://mp.example.cn` or
    /// `https://example.com/mingpian`.
    pub base: String,
    pub public_id: PublicId,
    pub set_no: CardSetNo,
    /// Present on live codes only.
    pub token: Option<LiveToken>,
}

impl CardLink {
    pub fn printed(base: &str, public_id: PublicId, set_no: CardSetNo) -> CardLink {
        CardLink {
            base: base.trim_end_matches('/').to_owned(),
            public_id,
            set_no,
            token: None,
        }
    }

    pub fn live(base: &str, public_id: PublicId, set_no: CardSetNo, token: LiveToken) -> CardLink {
        CardLink {
            token: Some(token),
            ..CardLink::printed(base, public_id, set_no)
        }
    }

    /// The URL the code encodes.
    pub fn url(&self) -> String {
        let mut url = format!("{}/c/{}/{}", self.base, self.public_id, self.set_no);
        if let Some(token) = &self.token {
            url.push_str("?t=");
            url.push_str(token.as_str());
        }
        url
    }

    /// Parses a card URL from any host. Returns `Ok(None)` for URLs that are not card links at
    /// all, and an error for ones that look like card links but are malformed.
    ///
    /// The app's own scheme is a card link too (the desktop opens these; phones open the https
    /// link itself): `mingpian://open?u={card URL}` carries any card URL, and
    /// `mingpian://{host}/c/…` stands for `https://{host}/c/…`.
    pub fn parse(text: &str) -> Result<Option<CardLink>, PayloadError> {
        let Ok(mut url) = url::Url::parse(text.trim()) else {
            return Ok(None);
        };
        if url.scheme() == APP_SCHEME {
            let inner = url
                .query_pairs()
                .find(|(k, _)| k == "u")
                .map(|(_, v)| v.into_owned());
            url = match (url.host_str(), inner) {
                (Some("open"), Some(inner)) => match url::Url::parse(&inner) {
                    Ok(inner) => inner,
                    Err(_) => return Ok(None),
                },
                (Some(_), _) => {
                    let https = format!("https{}", &url.as_str()[APP_SCHEME.len()..]);
                    match url::Url::parse(&https) {
                        Ok(https) => https,
                        Err(_) => return Ok(None),
                    }
                }
                (None, _) => return Ok(None),
            };
        }
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Ok(None);
        }
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        let segments: Vec<&str> = match segments.split_last() {
            Some((&"", rest)) => rest.to_vec(),
            _ => segments,
        };
        let n = segments.len();
        if n < 3 || segments[n - 3] != "c" {
            return Ok(None);
        }
        let public_id = PublicId::parse(segments[n - 2])?;
        let set_text = segments[n - 1];
        let set_no = set_text
            .parse::<u32>()
            .map_err(|_| {
                PayloadError::BadLink(format!("its set number {set_text:?} is not a number"))
            })
            .and_then(CardSetNo::new)?;
        let token = match url.query_pairs().find(|(k, _)| k == "t") {
            Some((_, t)) => Some(LiveToken::parse(&t)?),
            None => None,
        };
        let mut base = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        if let Some(port) = url.port() {
            base.push_str(&format!(":{port}"));
        }
        for segment in &segments[..n - 3] {
            base.push('/');
            base.push_str(segment);
        }
        Ok(Some(CardLink {
            base,
            public_id,
            set_no,
            token,
        }))
    }
}

/// What a scanned code turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Scanned {
    /// A Mingpian card link: fetch the card from that cloud (and give ours back).
    Link(CardLink),
    /// A card carried in the code itself (vCard, MECARD or BIZCARD): save it, no cloud needed.
    Card(Box<Card>),
}

/// Classifies any scanned text. Never panics; text that is not a card is
/// [`PayloadError::NotACard`].
pub fn classify(text: &str) -> Result<Scanned, PayloadError> {
    // The largest QR code holds 2,953 bytes; a pasted or opened link is shorter still. Text
    // beyond this is not a code and is not parsed.
    const MAX_SCANNED_BYTES: usize = 16 * 1024;
    if text.len() > MAX_SCANNED_BYTES {
        return Err(PayloadError::NotACard);
    }
    let trimmed = text.trim_start_matches('\u{FEFF}').trim();
    if let Some(link) = CardLink::parse(trimmed)? {
        return Ok(Scanned::Link(link));
    }
    let head: String = trimmed
        .chars()
        .take(12)
        .collect::<String>()
        .to_ascii_uppercase();
    if head.starts_with("BEGIN:VCARD") {
        let report = vcard::read(trimmed.as_bytes());
        return match report.cards.into_iter().next() {
            Some(card) => Ok(Scanned::Card(Box::new(card))),
            None => Err(PayloadError::BadVCard(
                report
                    .errors
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "no card in it".into()),
            )),
        };
    }
    if head.starts_with("MECARD:") {
        return mecard(&trimmed[7..]);
    }
    if head.starts_with("BIZCARD:") {
        return bizcard(&trimmed[8..]);
    }
    Err(PayloadError::NotACard)
}

/// Splits `KEY:value;KEY:value;;` with `\` escapes, as MECARD and BIZCARD write.
fn fields(body: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = body.chars();
    let mut push = |current: &mut String| {
        if let Some((k, v)) = current.split_once(':') {
            out.push((k.trim().to_ascii_uppercase(), v.trim().to_owned()));
        }
        current.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    // Keep ':' escaped so that it does not split key from value.
                    if next == ':' {
                        current.push('\u{E000}');
                    } else {
                        current.push(next);
                    }
                }
            }
            ';' => push(&mut current),
            _ => current.push(c),
        }
    }
    push(&mut current);
    out.into_iter()
        .map(|(k, v)| (k, v.replace('\u{E000}', ":")))
        .collect()
}

fn mecard(body: &str) -> Result<Scanned, PayloadError> {
    let mut card = Card::default();
    for (key, value) in fields(body) {
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "N" => {
                let mut parts = value.splitn(2, ',');
                let family = parts.next().unwrap_or_default().trim().to_owned();
                let given = parts.next().unwrap_or_default().trim().to_owned();
                card.name = Some(Name {
                    family,
                    given,
                    ..Name::default()
                });
            }
            "SOUND" => {
                let mut parts = value.splitn(2, ',');
                let family = parts.next().unwrap_or_default().trim().to_owned();
                let given = parts.next().unwrap_or_default().trim().to_owned();
                card.phonetic = Some(Name {
                    family,
                    given,
                    ..Name::default()
                });
            }
            "TEL" | "TEL-AV" => card.phones.push(Phone {
                value,
                ..Phone::default()
            }),
            "EMAIL" => card.emails.push(Email {
                value,
                ..Email::default()
            }),
            "URL" => card.urls.push(Url {
                value,
                ..Url::default()
            }),
            "ADR" => card.addresses.push(Address {
                street: value,
                ..Address::default()
            }),
            "NOTE" => card.note = Some(value),
            "BDAY" => card.birthday = Some(value),
            "NICKNAME" => card.nicknames.push(value),
            "ORG" => card.org = Some(value),
            "TITLE" => card.title = Some(value),
            _ => {}
        }
    }
    finish(card)
}

fn bizcard(body: &str) -> Result<Scanned, PayloadError> {
    let mut card = Card::default();
    let mut name = Name::default();
    for (key, value) in fields(body) {
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "N" => name.given = value,
            "X" => name.family = value,
            "T" => card.title = Some(value),
            "C" => card.org = Some(value),
            "A" => card.addresses.push(Address {
                street: value,
                ..Address::default()
            }),
            "B" => card.phones.push(Phone {
                value,
                kinds: vec!["work".into()],
                ..Phone::default()
            }),
            "M" => card.phones.push(Phone {
                value,
                kinds: vec!["cell".into()],
                ..Phone::default()
            }),
            "F" => card.phones.push(Phone {
                value,
                kinds: vec!["fax".into()],
                ..Phone::default()
            }),
            "E" => card.emails.push(Email {
                value,
                ..Email::default()
            }),
            _ => {}
        }
    }
    if !name.is_empty() {
        card.name = Some(name);
    }
    finish(card)
}

fn finish(mut card: Card) -> Result<Scanned, PayloadError> {
    card.formatted_name = card.display_name();
    if card.has_content() {
        Ok(Scanned::Card(Box::new(card)))
    } else {
        Err(PayloadError::NotACard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> PublicId {
        PublicId::from_random_bytes([7; 16])
    }

    #[test]
    fn public_ids_carry_at_least_96_bits_and_reject_short_or_odd_ones() {
        assert_eq!(id().as_str().len(), 22, "128 bits in URL-safe base64");
        assert!(
            PublicId::parse("abc123").is_err(),
            "6 characters is guessable"
        );
        assert!(PublicId::parse("aaaaaaaaaaaaaaa/").is_err());
        assert!(
            PublicId::parse("AAAAAAAAAAAAAAAA").is_ok(),
            "16 characters = 96 bits"
        );
    }

    #[test]
    fn printed_and_live_links_round_trip() {
        let printed = CardLink::printed(
            "https://mp.example.cn/",
            id(),
            CardSetNo::new(2).expect("2"),
        );
        assert_eq!(printed.url(), format!("https://mp.example.cn/c/{}/2", id()));
        assert_eq!(CardLink::parse(&printed.url()), Ok(Some(printed.clone())));
        let token = LiveToken::parse("tok_12345678").expect("token");
        let live = CardLink::live("http://127.0.0.1:8787/base", id(), CardSetNo::FIRST, token);
        assert_eq!(
            live.url(),
            format!("http://127.0.0.1:8787/base/c/{}/1?t=tok_12345678", id())
        );
        assert_eq!(CardLink::parse(&live.url()), Ok(Some(live)));
    }

    #[test]
    fn links_from_another_cloud_are_cards_too() {
        let text = format!("HTTPS://Other-Cloud.example:8443/c/{}/3/", id());
        match classify(&text) {
            Ok(Scanned::Link(link)) => {
                assert_eq!(link.base, "https://other-cloud.example:8443");
                assert_eq!(link.set_no.get(), 3);
            }
            other => panic!("expected a link, got {other:?}"),
        }
    }

    #[test]
    fn the_apps_own_links_open_the_card_they_carry() {
        let token = LiveToken::parse("tok_12345678").expect("token");
        let live = CardLink::live("http://127.0.0.1:8787", id(), CardSetNo::FIRST, token);
        let wrapped = format!(
            "mingpian://open?u={}",
            url::form_urlencoded::byte_serialize(live.url().as_bytes()).collect::<String>()
        );
        assert_eq!(CardLink::parse(&wrapped), Ok(Some(live)));
        let short = format!("mingpian://mp.example.cn/c/{}/2", id());
        let link = CardLink::parse(&short).expect("parses").expect("a link");
        assert_eq!(link.base, "https://mp.example.cn");
        assert_eq!(link.set_no.get(), 2);
        // Not card links: no URL inside, another scheme inside, or no card path.
        for text in [
            "mingpian://open",
            "mingpian://open?u=javascript:alert(1)",
            "mingpian://open?u=mingpian%3A%2F%2Fopen",
            "mingpian:///c/x/1",
            "mingpian://mp.example.cn/settings",
        ] {
            assert_eq!(CardLink::parse(text), Ok(None), "{text}");
        }
    }

    #[test]
    fn malformed_card_links_say_what_is_wrong() {
        assert!(matches!(
            classify(&format!("https://x.cn/c/{}/0", id())),
            Err(PayloadError::BadLink(_))
        ));
        assert!(matches!(
            classify(&format!("https://x.cn/c/{}/abc", id())),
            Err(PayloadError::BadLink(_))
        ));
        assert!(matches!(
            classify("https://x.cn/c/short/1"),
            Err(PayloadError::BadLink(_))
        ));
    }

    #[test]
    fn other_text_is_not_a_card() {
        for text in [
            "",
            "hello",
            "https://example.com/",
            "https://example.com/a/b/c",
            "WIFI:S:x;;",
            "tel:123",
            "mailto:a@b",
        ] {
            assert_eq!(classify(text), Err(PayloadError::NotACard), "{text:?}");
        }
    }

    #[test]
    fn mecard_from_a_real_code() {
        let text = "MECARD:N:Tom Stasiuk;TEL:719-357-7099;URL:planet10tech.com;EMAIL:tom@planet10tech.com;NOTE:Go Paperless-Work Anywhere-Harness Social Media;;";
        let Ok(Scanned::Card(card)) = classify(text) else {
            panic!("MECARD is a card")
        };
        assert_eq!(card.formatted_name, "Tom Stasiuk");
        assert_eq!(card.phones[0].value, "719-357-7099");
        assert_eq!(card.emails[0].value, "tom@planet10tech.com");
        assert_eq!(card.urls[0].value, "planet10tech.com");
    }

    #[test]
    fn mecard_chinese_name_and_escapes() {
        let Ok(Scanned::Card(card)) = classify("MECARD:N:张,伟;ORG:名片\\;科技;TEL:13800138000;;")
        else {
            panic!("card")
        };
        assert_eq!(card.formatted_name, "张伟");
        assert_eq!(card.org.as_deref(), Some("名片;科技"));
    }

    #[test]
    fn vcard_and_bizcard_in_codes() {
        let Ok(Scanned::Card(card)) =
            classify("BEGIN:VCARD\nVERSION:3.0\nFN:李娜\nTEL:+86 10 1234 5678\nEND:VCARD")
        else {
            panic!("vCard is a card")
        };
        assert_eq!(card.formatted_name, "李娜");
        let Ok(Scanned::Card(card)) =
            classify("BIZCARD:N:Sean;X:Owen;T:Software Engineer;C:Google;E:sean@example.com;;")
        else {
            panic!("BIZCARD is a card")
        };
        assert_eq!(card.formatted_name, "Sean Owen");
        assert_eq!(card.title.as_deref(), Some("Software Engineer"));
    }

    #[test]
    fn text_longer_than_any_qr_code_is_not_parsed() {
        let huge = format!(
            "BEGIN:VCARD\nVERSION:3.0\nFN:{}\nEND:VCARD",
            "x".repeat(20_000)
        );
        assert_eq!(classify(&huge), Err(PayloadError::NotACard));
    }
}
