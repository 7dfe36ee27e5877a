//! Flood: one account sends exchanges to one owner as fast as it can while other users go on
//! exchanging, against a release `mingpian-cloud` process (rate limits off: the worst case, an
//! attacker with addresses and accounts to spare). Prints, beside the same users' figures
//! without the flood (the baseline, measured first in the same run): the others' p50/p99, the
//! flooded owner's inbox (items and bytes), and the server's memory.
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench flood        # 60 s flood; MINGPIAN_FLOOD_SECONDS to change
//! ```
//! Goals (issue 11): RSS under 300 MB, the others' p99 under 50 ms.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{User, env_or, free_port, register_all, report, start_server};
use mingpian_card::api;
use serde_json::json;
use tokio::sync::Mutex;

/// Others exchange at this pace each (a busy event, not a benchmark of throughput).
const OTHERS_PER_SECOND: f64 = 20.0;

/// The other users exchanging among themselves until `stop`; their latencies (ms) and errors.
fn others_exchange(
    client: &reqwest::Client,
    base: &str,
    others: &Arc<Vec<User>>,
    phase: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(Vec<f64>, u64)>> {
    (0..others.len())
        .map(|me| {
            let (client, base, others, stop) =
                (client.clone(), base.to_owned(), others.clone(), stop.clone());
            let phase = phase.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut n = 0usize;
                let mut tick =
                    tokio::time::interval(Duration::from_secs_f64(1.0 / OTHERS_PER_SECOND));
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    n += 1;
                    let other = (me + 1 + n % (others.len() - 1)) % others.len();
                    let start = Instant::now();
                    let r = client
                        .post(format!("{base}/api/v1/exchanges"))
                        .bearer_auth(&others[me].token)
                        .json(&json!({ "scanned": others[other].live_url, "give_set": 1, "idempotency_key": format!("{phase}-{me}-{n}") }))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            latencies.push(start.elapsed().as_secs_f64() * 1e3)
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect()
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<(Vec<f64>, u64)>>) -> (Vec<f64>, u64) {
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("worker");
        all.extend(l);
        errors += e;
    }
    (all, errors)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seconds: f64 = env_or("MINGPIAN_FLOOD_SECONDS", 60.0);
    let baseline_seconds: f64 = env_or("MINGPIAN_FLOOD_BASELINE_SECONDS", 15.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(dir.path(), None, free_port()).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let mut names = vec!["Flood Owner".to_owned(), "Flood Attacker".to_owned()];
    names.extend((0..8).map(|i| format!("Other User {i}")));
    let mut users = register_all(&client, &server.base, &names).await;
    let others = Arc::new(users.split_off(2));
    let (owner, attacker) = (users[0].clone(), users[1].clone());
    println!(
        "SQLite, {} other users at {OTHERS_PER_SECOND}/s each; baseline {baseline_seconds} s, then a {seconds} s flood",
        others.len()
    );

    // Baseline: the others alone.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks = others_exchange(&client, &server.base, &others, "base", &stop);
    tokio::time::sleep(Duration::from_secs_f64(baseline_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut base_lat, base_err) = collect(tasks).await;
    report(
        "baseline",
        &mut base_lat,
        base_err,
        started.elapsed().as_secs_f64(),
    );
    let (rss_before, _) = server.memory_mb();

    // The flood: the attacker on 8 connections, new idempotency keys every time, while the
    // others go on.
    let stop = Arc::new(AtomicBool::new(false));
    let flooded = Arc::new(AtomicU64::new(0));
    let flood_errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks = others_exchange(&client, &server.base, &others, "flood", &stop);
    let attackers: Vec<_> = (0..8)
        .map(|c| {
            let (client, base, stop, flooded, flood_errors) = (
                client.clone(),
                server.base.clone(),
                stop.clone(),
                flooded.clone(),
                flood_errors.clone(),
            );
            let (token, code) = (attacker.token.clone(), owner.printed_url.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let r = client
                        .post(format!("{base}/api/v1/exchanges"))
                        .bearer_auth(&token)
                        .json(&json!({ "scanned": code, "give_set": 1, "idempotency_key": format!("attack-{c}-{n}") }))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            flooded.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            flood_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    let peak_rss = Arc::new(Mutex::new(0.0f64));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (rss, _) = server.memory_mb();
        let mut peak = peak_rss.lock().await;
        *peak = peak.max(rss);
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.await.expect("attacker");
    }
    let (mut flood_lat, flood_err) = collect(tasks).await;
    let elapsed = started.elapsed().as_secs_f64();
    report("flooded", &mut flood_lat, flood_err, elapsed);
    println!(
        "attacker   {:>8.0} exchanges/s answered ({} in all, {} errors)",
        flooded.load(Ordering::Relaxed) as f64 / elapsed,
        flooded.load(Ordering::Relaxed),
        flood_errors.load(Ordering::Relaxed)
    );

    // The owner's inbox after the flood.
    let mut items = 0usize;
    let mut bytes = 0usize;
    let mut after = 0i64;
    loop {
        let page: api::InboxPage = client
            .get(format!(
                "{}/api/v1/inbox?after={after}&limit=500",
                server.base
            ))
            .bearer_auth(&owner.token)
            .send()
            .await
            .expect("inbox")
            .json()
            .await
            .expect("page");
        if page.items.is_empty() {
            break;
        }
        items += page.items.len();
        bytes += page
            .items
            .iter()
            .map(|i| serde_json::to_string(&i.card).map_or(0, |s| s.len()))
            .sum::<usize>();
        after = page.next_cursor;
    }
    let (rss_end, hwm) = server.memory_mb();
    println!("owner      inbox {items} item(s), {bytes} bytes of cards");
    println!(
        "server     RSS {rss_before:.0} MB before the flood, peak {:.0} MB during, {rss_end:.0} MB after (VmHWM {hwm:.0} MB)",
        *peak_rss.lock().await
    );
    let db = dir.path().join("mingpian.sqlite3");
    let db_mb = std::fs::metadata(&db).map_or(0, |m| m.len()) as f64 / 1e6;
    let wal_mb = std::fs::metadata(dir.path().join("mingpian.sqlite3-wal")).map_or(0, |m| m.len())
        as f64
        / 1e6;
    println!("database   {db_mb:.1} MB (+ {wal_mb:.1} MB WAL)");
    server.stop();
}
