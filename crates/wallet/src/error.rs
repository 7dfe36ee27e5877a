//! The wallet's one error type. Every variant has a stable [`WalletError::code`] that the app's UI
//! and the CLI's JSON branch on; the message is for people.

use mingpian_card::api;
use serde::{Deserialize, Serialize};

/// What went wrong, for the app and `--json` output: the wallet's own codes and the cloud's.
/// The UI's error texts are keyed by this (a code without a text fails its type check).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The cloud could not be reached.
    Offline,
    NotLoggedIn,
    Invalid,
    NotFound,
    /// The local database failed.
    Database,
    /// A file could not be read or written.
    Io,
    /// Stored data is damaged.
    Corrupt,
    /// The on-device OCR models are missing.
    NoModels,
    // The cloud's codes (see `mingpian_card::api::ErrorCode`).
    Unauthorized,
    Gone,
    Conflict,
    TooLarge,
    Full,
    RateLimited,
    Busy,
    Internal,
    /// A code this app does not know yet.
    #[serde(other)]
    Unknown,
}

impl From<api::ErrorCode> for ErrorCode {
    fn from(code: api::ErrorCode) -> Self {
        match code {
            api::ErrorCode::Unauthorized => ErrorCode::Unauthorized,
            api::ErrorCode::NotFound => ErrorCode::NotFound,
            api::ErrorCode::Gone => ErrorCode::Gone,
            api::ErrorCode::Conflict => ErrorCode::Conflict,
            api::ErrorCode::Invalid => ErrorCode::Invalid,
            api::ErrorCode::TooLarge => ErrorCode::TooLarge,
            api::ErrorCode::Full => ErrorCode::Full,
            api::ErrorCode::RateLimited => ErrorCode::RateLimited,
            api::ErrorCode::Busy => ErrorCode::Busy,
            api::ErrorCode::Internal => ErrorCode::Internal,
            api::ErrorCode::Unknown => ErrorCode::Unknown,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The local database failed (disk full, file damaged).
    #[error("wallet database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The cloud could not be reached; what needs it waits (scans in the outbox) or can be retried.
    #[error("the cloud is unreachable: {0}")]
    Offline(String),
    /// The cloud answered with an error.
    #[error("{message}")]
    Cloud {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    #[error("not logged in: register or log in first")]
    NotLoggedIn,
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

impl WalletError {
    /// Stable, machine-readable.
    pub fn code(&self) -> ErrorCode {
        match self {
            WalletError::Db(_) => ErrorCode::Database,
            WalletError::Io(_) => ErrorCode::Io,
            WalletError::Offline(_) => ErrorCode::Offline,
            WalletError::Cloud { code, .. } => *code,
            WalletError::NotLoggedIn => ErrorCode::NotLoggedIn,
            WalletError::Invalid(_) => ErrorCode::Invalid,
            WalletError::NotFound(_) => ErrorCode::NotFound,
            WalletError::Corrupt(_) => ErrorCode::Corrupt,
        }
    }

    /// Whether trying again later may succeed without the user changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            WalletError::Offline(_) => true,
            WalletError::Cloud { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// `{code, message}`, as the app's UI receives errors.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl From<serde_json::Error> for WalletError {
    fn from(e: serde_json::Error) -> Self {
        WalletError::Corrupt(e.to_string())
    }
}

/// An error as the UI and `--json` output see it: the app's one error type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// For people; the UI shows its own text for the code and this only as detail.
    pub message: String,
}

pub type Result<T, E = WalletError> = std::result::Result<T, E>;
