//! One way for every crate's tests to start a real Mingpian cloud, and where the shared test
//! data lives.
//!
//! A [`TestCloud`] binds port 0 first and hands the bound listener to the server, so it answers
//! the moment `start` returns: no sleeps, no polling. On SQLite its database is a file in a temp
//! dir; on PostgreSQL it is a fresh database on the server at `MINGPIAN_TEST_POSTGRES` (default
//! `postgres://postgres@localhost:5432/postgres`), dropped when the cloud stops.
//!
//! PostgreSQL is required when `MINGPIAN_TEST_POSTGRES` is set (CI sets it): an unreachable
//! server then fails the test. Only a developer machine that never set it may skip, and it says
//! so on stderr.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mingpian_card::api;
use mingpian_cloud::config::{Config, RateLimits};
use mingpian_cloud::{AppState, serve};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::net::TcpListener;

/// Which database the cloud runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `../shared/testdata/{sub}`, beside the repository.
pub fn testdata(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata")
        .join(sub)
}

fn pg_admin_url() -> (String, bool) {
    match std::env::var("MINGPIAN_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => (url, true),
        _ => ("postgres://postgres@localhost:5432/postgres".into(), false),
    }
}

/// A fresh PostgreSQL database: `(name, url)`. `None` only when PostgreSQL is not required and
/// not reachable.
async fn fresh_pg_database() -> Option<(String, String)> {
    let (admin, required) = pg_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(e) if required => {
            panic!("MINGPIAN_TEST_POSTGRES={admin} is set but PostgreSQL cannot be reached: {e}")
        }
        Err(e) => {
            eprintln!(
                "SKIPPED: PostgreSQL half of this test: no server at {admin} ({e}); set MINGPIAN_TEST_POSTGRES to require it"
            );
            return None;
        }
    };
    let name = format!("mingpian_test_{}", unique_suffix());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create the test database");
    let url = match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("MINGPIAN_TEST_POSTGRES must end in /database"),
    };
    Some((name, url))
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The configuration tests start from: the defaults, data in `dir`, no rate limits (tests make
/// many requests from one address; the rate-limit tests turn them back on).
pub fn test_config(database_url: Option<String>, dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url,
        rate_limit: RateLimits::OFF,
        ..Config::default()
    }
}

/// A real cloud on port 0.
#[derive(Debug)]
pub struct TestCloud {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pg_database: Option<String>,
    database_url: Option<String>,
}

impl TestCloud {
    /// A cloud on SQLite.
    pub async fn sqlite() -> TestCloud {
        Self::start(Backend::Sqlite, |_| {})
            .await
            .expect("SQLite always starts")
    }

    /// A cloud on `backend` with its configuration adjusted; `None` only for PostgreSQL when it
    /// is neither required nor reachable (see the crate docs).
    pub async fn start(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestCloud> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (pg_database, url) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let (name, url) = fresh_pg_database().await?;
                (Some(name), Some(url))
            }
        };
        let mut config = test_config(url, dir.path());
        adjust(&mut config);
        Some(Self::serve(config, dir, pg_database).await)
    }

    /// Another instance on the same PostgreSQL database, as behind a load balancer. It does
    /// not own the database: dropping it is left to the first instance.
    pub async fn second_instance(&self) -> TestCloud {
        let url = self
            .database_url
            .clone()
            .expect("a second instance needs PostgreSQL");
        let dir = tempfile::tempdir().expect("temp dir");
        Self::serve(test_config(Some(url), dir.path()), dir, None).await
    }

    async fn serve(
        config: Config,
        dir: tempfile::TempDir,
        pg_database: Option<String>,
    ) -> TestCloud {
        let database_url = config.database_url.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(config, addr).await.expect("the cloud starts");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("the cloud runs");
        });
        // reqwest is built without a default TLS provider (the app uses ring, which cross-builds
        // for phones); tests speak plain HTTP but the client still wants one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestCloud {
            base: format!("http://{addr}"),
            addr,
            client,
            dir,
            shutdown: Some(tx),
            task: Some(task),
            pg_database,
            database_url,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The database this cloud runs on: its PostgreSQL URL, or its SQLite file's.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| mingpian_cloud::store::Store::sqlite_url(self.dir.path()))
    }

    /// Registers `name` (email derived from it) and returns the session.
    pub async fn register(&self, name: &str, phone: &str) -> api::Session {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let response = self
            .client
            .post(self.url("/api/v1/accounts"))
            .json(&json!({ "name": name, "phone": phone, "email": email, "password": "correct horse battery", "device_name": "test phone" }))
            .send()
            .await
            .expect("register request");
        assert_eq!(
            response.status(),
            201,
            "registering {name}: {}",
            response.text().await.unwrap_or_default()
        );
        response.json().await.expect("session JSON")
    }

    /// An unauthenticated GET answered with JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        response.json().await.expect("JSON body")
    }

    /// `POST /api/v1/sessions` with `body`.
    pub async fn login(&self, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/sessions"))
            .json(&body)
            .send()
            .await
            .expect("log in")
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn put(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("PUT")
    }

    pub async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("DELETE")
    }

    pub async fn codes(&self, token: &str, set: u32) -> api::Codes {
        let response = self.get(token, &format!("/api/v1/sets/{set}/code")).await;
        assert_eq!(response.status(), 200, "codes of set {set}");
        response.json().await.expect("codes JSON")
    }

    pub async fn exchange(
        &self,
        token: &str,
        scanned: &str,
        give: u32,
        key: &str,
    ) -> reqwest::Response {
        self.post(
            token,
            "/api/v1/exchanges",
            &json!({ "scanned": scanned, "give_set": give, "idempotency_key": key }),
        )
        .await
    }

    pub async fn inbox(&self, token: &str, after: i64) -> api::InboxPage {
        let response = self
            .get(token, &format!("/api/v1/inbox?after={after}"))
            .await;
        assert_eq!(response.status(), 200, "inbox");
        response.json().await.expect("inbox JSON")
    }

    /// Stops the server gracefully and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        if let Some(name) = self.pg_database.take()
            && let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url().0).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await;
        }
    }
}

/// Runs async scenarios `async fn name(cloud: &TestCloud)` on SQLite and on PostgreSQL, as
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let cloud = $crate::TestCloud::sqlite().await;
                    super::$name(&cloud).await;
                    cloud.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(cloud) = $crate::TestCloud::start($crate::Backend::Postgres, |_| {}).await else { return };
                    super::$name(&cloud).await;
                    cloud.stop().await;
                }
            )*
        }
    };
}

/// A cloud served from a thread and runtime of its own, for tests that are not async (they run
/// the `mingpian` binary or drive the app). Stops when dropped.
#[derive(Debug)]
pub struct ThreadCloud {
    pub base: String,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ThreadCloud {
    /// A cloud on SQLite with its configuration adjusted.
    pub fn sqlite(adjust: impl FnOnce(&mut Config) + Send + 'static) -> ThreadCloud {
        let (base_tx, base_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let cloud = TestCloud::start(Backend::Sqlite, adjust)
                    .await
                    .expect("SQLite always starts");
                base_tx.send(cloud.base.clone()).expect("the test waits");
                let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                cloud.stop().await;
            });
        });
        ThreadCloud {
            base: base_rx.recv().expect("the cloud started"),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for ThreadCloud {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
