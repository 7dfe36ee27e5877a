//! Load test: N simulated users exchanging cards with each other against a real `mingpian-cloud`
//! process, then the same concurrency on `/health` for comparison. Prints exchanges/s, p50/p99
//! latency and errors, and checks afterwards that every exchange answered 2xx reached the
//! owner's inbox (the scanner holds it from the response): an inbox keeps one item per sender's
//! set, so the item from that scanner must be this exchange or a later one.
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench loadtest                       # SQLite, 32 users, 10 s
//! MINGPIAN_LOAD_DB=postgres://postgres@localhost/postgres cargo bench -p mingpian-cloud --bench loadtest
//! MINGPIAN_LOAD_KILL=1 cargo bench -p mingpian-cloud --bench loadtest  # SIGKILL mid-run, restart, verify
//! ```
//! Other knobs: MINGPIAN_LOAD_USERS, MINGPIAN_LOAD_SECONDS.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{
    ScratchDb, env_or, free_port, register_all, report, slowest_spans, start_server_traced,
};
use mingpian_card::api;
use serde_json::json;
use tokio::sync::Mutex;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let users_n: usize = env_or("MINGPIAN_LOAD_USERS", 32);
    let seconds: f64 = env_or("MINGPIAN_LOAD_SECONDS", 10.0);
    let kill = std::env::var("MINGPIAN_LOAD_KILL").is_ok_and(|v| v == "1");
    let database_url = std::env::var("MINGPIAN_LOAD_DB").ok();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let pg_db = match &database_url {
        Some(admin) => Some(ScratchDb::create(admin, "mingpian_load").await),
        None => None,
    };
    let db_url = pg_db.as_ref().map(|db| db.url.clone());
    let trace_log = dir.path().join("server-trace.jsonl");
    let mut server =
        start_server_traced(dir.path(), db_url.as_deref(), port, Some(&trace_log)).await;
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

    let names: Vec<String> = (0..users_n).map(|i| format!("Load User {i}")).collect();
    let users = register_all(&client, &server.base, &names).await;
    let users = Arc::new(users);

    // Phase 1: exchanges.
    // (owner, scanner, exchange id) of every exchange answered 2xx.
    let answered: Arc<Mutex<Vec<(usize, usize, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    // The slowest exchange answered: (ms, the server's request id).
    let slowest: Arc<Mutex<(f64, String)>> = Arc::new(Mutex::new((0.0, String::new())));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let kill_at = Instant::now() + Duration::from_secs_f64(seconds / 2.0);
    let started = Instant::now();
    let workers: Vec<_> = (0..users_n)
        .map(|me| {
            let (client, users, answered, errors, latencies, slowest) = (
                client.clone(),
                users.clone(),
                answered.clone(),
                errors.clone(),
                latencies.clone(),
                slowest.clone(),
            );
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
                        Ok(r) if r.status().is_success() => {
                            let request_id = r
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            match r.json::<api::Exchange>().await {
                            Ok(exchange) => {
                                let ms = start.elapsed().as_secs_f64() * 1e3;
                                local.push(ms);
                                {
                                    let mut s = slowest.lock().await;
                                    if ms > s.0 {
                                        *s = (ms, request_id);
                                    }
                                }
                                answered.lock().await.push((other, me, exchange.exchange_id));
                            }
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            }
                        }
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
        server = start_server_traced(dir.path(), db_url.as_deref(), port, Some(&trace_log)).await;
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
    // Where the slowest exchange spent its time, from the server's own spans.
    let (slowest_ms, slowest_id) = slowest.lock().await.clone();
    let (in_server, spans) = slowest_spans(&trace_log, &slowest_id, 3);
    let in_server = in_server.map_or("not logged".to_owned(), |ms| format!("{ms:.1} ms"));
    println!(
        "slowest exchange: {slowest_ms:.1} ms at the client, {in_server} in the server (request {slowest_id}); its slowest spans: {}",
        spans
            .iter()
            .map(|(name, ms)| format!("{name} {ms:.1} ms"))
            .collect::<Vec<_>>()
            .join(", ")
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

    // Every exchange answered 2xx reached its owner: the owner's item from that scanner is that
    // exchange or a later one.
    let answered = answered.lock().await.clone();
    let mut latest: HashMap<(usize, usize), i64> = HashMap::new();
    for &(owner, scanner, id) in &answered {
        let slot = latest.entry((owner, scanner)).or_default();
        *slot = (*slot).max(id);
    }
    let by_name: HashMap<&str, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.name.as_str(), i))
        .collect();
    let mut missing = 0usize;
    for owner in 0..users.len() {
        let mut held: HashMap<usize, i64> = HashMap::new();
        let mut after = 0i64;
        loop {
            let page: api::InboxPage = client
                .get(format!(
                    "{}/api/v1/inbox?after={after}&limit=500",
                    server.base
                ))
                .bearer_auth(&users[owner].token)
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
                if let (Some(&scanner), Some(id)) = (
                    by_name.get(item.card.formatted_name.as_str()),
                    item.exchange_id,
                ) {
                    let slot = held.entry(scanner).or_default();
                    *slot = (*slot).max(id);
                }
            }
            after = page.next_cursor;
        }
        missing += latest
            .iter()
            .filter(|((o, scanner), id)| *o == owner && held.get(scanner).is_none_or(|h| h < *id))
            .count();
    }
    println!(
        "verified: {} exchanges answered 2xx, {missing} senders missing from the owners' inboxes afterwards",
        answered.len()
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
    if let Some(db) = pg_db {
        db.drop_now().await;
    }
    assert_eq!(missing, 0, "every answered exchange must be stored");
}
