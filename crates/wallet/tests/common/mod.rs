//! A real cloud on port 0 (SQLite in a temp dir), a TCP proxy in front of it that can play
//! "unreachable" or "answer lost", and wallets in temp dirs.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use mingpian_card::api::RegisterRequest;
use mingpian_cloud::config::{Config, RateLimits};
use mingpian_cloud::{AppState, serve};
use mingpian_wallet::Wallet;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

pub struct TestCloud {
    pub addr: SocketAddr,
    pub base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub dir: tempfile::TempDir,
}

impl TestCloud {
    pub async fn spawn() -> TestCloud {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("addr");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            rate_limit: RateLimits::OFF,
            ..Config::default()
        };
        let state = AppState::new(config, addr).await.expect("cloud starts");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("cloud runs");
        });
        TestCloud {
            addr,
            base: format!("http://{addr}"),
            shutdown: Some(tx),
            task: Some(task),
            dir,
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Forwards both ways.
    Pass = 0,
    /// Closes every connection at once: the cloud is unreachable.
    Down = 1,
    /// Forwards the request but drops the answer: the cloud did the work, the phone never heard.
    LoseAnswers = 2,
}

/// A TCP proxy on port 0 in front of the cloud.
pub struct Proxy {
    pub base: String,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    pub async fn spawn(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let mode = Arc::new(AtomicU8::new(Mode::Pass as u8));
        let m = mode.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = m.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    if mode == Mode::Down as u8 {
                        drop(client);
                        return;
                    }
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if mode == Mode::Pass as u8 {
                        let (mut c, mut s) = (client, server);
                        let _ = tokio::io::copy_bidirectional(&mut c, &mut s).await;
                        return;
                    }
                    // LoseAnswers: pass the request on, read the answer, then hang up on the
                    // phone without a byte.
                    let (mut client_read, _client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let forward = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                    });
                    let mut buf = vec![0u8; 64 * 1024];
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        server_read.read(&mut buf),
                    )
                    .await;
                    forward.abort();
                });
            }
        });
        Proxy {
            base: format!("http://{addr}"),
            mode,
        }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

/// A wallet in its own temp dir (kept alive by the returned guard).
pub fn wallet() -> (Wallet, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (Wallet::open(dir.path()).expect("open wallet"), dir)
}

pub fn register_request(name: &str, phone: &str) -> RegisterRequest {
    RegisterRequest {
        name: name.to_owned(),
        phone: Some(phone.to_owned()),
        email: Some(format!(
            "{}@example.com",
            name.to_lowercase().replace(' ', ".")
        )),
        password: "correct horse battery".into(),
        device_name: Some(format!("{name}'s test phone")),
    }
}

/// `../shared/testdata` from the repository root.
pub fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(sub)
}
