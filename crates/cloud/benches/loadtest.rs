//! Load test: N simulated users exchanging cards with each other against a real `mingpian-cloud`
//! process, then the same concurrency on `/health` for comparison. Prints exchanges/s, p50/p99
//! latency and errors, and checks afterwards that every exchange answered 2xx is in the owner's
//! inbox (the scanner holds it from the response).
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench loadtest                       # SQLite, 32 users, 10 s
//! MINGPIAN_LOAD_DB=postgres://postgres@localhost/postgres cargo bench -p mingpian-cloud --bench loadtest
//! MINGPIAN_LOAD_KILL=1 cargo bench -p mingpian-cloud --bench loadtest  # SIGKILL mid-run, restart, verify
//! ```
//! Other knobs: MINGPIAN_LOAD_USERS, MINGPIAN_LOAD_SECONDS.

use std::collections::{BTreeSet, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mingpian_card::api;
use serde_json::json;
use tokio::sync::Mutex;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_server(data_dir: &std::path::Path, database_url: Option<&str>, port: u16) -> Server {
    let config = data_dir.join("cloud.toml");
    std::fs::write(
        &config,
        "[rate_limit]\napi_per_ip = 0\napi_per_account = 0\nauth_per_ip = 0\nweb_reply_per_ip = 0\n",
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

struct User {
    token: String,
    live_url: String,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, latencies: &mut [f64], errors: u64, seconds: f64) {
    latencies.sort_by(f64::total_cmp);
    println!(
        "{label:10} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {errors} errors)",
        latencies.len() as f64 / seconds,
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        latencies.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let users_n: usize = env_or("MINGPIAN_LOAD_USERS", 32);
    let seconds: f64 = env_or("MINGPIAN_LOAD_SECONDS", 10.0);
    let kill = std::env::var("MINGPIAN_LOAD_KILL").is_ok_and(|v| v == "1");
    let database_url = std::env::var("MINGPIAN_LOAD_DB").ok();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let (pg_db, db_url) = match &database_url {
        Some(admin) => {
            use sqlx::Connection as _;
            let name = format!("mingpian_load_{}", std::process::id());
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
            (Some((admin.clone(), name)), Some(url))
        }
        None => (None, None),
    };
    let mut server = start_server(dir.path(), db_url.as_deref(), port).await;
    println!(
        "backend {}, {users_n} users, {seconds} s per phase{}",
        if db_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        if kill { ", SIGKILL mid-run" } else { "" }
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(users_n * 2)
        .build()
        .expect("client");

    // Register everyone concurrently (argon2 makes this the slow part) and fetch live codes.
    let registrations = (0..users_n).map(|i| {
        let (client, base) = (client.clone(), server.base.clone());
        tokio::spawn(async move {
            let session: api::Session = client
                .post(format!("{base}/api/v1/accounts"))
                .json(&json!({ "name": format!("Load User {i}"), "phone": format!("+86 139 {:04} {:04}", i / 10_000, i % 10_000), "password": "load test password" }))
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
            User { token: session.token, live_url: codes.live_url }
        })
    });
    let mut users = Vec::new();
    for r in registrations {
        users.push(r.await.expect("registration task"));
    }
    let users = Arc::new(users);

    // Phase 1: exchanges.
    let answered: Arc<Mutex<Vec<(usize, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let kill_at = Instant::now() + Duration::from_secs_f64(seconds / 2.0);
    let started = Instant::now();
    let workers: Vec<_> = (0..users_n)
        .map(|me| {
            let (client, users, answered, errors, latencies) =
                (client.clone(), users.clone(), answered.clone(), errors.clone(), latencies.clone());
            let base = server.base.clone();
            tokio::spawn(async move {
                let mut local = Vec::new();
                let mut n = 0u64;
                let mut rng = (me as u64 + 1) * 0x9E37_79B9_7F4A_7C15;
                while Instant::now() < deadline {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let mut other = (rng as usize) % users.len();
                    if other == me {
                        other = (other + 1) % users.len();
                    }
                    n += 1;
                    let key = format!("load-{me}-{n}");
                    let start = Instant::now();
                    let result = client
                        .post(format!("{base}/api/v1/exchanges"))
                        .bearer_auth(&users[me].token)
                        .json(&json!({ "scanned": users[other].live_url, "give_set": 1, "idempotency_key": key }))
                        .send()
                        .await;
                    match result {
                        Ok(r) if r.status().is_success() => match r.json::<api::Exchange>().await {
                            Ok(exchange) => {
                                local.push(start.elapsed().as_secs_f64() * 1e3);
                                answered.lock().await.push((other, exchange.exchange_id));
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        },
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            if kill {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        }
                    }
                }
                latencies.lock().await.extend(local);
            })
        })
        .collect();
    if kill {
        tokio::time::sleep_until(kill_at.into()).await;
        server.child.kill().expect("SIGKILL the server");
        let _ = server.child.wait();
        println!(
            "killed the server at {:.1} s; restarting on the same data",
            kill_at.duration_since(started).as_secs_f64()
        );
        server = start_server(dir.path(), db_url.as_deref(), port).await;
    }
    for w in workers {
        w.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    report(
        "exchange",
        &mut latencies.lock().await,
        errors.load(Ordering::Relaxed),
        elapsed,
    );

    // Phase 2: /health at the same concurrency, for comparison.
    if !kill {
        let health_lat = Arc::new(Mutex::new(Vec::new()));
        let health_err = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let workers: Vec<_> = (0..users_n)
            .map(|_| {
                let (client, lat, err, base) = (
                    client.clone(),
                    health_lat.clone(),
                    health_err.clone(),
                    server.base.clone(),
                );
                tokio::spawn(async move {
                    let mut local = Vec::new();
                    while Instant::now() < deadline {
                        let start = Instant::now();
                        match client.get(format!("{base}/health")).send().await {
                            Ok(r) if r.status().is_success() => {
                                local.push(start.elapsed().as_secs_f64() * 1e3)
                            }
                            _ => {
                                err.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    lat.lock().await.extend(local);
                })
            })
            .collect();
        for w in workers {
            w.await.expect("worker");
        }
        report(
            "/health",
            &mut health_lat.lock().await,
            health_err.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
        );
    }

    // Every exchange answered 2xx is in its owner's inbox.
    let answered = answered.lock().await.clone();
    let mut expected: HashMap<usize, BTreeSet<i64>> = HashMap::new();
    for (owner, id) in &answered {
        expected.entry(*owner).or_default().insert(*id);
    }
    let mut missing = 0usize;
    for (owner, ids) in &expected {
        let mut seen = BTreeSet::new();
        let mut after = 0i64;
        loop {
            let page: api::InboxPage = client
                .get(format!(
                    "{}/api/v1/inbox?after={after}&limit=500",
                    server.base
                ))
                .bearer_auth(&users[*owner].token)
                .send()
                .await
                .expect("inbox")
                .json()
                .await
                .expect("inbox page");
            if page.items.is_empty() {
                break;
            }
            seen.extend(page.items.iter().filter_map(|i| i.exchange_id));
            after = page.next_cursor;
        }
        missing += ids.difference(&seen).count();
    }
    println!(
        "verified: {} exchanges answered 2xx, {missing} missing from the owners' inboxes afterwards",
        answered.len()
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    if let Some((admin, name)) = pg_db {
        use sqlx::Connection as _;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
    assert_eq!(missing, 0, "every answered exchange must be stored");
}
