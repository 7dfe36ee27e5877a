//! A real cloud on port 0, on SQLite (a file in a temp dir) or PostgreSQL (a fresh database per
//! test on the server at `MINGPIAN_TEST_POSTGRES`, default `postgres://postgres@localhost:5432/postgres`).

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::net::SocketAddr;
use std::time::Duration;

use mingpian_card::api;
use mingpian_cloud::config::Config;
use mingpian_cloud::{AppState, serve};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    pg_database: Option<String>,
    database_url: Option<String>,
}

fn admin_url() -> String {
    std::env::var("MINGPIAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@localhost:5432/postgres".into())
}

/// A fresh PostgreSQL database, or `None` (with a loud note) when no server is reachable.
async fn fresh_pg_database() -> Option<(String, String)> {
    let admin = admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("SKIPPED: PostgreSQL tests: no server at {admin} ({e})");
            return None;
        }
    };
    let name = format!("mingpian_test_{}", rand_suffix());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let url = match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("MINGPIAN_TEST_POSTGRES must end in /database"),
    };
    Some((name, url))
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

pub fn test_config(db_url: Option<String>, dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: db_url,
        rate_limit: mingpian_cloud::config::RateLimits::OFF,
        ..Config::default()
    }
}

impl TestApp {
    /// Starts a server; `None` when the backend is not available here (PostgreSQL only).
    pub async fn spawn(db: Db) -> Option<TestApp> {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: Db, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (pg_database, url) = match db {
            Db::Sqlite => (None, None),
            Db::Postgres => {
                let (name, url) = fresh_pg_database().await?;
                (Some(name), Some(url))
            }
        };
        let mut config = test_config(url, dir.path());
        adjust(&mut config);
        Some(Self::start(config, dir, pg_database).await)
    }

    /// Another server on the same PostgreSQL database, as behind a load balancer. It does not
    /// own the database: dropping it is left to the first instance.
    pub async fn second_instance(&self) -> TestApp {
        let url = self
            .database_url
            .clone()
            .expect("a second instance needs PostgreSQL");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = test_config(Some(url), dir.path());
        Self::start(config, dir, None).await
    }

    async fn start(config: Config, dir: tempfile::TempDir, pg_database: Option<String>) -> TestApp {
        let database_url = config.database_url.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("addr");
        let state = AppState::new(config, addr).await.expect("server starts");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        // reqwest is built without a default TLS provider (the app uses ring, which cross-builds
        // for phones); tests only speak plain HTTP but the client still wants one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        TestApp {
            base: format!("http://{addr}"),
            addr,
            client,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
            pg_database,
            database_url,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers `name` (phone and email derived from it) and returns the session.
    pub async fn register(&self, name: &str, phone: &str) -> api::Session {
        let response = self
            .client
            .post(self.url("/api/v1/accounts"))
            .json(&json!({ "name": name, "phone": phone, "email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")), "password": "correct horse battery", "device_name": "test phone" }))
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

    pub async fn codes(&self, token: &str, set: u32) -> api::Codes {
        let response = self.get(token, &format!("/api/v1/sets/{set}/code")).await;
        assert_eq!(response.status(), 200);
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
        assert_eq!(response.status(), 200);
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
            && let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url()).await
        {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await;
        }
    }
}

/// Runs an async scenario against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::common::TestApp::spawn($crate::common::Db::Sqlite).await.expect("SQLite always works");
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(app) = $crate::common::TestApp::spawn($crate::common::Db::Postgres).await else { return };
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}
