//! Live delivery: waking the streams of a user whose inbox just grew, and ending the streams of
//! a device that was logged out.
//!
//! Each instance keeps one broadcast channel of [`Wake`]s. A stream wakes on its user's id and
//! reads the inbox after its cursor, so a wake-up carries no data and duplicates cost nothing.
//! Behind a load balancer the exchange and the owner's stream may sit on different instances:
//! on PostgreSQL every instance LISTENs on one channel and each delivery is also NOTIFYed, so
//! all instances wake their local streams. SQLite runs as a single instance.

use std::sync::Arc;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

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
}
