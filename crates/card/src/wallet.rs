//! The wallet as it leaves the phone: the sync record layouts, the user's own edit of a contact,
//! how far a card is trusted, and the one rule that decides what a contact shows. The phone's
//! wallet and the cloud (which publishes the wallet as an address book over CardDAV) both use
//! them, so the two can never show one contact differently.

use serde::{Deserialize, Serialize};

use crate::Card;

/// How far an arriving card is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// From an account (an exchange), a file the user imported, or typed in by the user.
    #[default]
    Verified,
    /// Sent from the web page by someone without an account: anyone could have typed it. It
    /// never decides what its contact shows until the user accepts it. (A trust level a newer app
    /// wrote reads as unverified.)
    #[serde(other)]
    Unverified,
}

impl Trust {
    pub fn as_str(self) -> &'static str {
        match self {
            Trust::Verified => "verified",
            Trust::Unverified => "unverified",
        }
    }

    pub fn parse(s: &str) -> Trust {
        if s == "unverified" {
            Trust::Unverified
        } else {
            Trust::Verified
        }
    }
}

/// Where the name, numbers and emails a contact shows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ShownBy {
    /// The user's own edit of the contact.
    Own,
    /// The card the user chose as primary.
    Primary,
    /// The rule: the newest full, verified card of the set met most often.
    #[default]
    #[serde(other)]
    Rule,
}

impl ShownBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ShownBy::Own => "own",
            ShownBy::Primary => "primary",
            ShownBy::Rule => "rule",
        }
    }

    pub fn parse(s: &str) -> ShownBy {
        match s {
            "own" => ShownBy::Own,
            "primary" => ShownBy::Primary,
            _ => ShownBy::Rule,
        }
    }
}

/// The user's own edit of a contact (in the app, or in the phone's address book): each field
/// given here is shown instead of the cards' and is never overwritten by an arriving card. The
/// cards themselves stay as their owners gave them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct ContactEdit {
    pub name: Option<String>,
    pub org: Option<String>,
    pub title: Option<String>,
    pub phones: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
}

impl ContactEdit {
    pub fn is_empty(&self) -> bool {
        *self == ContactEdit::default()
    }

    /// Trimmed, with blank texts and blank entries dropped. An empty list stays: "show no
    /// number" is an edit too.
    pub fn cleaned(&self) -> ContactEdit {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let list = |v: &Option<Vec<String>>| {
            v.as_ref().map(|items| {
                items
                    .iter()
                    .map(|i| i.trim().to_owned())
                    .filter(|i| !i.is_empty())
                    .collect()
            })
        };
        ContactEdit {
            name: text(&self.name),
            org: text(&self.org),
            title: text(&self.title),
            phones: list(&self.phones),
            emails: list(&self.emails),
        }
    }

    /// The edit as a card, for search.
    pub fn as_card(&self) -> Card {
        Card {
            formatted_name: self.name.clone().unwrap_or_default(),
            org: self.org.clone(),
            title: self.title.clone(),
            phones: self
                .phones
                .iter()
                .flatten()
                .map(|v| crate::Phone {
                    value: v.clone(),
                    ..Default::default()
                })
                .collect(),
            emails: self
                .emails
                .iter()
                .flatten()
                .map(|v| crate::Email {
                    value: v.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Card::default()
        }
    }
}

/// One live card of a contact, as the display rule weighs it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub card: Card,
    pub full: bool,
    pub verified: bool,
    /// Meetings and deliveries of this card: how much its set is used.
    pub uses: i64,
    /// When the wallet first held it (its first version).
    pub received_at: i64,
}

/// What a contact shows, by [`shown`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub name: String,
    pub org: Option<String>,
    pub title: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    /// The card the contact shows (the primary card, or the rule's), by index.
    pub card: Option<usize>,
    pub by: ShownBy,
    /// The cards whose content may be shown, by index: the shown card first, then the other
    /// verified cards (all cards when none is verified).
    pub pool: Vec<usize>,
}

/// The card a contact shows when the user has not chosen one: among its verified cards (all of
/// them when none is verified), the full card of the set met most often; on a tie the one held
/// longest, so a newly arrived card never takes over by arriving.
fn rule_card(cards: &[Candidate]) -> Option<usize> {
    let any_verified = cards.iter().any(|c| c.verified);
    let key = |c: &Candidate| {
        (
            c.full,
            c.uses,
            std::cmp::Reverse(c.received_at),
            std::cmp::Reverse(c.id.clone()),
        )
    };
    (0..cards.len())
        .filter(|&i| cards[i].verified || !any_verified)
        .max_by(|&a, &b| key(&cards[a]).cmp(&key(&cards[b])))
}

fn push_unique(list: &mut Vec<String>, values: impl IntoIterator<Item = String>) {
    for v in values {
        if !v.trim().is_empty() && !list.contains(&v) {
            list.push(v);
        }
    }
}

/// What a contact shows, by one rule the user can see and change ([`ShownBy`]): the user's own
/// edit first, then the card they chose as primary, then the newest full card of the set met
/// most often. Arrival order plays no part, and an unverified card never decides what a contact
/// shows while a verified one is there.
pub fn shown(cards: &[Candidate], own: &ContactEdit, primary: Option<&str>) -> Shown {
    let primary = primary.and_then(|id| cards.iter().position(|c| c.id == id));
    let card = primary.or_else(|| rule_card(cards));
    let by = if own.name.is_some() {
        ShownBy::Own
    } else if primary.is_some() {
        ShownBy::Primary
    } else {
        ShownBy::Rule
    };
    let any_verified = cards.iter().any(|c| c.verified);
    let mut pool: Vec<usize> = card.into_iter().collect();
    pool.extend(
        (0..cards.len()).filter(|&i| (cards[i].verified || !any_verified) && Some(i) != card),
    );
    let name = own
        .name
        .clone()
        .or_else(|| card.map(|i| cards[i].card.display_name()))
        .unwrap_or_default();
    let org = own
        .org
        .clone()
        .or_else(|| pool.iter().find_map(|&i| cards[i].card.org.clone()));
    let title = own
        .title
        .clone()
        .or_else(|| pool.iter().find_map(|&i| cards[i].card.title.clone()));
    let mut phones = Vec::new();
    let mut emails = Vec::new();
    push_unique(&mut phones, own.phones.iter().flatten().cloned());
    push_unique(&mut emails, own.emails.iter().flatten().cloned());
    for &i in &pool {
        if own.phones.is_none() {
            push_unique(
                &mut phones,
                cards[i].card.phones.iter().map(|p| p.value.clone()),
            );
        }
        if own.emails.is_none() {
            push_unique(
                &mut emails,
                cards[i].card.emails.iter().map(|e| e.value.clone()),
            );
        }
    }
    Shown {
        name,
        org,
        title,
        phones,
        emails,
        card,
        by,
        pool,
    }
}

/// The four record kinds as they travel, one layout each, read and written by serde. Fields
/// added later carry `#[serde(default)]`, so records written by older apps still read.
pub mod records {
    use serde::{Deserialize, Serialize};

    use super::{ContactEdit, Trust};

    /// A contact: what the user keeps about the person (the rest is derived from its cards).
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    pub struct Contact {
        #[serde(default)]
        pub note: String,
        #[serde(default)]
        pub tags: Vec<String>,
        #[serde(default)]
        pub created_at: i64,
        #[serde(default)]
        pub deleted_at: Option<i64>,
        #[serde(default)]
        pub primary_card_id: Option<String>,
        #[serde(default)]
        pub own: Option<ContactEdit>,
    }

    /// A card: which contact holds it, where it came from, how far it is trusted.
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    pub struct Card {
        #[serde(default)]
        pub contact_id: String,
        #[serde(default = "manual")]
        pub source: String,
        #[serde(default)]
        pub owner: Option<String>,
        #[serde(default)]
        pub set_no: Option<u32>,
        #[serde(default)]
        pub uid: Option<String>,
        #[serde(default = "yes")]
        pub full: bool,
        #[serde(default)]
        pub version: i64,
        #[serde(default = "new_link")]
        pub linked_by: String,
        #[serde(default)]
        pub received_at: i64,
        /// Absent in records from before trust levels: then web cards are unverified.
        #[serde(default)]
        pub trust: Option<Trust>,
    }

    impl Card {
        /// How far the card is trusted, for records from before trust levels too.
        pub fn trust(&self) -> Trust {
            self.trust.unwrap_or(if self.source == "web" {
                Trust::Unverified
            } else {
                Trust::Verified
            })
        }
    }

    /// One version of a card; never changes once made.
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    pub struct CardVersion {
        #[serde(default)]
        pub card_id: String,
        #[serde(default = "one")]
        pub seq: i64,
        #[serde(default)]
        pub version: i64,
        #[serde(default)]
        pub card: crate::Card,
        #[serde(default)]
        pub origin: Option<String>,
        #[serde(default)]
        pub received_at: i64,
    }

    /// A meeting or a delivery.
    #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
    pub struct Event {
        #[serde(default)]
        pub contact_id: String,
        #[serde(default)]
        pub card_id: Option<String>,
        #[serde(default = "received")]
        pub kind: String,
        #[serde(default)]
        pub code: Option<String>,
        #[serde(default)]
        pub place: Option<String>,
        #[serde(default)]
        pub at: i64,
        #[serde(default)]
        pub origin: Option<String>,
    }

    fn manual() -> String {
        "manual".into()
    }
    fn yes() -> bool {
        true
    }
    fn new_link() -> String {
        "new".into()
    }
    fn one() -> i64 {
        1
    }
    fn received() -> String {
        "received".into()
    }
}
