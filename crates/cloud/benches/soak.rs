//! Soak: exchanges at a steady rate for minutes against the release server, to see what time
//! does to it. Prints a table, one row per minute: exchanges/s, p50 and p99 latency (from when
//! each exchange was due, so a stall counts for every exchange it held up; rows by due time) and
//! the server's resident memory; then whether it held steady (0 errors, the last minute's p99
//! within 20 % of the first's, RSS grown at most 10 % from the end of the first minute) and that
//! every answered exchange is in its owner's inbox. Bounded: it stops after its minutes.
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench soak          # 10 minutes at 300 exchanges/s, SQLite
//! MINGPIAN_SOAK_DB=postgres://postgres@localhost:5432/postgres cargo bench -p mingpian-cloud --bench soak
//! ```
//! Knobs: MINGPIAN_SOAK_MINUTES (10), MINGPIAN_SOAK_RATE (300), MINGPIAN_SOAK_USERS (30).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    Drive, ScratchDb, drive_exchanges, env_or, free_port, missing_from_inboxes, percentile,
    register_all, start_server,
};

/// Resident memory of process `pid`, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let minutes: usize = env_or("MINGPIAN_SOAK_MINUTES", 10);
    let rate: f64 = env_or("MINGPIAN_SOAK_RATE", 300.0);
    let users_n: usize = env_or("MINGPIAN_SOAK_USERS", 30);
    let dir = tempfile::tempdir().expect("temp dir");
    let pg_db = match std::env::var("MINGPIAN_SOAK_DB").ok() {
        Some(admin) => Some(ScratchDb::create(&admin, "mingpian_soak").await),
        None => None,
    };
    let server = start_server(
        dir.path(),
        pg_db.as_ref().map(|db| db.url.as_str()),
        free_port(),
    )
    .await;
    println!(
        "soak: {minutes} min at {rate} exchanges/s, {users_n} users, {} release server",
        if pg_db.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(users_n * 2)
        .build()
        .expect("client");
    let names: Vec<String> = (0..users_n).map(|i| format!("Soak User {i}")).collect();
    let users = Arc::new(register_all(&client, &server.base, &names).await);

    // The server's memory at the end of each minute.
    let pid = server.child.id();
    let sampler = tokio::spawn(async move {
        let mut rss = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.tick().await;
        for _ in 0..minutes {
            tick.tick().await;
            rss.push(rss_mb(pid));
        }
        rss
    });
    let drive = Drive {
        base: server.base.clone(),
        seconds: minutes as f64 * 60.0,
        per_second: Some(rate),
        retry_for: None,
        duplicates_to: None,
        switch_to_set_2: None,
    };
    let driven = drive_exchanges(&client, &users, &drive).await;
    let rss = sampler.await.expect("sampler");

    println!("minute  exchanges/s  p50 ms  p99 ms  RSS MB");
    let mut p99s = Vec::new();
    for minute in 0..minutes {
        let mut lat: Vec<f64> = driven
            .answered
            .iter()
            .filter(|a| a.at >= minute as f64 * 60.0 && a.at < (minute + 1) as f64 * 60.0)
            .map(|a| a.ms)
            .collect();
        lat.sort_by(f64::total_cmp);
        let p99 = percentile(&lat, 0.99);
        p99s.push(p99);
        println!(
            "{:>6}  {:>11.1}  {:>6.2}  {:>6.2}  {:>6.1}",
            minute + 1,
            lat.len() as f64 / 60.0,
            percentile(&lat, 0.50),
            p99,
            rss.get(minute).copied().unwrap_or(f64::NAN)
        );
    }
    let missing = missing_from_inboxes(&client, &server.base, &users, &driven.answered).await;
    let (first_p99, last_p99) = (p99s[0], p99s[minutes - 1]);
    let (first_rss, last_rss) = (rss[0], rss[minutes - 1]);
    let p99_change = (last_p99 / first_p99 - 1.0) * 100.0;
    let rss_growth = (last_rss / first_rss - 1.0) * 100.0;
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "soak: {} exchanges answered, {} errors, {missing} missing from inboxes; p99 last minute {last_p99:.2} ms vs first {first_p99:.2} ms ({p99_change:+.0} %, goal within 20 %: {}); RSS {first_rss:.1} -> {last_rss:.1} MB ({rss_growth:+.1} %, goal at most +10 %: {})",
        driven.answered.len(),
        driven.errors,
        verdict(p99_change.abs() <= 20.0),
        verdict(rss_growth <= 10.0),
    );
    server.stop();
    if let Some(db) = pg_db {
        db.drop_now().await;
    }
    assert_eq!(driven.errors, 0, "no errors");
    assert_eq!(
        missing, 0,
        "every answered exchange is in its owner's inbox"
    );
}
