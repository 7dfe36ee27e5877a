//! A TCP proxy in front of a test cloud (`mingpian_testkit::TestCloud`) that can play
//! "unreachable" or "answer lost", and wallets in temp dirs.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use mingpian_card::api::RegisterRequest;
#[allow(
    unused_imports,
    reason = "each test file uses a different part of the fixture"
)]
pub use mingpian_testkit::{TestCloud, testdata};
use mingpian_wallet::Wallet;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

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
