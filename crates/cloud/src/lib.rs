//! The Mingpian cloud: stores accounts and card sets, issues each set its QR codes, carries out
//! the two-way exchange (patent step S03), delivers incoming cards live, and serves a web card to
//! people without the app.

pub mod auth;
pub mod client_ip;
pub mod config;
pub mod dav;
pub mod error;
pub mod heavy;
pub mod images;
pub mod live;
pub mod routes;
pub mod secrets;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use mingpian_card::Region;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::live::Hub;
use crate::secrets::LiveKey;
use crate::store::Store;

/// Everything a request handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub hub: Hub,
    pub live_key: LiveKey,
    pub config: Arc<Config>,
    pub region: Region,
    /// Base of every code and link, without a trailing slash.
    pub public_url: String,
    pub limiter: Arc<routes::limit::Limiter>,
    /// Password hashing and image decoding, off the async workers.
    pub heavy: heavy::Heavy,
}

impl AppState {
    /// Connects to the database, migrates it and prepares live delivery.
    pub async fn new(config: Config, local_addr: SocketAddr) -> anyhow::Result<AppState> {
        if config.database_url.is_none() {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating the data directory {}", config.data_dir.display())
            })?;
        }
        let url = config.database_url();
        let store = Arc::new(
            Store::connect(&url, config.database_connections)
                .await
                .context("opening the database")?,
        );
        let hub = Hub::start(store.clone(), &url)
            .await
            .context("starting live delivery")?;
        let secret = store
            .server_key("live_code", || {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(secrets::random_bytes::<32>())
            })
            .await?;
        let region = Region::parse(&config.default_region)?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let proxies = client_ip::TrustedProxies::parse(&config.trusted_proxies)?;
        let limiter = Arc::new(match &config.redis_url {
            Some(url) => {
                routes::limit::Limiter::with_redis(config.rate_limit.clone(), proxies, url)
                    .await
                    .context("connecting to Redis for rate limits")?
            }
            None => routes::limit::Limiter::new(config.rate_limit.clone(), proxies),
        });
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(AppState {
            store,
            hub,
            live_key: LiveKey::new(secret.as_bytes()),
            config: Arc::new(config),
            region,
            public_url,
            limiter,
            heavy: heavy::Heavy::new(cores, IMAGE_MEGAPIXELS),
        })
    }

    /// Whether a live code's token is valid for this code now.
    pub fn live_token_ok(&self, token: &str, code_id: &str, set_no: u32) -> bool {
        self.live_key.verify(
            token,
            code_id,
            set_no,
            store::now_ms(),
            self.config.live_code_seconds as i64 * 1000,
        )
    }

    /// The inbox caps from the configuration.
    pub fn inbox_caps(&self) -> store::InboxCaps {
        let q = &self.config.quotas;
        store::InboxCaps {
            max_items: q.inbox_items,
            max_bytes: q.inbox_bytes,
            max_web_items: q.inbox_web_items,
        }
    }
}

/// Megapixels of pictures decoded at once, across all uploads (about 4 bytes each in memory).
const IMAGE_MEGAPIXELS: u32 = 64;

/// Sets up an accepted connection.
fn tune(stream: &tokio::net::TcpStream) {
    // No Nagle: a streamed answer (a live inbox event, a CardDAV multistatus page) goes out as
    // it is written, instead of waiting on the client's delayed ACK (40 ms on Linux).
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY not set");
    }
    // A connection whose data has gone unacknowledged (or unread: a zero window) for a minute
    // is dropped by the kernel. A live stream's client that stopped reading, or a phone gone
    // from the network, otherwise kept its connection, its task and a page of its inbox until
    // the kernel's retries ran out (15 minutes), or for as long as it advertised a zero window.
    // Behind a load balancer this is its connection; its own client timeout does this for
    // phones (`scripts/cluster/haproxy.cfg`: `timeout client`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_user_timeout(Some(UNACKED)) {
        tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
    }
}

/// How long a connection's sent data may go unacknowledged before it is dropped.
#[cfg(any(target_os = "linux", target_os = "android"))]
const UNACKED: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves on an already bound listener until `shutdown` resolves, then finishes the requests in
/// flight. Tests bind port 0 and pass the listener in.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = state.store.clone();
    let app = routes::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| tune(stream));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    /// An accepted connection sends at once and is dropped after a minute of unacknowledged
    /// data.
    #[tokio::test]
    async fn accepted_connections_are_tuned() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        super::tune(&accepted);
        assert!(accepted.nodelay().unwrap());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(
            socket2::SockRef::from(&accepted)
                .tcp_user_timeout()
                .unwrap(),
            Some(super::UNACKED)
        );
    }
}
