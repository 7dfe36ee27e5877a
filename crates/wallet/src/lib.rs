//! Mingpian's phone side: everything the app does except drawing it.
//!
//! - a local SQLite **wallet** of contacts and the cards they gave, linked by phone number then
//!   email (claim 8), every version kept, with notes, tags, history and instant search;
//! - **import/export** of vCard 2.1/3.0/4.0 and CSV in batches (claim 9);
//! - the **cloud client**: account, card sets and codes, exchange by scanned text (with an outbox
//!   that completes offline scans exactly once), the live inbox, sync, backup and restore (claim 7).
//!
//! [`Wallet`] is the one entry point; it is `Send + Sync`, so the app keeps one behind an `Arc`.
//! Local operations are synchronous and quick; anything that talks to the cloud is `async` and
//! never holds the database across a network wait.

mod account;
pub mod client;
mod contacts;
pub mod csv_layout;
mod db;
mod display;
pub mod error;
mod exchange;
mod export;
mod import;
mod inbox;
pub mod keys;
mod linking;
pub mod model;
mod search;
mod sets;
mod stored;
mod sync;
mod util;

/// The phone side's clock, in Unix milliseconds (the domain crate reads no clock; the cloud
/// has its own).
pub use util::now_ms;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use mingpian_card::{Card, Region};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

pub use account::SessionInfo;
pub use client::Cloud;
pub use error::{ErrorBody, ErrorCode, Result, WalletError};
pub use exchange::{Pending, Preview, ScanResult, code_in_image};
pub use export::{ExportFormat, Exported};
pub use import::read_card_file;
pub use model::*;
pub use sets::{CodeView, MySet, read_first_card};
pub use sync::SyncReport;

use search::SearchIndex;

/// The wallet file inside the data directory.
pub const DB_FILE: &str = "wallet.sqlite3";

/// One user's wallet on one device.
#[derive(Debug)]
pub struct Wallet {
    dir: PathBuf,
    conn: Mutex<Connection>,
    /// Built on the first search, then caught up from `search_log` on each search.
    index: Mutex<Option<Arc<SearchIndex>>>,
}

/// Search results: the first matches in list order, and how many match in all.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SearchResult {
    pub contacts: Vec<Contact>,
    pub total: usize,
}

impl Wallet {
    /// Opens (creating if needed) the wallet in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Wallet> {
        let dir = dir.as_ref().to_path_buf();
        let created = !dir.exists();
        std::fs::create_dir_all(&dir)?;
        let conn = db::open(&dir.join(DB_FILE))?;
        db::restrict_to_owner(&dir, created)?;
        Ok(Wallet {
            dir,
            conn: Mutex::new(conn),
            index: Mutex::new(None),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back on drop), so a poisoned lock is safe to take over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn())
    }

    /// Writes, in one transaction. Contacts it changes reach the search index through
    /// `search_log` on the next search.
    fn write<T>(&self, f: impl FnOnce(&Connection, Region) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let region = region_of(&conn)?;
        let tx = conn.transaction()?;
        let out = f(&tx, region)?;
        search::prune_log(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// The region numbers without a country code belong to (default `CN`).
    pub fn region(&self) -> Result<Region> {
        self.read(region_of)
    }

    pub fn set_region(&self, code: &str) -> Result<()> {
        let region = Region::parse(code).map_err(|e| WalletError::Invalid(e.to_string()))?;
        self.write(|c, _| {
            db::meta_set(c, "region", &region.code())?;
            // Every contact's phone digits and link keys depend on the region.
            let ids: Vec<String> = c
                .prepare("SELECT id FROM contacts")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in ids {
                display::refresh_contact(c, &id, region)?;
            }
            Ok(())
        })
    }

    // ----- contacts -------------------------------------------------------------------------

    /// Every contact, in list order.
    pub fn contacts(&self) -> Result<Vec<Contact>> {
        self.read(contacts::list)
    }

    pub fn contact(&self, id: &str) -> Result<ContactDetail> {
        self.read(|c| contacts::detail(c, id))
    }

    /// Every contact with its cards (for `--json wallet list` and export).
    pub fn contacts_with_cards(&self) -> Result<Vec<ContactDetail>> {
        self.read(|c| {
            contacts::list(c)?
                .into_iter()
                .map(|contact| {
                    Ok(ContactDetail {
                        cards: contacts::cards_of(c, &contact.id)?,
                        history: contacts::history(c, &contact.id)?,
                        contact,
                    })
                })
                .collect()
        })
    }

    pub fn card(&self, card_id: &str) -> Result<StoredCard> {
        self.read(|c| contacts::card(c, card_id))
    }

    /// Every version of a card, newest first.
    pub fn card_versions(&self, card_id: &str) -> Result<Vec<CardVersion>> {
        self.read(|c| contacts::versions(c, card_id))
    }

    /// Substring search over names (Chinese, pinyin, initials), company, title, phone digits,
    /// email and tags.
    pub fn search(&self, query: &str, limit: usize) -> Result<SearchResult> {
        let index = self.search_index()?;
        let (ids, total) = index.search(query, limit);
        let contacts = self.read(|c| ids.iter().map(|id| contacts::get(c, id)).collect())?;
        Ok(SearchResult { contacts, total })
    }

    /// The search index, caught up with every change logged since it was built (in this
    /// process or another with the same wallet open).
    fn search_index(&self) -> Result<Arc<SearchIndex>> {
        let mut slot = self.index.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_mut() {
            Some(index) => {
                if self.read(|c| index.is_behind(c))? {
                    // Copies only when a search still holds the old one.
                    let index = Arc::make_mut(index);
                    self.read(|c| index.catch_up(c))?;
                }
            }
            None => *slot = Some(Arc::new(self.read(SearchIndex::build)?)),
        }
        Ok(slot.clone().unwrap_or_default())
    }

    /// Adds a card typed in or read from a paper card; linked by phone or email like any other.
    pub fn add_card(&self, card: Card) -> Result<Received> {
        if !card.has_content() {
            return Err(WalletError::Invalid("the card is empty".into()));
        }
        self.write(|c, region| {
            linking::receive(c, linking::Arrival::local(card, Source::Manual), region)
        })
    }

    /// Saves an edit of a card the user holds, as a new version.
    pub fn edit_card(&self, card_id: &str, card: Card) -> Result<Received> {
        self.write(|c, region| {
            let held = contacts::card(c, card_id)?;
            let mut arrival = linking::Arrival::local(card, held.source);
            arrival.owner = held.owner.clone();
            arrival.set_no = held.set_no;
            arrival.version = held.version;
            arrival.full = held.full;
            contacts::edit(c, card_id, arrival, region)
        })
    }

    pub fn set_note(&self, contact_id: &str, note: &str) -> Result<()> {
        self.write(|c, _| contacts::set_note(c, contact_id, note))
    }

    pub fn set_tags(&self, contact_id: &str, tags: &[String]) -> Result<()> {
        self.write(|c, region| contacts::set_tags(c, contact_id, tags, region))
    }

    /// Every tag in use and how many contacts carry it.
    pub fn tags(&self) -> Result<Vec<(String, i64)>> {
        self.read(contacts::tags)
    }

    /// Accepts an unverified card (sent from the web page): from now on it may decide what its
    /// contact shows, like any other card.
    pub fn accept_card(&self, card_id: &str) -> Result<()> {
        self.write(|c, region| contacts::accept(c, card_id, region))
    }

    /// Chooses the card a contact shows (`None`: back to the rule).
    pub fn set_primary_card(&self, contact_id: &str, card_id: Option<&str>) -> Result<()> {
        self.write(|c, region| contacts::set_primary(c, contact_id, card_id, region))
    }

    /// The user's own edit of a contact, shown over its cards (an empty edit removes it).
    pub fn edit_contact(&self, contact_id: &str, edit: &ContactEdit) -> Result<()> {
        self.write(|c, region| contacts::edit_contact(c, contact_id, edit, region))
    }

    /// Moves a contact to the bin; [`Wallet::undelete_contact`] undoes it.
    pub fn delete_contact(&self, id: &str) -> Result<()> {
        self.write(|c, _| contacts::delete(c, id))
    }

    pub fn undelete_contact(&self, id: &str) -> Result<()> {
        self.write(|c, _| contacts::undelete(c, id))
    }

    /// Undoes a link: the card gets a contact of its own. Returns that contact's id.
    pub fn unlink_card(&self, card_id: &str) -> Result<String> {
        self.write(|c, region| contacts::unlink(c, card_id, region))
    }

    /// Moves a card into another contact by hand.
    pub fn link_card(&self, card_id: &str, contact_id: &str) -> Result<()> {
        self.write(|c, region| contacts::link(c, card_id, contact_id, region))
    }

    // ----- session and my sets ---------------------------------------------------------------
}

fn region_of(conn: &Connection) -> Result<Region> {
    let code = db::meta_get(conn, "region")?.unwrap_or_else(|| "CN".to_owned());
    Region::parse(&code).map_err(|e| WalletError::Corrupt(e.to_string()))
}

/// An image file as card media: the type read from its first bytes (JPEG, PNG, WebP, GIF).
pub fn media_from_bytes(bytes: Vec<u8>) -> Result<mingpian_card::Media> {
    let mime = match bytes.as_slice() {
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "image/webp",
        [b'G', b'I', b'F', b'8', ..] => "image/gif",
        _ => {
            return Err(WalletError::Invalid(
                "not a JPEG, PNG, WebP or GIF image".into(),
            ));
        }
    };
    Ok(mingpian_card::Media::Inline {
        mime: Some(mime.to_owned()),
        data: bytes,
    })
}
