//! JSON the store keeps for a typed value (a card, a list of printed fields).

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{StoreError, StoreResult};

/// The JSON text of a `T`, as a column holds it. Typed, so a card's text cannot go where a field
/// list's belongs, and parsed only where someone reads it: the exchange copies a card's text from
/// the scanner's set into the owner's inbox as it is, never parsing it on the hot path.
pub struct Stored<T> {
    text: String,
    kind: PhantomData<fn() -> T>,
}

impl<T: Serialize> Stored<T> {
    pub fn new(value: &T) -> serde_json::Result<Self> {
        Ok(Stored::from_column(serde_json::to_string(value)?))
    }
}

impl<T: DeserializeOwned> Stored<T> {
    /// The value. Text that does not parse is corrupt data (the store only writes what
    /// [`Stored::new`] made).
    pub fn get(&self) -> StoreResult<T> {
        serde_json::from_str(&self.text).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

impl<T> Stored<T> {
    /// Text read from the column this type is stored in.
    pub(super) fn from_column(text: String) -> Self {
        Stored {
            text,
            kind: PhantomData,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Bytes of JSON (what quotas count).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl<T> Clone for Stored<T> {
    fn clone(&self) -> Self {
        Stored::from_column(self.text.clone())
    }
}

impl<T> PartialEq for Stored<T> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl<T> Eq for Stored<T> {}

impl<T> fmt::Debug for Stored<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stored({} bytes)", self.text.len())
    }
}
