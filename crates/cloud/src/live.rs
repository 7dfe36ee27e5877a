//! Live delivery: waking the streams of a user whose inbox just grew, and ending the streams of
//! a device that was logged out.
//!
//! Each instance keeps one broadcast channel of [`Wake`]s. A stream wakes on its user's id and
//! reads the inbox after its cursor, so a wake-up carries no data and duplicates cost nothing.
//! Behind a load balancer the exchange and the owner's stream may sit on different instances:
//! on PostgreSQL every instance LISTENs on one channel and each delivery is also NOTIFYed, so
//! all instances wake their local streams. SQLite runs as a single instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};

use crate::auth::DeviceCache;
use crate::store::{Backend, Store};

pub(crate) const CHANNEL: &str = "mingpian_inbox";

/// What a stream is woken for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// This user's inbox grew.
    Inbox(i64),
    /// This device was logged out: its streams end.
    DeviceGone(i64),
    /// Wake-ups may have been missed (the listener reconnected): every stream asks whether its
    /// device is still logged in and reads its inbox again. Local only, never sent to others.
    Recheck,
}

impl Wake {
    pub(crate) fn payload(self) -> String {
        match self {
            Wake::Inbox(user) => format!("i:{user}"),
            Wake::DeviceGone(device) => format!("d:{device}"),
            Wake::Recheck => "r".to_owned(),
        }
    }

    fn parse(payload: &str) -> Option<Wake> {
        match payload.split_once(':') {
            Some(("i", id)) => id.parse().ok().map(Wake::Inbox),
            Some(("d", id)) => id.parse().ok().map(Wake::DeviceGone),
            // Instances from before device wake-ups sent the bare user id.
            _ => payload.parse().ok().map(Wake::Inbox),
        }
    }
}

/// A listener on the wake-up channel.
async fn listen(database_url: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect(database_url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[derive(Debug, Clone)]
pub struct Hub {
    local: broadcast::Sender<Wake>,
    store: Arc<Store>,
    /// Devices found by token, forgotten when a device is logged out on any instance.
    tokens: Arc<DeviceCache>,
    /// The live streams open here.
    streams: Arc<Streams>,
}

impl Hub {
    /// Starts the hub; on PostgreSQL also the listener that relays other instances' deliveries.
    pub async fn start(store: Arc<Store>, database_url: &str) -> anyhow::Result<Hub> {
        let (local, _) = broadcast::channel(4096);
        let tokens = Arc::new(DeviceCache::default());
        if store.backend() == Backend::Postgres {
            let mut listener = listen(database_url).await?;
            let relay = local.clone();
            let tokens = tokens.clone();
            let url = database_url.to_owned();
            tokio::spawn(async move {
                loop {
                    match listener.try_recv().await {
                        Ok(Some(note)) => {
                            if let Some(wake) = Wake::parse(note.payload()) {
                                if let Wake::DeviceGone(device) = wake {
                                    tokens.forget_device(device);
                                }
                                let _ = relay.send(wake);
                            }
                        }
                        // The connection was lost and (PgListener reconnects eagerly) is back,
                        // listening again. Logouts on other instances may have been missed in
                        // between: forget every device (a lookup begun before this is not kept,
                        // see `DeviceCache`).
                        Ok(None) => {
                            tracing::warn!("inbox listener reconnected");
                            tokens.clear();
                            let _ = relay.send(Wake::Recheck);
                        }
                        // It could not reconnect: listen afresh, then forget every device.
                        Err(e) => {
                            tracing::warn!(error = %e, "inbox listener");
                            listener = loop {
                                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                                match listen(&url).await {
                                    Ok(fresh) => break fresh,
                                    Err(e) => tracing::warn!(error = %e, "inbox listener"),
                                }
                            };
                            tokens.clear();
                            let _ = relay.send(Wake::Recheck);
                        }
                    }
                }
            });
        }
        Ok(Hub {
            local,
            store,
            tokens,
            streams: Arc::default(),
        })
    }

    /// Wakes every stream of `user_id`, on this instance and (PostgreSQL) on all others.
    pub async fn delivered(&self, user_id: i64) {
        self.send(Wake::Inbox(user_id)).await;
    }

    /// Wakes `user_id`'s streams on this instance only: the store already notified the others
    /// (on PostgreSQL, inside the transaction that delivered the card).
    pub fn delivered_here(&self, user_id: i64) {
        let _ = self.local.send(Wake::Inbox(user_id));
    }

    /// Forgets a logged-out device's token and ends its streams on this instance. The other
    /// instances were told by the statement that deleted it ([`Store::delete_device`]).
    pub fn device_gone(&self, device_id: i64) {
        self.tokens.forget_device(device_id);
        let _ = self.local.send(Wake::DeviceGone(device_id));
    }

    /// Devices recently found by token ([`DeviceCache`]).
    pub fn tokens(&self) -> &DeviceCache {
        &self.tokens
    }

    async fn send(&self, wake: Wake) {
        let _ = self.local.send(wake);
        if self.store.backend() == Backend::Postgres
            && let Err(e) = self.store.notify(CHANNEL, &wake.payload()).await
        {
            tracing::warn!(error = %e, "live notify");
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.local.subscribe()
    }

    /// Counts a new live stream of `device` (of `user`) and returns its place. Beyond
    /// [`STREAMS_PER_DEVICE`] of the device or [`STREAMS_PER_ACCOUNT`] of the account on this
    /// instance, the oldest is told to end: so a phone that reconnects before its old connection
    /// is noticed dead gets its stream, and one account cannot hold more of the instance's
    /// streams (each of which reads the inbox on every wake-up) than that. A stream told to end
    /// notices when it is next polled; one whose client stopped reading is not, so it still
    /// counts until it is gone, and with [`STREAMS_PER_ACCOUNT`] more such an account gets
    /// `None` (too many requests).
    pub fn open_stream(&self, user: i64, device: i64) -> Option<StreamPlace> {
        self.streams.open(user, device)
    }
}

/// Live streams one device keeps open on one instance at most (its current one, and one
/// reconnecting before the old connection is noticed dead).
pub const STREAMS_PER_DEVICE: usize = 2;
/// Live streams one account keeps open on one instance at most, across its devices.
pub const STREAMS_PER_ACCOUNT: usize = 8;
/// Live streams one instance opens beside those already open, across accounts. Each holds a
/// connection, a task and, while its client is slow to read, a page of the inbox (at most
/// 256 KiB past its first item; a client that stops reading is cut within a minute, see
/// `serve`). Accounts are cheap to make: this bounds what all of them together hold.
///
/// A full instance still lets a device that holds a live stream replace it (a phone reconnecting
/// before its old connection is noticed dead), so filling it does not lock out phones already
/// listening; an account does so once at a time (none of its streams told to end may still be
/// open). Each account then holds at most one stream past its share, so the instance at most
/// twice this: 10,000 streams, 2.5 GiB of pages if every client stalled at once. A device with
/// no stream gets 429 until a place is free.
pub const STREAMS_PER_INSTANCE: usize = 5_000;

/// The live streams open on this instance, oldest first per account.
#[derive(Debug, Default)]
struct Streams {
    open: Mutex<OpenStreams>,
}

#[derive(Debug, Default)]
struct OpenStreams {
    next: u64,
    by_user: HashMap<i64, Vec<OpenStream>>,
    /// Streams open, across accounts (ended ones until they are gone).
    total: usize,
}

#[derive(Debug)]
struct OpenStream {
    id: u64,
    device: i64,
    /// Set to true to end the stream.
    end: watch::Sender<bool>,
}

impl OpenStream {
    fn ended(&self) -> bool {
        *self.end.borrow()
    }
}

impl Streams {
    fn open(self: &Arc<Self>, user: i64, device: i64) -> Option<StreamPlace> {
        self.open_within(user, device, STREAMS_PER_INSTANCE)
    }

    /// [`Streams::open`] with at most `instance` streams open on the instance.
    fn open_within(
        self: &Arc<Self>,
        user: i64,
        device: i64,
        instance: usize,
    ) -> Option<StreamPlace> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let full = open.total >= instance;
        let id = open.next;
        open.next += 1;
        let streams = open.by_user.entry(user).or_default();
        // Told to end but not gone: a client that stopped reading.
        if streams.len() >= 2 * STREAMS_PER_ACCOUNT {
            return None;
        }
        let live_of = |streams: &[OpenStream], device: Option<i64>| {
            streams
                .iter()
                .filter(|s| !s.ended() && device.is_none_or(|d| s.device == d))
                .count()
        };
        if full {
            let waiting = streams.iter().any(OpenStream::ended);
            match streams.iter().find(|s| !s.ended() && s.device == device) {
                Some(oldest) if !waiting => {
                    let _ = oldest.end.send(true);
                }
                _ => {
                    if streams.is_empty() {
                        open.by_user.remove(&user);
                    }
                    return None;
                }
            }
        }
        if live_of(streams, Some(device)) >= STREAMS_PER_DEVICE
            && let Some(oldest) = streams.iter().find(|s| !s.ended() && s.device == device)
        {
            let _ = oldest.end.send(true);
        }
        if live_of(streams, None) >= STREAMS_PER_ACCOUNT
            && let Some(oldest) = streams.iter().find(|s| !s.ended())
        {
            let _ = oldest.end.send(true);
        }
        let (end, ended) = watch::channel(false);
        streams.push(OpenStream { id, device, end });
        open.total += 1;
        Some(StreamPlace {
            streams: self.clone(),
            user,
            id,
            ended,
        })
    }
}

/// A live stream's place among those open ([`Hub::open_stream`]), given back when dropped.
#[derive(Debug)]
pub struct StreamPlace {
    streams: Arc<Streams>,
    user: i64,
    id: u64,
    ended: watch::Receiver<bool>,
}

impl StreamPlace {
    /// Whether a newer stream of the same device or account took this one's place.
    pub fn is_ended(&self) -> bool {
        *self.ended.borrow()
    }

    /// Waits until a newer stream takes this one's place.
    pub async fn ended(&mut self) {
        // An error: the place was given up without a word, which also means "end".
        let _ = self.ended.wait_for(|ended| *ended).await;
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut gone = 0;
        if let Some(streams) = open.by_user.get_mut(&self.user) {
            let before = streams.len();
            streams.retain(|s| s.id != self.id);
            gone = before - streams.len();
            if streams.is_empty() {
                open.by_user.remove(&self.user);
            }
        }
        open.total -= gone;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the instance's bound only a device that holds a live stream opens one, in its
    /// place and once at a time per account; a stream gone gives its place back.
    #[test]
    fn the_instance_bound_holds_across_accounts() {
        let streams = Arc::new(Streams::default());
        // Accounts 0 to 5, one device and one stream each: six, the bound.
        let mut held: Vec<StreamPlace> = (0..6)
            .map(|user| {
                streams
                    .open_within(user, user, 6)
                    .expect("within the bound")
            })
            .collect();
        assert!(
            streams.open_within(99, 99, 6).is_none(),
            "a seventh account"
        );
        assert!(
            !streams.open.lock().unwrap().by_user.contains_key(&99),
            "a refused account leaves nothing behind"
        );
        assert!(
            streams.open_within(0, 7, 6).is_none(),
            "account 0's other device"
        );
        // Device 0 reconnecting takes its stream's place, the instance full.
        let again = streams.open_within(0, 0, 6).expect("device 0 again");
        assert!(held[0].is_ended() && !again.is_ended());
        // Again, while the stream told to end is still open: refused.
        assert!(streams.open_within(0, 0, 6).is_none(), "one at a time");
        // Once it is gone, device 0 may reconnect again.
        held.remove(0);
        let third = streams.open_within(0, 0, 6).expect("device 0 a third time");
        assert!(again.is_ended() && !third.is_ended());
        drop((again, third));
        held.pop();
        let place = streams
            .open_within(99, 99, 6)
            .expect("a place was given back");
        assert!(!place.is_ended());
        drop(held);
        drop(place);
        let open = streams.open.lock().unwrap();
        assert_eq!((open.total, open.by_user.len()), (0, 0));
    }
}
