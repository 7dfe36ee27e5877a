//! Two instances behind a real load balancer, one killed mid-run: PostgreSQL-backed
//! `mingpian-cloud` instances (release build) on one scratch database, rate limits in Redis,
//! HAProxy in front with `scripts/cluster/haproxy.cfg` (the file `scripts/run-cluster.sh`
//! deploys). Users exchange through the balancer while every user's device keeps its live inbox
//! stream open through it; half-way, instance `a` is SIGKILLed and restarted a second later.
//!
//! Checked afterwards:
//! - every exchange answered 2xx is in its owner's inbox;
//! - a client whose attempt failed retries with the same idempotency key until answered, and
//!   every 10th answered exchange is sent again straight to the instance that did not answer it:
//!   the same exchange must come back;
//! - every stream that was cut reconnects (through the balancer, with `Last-Event-ID`), resumes
//!   after its last event, and every owner's stream saw every answered exchange to them.
//!
//! An inbox keeps one item per sender's set, so a later exchange between the same two sets would
//! hide a loss at the kill: users give set 1 until the kill, then set 2, and the set-1 items
//! (frozen from then on) are checked against each pair's last set-1 exchange, sent just before
//! the kill or in flight when it came.
//!
//! The last line reads `cluster: N exchanges answered, lost 0, …`.
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench cluster
//! ```
//! Knobs: MINGPIAN_CLUSTER_USERS (16), MINGPIAN_CLUSTER_SECONDS (20), MINGPIAN_TEST_POSTGRES (the
//! PostgreSQL server, default local), MINGPIAN_REDIS_URL (default redis://127.0.0.1:6379).
//! Needs `haproxy` (Debian's package; scripts/setup.sh installs it).

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{
    Drive, ScratchDb, Server, User, create_second_sets, drive_exchanges, env_or, free_port,
    latest_answered, missing_from_inboxes, percentile, register_all, start_server_with,
    wait_healthy,
};
use futures_util::StreamExt as _;
use mingpian_card::api;

/// Limits on, kept in Redis, set high enough that the benchmark (one address) never meets them:
/// every request still takes its tokens from the shared buckets, as in production.
const CONFIG: &str = "trusted_proxies = [\"127.0.0.1\"]\n[rate_limit]\napi_per_ip = 100000000\napi_per_account = 100000000\nauth_per_ip = 100000\nweb_reply_per_ip = 1000\nweb_card_per_ip = 100000\n";

struct Balancer(Child);

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One instance's fixed arguments, to start it again after the kill.
struct Instance {
    name: &'static str,
    dir: std::path::PathBuf,
    port: u16,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let users_n: usize = env_or("MINGPIAN_CLUSTER_USERS", 16);
    let seconds: f64 = env_or("MINGPIAN_CLUSTER_SECONDS", 20.0);
    let admin = std::env::var("MINGPIAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@localhost:5432/postgres".into());
    let redis =
        std::env::var("MINGPIAN_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db = ScratchDb::create(&admin, "mingpian_cluster").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let lb = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{lb}");
    let instances = [
        Instance {
            name: "a",
            dir: dir.path().join("a"),
            port: free_port(),
        },
        Instance {
            name: "b",
            dir: dir.path().join("b"),
            port: free_port(),
        },
    ];
    let start = |i: &Instance| {
        let env = [
            ("MINGPIAN_REDIS_URL", redis.as_str()),
            ("MINGPIAN_PUBLIC_URL", base.as_str()),
        ];
        let (dir, port, url) = (i.dir.clone(), i.port, db.url.clone());
        async move { start_server_with(&dir, Some(&url), port, CONFIG, &env, None).await }
    };
    let mut servers: Vec<Server> = Vec::new();
    for i in &instances {
        servers.push(start(i).await);
    }
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/cluster/haproxy.cfg"
    );
    // The benchmark's own addition: HAProxy's statistics, to count the requests it replayed.
    let stats_port = free_port();
    let stats_config = dir.path().join("stats.cfg");
    std::fs::write(
        &stats_config,
        format!("frontend stats\n    bind 127.0.0.1:{stats_port}\n    stats enable\n    stats uri /stats\n"),
    )
    .expect("stats config");
    let _balancer = Balancer(
        Command::new("haproxy")
            .args(["-db", "-f", config, "-f"])
            .arg(&stats_config)
            .env("MINGPIAN_LB_LISTEN", &lb)
            .env("MINGPIAN_A", format!("127.0.0.1:{}", instances[0].port))
            .env("MINGPIAN_B", format!("127.0.0.1:{}", instances[1].port))
            .stdout(Stdio::null())
            // Its complaints (a bad configuration, a port taken) are shown, not swallowed.
            .stderr(Stdio::inherit())
            .spawn()
            .expect("haproxy starts (apt-get install haproxy)"),
    );
    assert!(
        wait_healthy(&base, Duration::from_secs(10)).await,
        "the balancer answers"
    );
    println!(
        "cluster: 2 instances (PostgreSQL, rate limits in Redis) behind HAProxy at {base}; {users_n} users, {seconds} s, instance a SIGKILLed half-way"
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(users_n * 4)
        .build()
        .expect("client");
    let names: Vec<String> = (0..users_n).map(|i| format!("Cluster User {i}")).collect();
    let users = Arc::new(register_all(&client, &base, &names).await);
    // Set 1 is given until the kill; set 2 after. The owners' items from set 1 then stop being
    // replaced and hold the last exchanges sent before the kill (items from one set replace each
    // other: without the switch, a loss at the kill would hide behind the pair's next exchange).
    create_second_sets(&client, &base, &users).await;
    let switch = Arc::new(AtomicBool::new(false));

    // Every user's device streams its inbox through the balancer.
    let stop = Arc::new(AtomicBool::new(false));
    let streams: Arc<Vec<std::sync::Mutex<StreamSeen>>> =
        Arc::new((0..users_n).map(|_| Default::default()).collect());
    let tasks: Vec<_> = (0..users_n)
        .map(|me| {
            let (users, streams, stop, base) =
                (users.clone(), streams.clone(), stop.clone(), base.clone());
            tokio::spawn(async move {
                stream_inbox(me, &users, &base, &streams[me], &stop).await;
            })
        })
        .collect();
    // Let every stream connect and read its (empty) inbox before counting where they are.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let on_a: Vec<usize> = (0..users_n)
        .filter(|&i| streams[i].lock().expect("stream").first_on_a)
        .collect();
    let streams_on_a = on_a.len();

    let drive = Drive {
        base: base.clone(),
        seconds,
        per_second: None,
        retry_for: Some(Duration::from_secs(10)),
        duplicates_to: Some((
            10,
            instances
                .iter()
                .map(|i| (i.name.to_owned(), format!("http://127.0.0.1:{}", i.port)))
                .collect(),
        )),
        switch_to_set_2: Some(switch.clone()),
    };
    let driving = {
        let (client, users) = (client.clone(), users.clone());
        tokio::spawn(async move { drive_exchanges(&client, &users, &drive).await })
    };
    tokio::time::sleep(Duration::from_secs_f64(seconds / 2.0)).await;
    // From here on users give set 2: each pair's last set-1 exchange is one sent before the
    // kill, many of them in flight when it came.
    switch.store(true, Ordering::Relaxed);
    let killed = servers.remove(0);
    let pid = killed.child.id();
    killed.stop(); // SIGKILL: no graceful shutdown, requests in flight are cut.
    println!(
        "cluster: SIGKILLed instance a (pid {pid}) at {:.1} s",
        seconds / 2.0
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    servers.insert(0, start(&instances[0]).await);
    println!("cluster: instance a restarted");
    let driven = driving.await.expect("exchanges");
    let around_kill = driven.answered.iter().filter(|a| a.set == 1).count();

    // Streams catch up: every owner's stream must see the latest exchange from each scanner's
    // set (for set 1: the last ones sent before the kill).
    let latest = latest_answered(&driven.answered);
    let waited = Instant::now();
    let stream_missing = loop {
        let missing = latest
            .iter()
            .filter(|((owner, scanner, set), id)| {
                streams[*owner]
                    .lock()
                    .expect("stream")
                    .newest
                    .get(&(*scanner, *set))
                    .is_none_or(|s| s < *id)
            })
            .count();
        if missing == 0 || waited.elapsed() > Duration::from_secs(15) {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    let reconnected_on_a = on_a
        .iter()
        .filter(|&&i| streams[i].lock().expect("stream").reconnects > 0)
        .count();
    let (reconnects, resumed, replayed_old) =
        streams.iter().fold((0, 0, 0), |(r, s, o), stream| {
            let stream = stream.lock().expect("stream");
            (
                r + stream.reconnects,
                s + stream.resumed,
                o + stream.replayed_old,
            )
        });
    let lost = missing_from_inboxes(&client, &base, &users, &driven.answered).await;
    let (replayed, redispatched) = balancer_retries(&client, stats_port).await;
    let mut latencies = driven.latencies();
    latencies.sort_by(f64::total_cmp);
    drop(servers);
    db.drop_now().await;
    println!(
        "exchanges: {around_kill} gave set 1 (sent before the kill; each pair's last one, in flight at the kill or just before, is checked in the owner's set-1 item), {} gave set 2 (sent after)",
        latencies.len() - around_kill
    );
    println!(
        "streams: {users_n} open, {streams_on_a} on instance a when it was killed ({reconnected_on_a} of them reconnected through the balancer); {reconnects} reconnects, {resumed} of them sent Last-Event-ID, {replayed_old} events at or before a resumed stream's Last-Event-ID; {stream_missing} answered exchanges never seen on the owner's stream"
    );
    println!(
        "retries: the balancer retried {replayed} requests ({redispatched} redispatched to the other instance); clients retried {} failed attempts with the same key and gave up on {}; duplicates sent straight to the other instance: {} answered the same exchange, {} another, {} unanswered (that instance was down)",
        driven.retries,
        driven.errors,
        driven.duplicates_same,
        driven.duplicates_other,
        driven.duplicates_failed
    );
    println!(
        "cluster: {} exchanges answered, lost {lost}, {:.0}/s through the balancer, p50 {:.2} ms, p99 {:.2} ms (retries included), {} duplicates answered the same, streams missed {stream_missing}",
        latencies.len(),
        latencies.len() as f64 / driven.elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        driven.duplicates_same,
    );
    assert_eq!(lost, 0, "every answered exchange is in its owner's inbox");
    assert_eq!(
        driven.errors, 0,
        "every exchange is answered after retrying"
    );
    assert_eq!(
        driven.duplicates_other, 0,
        "a duplicate is answered with the same exchange"
    );
    assert!(driven.duplicates_same > 0, "duplicates were sent");
    assert_eq!(stream_missing, 0, "streams miss nothing");
    assert!(around_kill > 0, "exchanges before the kill");
    assert!(streams_on_a > 0, "some stream was on the killed instance");
    assert_eq!(
        reconnected_on_a, streams_on_a,
        "every stream on the killed instance reconnected"
    );
    assert_eq!(
        replayed_old, 0,
        "a resumed stream starts after its last event"
    );
}

/// What one device's live stream saw.
#[derive(Debug, Default)]
struct StreamSeen {
    /// The newest exchange seen from each sender's set: `(scanner, set) -> exchange id`.
    newest: HashMap<(usize, u32), i64>,
    /// Its first connection was answered by instance a.
    first_on_a: bool,
    reconnects: u64,
    /// Reconnections that sent `Last-Event-ID`.
    resumed: u64,
    /// Events at or before the `Last-Event-ID` a stream resumed from (must be 0).
    replayed_old: u64,
}

/// Requests HAProxy retried and redispatched for the `cloud` backend (its CSV statistics'
/// `wretr` and `wredis` columns).
async fn balancer_retries(client: &reqwest::Client, port: u16) -> (u64, u64) {
    let csv = client
        .get(format!("http://127.0.0.1:{port}/stats;csv"))
        .send()
        .await
        .expect("HAProxy statistics")
        .text()
        .await
        .expect("statistics text");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let (Some(wretr), Some(wredis)) = (column("wretr"), column("wredis")) else {
        return (0, 0);
    };
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.first() == Some(&"cloud") && fields.get(1) == Some(&"BACKEND") {
            let number = |i: usize| fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
            return (number(wretr), number(wredis));
        }
    }
    (0, 0)
}

/// Keeps `me`'s live inbox stream open until `stop`, reconnecting with `Last-Event-ID` when it is
/// cut, and records what it saw.
async fn stream_inbox(
    me: usize,
    users: &[User],
    base: &str,
    seen: &std::sync::Mutex<StreamSeen>,
    stop: &AtomicBool,
) {
    let client = reqwest::Client::new();
    let by_name: HashMap<&str, usize> = users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.name.as_str(), i))
        .collect();
    let mut last_id: Option<i64> = None;
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        let mut request = client
            .get(format!("{base}/api/v1/inbox/stream"))
            .bearer_auth(&users[me].token);
        if let Some(id) = last_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = match request.send().await {
            Ok(r) if r.status().is_success() => r,
            _ => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let resumed_from = if first {
            first = false;
            seen.lock().expect("stream").first_on_a = response
                .headers()
                .get("x-served-by")
                .is_some_and(|v| v == "a");
            None
        } else {
            let mut s = seen.lock().expect("stream");
            s.reconnects += 1;
            if last_id.is_some() {
                s.resumed += 1;
            }
            last_id
        };
        let mut body = response.bytes_stream();
        let mut buffer: Vec<u8> = Vec::new();
        let (mut event_id, mut data) = (None::<i64>, String::new());
        while let Some(Ok(chunk)) = body.next().await {
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
                let line = String::from_utf8_lossy(&buffer[..end])
                    .trim_end_matches('\r')
                    .to_owned();
                buffer.drain(..=end);
                if line.is_empty() {
                    // End of an event.
                    if let Ok(item) = serde_json::from_str::<api::InboxItem>(&data)
                        && let (Some(&scanner), Some(id), Some(set)) = (
                            by_name.get(item.card.formatted_name.as_str()),
                            item.exchange_id,
                            item.from_set,
                        )
                    {
                        let mut s = seen.lock().expect("stream");
                        let slot = s.newest.entry((scanner, set.get())).or_default();
                        *slot = (*slot).max(id);
                        if resumed_from.is_some_and(|from| item.cursor <= from) {
                            s.replayed_old += 1;
                        }
                    }
                    if event_id.is_some() {
                        last_id = event_id.take();
                    }
                    data.clear();
                } else if let Some(v) = line.strip_prefix("id:") {
                    event_id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
        }
    }
}
