//! The exchange (claim 1): B scans A's code; B gets A's card and A gets B's at the same moment.
//! Before that, whose card it is (a preview); a scan may also take the card and give nothing
//! ("save only"). Offline, a scan waits in the outbox, keyed by the exchange's idempotency key, and
//! completes exactly once when the network is back.

use mingpian_card::api::{Exchange, ExchangeRequest};
use mingpian_card::qr::{Scanned, classify};
use mingpian_card::{Card, CardLink};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::Wallet;
use crate::contacts;
use crate::display;
use crate::error::{Result, WalletError};
use crate::linking::{self, Arrival};
use crate::model::{Received, Source};
use crate::sets::set_no;
use crate::util::{new_id, now_ms};

/// What a scan did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ScanResult {
    /// The card is in the wallet (and, for a Mingpian code, the user's card is in the owner's).
    Saved {
        #[serde(flatten)]
        received: Box<Received>,
        /// The cloud's exchange, for Mingpian codes; `None` for a vCard or MECARD code.
        exchange_id: Option<i64>,
        /// False when the code was a printed one and only its public fields came.
        full: bool,
    },
    /// The cloud could not be reached: the scan waits in the outbox and completes by itself.
    Pending(Pending),
}

/// Whose card a scanned code leads to, before the user decides to exchange or only save it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Preview {
    /// The card as the code shows it.
    pub card: Card,
    /// The whole card (a live code, or a card carried in the code itself) or a printed view.
    pub full: bool,
    /// The cloud that answered (the user's own: `mingpian.example.cn`); `None` for a card
    /// carried in the code itself, which needs no cloud.
    pub host: Option<String>,
}

/// A scan waiting for the network.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Pending {
    pub key: String,
    pub scanned: String,
    /// The user's set given back; `None`: save only.
    pub give_set: Option<u32>,
    pub place: Option<String>,
    pub created_at: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl Wallet {
    /// Whose card a scanned code leads to, without exchanging anything: for a Mingpian code the
    /// cloud answers (the owner receives nothing); a vCard or MECARD code is read here.
    pub async fn preview(&self, text: &str) -> Result<Preview> {
        match classify(text.trim()).map_err(|e| WalletError::Invalid(e.to_string()))? {
            Scanned::Card(card) => Ok(Preview {
                card: *card,
                full: true,
                host: None,
            }),
            Scanned::Link(_) => {
                // The user's own cloud answers whatever host the link names, so that is the
                // host shown: a link dressed up with a trusted-looking host shows nothing
                // borrowed from it.
                let cloud = self.cloud()?;
                let host = url::Url::parse(cloud.base())
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned));
                let preview = cloud.preview(text.trim()).await?;
                Ok(Preview {
                    card: preview.card,
                    full: preview.full,
                    host,
                })
            }
        }
    }

    /// Handles scanned text. A Mingpian code becomes an exchange: the user's set `give_set`
    /// goes to the code's owner, or nothing with `None` ("save only"); a plain vCard or MECARD
    /// code is saved with no cloud at all. Offline, the exchange waits in the outbox
    /// ([`ScanResult::Pending`]).
    pub async fn scan(
        &self,
        text: &str,
        give_set: Option<u32>,
        place: Option<String>,
    ) -> Result<ScanResult> {
        let scanned = classify(text.trim()).map_err(|e| WalletError::Invalid(e.to_string()))?;
        match scanned {
            Scanned::Card(card) => {
                let received = self.write(|c, region| {
                    let received =
                        linking::receive(c, Arrival::local(*card, Source::Scan), region)?;
                    contacts::add_event(
                        c,
                        &received.contact_id,
                        Some(&received.card_id),
                        "scanned_vcard",
                        None,
                        place.as_deref(),
                        now_ms(),
                        None,
                    )?;
                    Ok(received)
                })?;
                Ok(ScanResult::Saved {
                    received: Box::new(received),
                    exchange_id: None,
                    full: true,
                })
            }
            Scanned::Link(_) => {
                if let Some(n) = give_set {
                    set_no(n)?;
                }
                self.cloud()?; // logged in, or say so before queueing
                let key = new_id();
                let pending = Pending {
                    key: key.clone(),
                    scanned: text.trim().to_owned(),
                    give_set,
                    place,
                    created_at: now_ms(),
                    attempts: 0,
                    last_error: None,
                };
                self.write(|c, _| {
                    c.execute(
                        "INSERT INTO outbox (key, scanned, give_set, save_only, place, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            pending.key,
                            pending.scanned,
                            pending.give_set.unwrap_or(0),
                            pending.give_set.is_none(),
                            pending.place,
                            pending.created_at
                        ],
                    )?;
                    Ok(())
                })?;
                self.complete(pending).await
            }
        }
    }

    /// Scans waiting for the network, oldest first.
    pub fn outbox(&self) -> Result<Vec<Pending>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT key, scanned, give_set, save_only, place, created_at, attempts, last_error
                 FROM outbox ORDER BY created_at, key",
            )?;
            let rows = stmt.query_map([], |r| {
                let save_only: bool = r.get(3)?;
                Ok(Pending {
                    key: r.get(0)?,
                    scanned: r.get(1)?,
                    give_set: (!save_only).then(|| r.get(2)).transpose()?,
                    place: r.get(4)?,
                    created_at: r.get(5)?,
                    attempts: r.get(6)?,
                    last_error: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Tries every waiting scan again. A scan the cloud refuses for good (a rotated code) leaves
    /// the outbox with its error; one that still cannot reach the cloud stays.
    pub async fn flush_outbox(&self) -> Result<Vec<Result<ScanResult>>> {
        let mut out = Vec::new();
        for pending in self.outbox()? {
            out.push(self.complete(pending).await);
        }
        Ok(out)
    }

    async fn complete(&self, pending: Pending) -> Result<ScanResult> {
        let cloud = self.cloud()?;
        let req = ExchangeRequest {
            scanned: pending.scanned.clone(),
            give_set: set_no(pending.give_set.unwrap_or(1))?,
            idempotency_key: pending.key.clone(),
            place: pending.place.clone(),
            save_only: pending.give_set.is_none(),
        };
        match cloud.exchange(&req).await {
            Ok(exchange) => {
                let received =
                    self.write(|c, region| store_exchange(c, &pending, &exchange, region))?;
                Ok(ScanResult::Saved {
                    received: Box::new(received),
                    exchange_id: Some(exchange.exchange_id),
                    full: exchange.full,
                })
            }
            Err(e) if e.is_transient() => {
                let message = e.to_string();
                self.write(|c, _| {
                    c.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE key = ?1",
                        params![pending.key, message],
                    )?;
                    Ok(())
                })?;
                Ok(ScanResult::Pending(Pending {
                    attempts: pending.attempts + 1,
                    last_error: Some(message),
                    ..pending
                }))
            }
            Err(e) => {
                self.write(|c, _| {
                    c.execute("DELETE FROM outbox WHERE key = ?1", [&pending.key])?;
                    Ok(())
                })?;
                Err(e)
            }
        }
    }
}

/// The code as history keeps it: the card URL without its live token.
fn code_for_history(scanned: &str) -> String {
    match CardLink::parse(scanned) {
        Ok(Some(link)) => CardLink::printed(&link.base, link.public_id, link.set_no).url(),
        _ => scanned.to_owned(),
    }
}

/// Stores a completed exchange and clears it from the outbox, in one transaction: a crash
/// before the commit leaves the scan in the outbox, and its retry gets the same exchange back
/// from the cloud (same idempotency key), which this stores once.
fn store_exchange(
    c: &Connection,
    pending: &Pending,
    exchange: &Exchange,
    region: mingpian_card::Region,
) -> Result<Received> {
    let origin = format!("exchange:{}", exchange.exchange_id);
    let received = linking::receive(
        c,
        Arrival {
            card: exchange.card.clone(),
            source: Source::Exchange,
            owner: Some(exchange.owner.as_str().to_owned()),
            set_no: Some(exchange.owner_set.get()),
            version: exchange.version,
            full: exchange.full,
            origin: Some(origin.clone()),
            received_at: exchange.created_at,
        },
        region,
    )?;
    contacts::add_event(
        c,
        &received.contact_id,
        Some(&received.card_id),
        "scanned",
        Some(&code_for_history(&pending.scanned)),
        pending.place.as_deref(),
        exchange.created_at,
        Some(&origin),
    )?;
    // The display rule counts meetings: count this one.
    display::refresh_contact(c, &received.contact_id, region)?;
    c.execute("DELETE FROM outbox WHERE key = ?1", [&pending.key])?;
    Ok(received)
}

impl Wallet {
    /// Scans a picture of a code (a photo, a screenshot, a picked image).
    pub async fn scan_image(
        &self,
        image: &[u8],
        give_set: Option<u32>,
        place: Option<String>,
    ) -> Result<ScanResult> {
        self.scan(&code_in_image(image)?, give_set, place).await
    }
}

/// The text of the code in a picture (a photo, a screenshot, a picked image). A picture may hold
/// several codes: the first that is a card wins, else the first.
pub fn code_in_image(image: &[u8]) -> Result<String> {
    let texts = mingpian_card::qr::image::decode(image)
        .map_err(|e| WalletError::Invalid(format!("not a picture we can read: {e}")))?;
    texts
        .iter()
        .find(|t| classify(t).is_ok())
        .or(texts.first())
        .cloned()
        .ok_or_else(|| WalletError::Invalid("no QR code in the picture".into()))
}
