//! The cloud's HTTP API on the wire: the request and response bodies the phone side and the cloud
//! both speak. Only data lives here (serde types, no behaviour), so the wallet and the server share
//! these and the domain without depending on each other.
//!
//! All paths are under `/api/v1`. Authenticated calls carry `Authorization: Bearer {token}`.
//! Errors are [`ApiError`] bodies with a stable `code` that clients branch on.

use serde::{Deserialize, Serialize};

use crate::card::Card;
use crate::qr::{CardSetNo, PublicId};

/// `POST /api/v1/accounts`: a new account and this device's token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegisterRequest {
    /// Display and login name: not a phone number, not an email address.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^[^@\x00-\x1f\x7f-\x9f]*[^@\s0-9+()./\-\x00-\x1f\x7f-\x9f][^@\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub name: String,
    /// A phone number; without a country code it is read in the server's region.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^(\+86 ?)?[0-9]{3}[0-9 \-]{0,20}$")
    )]
    pub phone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = Email, max_length = 254, pattern = r"^[a-zA-Z0-9._%+\-]+@[a-zA-Z0-9\-]+(\.[a-zA-Z0-9\-]+)+$"))]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub password: String,
    /// What the user calls this device ("Li Na's iPhone").
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub device_name: Option<String>,
}

/// `POST /api/v1/sessions`: log in with a name, phone or email.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LoginRequest {
    /// The account's name, phone number or email.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 256,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]+$"
        )
    )]
    pub login: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub password: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub device_name: Option<String>,
}

/// A device's bearer token (shown once) and who it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Session {
    pub token: String,
    pub device_id: i64,
    pub account: Account,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Account {
    pub public_id: PublicId,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// One logged-in device, as `GET /api/v1/devices` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Device {
    pub id: i64,
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The device making the request.
    pub current: bool,
}

/// An app password: opens the account's CardDAV address book, and nothing else, from one
/// address-book app ("CardDAV on iPhone"). Revoking it is logging that app out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AppPassword {
    pub id: i64,
    pub label: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// When an address book last used it.
    pub last_seen_at: i64,
}

/// `POST /api/v1/carddav/passwords`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AppPasswordRequest {
    /// 1 to 64 characters: which app or phone it is for.
    pub label: String,
}

/// A new app password, shown this once: only its hash is kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewAppPassword {
    pub app_password: AppPassword,
    /// The address book's server address, for the account settings of an address-book app.
    pub url: String,
    pub username: String,
    pub password: String,
}

/// `GET /api/v1/carddav`: where the address book is, and the app passwords that open it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardDavAccess {
    pub url: String,
    pub username: String,
    pub passwords: Vec<AppPassword>,
}

/// Fields a printed code may show. A live code shows the whole card.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CardField {
    Name,
    Org,
    Title,
    Phones,
    Emails,
    Addresses,
    Urls,
    Socials,
    Note,
    Birthday,
    Photo,
    Logo,
    CardImages,
    /// A field a newer client or cloud knows and this one does not: shown nowhere.
    #[serde(other)]
    Unknown,
}

impl CardField {
    /// What a printed code shows unless the owner chooses: enough to recognise and reach someone
    /// professionally, not their mobile number or home address.
    pub const PRINTED_DEFAULT: &'static [CardField] = &[
        CardField::Name,
        CardField::Org,
        CardField::Title,
        CardField::Emails,
        CardField::Urls,
        CardField::Photo,
        CardField::Logo,
        CardField::CardImages,
    ];
}

/// `PUT /api/v1/sets/{n}` and `POST /api/v1/sets`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardSetInput {
    #[cfg_attr(feature = "openapi", schema(value_type = input_schema::CardInput))]
    pub card: Card,
    /// `None`: [`CardField::PRINTED_DEFAULT`].
    #[serde(default)]
    pub printed_fields: Option<Vec<CardField>>,
}

/// One of the owner's card sets (claim 3: vCard fields, card images, avatar).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardSet {
    pub set_no: CardSetNo,
    pub card: Card,
    pub printed_fields: Vec<CardField>,
    /// Increases with every edit; holders of the card see the new version on their next sync.
    pub version: i64,
    pub updated_at: i64,
}

/// `GET /api/v1/sets/{n}/code`: what to draw as QR codes for a set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Codes {
    /// Stable until rotated; shows the printed fields.
    pub printed_url: String,
    /// For an in-person exchange: shows the whole card; valid until `live_expires_at`.
    pub live_url: String,
    /// Unix milliseconds.
    pub live_expires_at: i64,
}

/// `POST /api/v1/exchanges`: B scanned A's code and gives one of B's sets in return.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExchangeRequest {
    /// The scanned text (a card URL).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^https?://[a-z0-9]{1,20}(\.[a-z0-9]{1,20}){0,3}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9_\-]{1,20}){0,3}/c/[A-Za-z0-9_\-]{16,64}/[1-9][0-9]{0,2}(\?t=[A-Za-z0-9._\-]{8,256})?$"
        )
    )]
    pub scanned: String,
    /// Which of the scanner's own sets to give.
    #[cfg_attr(feature = "openapi", schema(value_type = u16, minimum = 1, maximum = 999))]
    pub give_set: CardSetNo,
    /// Chosen by the client and reused on retry: a retried exchange never makes two.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9_\-]{8,128}$"))]
    pub idempotency_key: String,
    /// Where the two met, if the scanner shares it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub place: Option<String>,
    /// Take the owner's card and give nothing back: `give_set` is ignored and the owner's inbox
    /// gets nothing.
    #[serde(default)]
    pub save_only: bool,
}

/// `POST /api/v1/codes/preview`: whose card a scanned code leads to, before deciding to exchange.
/// Nothing is recorded and nothing is given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PreviewRequest {
    /// The scanned text (a card URL).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^https?://[a-z0-9]{1,20}(\.[a-z0-9]{1,20}){0,3}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9_\-]{1,20}){0,3}/c/[A-Za-z0-9_\-]{16,64}/[1-9][0-9]{0,2}(\?t=[A-Za-z0-9._\-]{8,256})?$"
        )
    )]
    pub scanned: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CodePreview {
    /// The card as the code shows it: whole for a live code, the printed fields otherwise.
    pub card: Card,
    pub full: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Exchange {
    pub exchange_id: i64,
    /// The code owner's card: whole for a live code, the printed fields for a printed one.
    pub card: Card,
    pub full: bool,
    /// The owner's card set's own id (random, stable across code rotation; never the owner's
    /// account and never a code): what `POST /api/v1/cards/updates` asks about.
    pub owner: PublicId,
    pub owner_set: CardSetNo,
    /// The owner's set version this card is; ask `POST /api/v1/cards/updates` for newer ones.
    pub version: i64,
    pub created_at: i64,
    /// Whether the scanner's card reached the owner: false for save-only, or when the owner's
    /// inbox does not take it.
    #[serde(default)]
    pub delivered: bool,
}

/// A card that arrived for the user: through an exchange, or from the web page's reply form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxItem {
    /// Position in the user's inbox; ask for items after it to catch up.
    pub cursor: i64,
    pub card: Card,
    /// The id of the sender's card set when they have an account (see [`Exchange::owner`]).
    pub from: Option<PublicId>,
    pub exchange_id: Option<i64>,
    /// The sender's set and its version, for cards that came from an account.
    pub from_set: Option<CardSetNo>,
    pub version: Option<i64>,
    pub via: InboxVia,
    pub place: Option<String>,
    pub received_at: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum InboxVia {
    Exchange,
    Web,
    /// A way a newer cloud delivers that this client does not know.
    #[serde(other)]
    Unknown,
}

/// `GET /api/v1/inbox?after={cursor}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Pass as `after` for the next page; equal to the request's `after` when nothing is new.
    pub next_cursor: i64,
}

/// `POST /api/v1/blocks`: stop cards from the account behind a received card.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BlockRequest {
    /// The card's id as it arrived ([`InboxItem::from`]).
    pub card: PublicId,
}

/// A blocked sender.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Block {
    pub id: i64,
    /// The name on their card when blocked.
    pub name: String,
    pub created_at: i64,
}

/// What went wrong, machine-readable and stable: clients branch on it, never on the message.
/// A code this client does not know yet reads as `Unknown`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 401: no token, an unknown token, or a wrong password.
    Unauthorized,
    /// 404.
    NotFound,
    /// 410: the code was rotated by its owner.
    Gone,
    /// 409: a name, phone or email is taken, or a limit on numbers is reached.
    Conflict,
    /// 400/422: the request is malformed or its values are not acceptable.
    Invalid,
    /// 413.
    TooLarge,
    /// 409: a quota on what the account may store is reached.
    Full,
    /// 429.
    RateLimited,
    /// 503: heavy work is queued past its wait.
    Busy,
    /// 500.
    Internal,
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Gone => "gone",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Invalid => "invalid",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Full => "full",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Busy => "busy",
            ErrorCode::Internal => "internal",
            ErrorCode::Unknown => "unknown",
        }
    }
}

/// Every error body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ApiError {
    pub code: ErrorCode,
    /// For people; never branch on it.
    pub message: String,
}

/// One wallet record as the cloud keeps it for sync, backup and restore (claim 7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncRecord {
    /// `contact`, `card`, `note`, `tag`, `exchange`...: the wallet decides.
    pub kind: String,
    /// The wallet's own id for the record (a UUID).
    pub id: String,
    /// Assigned by the cloud; increases with every accepted change; also the pull cursor.
    pub version: i64,
    /// When the device made the change (Unix milliseconds, device clock).
    pub modified_at: i64,
    /// Which device made it.
    pub device: String,
    pub deleted: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// A change a device pushes. `base_version` is the version the device last saw (0: new record).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordChange {
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub base_version: i64,
    pub modified_at: i64,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// `POST /api/v1/sync`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPush {
    pub changes: Vec<RecordChange>,
}

/// For each pushed change, in order: the record as it now stands, and whether the change won.
/// A change made from an outdated version loses to the stored one when the stored one is newer
/// by (modified_at, device); either way every device converges on the same record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPushResult {
    pub results: Vec<SyncOutcome>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncOutcome {
    pub record: SyncRecord,
    pub accepted: bool,
}

/// `GET /api/v1/sync?after={cursor}`: every record changed after the cursor, oldest change first.
/// From 0, it is the whole wallet: a new device restores from it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncPage {
    pub records: Vec<SyncRecord>,
    pub next_cursor: i64,
    /// More records wait after `next_cursor`.
    pub more: bool,
}

/// A card the wallet holds, by its owner's set and the version it has.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HeldCard {
    pub owner: PublicId,
    pub set_no: CardSetNo,
    pub version: i64,
}

/// `POST /api/v1/cards/updates`: which of these cards changed since.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardUpdatesRequest {
    pub held: Vec<HeldCard>,
}

/// A newer version of a held card: whole if the holder ever received it whole, else its printed
/// fields. Cards the caller never received through an exchange are never answered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardUpdate {
    pub owner: PublicId,
    pub set_no: CardSetNo,
    pub version: i64,
    pub card: Card,
    pub full: bool,
}

/// The documented shape of a card sent to the cloud: the same JSON as [`Card`], with the limits
/// the cloud checks (`crate::limits`) written into the schema, so that generated clients and API
/// fuzzers know them. Documentation only: requests are read into [`Card`].
#[cfg(feature = "openapi")]
#[allow(
    dead_code,
    reason = "the types only describe JSON for the OpenAPI document"
)]
pub mod input_schema {
    use utoipa::ToSchema;

    /// A card to store: it needs a name; pictures are JPEG, PNG or WebP, each under 5 MB and
    /// 50 megapixels.
    #[derive(Debug, ToSchema)]
    pub struct CardInput {
        #[schema(min_length = 1, max_length = 128, pattern = r"\S")]
        formatted_name: String,
        #[schema(max_length = 128)]
        uid: Option<String>,
        #[schema(max_length = 64)]
        revision: Option<String>,
        name: Option<NameInput>,
        phonetic: Option<NameInput>,
        #[schema(max_items = 5, inline)]
        nicknames: Vec<Short>,
        #[schema(max_length = 128)]
        org: Option<String>,
        #[schema(max_items = 5, inline)]
        departments: Vec<Short>,
        #[schema(max_length = 128)]
        title: Option<String>,
        #[schema(max_length = 128)]
        role: Option<String>,
        #[schema(max_items = 8)]
        phones: Vec<EntryInput>,
        #[schema(max_items = 8)]
        emails: Vec<EntryInput>,
        #[schema(max_items = 4)]
        addresses: Vec<AddressInput>,
        #[schema(max_items = 8)]
        urls: Vec<UrlInput>,
        #[schema(max_items = 8)]
        socials: Vec<SocialInput>,
        #[schema(max_length = 2000)]
        note: Option<String>,
        #[schema(max_length = 32)]
        birthday: Option<String>,
        #[schema(max_items = 8, inline)]
        categories: Vec<Short>,
        photo: Option<MediaInput>,
        logo: Option<MediaInput>,
        #[schema(max_items = 2)]
        card_images: Vec<MediaInput>,
        #[schema(max_items = 10)]
        extra: Vec<PropertyInput>,
    }

    /// A short text.
    #[derive(Debug, ToSchema)]
    #[schema(value_type = String, pattern = "^.{0,128}$")]
    pub struct Short(String);

    #[derive(Debug, ToSchema)]
    pub struct NameInput {
        #[schema(max_length = 128)]
        family: String,
        #[schema(max_length = 128)]
        given: String,
        #[schema(max_length = 128)]
        additional: String,
        #[schema(max_length = 64)]
        prefixes: String,
        #[schema(max_length = 64)]
        suffixes: String,
    }

    /// A phone number or an email.
    #[derive(Debug, ToSchema)]
    pub struct EntryInput {
        #[schema(min_length = 1, max_length = 128)]
        value: String,
        #[schema(max_items = 4, inline)]
        kinds: Vec<Kind>,
        pref: bool,
        #[schema(max_length = 64)]
        label: Option<String>,
    }

    /// A type such as `cell` or `work`.
    #[derive(Debug, ToSchema)]
    #[schema(value_type = String, pattern = "^[A-Za-z0-9-]{1,32}$")]
    pub struct Kind(String);

    #[derive(Debug, ToSchema)]
    pub struct AddressInput {
        #[schema(max_length = 64)]
        po_box: String,
        #[schema(max_length = 128)]
        extended: String,
        #[schema(max_length = 128)]
        street: String,
        #[schema(max_length = 128)]
        locality: String,
        #[schema(max_length = 128)]
        region: String,
        #[schema(max_length = 32)]
        postal_code: String,
        #[schema(max_length = 64)]
        country: String,
        #[schema(max_items = 4, inline)]
        kinds: Vec<Kind>,
        pref: bool,
        #[schema(max_length = 64)]
        label: Option<String>,
    }

    #[derive(Debug, ToSchema)]
    pub struct UrlInput {
        #[schema(min_length = 1, max_length = 256)]
        value: String,
        #[schema(max_items = 4, inline)]
        kinds: Vec<Kind>,
        #[schema(max_length = 64)]
        label: Option<String>,
    }

    #[derive(Debug, ToSchema)]
    pub struct SocialInput {
        #[schema(max_length = 32)]
        service: String,
        #[schema(min_length = 1, max_length = 128)]
        value: String,
        im: bool,
        #[schema(max_length = 64)]
        label: Option<String>,
    }

    /// A picture, uploaded: the cloud decodes and encodes it again.
    #[derive(Debug, ToSchema)]
    pub struct MediaInput {
        #[schema(pattern = "^inline$")]
        kind: String,
        #[schema(pattern = "^image/(jpeg|png|webp)$")]
        mime: Option<String>,
        /// The picture's bytes in base64: JPEG, PNG or WebP, under 5 MB and 50 megapixels.
        #[schema(format = Byte, content_media_type = "image/*", max_length = 7_000_000)]
        data: String,
    }

    /// A vCard property the card keeps as it was written.
    #[derive(Debug, ToSchema)]
    pub struct PropertyInput {
        #[schema(max_length = 32, pattern = "^[A-Za-z0-9-]*$")]
        group: Option<String>,
        #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9-]+$")]
        name: String,
        /// `[name, [values]]` pairs, e.g. `["TYPE", ["WORK"]]`.
        #[schema(value_type = Vec<Object>, max_items = 0)]
        params: Vec<()>,
        #[schema(max_length = 1024)]
        value: String,
    }
}
