//! What the benchmarks share: a release `mingpian-cloud` process on a free port, registered
//! users, percentiles, and the server's memory.

#![allow(
    dead_code,
    reason = "each benchmark uses a different part of the fixture"
)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Rate limits off: a benchmark is one address.
pub const LIMITS_OFF: &str = "[rate_limit]\napi_per_ip = 0\napi_per_account = 0\nauth_per_ip = 0\nweb_reply_per_ip = 0\nweb_card_per_ip = 0\n";

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
    start_server_with(data_dir, database_url, port, LIMITS_OFF, &[], trace_log).await
}

/// The release server on `port` with `config` (TOML) and extra environment variables.
pub async fn start_server_with(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    port: u16,
    config_toml: &str,
    env: &[(&str, &str)],
    trace_log: Option<&std::path::Path>,
) -> Server {
    std::fs::create_dir_all(data_dir).expect("data dir");
    let config = data_dir.join("cloud.toml");
    std::fs::write(&config, config_toml).expect("config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_mingpian-cloud"));
    // Only what the benchmark chooses: variables the caller exported (an operator's
    // MINGPIAN_DATABASE_URL, say) would override the file and send the load elsewhere.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MINGPIAN_") {
            command.env_remove(&key);
        }
    }
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
        .envs(env.iter().copied())
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
    if wait_healthy(&base, Duration::from_secs(10)).await {
        return Server { child, base };
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("mingpian-cloud did not answer /health at {base}");
}

/// Whether `base` answers `/health` within `within`.
pub async fn wait_healthy(base: &str, within: Duration) -> bool {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
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

/// How [`drive_exchanges`] sends exchanges.
#[derive(Debug, Clone)]
pub struct Drive {
    pub base: String,
    pub seconds: f64,
    /// Exchanges per second across all users (each user paced evenly, latency measured from
    /// when each exchange was due, so a stall counts for every exchange it held up); `None`:
    /// each user sends its next exchange as soon as the last was answered.
    pub per_second: Option<f64>,
    /// Retry a failed exchange with the same idempotency key (a phone on a flaky network),
    /// for up to this long; `None`: count the failure and move on.
    pub retry_for: Option<Duration>,
    /// Every `n`th answered exchange is sent again, unchanged, straight to an instance other
    /// than the one that answered it (`(name, base URL)`; the balancer names the instance that
    /// answered in `X-Served-By`): the answer must be the same exchange.
    pub duplicates_to: Option<(u64, Vec<(String, String)>)>,
    /// Once this is set, users give their set 2 instead of set 1 (see [`create_second_sets`]):
    /// the owners' items from set 1 stop being replaced and keep each pair's last exchange sent
    /// before, which can then be checked exactly.
    pub switch_to_set_2: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// One answered exchange.
#[derive(Debug, Clone, Copy)]
pub struct Answered {
    pub owner: usize,
    pub scanner: usize,
    /// The scanner's set given.
    pub set: u32,
    pub exchange_id: i64,
    /// Seconds since the drive started, when it was sent (when it was due, if paced).
    pub at: f64,
    pub ms: f64,
}

/// What [`drive_exchanges`] saw.
#[derive(Debug, Default)]
pub struct Driven {
    pub answered: Vec<Answered>,
    /// Exchanges given up on (after retrying, when retrying).
    pub errors: u64,
    /// Failed attempts retried with the same key.
    pub retries: u64,
    /// Duplicates answered with the same exchange, with another (must be 0), and not answered
    /// (the other instance was down).
    pub duplicates_same: u64,
    pub duplicates_other: u64,
    pub duplicates_failed: u64,
    /// The slowest exchange answered: (ms, the server's request id).
    pub slowest: (f64, String),
    pub elapsed: f64,
}

impl Driven {
    pub fn latencies(&self) -> Vec<f64> {
        self.answered.iter().map(|a| a.ms).collect()
    }
}

/// One exchange attempt: `Ok((exchange id, request id, served by))`, `Err(retryable)`.
async fn exchange_once(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<(i64, String, String), bool> {
    let response = client
        .post(format!("{base}/api/v1/exchanges"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|_| true)?;
    let status = response.status();
    if !status.is_success() {
        // A dead or restarting instance behind the balancer: 502/503/504. Anything else is a
        // real error.
        return Err(status.is_server_error());
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (request_id, served_by) = (header("x-request-id"), header("x-served-by"));
    let exchange: api::Exchange = response.json().await.map_err(|_| true)?;
    Ok((exchange.exchange_id, request_id, served_by))
}

/// Gives every user a second card set (same name), for [`Drive::switch_to_set_2`].
pub async fn create_second_sets(client: &reqwest::Client, base: &str, users: &[User]) {
    for user in users {
        let response = client
            .post(format!("{base}/api/v1/sets"))
            .bearer_auth(&user.token)
            .json(&json!({ "card": { "formatted_name": user.name } }))
            .send()
            .await
            .expect("create set 2");
        assert_eq!(response.status(), 201, "set 2 of {}", user.name);
    }
}

/// Every user exchanges with random others for `drive.seconds`.
pub async fn drive_exchanges(
    client: &reqwest::Client,
    users: &Arc<Vec<User>>,
    drive: &Drive,
) -> Driven {
    let driven = Arc::new(tokio::sync::Mutex::new(Driven::default()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(drive.seconds);
    let n_users = users.len();
    let workers: Vec<_> = (0..n_users)
        .map(|me| {
            let (client, users, driven, drive) =
                (client.clone(), users.clone(), driven.clone(), drive.clone());
            tokio::spawn(async move {
                let mut mine = Driven::default();
                let mut n = 0u64;
                let mut rng = (me as u64 + 1) * 0x9E37_79B9_7F4A_7C15;
                let mut pace = drive.per_second.map(|rate| {
                    let period = Duration::from_secs_f64(n_users as f64 / rate);
                    // Users start spread over one period, not all at once.
                    let first =
                        tokio::time::Instant::now() + period.mul_f64(me as f64 / n_users as f64);
                    let mut interval = tokio::time::interval_at(first, period);
                    // A user held up sends what fell due at once: the rate is kept, and each
                    // late exchange's latency counts from when it was due.
                    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    interval
                });
                loop {
                    let due = match pace.as_mut() {
                        Some(pace) => pace.tick().await.into_std(),
                        None => Instant::now(),
                    };
                    if due >= deadline {
                        break;
                    }
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let mut other = (rng as usize) % n_users;
                    if other == me {
                        other = (other + 1) % n_users;
                    }
                    n += 1;
                    let set = match &drive.switch_to_set_2 {
                        Some(flag) if flag.load(std::sync::atomic::Ordering::Relaxed) => 2,
                        _ => 1,
                    };
                    let body = json!({
                        "scanned": users[other].live_url,
                        "give_set": set,
                        "idempotency_key": format!("load-{me}-{n}-{}", std::process::id()),
                    });
                    let give_up = Instant::now() + drive.retry_for.unwrap_or_default();
                    let outcome = loop {
                        match exchange_once(&client, &drive.base, &users[me].token, &body).await {
                            Ok(answer) => break Some(answer),
                            Err(retryable) => {
                                let retry = retryable && Instant::now() < give_up;
                                // Not at once: a dead server would be hammered on the cores
                                // it needs to restart.
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                if !retry {
                                    break None;
                                }
                                mine.retries += 1;
                            }
                        }
                    };
                    let Some((exchange_id, request_id, served_by)) = outcome else {
                        mine.errors += 1;
                        continue;
                    };
                    let ms = due.elapsed().as_secs_f64() * 1e3;
                    if ms > mine.slowest.0 {
                        mine.slowest = (ms, request_id);
                    }
                    mine.answered.push(Answered {
                        owner: other,
                        scanner: me,
                        set,
                        exchange_id,
                        at: due.duration_since(started).as_secs_f64(),
                        ms,
                    });
                    // The same request again, straight to the instance that did not answer it.
                    if let Some((every, bases)) = &drive.duplicates_to
                        && n.is_multiple_of(*every)
                    {
                        assert!(
                            bases.iter().any(|(name, _)| *name == served_by),
                            "the balancer names the instance that answered (X-Served-By: {served_by:?})"
                        );
                        let (_, other_base) = bases
                            .iter()
                            .find(|(name, _)| *name != served_by)
                            .expect("two instances");
                        match exchange_once(&client, other_base, &users[me].token, &body).await {
                            Ok((again, _, _)) if again == exchange_id => {
                                mine.duplicates_same += 1;
                            }
                            Ok(_) => mine.duplicates_other += 1,
                            Err(_) => mine.duplicates_failed += 1,
                        }
                    }
                }
                let mut all = driven.lock().await;
                all.answered.extend(mine.answered);
                all.errors += mine.errors;
                all.retries += mine.retries;
                all.duplicates_same += mine.duplicates_same;
                all.duplicates_other += mine.duplicates_other;
                all.duplicates_failed += mine.duplicates_failed;
                if mine.slowest.0 > all.slowest.0 {
                    all.slowest = mine.slowest;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("exchange worker");
    }
    let mut driven = std::mem::take(&mut *driven.lock().await);
    driven.elapsed = started.elapsed().as_secs_f64();
    driven
}

/// The latest exchange answered from each scanner's set to each owner:
/// `(owner, scanner, set) -> id`.
pub fn latest_answered(answered: &[Answered]) -> HashMap<(usize, usize, u32), i64> {
    let mut latest: HashMap<(usize, usize, u32), i64> = HashMap::new();
    for a in answered {
        let slot = latest.entry((a.owner, a.scanner, a.set)).or_default();
        *slot = (*slot).max(a.exchange_id);
    }
    latest
}

/// How many answered exchanges are missing from their owners' inboxes: an inbox keeps one item
/// per sender's set, so the owner's item from that scanner's set must be that exchange or a
/// later one. (With [`Drive::switch_to_set_2`], the set-1 items hold each pair's last exchange
/// sent before the switch exactly.)
pub async fn missing_from_inboxes(
    client: &reqwest::Client,
    base: &str,
    users: &[User],
    answered: &[Answered],
) -> usize {
    let latest = latest_answered(answered);
    let by_name: HashMap<&str, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.name.as_str(), i))
        .collect();
    let mut missing = 0usize;
    for (owner, user) in users.iter().enumerate() {
        let mut held: HashMap<(usize, u32), i64> = HashMap::new();
        let mut after = 0i64;
        loop {
            let page: api::InboxPage = client
                .get(format!("{base}/api/v1/inbox?after={after}&limit=500"))
                .bearer_auth(&user.token)
                .send()
                .await
                .expect("inbox")
                .json()
                .await
                .expect("inbox page");
            if page.items.is_empty() {
                break;
            }
            for item in &page.items {
                if let (Some(&scanner), Some(id), Some(set)) = (
                    by_name.get(item.card.formatted_name.as_str()),
                    item.exchange_id,
                    item.from_set,
                ) {
                    let slot = held.entry((scanner, set.get())).or_default();
                    *slot = (*slot).max(id);
                }
            }
            after = page.next_cursor;
        }
        missing += latest
            .iter()
            .filter(|((o, scanner, set), id)| {
                *o == owner && held.get(&(*scanner, *set)).is_none_or(|h| h < *id)
            })
            .count();
    }
    missing
}
