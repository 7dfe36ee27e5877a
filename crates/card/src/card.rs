//! The business card as Mingpian understands it.
//!
//! A [`Card`] is what one person hands another: names, organisation, ways to reach them, images.
//! It is deliberately close to vCard (which is how cards travel between phones) but typed: every
//! field we show or search has its own place, and every property we do not model is kept verbatim
//! in [`Card::extra`] so that reading a file and writing it back loses nothing.

use serde::{Deserialize, Serialize};

use crate::api::CardField;

/// One business card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Card {
    /// Stable identity of the card across edits (vCard `UID`).
    pub uid: Option<String>,
    /// When the card was last changed, as written by its source (vCard `REV`).
    pub revision: Option<String>,
    /// The name as displayed (vCard `FN`). Never empty on a card we produced; see
    /// [`Card::display_name`] for cards read from files that lacked it.
    pub formatted_name: String,
    /// Structured name (vCard `N`).
    pub name: Option<Name>,
    /// How the name is pronounced or written in another script (pinyin, kana, Latin).
    pub phonetic: Option<Name>,
    pub nicknames: Vec<String>,
    /// Company (first `ORG` component).
    pub org: Option<String>,
    /// Department, team: the remaining `ORG` components.
    pub departments: Vec<String>,
    pub title: Option<String>,
    pub role: Option<String>,
    pub phones: Vec<Phone>,
    pub emails: Vec<Email>,
    pub addresses: Vec<Address>,
    pub urls: Vec<Url>,
    /// WeChat, LinkedIn, QQ, instant messaging handles.
    pub socials: Vec<Social>,
    pub note: Option<String>,
    /// As written by the source (`1980-04-02`, `--0402`, `19800402`).
    pub birthday: Option<String>,
    pub categories: Vec<String>,
    pub photo: Option<Media>,
    pub logo: Option<Media>,
    /// Pictures of the card itself: front first, then back.
    pub card_images: Vec<Media>,
    /// Every property we do not model, in the order read, so writing the card back loses nothing.
    pub extra: Vec<Property>,
}

/// The parts of a name. Each part may hold several comma-separated values in vCard; we keep
/// them as written, joined by `,`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Name {
    pub family: String,
    pub given: String,
    pub additional: String,
    pub prefixes: String,
    pub suffixes: String,
}

impl Name {
    pub fn is_empty(&self) -> bool {
        self.family.is_empty()
            && self.given.is_empty()
            && self.additional.is_empty()
            && self.prefixes.is_empty()
            && self.suffixes.is_empty()
    }

    /// The name as a person would say it: `张伟` for Chinese (family first, no space), `Wei Zhang`
    /// or `Dr. Jane Q. Doe Jr.` for Latin scripts.
    pub fn display(&self) -> String {
        let cjk = self.family.chars().chain(self.given.chars()).any(is_cjk);
        if cjk {
            return format!("{}{}{}", self.family, self.additional, self.given)
                .trim()
                .to_owned();
        }
        [
            self.prefixes.as_str(),
            self.given.as_str(),
            self.additional.as_str(),
            self.family.as_str(),
            self.suffixes.as_str(),
        ]
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim())
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// A CJK ideograph, kana or hangul syllable: scripts written without spaces between names.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0x20000..=0x2FA1F)
}

/// A telephone number as written on the card. Normalisation to E.164 happens where the
/// region is known (see [`crate::phone::PhoneNumber`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Phone {
    pub value: String,
    /// Lower-case vCard types: `cell`, `work`, `home`, `voice`, `fax`, `pager`, `text`...
    pub kinds: Vec<String>,
    pub pref: bool,
    /// A free label (Apple's `X-ABLabel`), when the source gave one.
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Email {
    pub value: String,
    pub kinds: Vec<String>,
    pub pref: bool,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Address {
    pub po_box: String,
    pub extended: String,
    pub street: String,
    pub locality: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub kinds: Vec<String>,
    pub pref: bool,
    pub label: Option<String>,
}

impl Address {
    /// One line a map or a person can read.
    pub fn display(&self) -> String {
        [
            &self.po_box,
            &self.extended,
            &self.street,
            &self.locality,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }

    pub fn is_empty(&self) -> bool {
        self.display().is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Url {
    pub value: String,
    pub kinds: Vec<String>,
    pub label: Option<String>,
}

/// A social profile or messaging handle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Social {
    /// Lower-case service name: `wechat`, `linkedin`, `qq`, `twitter`, `skype`, `xmpp`...
    pub service: String,
    /// User name, ID or profile URL.
    pub value: String,
    /// Came from (and is written back as) an instant-messaging `IMPP` property.
    pub im: bool,
    pub label: Option<String>,
}

/// An image: bytes carried in the card, or a link to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Media {
    Inline {
        /// `image/jpeg`, `image/png`... when known.
        mime: Option<String>,
        #[serde(with = "base64_bytes")]
        #[cfg_attr(feature = "specta", specta(type = String))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        data: Vec<u8>,
    },
    Uri {
        uri: String,
    },
}

/// A vCard property we do not model, kept as read (after transfer decoding) so it can be written
/// back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Property {
    pub group: Option<String>,
    /// Upper-case property name.
    pub name: String,
    /// Parameters with upper-case names, values as written: `[name, [values]]` pairs.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Object>>))]
    pub params: Vec<(String, Vec<String>)>,
    /// The value in vCard text form (escapes kept), already decoded from quoted-printable and
    /// from its character set.
    pub value: String,
}

impl Card {
    /// The card as a printed code shows it: only the fields its owner chose.
    pub fn printed_view(&self, fields: &[CardField]) -> Card {
        let card = self;
        fn keep<T: Clone>(shown: bool, value: &Option<T>) -> Option<T> {
            value.clone().filter(|_| shown)
        }
        fn list<T: Clone>(shown: bool, items: &[T]) -> Vec<T> {
            if shown { items.to_vec() } else { Vec::new() }
        }
        let has = |f: CardField| fields.contains(&f);
        let (name, org, title) = (
            has(CardField::Name),
            has(CardField::Org),
            has(CardField::Title),
        );
        Card {
            uid: card.uid.clone(),
            revision: card.revision.clone(),
            formatted_name: if name {
                card.formatted_name.clone()
            } else {
                String::new()
            },
            name: keep(name, &card.name),
            phonetic: keep(name, &card.phonetic),
            nicknames: list(name, &card.nicknames),
            org: keep(org, &card.org),
            departments: list(org, &card.departments),
            title: keep(title, &card.title),
            role: keep(title, &card.role),
            phones: list(has(CardField::Phones), &card.phones),
            emails: list(has(CardField::Emails), &card.emails),
            addresses: list(has(CardField::Addresses), &card.addresses),
            urls: list(has(CardField::Urls), &card.urls),
            socials: list(has(CardField::Socials), &card.socials),
            note: keep(has(CardField::Note), &card.note),
            birthday: keep(has(CardField::Birthday), &card.birthday),
            categories: Vec::new(),
            photo: keep(has(CardField::Photo), &card.photo),
            logo: keep(has(CardField::Logo), &card.logo),
            card_images: list(has(CardField::CardImages), &card.card_images),
            extra: Vec::new(),
        }
    }

    /// This card updated by a newer *printed* view of it: every field the printed view shows
    /// replaces ours; every field it hides (or leaves empty) keeps what we held. A printed code
    /// never takes away what a live code gave.
    pub fn overlay_printed(&self, newer: &Card) -> Card {
        fn opt<T: Clone>(ours: &Option<T>, theirs: &Option<T>) -> Option<T> {
            theirs.clone().or_else(|| ours.clone())
        }
        fn list<T: Clone>(ours: &[T], theirs: &[T]) -> Vec<T> {
            if theirs.is_empty() {
                ours.to_vec()
            } else {
                theirs.to_vec()
            }
        }
        let named = !newer.formatted_name.trim().is_empty() || newer.name.is_some();
        Card {
            uid: opt(&self.uid, &newer.uid),
            revision: opt(&self.revision, &newer.revision),
            formatted_name: if named {
                newer.formatted_name.clone()
            } else {
                self.formatted_name.clone()
            },
            name: if named {
                newer.name.clone()
            } else {
                self.name.clone()
            },
            phonetic: if named {
                opt(&self.phonetic, &newer.phonetic)
            } else {
                self.phonetic.clone()
            },
            nicknames: list(&self.nicknames, &newer.nicknames),
            org: opt(&self.org, &newer.org),
            departments: list(&self.departments, &newer.departments),
            title: opt(&self.title, &newer.title),
            role: opt(&self.role, &newer.role),
            phones: list(&self.phones, &newer.phones),
            emails: list(&self.emails, &newer.emails),
            addresses: list(&self.addresses, &newer.addresses),
            urls: list(&self.urls, &newer.urls),
            socials: list(&self.socials, &newer.socials),
            note: opt(&self.note, &newer.note),
            birthday: opt(&self.birthday, &newer.birthday),
            categories: list(&self.categories, &newer.categories),
            photo: opt(&self.photo, &newer.photo),
            logo: opt(&self.logo, &newer.logo),
            card_images: list(&self.card_images, &newer.card_images),
            extra: list(&self.extra, &newer.extra),
        }
    }

    /// This card with whatever `other` has and this card lacks added (entries of lists that
    /// are not already here are appended). Nothing of ours is replaced or removed.
    pub fn with_missing_from(&self, other: &Card) -> Card {
        fn opt<T: Clone>(ours: &Option<T>, theirs: &Option<T>) -> Option<T> {
            ours.clone().or_else(|| theirs.clone())
        }
        /// Entries compare by what they say (`key`), not by how they were written.
        fn list<T: Clone, K: PartialEq>(ours: &[T], theirs: &[T], key: impl Fn(&T) -> K) -> Vec<T> {
            let mut out = ours.to_vec();
            for t in theirs {
                if !out.iter().any(|o| key(o) == key(t)) {
                    out.push(t.clone());
                }
            }
            out
        }
        let digits = |v: &str| -> String { v.chars().filter(char::is_ascii_digit).collect() };
        Card {
            uid: opt(&self.uid, &other.uid),
            revision: opt(&self.revision, &other.revision),
            formatted_name: if self.formatted_name.trim().is_empty() {
                other.formatted_name.clone()
            } else {
                self.formatted_name.clone()
            },
            name: opt(&self.name, &other.name),
            phonetic: opt(&self.phonetic, &other.phonetic),
            nicknames: list(&self.nicknames, &other.nicknames, Clone::clone),
            org: opt(&self.org, &other.org),
            departments: list(&self.departments, &other.departments, Clone::clone),
            title: opt(&self.title, &other.title),
            role: opt(&self.role, &other.role),
            phones: list(&self.phones, &other.phones, |p| digits(&p.value)),
            emails: list(&self.emails, &other.emails, |e| {
                e.value.trim().to_lowercase()
            }),
            addresses: list(&self.addresses, &other.addresses, Address::display),
            urls: list(&self.urls, &other.urls, |u| u.value.trim().to_owned()),
            socials: list(&self.socials, &other.socials, |x| {
                (x.service.clone(), x.value.clone())
            }),
            note: opt(&self.note, &other.note),
            birthday: opt(&self.birthday, &other.birthday),
            categories: list(&self.categories, &other.categories, Clone::clone),
            photo: opt(&self.photo, &other.photo),
            logo: opt(&self.logo, &other.logo),
            card_images: list(&self.card_images, &other.card_images, Clone::clone),
            extra: list(&self.extra, &other.extra, |p| {
                (p.name.clone(), p.value.clone())
            }),
        }
    }

    /// The name to show for this card: `FN`, else a name built from `N`, else the company, else
    /// the first email or phone. Empty only for a card with none of these.
    pub fn display_name(&self) -> String {
        if !self.formatted_name.trim().is_empty() {
            return self.formatted_name.trim().to_owned();
        }
        if let Some(name) = self
            .name
            .as_ref()
            .map(Name::display)
            .filter(|n| !n.is_empty())
        {
            return name;
        }
        if let Some(org) = self.org.as_ref().filter(|o| !o.trim().is_empty()) {
            return org.trim().to_owned();
        }
        if let Some(email) = self.emails.first() {
            return email.value.clone();
        }
        self.phones
            .first()
            .map(|p| p.value.clone())
            .unwrap_or_default()
    }

    /// Whether the card carries anything a person could use to recognise or reach its owner.
    pub fn has_content(&self) -> bool {
        !self.display_name().is_empty()
            || !self.addresses.is_empty()
            || !self.urls.is_empty()
            || !self.socials.is_empty()
            || self.photo.is_some()
            || !self.card_images.is_empty()
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_read_family_first_without_space() {
        let name = Name {
            family: "张".into(),
            given: "伟".into(),
            ..Name::default()
        };
        assert_eq!(
            name.display(),
            "张伟",
            "Chinese names are written family-first, unspaced"
        );
        let name = Name {
            family: "Doe".into(),
            given: "Jane".into(),
            prefixes: "Dr.".into(),
            ..Name::default()
        };
        assert_eq!(name.display(), "Dr. Jane Doe");
    }

    #[test]
    fn display_name_falls_back_through_name_org_email_phone() {
        let mut card = Card::default();
        assert_eq!(card.display_name(), "");
        card.phones.push(Phone {
            value: "+86 138 0013 8000".into(),
            ..Phone::default()
        });
        assert_eq!(card.display_name(), "+86 138 0013 8000");
        card.org = Some("Mingpian Ltd".into());
        assert_eq!(card.display_name(), "Mingpian Ltd");
        card.name = Some(Name {
            family: "李".into(),
            given: "娜".into(),
            ..Name::default()
        });
        assert_eq!(card.display_name(), "李娜");
        card.formatted_name = "Li Na".into();
        assert_eq!(card.display_name(), "Li Na");
    }

    #[test]
    fn media_serialises_bytes_as_base64() {
        let media = Media::Inline {
            mime: Some("image/png".into()),
            data: vec![0, 1, 2, 255],
        };
        let json = serde_json::to_string(&media).expect("media serialises");
        assert_eq!(
            json,
            r#"{"kind":"inline","mime":"image/png","data":"AAEC/w=="}"#
        );
        let back: Media = serde_json::from_str(&json).expect("media deserialises");
        assert_eq!(back, media);
    }
}
