//! The inbox: cards that arrived for the user (someone scanned the user's code, or sent a card
//! from the web page), caught up by cursor and kept open live, each stored once.

use std::time::Duration;

use futures_util::StreamExt;
use mingpian_card::api::{InboxItem, InboxVia};

use crate::error::{Result, WalletError};
use crate::linking::{self, Arrival};
use crate::model::{Received, Source};
use crate::{Wallet, contacts, db, display};

impl Wallet {
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
                    // A way a newer cloud delivers is trusted no more than the web page.
                    InboxVia::Web | InboxVia::Unknown => (Source::Web, "web_reply"),
                };
                let received = linking::receive(
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
                display::refresh_contact(c, &received.contact_id, region)?;
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
                // The server ended the stream (a newer one of this device took its place, or
                // it is stopping): not at once again.
                Ok(None) => {
                    tokio::time::sleep(
                        Duration::from_secs(1)
                            .min(deadline.saturating_duration_since(tokio::time::Instant::now())),
                    )
                    .await;
                    continue;
                }
                Ok(Some(item)) => {
                    if let Some(r) = self.store_inbox_item(&item?)? {
                        got.push(r);
                    }
                }
            }
        }
        Ok(got)
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

    /// The live inbox for as long as the app runs: open whenever a user is logged in (it waits
    /// for a log-in, and for the next after a log-out), handing each card to `on_card` as it
    /// arrives. Never returns.
    pub async fn run_live_inbox(&self, mut on_card: impl FnMut(&Received)) {
        loop {
            if let Err(e) = self.keep_listening(&mut on_card).await {
                tracing::debug!("live inbox waits for a log-in: {e}");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}
