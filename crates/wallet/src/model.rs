//! What the wallet hands to the app and the CLI: plain serialisable values.

use mingpian_card::Card;
use serde::{Deserialize, Serialize};

/// Where a card came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The user scanned someone's Mingpian code.
    Exchange,
    /// Someone scanned the user's code (their card arrived in the inbox).
    Received,
    /// Sent back from the web card page by someone without the app.
    Web,
    /// A scanned QR code that held a whole vCard or MECARD.
    Scan,
    Import,
    /// Typed in, or read from a paper card.
    Manual,
    /// A source a newer app wrote (synced from another device).
    #[serde(other)]
    Unknown,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Exchange => "exchange",
            Source::Received => "received",
            Source::Web => "web",
            Source::Scan => "scan",
            Source::Import => "import",
            Source::Manual => "manual",
            Source::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Source {
        match s {
            "exchange" => Source::Exchange,
            "received" => Source::Received,
            "web" => Source::Web,
            "scan" => Source::Scan,
            "import" => Source::Import,
            "manual" => Source::Manual,
            _ => Source::Unknown,
        }
    }
}

pub use mingpian_card::wallet::{ContactEdit, ShownBy, Trust};

/// How a card from `source` arrives: only a card sent from the web page is unverified.
pub fn trust_of(source: Source) -> Trust {
    if source == Source::Web {
        Trust::Unverified
    } else {
        Trust::Verified
    }
}

/// A contact as the list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Contact {
    pub id: String,
    pub name: String,
    /// `A`–`Z` or `#`: the list's section (pinyin initial for Chinese names).
    pub section: String,
    pub org: Option<String>,
    pub title: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub tags: Vec<String>,
    pub note: String,
    pub card_count: i64,
    pub created_at: i64,
    pub modified_at: i64,
    /// Where the name, numbers and emails come from.
    pub shown_by: ShownBy,
    /// The card they come from (unless the user's own edit gives them all).
    pub shown_card_id: Option<String>,
    /// The card the user chose to show, if any.
    pub primary_card_id: Option<String>,
    /// The user's own edit, if any.
    pub own: Option<ContactEdit>,
    /// Every card of this contact is unverified (it came only from the web page).
    pub unverified: bool,
}

/// A contact with everything it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ContactDetail {
    #[serde(flatten)]
    pub contact: Contact,
    pub cards: Vec<StoredCard>,
    /// When and where the user met them, newest first.
    pub history: Vec<Event>,
}

/// One card in the wallet, at its current version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct StoredCard {
    pub id: String,
    pub contact_id: String,
    pub source: Source,
    /// The giver's public ID and set, for cards from a Mingpian account.
    pub owner: Option<String>,
    pub set_no: Option<u32>,
    pub version: i64,
    /// False when only a printed code's fields were given.
    pub full: bool,
    pub trust: Trust,
    /// Why it is in this contact.
    pub linked_by: LinkedBy,
    pub received_at: i64,
    /// How many versions the wallet keeps of it (the current one included).
    pub versions: i64,
    pub card: Card,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardVersion {
    pub seq: i64,
    pub version: i64,
    pub received_at: i64,
    pub card: Card,
}

/// What a history entry was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The user scanned their code.
    Scanned,
    /// They scanned the user's code (their card arrived in the inbox).
    Received,
    /// They sent their card from the web page.
    WebReply,
    /// The user scanned a code that carried a whole vCard or MECARD.
    ScannedVcard,
    /// A kind a newer app wrote.
    #[serde(other)]
    Unknown,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Scanned => "scanned",
            EventKind::Received => "received",
            EventKind::WebReply => "web_reply",
            EventKind::ScannedVcard => "scanned_vcard",
            EventKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> EventKind {
        match s {
            "scanned" => EventKind::Scanned,
            "received" => EventKind::Received,
            "web_reply" => EventKind::WebReply,
            "scanned_vcard" => EventKind::ScannedVcard,
            _ => EventKind::Unknown,
        }
    }
}

/// Why a card is in its contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LinkedBy {
    /// It started the contact.
    New,
    /// It shares a phone number with a card of the contact (claim 8).
    Phone,
    /// It shares an email with a card of the contact.
    Email,
    /// The user moved it there.
    Manual,
    /// A reason a newer app wrote.
    #[serde(other)]
    Unknown,
}

impl LinkedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkedBy::New => "new",
            LinkedBy::Phone => "phone",
            LinkedBy::Email => "email",
            LinkedBy::Manual => "manual",
            LinkedBy::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> LinkedBy {
        match s {
            "new" => LinkedBy::New,
            "phone" => LinkedBy::Phone,
            "email" => LinkedBy::Email,
            "manual" => LinkedBy::Manual,
            _ => LinkedBy::Unknown,
        }
    }
}

/// A meeting or a delivery in a contact's history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Event {
    pub id: String,
    pub card_id: Option<String>,
    pub kind: EventKind,
    pub code: Option<String>,
    pub place: Option<String>,
    pub at: i64,
}

/// What storing one arriving card did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new contact.
    Added,
    /// A new card in an existing contact holding the same phone number or email.
    Linked,
    /// A newer version of a card already held.
    Updated,
    /// Already held exactly so.
    Unchanged,
}

/// A card that reached the wallet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Received {
    pub outcome: Outcome,
    pub contact_id: String,
    pub contact_name: String,
    pub card_id: String,
    /// Set for [`Outcome::Linked`]: by phone or by email.
    pub linked_by: Option<LinkedBy>,
    pub card: Card,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportReport {
    pub files: usize,
    /// Cards read from the files.
    pub read: usize,
    /// New contacts.
    pub added: usize,
    /// New cards linked into existing contacts by phone or email.
    pub linked: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Cards that could not be imported, each with where and why.
    pub errors: Vec<ImportProblem>,
    /// Read with a guess or a skipped line; the card itself was imported.
    pub warnings: Vec<ImportProblem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportProblem {
    pub file: String,
    /// 1-based card (vCard) or row (CSV) number; 0 for the file as a whole.
    pub item: usize,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ImportProblem {
    /// `file: card 3 (line 41): message`, leaving out a card or line number that is zero.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let problem = mingpian_card::vcard::Problem {
            card: self.item,
            line: self.line,
            message: self.message.clone(),
        };
        write!(f, "{}: {problem}", self.file)
    }
}

/// Progress of a long import or export.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}
