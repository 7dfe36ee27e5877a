//! What the benchmarks share: a release `mingpian-cloud` process on a free port, registered
//! users, percentiles, and the server's memory.

#![allow(
    dead_code,
    reason = "each benchmark uses a different part of the fixture"
)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mingpian_card::api;
use serde_json::json;

pub fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Resident and peak resident memory of the server process, in MB (`/proc`).
    pub fn memory_mb(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(f64::NAN, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A benchmark that panics still stops its server (which would otherwise hold the terminal's
/// output open).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch PostgreSQL database for one benchmark run, made on the server at `admin` (a URL
/// ending in a database name); dropped by [`ScratchDb::drop_now`].
pub struct ScratchDb {
    admin: String,
    name: String,
    pub url: String,
}

impl ScratchDb {
    pub async fn create(admin: &str, prefix: &str) -> ScratchDb {
        use sqlx::Connection as _;
        let name = format!("{prefix}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("PostgreSQL reachable");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create db");
        let url = format!(
            "{}/{name}",
            admin.rsplit_once('/').expect("URL ends in /db").0
        );
        ScratchDb {
            admin: admin.to_owned(),
            name,
            url,
        }
    }

    pub async fn drop_now(self) {
        use sqlx::Connection as _;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await;
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts the release server on `port` with rate limits off (a benchmark is one address).
pub async fn start_server(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    port: u16,
) -> Server {
    start_server_traced(data_dir, database_url, port, None).await
}

/// As [`start_server`], with the server's spans written to `trace_log` as JSON lines (a line
/// as each span closes, with its time), for [`slowest_spans`].
pub async fn start_server_traced(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    port: u16,
    trace_log: Option<&std::path::Path>,
) -> Server {
    let config = data_dir.join("cloud.toml");
    std::fs::write(
        &config,
        "[rate_limit]\napi_per_ip = 0\napi_per_account = 0\nauth_per_ip = 0\nweb_reply_per_ip = 0\nweb_card_per_ip = 0\n",
    )
    .expect("config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mingpian-cloud"));
    command
        .args([
            "--config",
            &config.display().to_string(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--data-dir", &data_dir.display().to_string()])
        .env("MINGPIAN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(path) = trace_log {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("trace log");
        command
            .env("MINGPIAN_LOG", "warn,mingpian_cloud=info")
            .env("MINGPIAN_LOG_FORMAT", "json")
            .env("MINGPIAN_LOG_SPANS", "1")
            .stdout(file);
    }
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    let mut child = command.spawn().expect("mingpian-cloud starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("mingpian-cloud did not answer /health at {base}");
}

/// A registered user, their session and their set 1's codes.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub token: String,
    pub live_url: String,
    pub printed_url: String,
}

/// Registers `names` concurrently (argon2 makes this the slow part) and fetches their codes.
pub async fn register_all(client: &reqwest::Client, base: &str, names: &[String]) -> Vec<User> {
    let tasks = names.iter().enumerate().map(|(i, name)| {
        let (client, base, name) = (client.clone(), base.to_owned(), name.clone());
        tokio::spawn(async move {
            let session: api::Session = client
                .post(format!("{base}/api/v1/accounts"))
                .json(&json!({ "name": name, "phone": format!("+86 139 {:04} {:04}", i / 10_000, i % 10_000), "password": "load test password" }))
                .send()
                .await
                .expect("register")
                .json()
                .await
                .expect("session");
            let codes: api::Codes = client
                .get(format!("{base}/api/v1/sets/1/code"))
                .bearer_auth(&session.token)
                .send()
                .await
                .expect("code")
                .json()
                .await
                .expect("codes");
            User {
                name,
                token: session.token,
                live_url: codes.live_url,
                printed_url: codes.printed_url,
            }
        })
    });
    let mut users = Vec::new();
    for t in tasks {
        users.push(t.await.expect("registration task"));
    }
    users
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Sorts `latencies` (ms) and prints rate, p50 and p99.
pub fn report(label: &str, latencies: &mut [f64], errors: u64, seconds: f64) {
    latencies.sort_by(f64::total_cmp);
    println!(
        "{label:10} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {errors} errors)",
        latencies.len() as f64 / seconds,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        latencies.len()
    );
}

/// A span's wall time as the log writes it (`12.3ms`, `4.56µs`, `1.2s`, `345ns`), in ms.
fn span_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().ok()?;
    Some(match unit {
        "s" => value * 1e3,
        "ms" => value,
        "µs" | "us" => value / 1e3,
        "ns" => value / 1e6,
        _ => return None,
    })
}

/// Where request `request_id` spent its time, from a JSON trace log: the request span's own time in
/// the server (`None` when it was not logged) and the `n` slowest spans inside it, `(span name, ms)`,
/// slowest first. A client latency far above the server's time was spent queueing before the
/// server read the request.
pub fn slowest_spans(
    trace_log: &std::path::Path,
    request_id: &str,
    n: usize,
) -> (Option<f64>, Vec<(String, f64)>) {
    let text = std::fs::read_to_string(trace_log).unwrap_or_default();
    let mut spans: Vec<(String, f64)> = Vec::new();
    let mut in_server = None;
    for line in text.lines() {
        if !line.contains(&format!("\"{request_id}\"")) {
            continue;
        }
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let in_request = event["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(std::iter::once(&event["span"]))
            .any(|s| s["request_id"].as_str() == Some(request_id));
        let name = event["span"]["name"].as_str().unwrap_or_default();
        if !in_request || event["fields"]["message"] != "close" {
            continue;
        }
        let busy = event["fields"]["time.busy"]
            .as_str()
            .and_then(span_ms)
            .unwrap_or(0.0);
        let idle = event["fields"]["time.idle"]
            .as_str()
            .and_then(span_ms)
            .unwrap_or(0.0);
        if name == "request" {
            in_server = Some(busy + idle);
        } else {
            spans.push((name.to_owned(), busy + idle));
        }
    }
    spans.sort_by(|a, b| b.1.total_cmp(&a.1));
    spans.truncate(n);
    (in_server, spans)
}
