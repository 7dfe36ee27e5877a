//! The wallet's one error type. Every variant has a stable [`WalletError::code`] that the app's UI
//! and the CLI's JSON branch on; the message is for people.

use serde::Serialize;

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
        code: String,
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
    /// Stable, machine-readable: `offline`, `not_logged_in`, `invalid`, `not_found`, `database`,
    /// `io`, `corrupt`, or the cloud's own code (`unauthorized`, `gone`, `conflict`,
    /// `rate_limited`...).
    pub fn code(&self) -> &str {
        match self {
            WalletError::Db(_) => "database",
            WalletError::Io(_) => "io",
            WalletError::Offline(_) => "offline",
            WalletError::Cloud { code, .. } => code,
            WalletError::NotLoggedIn => "not_logged_in",
            WalletError::Invalid(_) => "invalid",
            WalletError::NotFound(_) => "not_found",
            WalletError::Corrupt(_) => "corrupt",
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
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }
}

impl From<serde_json::Error> for WalletError {
    fn from(e: serde_json::Error) -> Self {
        WalletError::Corrupt(e.to_string())
    }
}

/// An error as the UI and `--json` output see it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

pub type Result<T, E = WalletError> = std::result::Result<T, E>;
