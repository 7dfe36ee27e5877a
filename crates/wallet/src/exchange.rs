//! The cloud side of the wallet: account, card sets and codes, the exchange (claim 1: B scans A's
//! code; B gets A's card and A gets B's at the same moment), the outbox that completes offline
//! scans exactly once, and the inbox (catch-up and live).

use std::time::Duration;

use futures_util::StreamExt;
use mingpian_card::api::{
    CardField, CardSet, CardSetInput, Codes, Exchange, ExchangeRequest, InboxItem, InboxVia,
    LoginRequest, RegisterRequest, Session,
};
use mingpian_card::qr::{Scanned, classify};
use mingpian_card::{Card, CardLink, CardSetNo};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use crate::contacts::{self, Arrival};
use crate::error::{Result, WalletError};
use crate::model::{Received, Source};
use crate::util::{new_id, now_ms};
use crate::{SessionInfo, Wallet, db};

/// What a scan did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
pub struct Preview {
    /// The card as the code shows it.
    pub card: Card,
    /// The whole card (a live code, or a card carried in the code itself) or a printed view.
    pub full: bool,
    /// The cloud the code belongs to (`mingpian.example.cn`); `None` for a card carried in the
    /// code itself, which needs no cloud.
    pub host: Option<String>,
}

/// A scan waiting for the network.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
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

fn store_session(c: &Connection, server: &str, session: &Session) -> Result<()> {
    let previous = db::meta_get(c, "account")?;
    let same_account = previous
        .as_deref()
        .and_then(|a| serde_json::from_str::<mingpian_card::api::Account>(a).ok())
        .is_some_and(|a| a.public_id == session.account.public_id);
    if !same_account {
        // Another account on this device: its cursors do not apply.
        for key in ["inbox_cursor", "sync_cursor"] {
            db::meta_delete(c, key)?;
        }
        c.execute("DELETE FROM my_sets", [])?;
    }
    db::meta_set(c, "server", server.trim_end_matches('/'))?;
    db::meta_set(c, "token", &session.token)?;
    db::meta_set(c, "device_id", &session.device_id.to_string())?;
    db::meta_set(c, "account", &serde_json::to_string(&session.account)?)?;
    Ok(())
}

impl Wallet {
    /// Creates an account on `server` and logs this device in. The cloud gives every new account
    /// set 1 (claim 5).
    pub async fn register(&self, server: &str, req: RegisterRequest) -> Result<SessionInfo> {
        let session = crate::Cloud::new(server, None)?.register(&req).await?;
        self.write(|c, _| store_session(c, server, &session))?;
        self.refresh_sets().await?;
        self.session()?.ok_or(WalletError::NotLoggedIn)
    }

    /// Logs this device in to an existing account.
    pub async fn login(&self, server: &str, req: LoginRequest) -> Result<SessionInfo> {
        let session = crate::Cloud::new(server, None)?.login(&req).await?;
        self.write(|c, _| store_session(c, server, &session))?;
        self.refresh_sets().await?;
        self.session()?.ok_or(WalletError::NotLoggedIn)
    }

    /// Forgets this device's session (the wallet's cards stay).
    pub async fn logout(&self) -> Result<()> {
        if let (Ok(cloud), Some(session)) = (self.cloud(), self.session()?) {
            // Best effort: if the cloud is unreachable the token is forgotten here anyway.
            let _ = cloud.log_out_device(session.device_id).await;
        }
        self.write(|c, _| {
            for key in ["token", "device_id"] {
                db::meta_delete(c, key)?;
            }
            Ok(())
        })
    }

    pub async fn devices(&self) -> Result<Vec<mingpian_card::api::Device>> {
        self.cloud()?.devices().await
    }

    /// Fetches the user's card sets from the cloud.
    pub async fn refresh_sets(&self) -> Result<Vec<crate::MySet>> {
        let sets = self.cloud()?.sets().await?;
        self.store_sets(&sets, true)?;
        self.my_sets()
    }

    /// Publishes a card set: the first card a new user adds fills set 1, which registration
    /// made from their name alone and which their code shares; after that, the next free number.
    pub async fn publish_set(
        &self,
        card: Card,
        printed_fields: Option<Vec<CardField>>,
    ) -> Result<CardSet> {
        let sets = self.refresh_sets().await?;
        if let [only] = sets.as_slice()
            && only.set_no == 1
            && only.version == 1
        {
            return self.edit_set(1, card, printed_fields).await;
        }
        let set = self
            .cloud()?
            .create_set(&CardSetInput {
                card,
                printed_fields,
            })
            .await?;
        self.store_sets(std::slice::from_ref(&set), false)?;
        Ok(set)
    }

    /// Replaces set `n`; everyone holding it sees the new version on their next sync.
    pub async fn edit_set(
        &self,
        n: u32,
        card: Card,
        printed_fields: Option<Vec<CardField>>,
    ) -> Result<CardSet> {
        let set = self
            .cloud()?
            .replace_set(
                set_no(n)?,
                &CardSetInput {
                    card,
                    printed_fields,
                },
            )
            .await?;
        self.store_sets(std::slice::from_ref(&set), false)?;
        Ok(set)
    }

    /// What to draw for set `n`: the printed URL and a fresh live URL.
    pub async fn codes(&self, n: u32) -> Result<Codes> {
        self.cloud()?.codes(set_no(n)?).await
    }

    /// Issues set `n` a new public code; printed codes of the old one stop working.
    pub async fn rotate(&self, n: u32) -> Result<Codes> {
        self.cloud()?.rotate(set_no(n)?).await
    }

    /// Whose card a scanned code leads to, without exchanging anything: for a Mingpian code the
    /// cloud answers (the owner receives nothing); a vCard or MECARD code is read here.
    pub async fn preview(&self, text: &str) -> Result<Preview> {
        match classify(text.trim()).map_err(|e| WalletError::Invalid(e.to_string()))? {
            Scanned::Card(card) => Ok(Preview {
                card: *card,
                full: true,
                host: None,
            }),
            Scanned::Link(link) => {
                let host = url::Url::parse(&link.base)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned));
                let preview = self.cloud()?.preview(text.trim()).await?;
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
                        contacts::receive(c, Arrival::local(*card, Source::Scan), region)?;
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

    /// Brings every card waiting in the cloud inbox into the wallet.
    pub async fn pull_inbox(&self) -> Result<Vec<Received>> {
        let cloud = self.cloud()?;
        let mut out = Vec::new();
        loop {
            let after = self.inbox_cursor()?;
            let page = cloud.inbox(after).await?;
            if page.items.is_empty() {
                break;
            }
            for item in page.items {
                if let Some(r) = self.store_inbox_item(&item)? {
                    out.push(r);
                }
            }
            if page.next_cursor <= after {
                break;
            }
        }
        Ok(out)
    }

    fn inbox_cursor(&self) -> Result<i64> {
        self.read(|c| {
            Ok(db::meta_get(c, "inbox_cursor")?
                .and_then(|s| s.parse().ok())
                .unwrap_or(0))
        })
    }

    /// Stores one inbox item (once: an item already stored is skipped) and advances the cursor.
    fn store_inbox_item(&self, item: &InboxItem) -> Result<Option<Received>> {
        self.write(|c, region| {
            let origin = format!("inbox:{}", item.cursor);
            let stored = if contacts::has_origin(c, &origin)? {
                None
            } else {
                let (source, kind) = match item.via {
                    InboxVia::Exchange => (Source::Received, "received"),
                    InboxVia::Web => (Source::Web, "web_reply"),
                };
                let received = contacts::receive(
                    c,
                    Arrival {
                        card: item.card.clone(),
                        source,
                        owner: item.from.as_ref().map(|p| p.as_str().to_owned()),
                        set_no: item.from_set.map(|n| n.get()),
                        version: item.version.unwrap_or(0),
                        full: true,
                        origin: Some(origin.clone()),
                        received_at: item.received_at,
                    },
                    region,
                )?;
                contacts::add_event(
                    c,
                    &received.contact_id,
                    Some(&received.card_id),
                    kind,
                    None,
                    item.place.as_deref(),
                    item.received_at,
                    Some(&origin),
                )?;
                // The display rule counts meetings: count this one.
                contacts::refresh_contact(c, &received.contact_id, region)?;
                Some(received)
            };
            let cursor: i64 = db::meta_get(c, "inbox_cursor")?
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if item.cursor > cursor {
                db::meta_set(c, "inbox_cursor", &item.cursor.to_string())?;
            }
            Ok(stored)
        })
    }

    /// Keeps the live inbox open, storing each card as it arrives and handing it to `on_card`
    /// (the QR screen shows "张伟 sent you their card"). Returns when the connection ends; call
    /// again to reconnect (it resumes from the last stored card).
    pub async fn listen(&self, mut on_card: impl FnMut(&Received)) -> Result<()> {
        let cloud = self.cloud()?;
        let mut stream = Box::pin(cloud.inbox_stream(self.inbox_cursor()?).await?);
        while let Some(item) = stream.next().await {
            if let Some(received) = self.store_inbox_item(&item?)? {
                on_card(&received);
            }
        }
        Ok(())
    }

    /// Catches up on the inbox, and if nothing was waiting, listens until the first card arrives
    /// or `wait` passes.
    pub async fn wait_for_cards(&self, wait: Duration) -> Result<Vec<Received>> {
        let caught_up = self.pull_inbox().await?;
        if !caught_up.is_empty() || wait.is_zero() {
            return Ok(caught_up);
        }
        let deadline = tokio::time::Instant::now() + wait;
        let mut got = Vec::new();
        while got.is_empty() && tokio::time::Instant::now() < deadline {
            let cloud = self.cloud()?;
            let stream = cloud.inbox_stream(self.inbox_cursor()?).await?;
            let mut stream = Box::pin(stream);
            let next = tokio::time::timeout_at(deadline, stream.next()).await;
            match next {
                Err(_) => break,
                Ok(None) => continue,
                Ok(Some(item)) => {
                    if let Some(r) = self.store_inbox_item(&item?)? {
                        got.push(r);
                    }
                }
            }
        }
        Ok(got)
    }
}

fn set_no(n: u32) -> Result<CardSetNo> {
    CardSetNo::new(n).map_err(|e| WalletError::Invalid(e.to_string()))
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
    let received = contacts::receive(
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
    contacts::refresh_contact(c, &received.contact_id, region)?;
    c.execute("DELETE FROM outbox WHERE key = ?1", [&pending.key])?;
    Ok(received)
}

/// A code ready to draw: its URL and an SVG of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CodeView {
    pub url: String,
    pub svg: String,
    pub printed: bool,
    /// When a live code stops working (Unix milliseconds); `None` for a printed code.
    pub expires_at: Option<i64>,
}

impl Wallet {
    /// Set `n`'s printed or live code, drawn.
    pub async fn code_view(&self, n: u32, printed: bool) -> Result<CodeView> {
        let codes = self.codes(n).await?;
        let (url, expires_at) = if printed {
            (codes.printed_url, None)
        } else {
            (codes.live_url, Some(codes.live_expires_at))
        };
        let svg = mingpian_card::qr::image::encode_svg(&url)
            .map_err(|e| WalletError::Invalid(e.to_string()))?;
        Ok(CodeView {
            url,
            svg,
            printed,
            expires_at,
        })
    }

    /// Scans a picture of a code (a photo, a screenshot, a picked image).
    pub async fn scan_image(
        &self,
        image: &[u8],
        give_set: Option<u32>,
        place: Option<String>,
    ) -> Result<ScanResult> {
        let texts = mingpian_card::qr::image::decode(image)
            .map_err(|e| WalletError::Invalid(format!("not a picture we can read: {e}")))?;
        // A picture may hold several codes: the first that is a card wins.
        let text = texts
            .iter()
            .find(|t| classify(t).is_ok())
            .or(texts.first())
            .ok_or_else(|| WalletError::Invalid("no QR code in the picture".into()))?;
        self.scan(text, give_set, place).await
    }

    /// Keeps the live inbox open for as long as the returned future runs: reconnects after a
    /// dropped connection (waiting 1 s, doubling to 30 s), stops when the device is logged out.
    pub async fn keep_listening(&self, mut on_card: impl FnMut(&Received)) -> Result<()> {
        let mut wait = Duration::from_secs(1);
        loop {
            let started = tokio::time::Instant::now();
            match self.listen(&mut on_card).await {
                Ok(()) => {}
                Err(WalletError::NotLoggedIn) => return Err(WalletError::NotLoggedIn),
                Err(e @ WalletError::Cloud { status: 401, .. }) => return Err(e),
                Err(e) => tracing::debug!("live inbox: {e}"),
            }
            if started.elapsed() > Duration::from_secs(60) {
                wait = Duration::from_secs(1);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
            // Scans that waited for the network go out as soon as it is back.
            let _ = self.flush_outbox().await;
        }
    }
}

/// The first card of a vCard file, for filling the card editor.
pub fn read_first_card(bytes: &[u8]) -> Result<Card> {
    let report = mingpian_card::vcard::read(bytes);
    report.cards.into_iter().next().ok_or_else(|| {
        WalletError::Invalid(
            report
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no card in the file".into()),
        )
    })
}
