//! Load test: N simulated users exchanging cards with each other against a real `mingpian-cloud`
//! process, then the same concurrency on `/health` on the same server for comparison. Prints
//! exchanges/s, p50/p99 latency and errors, and checks afterwards that every exchange answered
//! 2xx reached the owner's inbox (the scanner holds it from the response): an inbox keeps one
//! item per sender's set, so the item from that scanner must be this exchange or a later one.
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench loadtest                     # SQLite, 8 users, 10 s
//! MINGPIAN_LOAD_DB=both cargo bench -p mingpian-cloud --bench loadtest   # SQLite, then PostgreSQL (16 users)
//! MINGPIAN_LOAD_DB=postgres://postgres@localhost/postgres cargo bench -p mingpian-cloud --bench loadtest
//! MINGPIAN_LOAD_KILL=1 cargo bench -p mingpian-cloud --bench loadtest  # SIGKILL mid-run, restart, verify
//! ```
//! Other knobs: MINGPIAN_LOAD_USERS, MINGPIAN_LOAD_SECONDS, MINGPIAN_LOAD_CONNECTIONS (the
//! server's `database_connections`), MINGPIAN_LOAD_TRACE=1 (the server
//! logs every span, and the slowest exchange's spans are printed; this costs the server time, so
//! it is off when measuring). `both` takes PostgreSQL at MINGPIAN_TEST_POSTGRES or the local
//! default.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{
    Drive, LIMITS_OFF, ScratchDb, create_second_sets, drive_exchanges, env_or, free_port,
    missing_from_inboxes, register_all, report, slowest_spans, start_server_with,
};
use tokio::sync::Mutex;

const LOCAL_POSTGRES: &str = "postgres://postgres@localhost:5432/postgres";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let backends: Vec<Option<String>> = match std::env::var("MINGPIAN_LOAD_DB").ok().as_deref() {
        None | Some("" | "sqlite") => vec![None],
        Some("both") => vec![
            None,
            Some(std::env::var("MINGPIAN_TEST_POSTGRES").unwrap_or_else(|_| LOCAL_POSTGRES.into())),
        ],
        Some(url) => vec![Some(url.to_owned())],
    };
    let mut missing = 0;
    for admin in backends {
        missing += run(admin.as_deref()).await;
    }
    assert_eq!(missing, 0, "every answered exchange must be stored");
}

/// One backend's run; returns the answered exchanges missing from the inboxes afterwards.
async fn run(admin: Option<&str>) -> usize {
    // SQLite has one writer: more users only queue. PostgreSQL works on several at once.
    let users_n: usize = env_or("MINGPIAN_LOAD_USERS", if admin.is_some() { 16 } else { 8 });
    let seconds: f64 = env_or("MINGPIAN_LOAD_SECONDS", 10.0);
    let kill = std::env::var("MINGPIAN_LOAD_KILL").is_ok_and(|v| v == "1");
    let trace = std::env::var("MINGPIAN_LOAD_TRACE").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let pg_db = match admin {
        Some(admin) => Some(ScratchDb::create(admin, "mingpian_load").await),
        None => None,
    };
    let db_url = pg_db.as_ref().map(|db| db.url.clone());
    let trace_log = dir.path().join("server-trace.jsonl");
    let trace_log = trace.then_some(trace_log.as_path());
    // The server's pool, to choose its default by measurement (MINGPIAN_LOAD_CONNECTIONS).
    let config = match std::env::var("MINGPIAN_LOAD_CONNECTIONS") {
        Ok(n) => format!("database_connections = {n}\n{LIMITS_OFF}"),
        Err(_) => LIMITS_OFF.to_owned(),
    };
    let start = |trace_log| {
        let (dir, db_url, config) = (dir.path().to_owned(), db_url.clone(), config.clone());
        async move { start_server_with(&dir, db_url.as_deref(), port, &config, &[], trace_log).await }
    };
    let mut server = start(trace_log).await;
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
    let users = Arc::new(register_all(&client, &server.base, &names).await);
    // With a kill: set 1 is given until the kill, set 2 after, so the set-1 items keep each
    // pair's last exchange sent before it (see `Drive::switch_to_set_2`).
    let switch = Arc::new(AtomicBool::new(false));
    if kill {
        create_second_sets(&client, &server.base, &users).await;
    }

    // Phase 1: exchanges (killing and restarting the server half-way when asked).
    let drive = Drive {
        base: server.base.clone(),
        seconds,
        per_second: None,
        // Through a kill, a phone retries with the same key until answered.
        retry_for: kill.then_some(Duration::from_secs(10)),
        duplicates_to: None,
        switch_to_set_2: kill.then(|| switch.clone()),
    };
    let driving = {
        let (client, users) = (client.clone(), users.clone());
        tokio::spawn(async move { drive_exchanges(&client, &users, &drive).await })
    };
    if kill {
        tokio::time::sleep(Duration::from_secs_f64(seconds / 2.0)).await;
        switch.store(true, Ordering::Relaxed);
        server.child.kill().expect("SIGKILL the server");
        let _ = server.child.wait();
        println!("killed the server half-way; restarting on the same data");
        server = start(trace_log).await;
    }
    let driven = driving.await.expect("exchanges");
    report(
        "exchange",
        &mut driven.latencies(),
        driven.errors,
        driven.elapsed,
    );
    if let Some(trace_log) = trace_log {
        // Where the slowest exchange spent its time, from the server's own spans.
        let (slowest_ms, slowest_id) = &driven.slowest;
        let (in_server, spans) = slowest_spans(trace_log, slowest_id, 3);
        let in_server = in_server.map_or("not logged".to_owned(), |ms| format!("{ms:.1} ms"));
        println!(
            "slowest exchange: {slowest_ms:.1} ms at the client, {in_server} in the server (request {slowest_id}); its slowest spans: {}",
            spans
                .iter()
                .map(|(name, ms)| format!("{name} {ms:.1} ms"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // Phase 2: /health at the same concurrency on the same server, for comparison.
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

    let missing = missing_from_inboxes(&client, &server.base, &users, &driven.answered).await;
    println!(
        "verified: {} exchanges answered 2xx, {missing} senders missing from the owners' inboxes afterwards",
        driven.answered.len()
    );
    server.stop();
    if let Some(db) = pg_db {
        db.drop_now().await;
    }
    assert!(!driven.answered.is_empty(), "exchanges were answered");
    assert_eq!(
        driven.errors, 0,
        "every exchange answered (retried through a kill)"
    );
    missing
}
