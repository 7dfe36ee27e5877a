//! Live delivery: waking the streams of a user whose inbox just grew.
//!
//! Each instance keeps one broadcast channel of user ids. A stream wakes on its user's id and
//! reads the inbox after its cursor, so a wake-up carries no data and duplicates cost nothing.
//! Behind a load balancer the exchange and the owner's stream may sit on different instances:
//! on PostgreSQL every instance LISTENs on one channel and each delivery is also NOTIFYed, so
//! all instances wake their local streams. SQLite runs as a single instance.

use std::sync::Arc;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::store::{Backend, Store};

const CHANNEL: &str = "mingpian_inbox";

#[derive(Debug, Clone)]
pub struct Hub {
    local: broadcast::Sender<i64>,
    store: Arc<Store>,
}

impl Hub {
    /// Starts the hub; on PostgreSQL also the listener that relays other instances' deliveries.
    pub async fn start(store: Arc<Store>, database_url: &str) -> anyhow::Result<Hub> {
        let (local, _) = broadcast::channel(4096);
        if store.backend() == Backend::Postgres {
            let mut listener = PgListener::connect(database_url).await?;
            listener.listen(CHANNEL).await?;
            let relay = local.clone();
            tokio::spawn(async move {
                loop {
                    match listener.recv().await {
                        Ok(note) => {
                            if let Ok(user_id) = note.payload().parse::<i64>() {
                                let _ = relay.send(user_id);
                            }
                        }
                        // PgListener reconnects by itself on the next recv; avoid a hot loop.
                        Err(e) => {
                            tracing::warn!(error = %e, "inbox listener");
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
        Ok(Hub { local, store })
    }

    /// Wakes every stream of `user_id`, on this instance and (PostgreSQL) on all others.
    pub async fn delivered(&self, user_id: i64) {
        let _ = self.local.send(user_id);
        if self.store.backend() == Backend::Postgres {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(user_id.to_string())
                .execute(self.store.pool())
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "inbox notify");
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.local.subscribe()
    }
}
