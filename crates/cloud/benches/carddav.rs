//! CardDAV at 10,000 contacts, against a release `mingpian-cloud` process on SQLite (or
//! PostgreSQL with `MINGPIAN_DAV_DB`), loopback, wall time (the server's time plus the transfer):
//! - the build: making the first app password starts building the account's address book from
//!   its wallet records in the background; the first listing waits for it;
//! - a new client's first sync: `sync-collection` from nothing, then one `addressbook-multiget`
//!   of every entry, with the server's peak RSS (VmHWM, reset after the setup);
//! - an incremental sync after one change in the wallet (the refresh, the listing, the fetch);
//! - the baseline, on the same server in the same run: the wallet's own restore of the same
//!   records through its sync API (every page of `GET /api/v1/sync` from 0).
//!
//! ```text
//! cargo bench -p mingpian-cloud --bench carddav      # MINGPIAN_DAV_CONTACTS to change 10,000
//! MINGPIAN_DAV_DB=postgres://postgres@localhost/postgres cargo bench -p mingpian-cloud --bench carddav
//! ```
//! Goals (issue 14): initial ≤ 2 s and ≤ 200 MB; incremental ≤ 20 ms.

mod common;

use std::time::Instant;

use common::{ScratchDb, env_or, free_port, register_all, start_server};
use serde_json::{Value, json};

const BOOK: &str = "/dav/addressbooks/wallet/";

/// The wallet records of contact `i`: the contact, one card, its version and a meeting.
fn records(i: usize) -> Vec<Value> {
    let (contact, card) = (format!("c{i:06}"), format!("k{i:06}"));
    vec![
        json!({ "kind": "contact", "id": contact, "modified_at": 1, "data": {
            "note": if i.is_multiple_of(7) { "met at the Canton Fair" } else { "" },
            "tags": if i.is_multiple_of(5) { vec!["client"] } else { vec![] }, "created_at": 1 } }),
        json!({ "kind": "card", "id": card, "modified_at": 1, "data": {
            "contact_id": contact, "source": "exchange", "full": true, "version": 1,
            "linked_by": "new", "received_at": 1, "trust": "verified" } }),
        json!({ "kind": "card_version", "id": format!("{card}.1"), "modified_at": 1, "data": {
            "card_id": card, "seq": 1, "version": 1, "received_at": 1, "card": {
                "formatted_name": format!("Contact {i:05}"),
                "name": { "family": "Contact", "given": format!("{i:05}") },
                "org": format!("Company {}", i % 300), "title": "Sales Manager",
                "phones": [{ "value": format!("+86 138 {:04} {:04}", i / 10_000, i % 10_000), "kinds": ["cell"] },
                           { "value": format!("+86 10 6{:03} {:04}", i % 1000, i % 10_000), "kinds": ["work"] }],
                "emails": [{ "value": format!("contact{i}@company{}.example", i % 300) }],
                "addresses": [{ "street": format!("{} Jianguo Road", i % 200), "locality": "Beijing", "country": "China" }],
                "urls": [{ "value": format!("https://company{}.example", i % 300) }] } } }),
        json!({ "kind": "event", "id": format!("e{i:06}"), "modified_at": 1, "data": {
            "contact_id": contact, "card_id": card, "kind": "received", "at": 1 } }),
    ]
}

fn hrefs(text: &str) -> Vec<String> {
    text.split("<d:href>")
        .skip(1)
        .filter_map(|s| s.split("</d:href>").next())
        .map(str::to_owned)
        .collect()
}

fn token(text: &str) -> String {
    text.split("<d:sync-token>")
        .nth(1)
        .and_then(|s| s.split("</d:sync-token>").next())
        .unwrap_or_default()
        .to_owned()
}

/// A request's answer, read as text.
async fn text(req: reqwest::RequestBuilder) -> String {
    req.send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body")
}

/// A request's answer, read as JSON.
async fn json_of(req: reqwest::RequestBuilder) -> Value {
    req.send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

fn reset_peak(pid: u32) {
    // Writing 5 to clear_refs resets VmHWM (Linux ≥ 4.0).
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let contacts: usize = env_or("MINGPIAN_DAV_CONTACTS", 10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let scratch = match std::env::var("MINGPIAN_DAV_DB") {
        Ok(admin) => Some(ScratchDb::create(&admin, "mingpian_dav").await),
        Err(_) => None,
    };
    let database_url = scratch.as_ref().map(|db| db.url.clone());
    let server = start_server(dir.path(), database_url.as_deref(), free_port()).await;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let user = register_all(&client, &base, &["Zhang Wei".to_owned()])
        .await
        .remove(0);
    let all: Vec<Value> = (0..contacts).flat_map(records).collect();
    for chunk in all.chunks(1000) {
        let r = client
            .post(format!("{base}/api/v1/sync"))
            .bearer_auth(&user.token)
            .json(&json!({ "changes": chunk }))
            .send()
            .await
            .expect("push");
        assert!(r.status().is_success(), "push: {}", r.status());
    }
    println!(
        "CardDAV, {}, {contacts} contacts ({} wallet records)",
        if scratch.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        all.len()
    );
    // Baseline: the wallet's own restore of the same records from the same server.
    let started = Instant::now();
    let (mut after, mut restored) = (0i64, 0usize);
    loop {
        let page: Value = json_of(
            client
                .get(format!("{base}/api/v1/sync?after={after}&limit=1000"))
                .bearer_auth(&user.token),
        )
        .await;
        restored += page["records"].as_array().map_or(0, Vec::len);
        after = page["next_cursor"].as_i64().unwrap_or(after);
        if page["more"] != true {
            break;
        }
    }
    let baseline = started.elapsed();
    println!(
        "baseline   sync API restore of {restored} records: {:.0} ms",
        baseline.as_secs_f64() * 1e3
    );

    let made: Value = json_of(
        client
            .post(format!("{base}/api/v1/carddav/passwords"))
            .bearer_auth(&user.token)
            .json(&json!({ "label": "bench" })),
    )
    .await;
    let password = made["password"].as_str().expect("password").to_owned();
    // A REPORT on the address book, answered as text.
    let report = |body: String| {
        text(
            client
                .request(
                    reqwest::Method::from_bytes(b"REPORT").expect("method"),
                    format!("{base}{BOOK}"),
                )
                .basic_auth("Zhang Wei", Some(&password))
                .header("Depth", "1")
                .body(body),
        )
    };
    let sync_body = |t: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{t}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let multiget_body = |hrefs: &[String]| {
        let mut b = String::from(
            r#"<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop>"#,
        );
        for h in hrefs {
            b.push_str(&format!("<d:href>{h}</d:href>"));
        }
        b.push_str("</c:addressbook-multiget>");
        b
    };

    // Making the app password starts building the address book in the background; the first
    // listing waits for the build (the same lock), so its time is the build's.
    let pid = server.child.id();
    reset_peak(pid);
    let (rss_before, _) = server.memory_mb();
    let built_at = Instant::now();
    let first = report(sync_body("")).await;
    let build = built_at.elapsed();
    assert_eq!(hrefs(&first).len(), contacts, "every contact listed");
    println!(
        "build      the address book of {contacts} contacts, from the app password's creation to the first listing: {:.0} ms (once per account, off the request path, one page of records per transaction)",
        build.as_secs_f64() * 1e3
    );

    // A new client's first sync: list everything, then fetch everything.
    let started = Instant::now();
    let listed = report(sync_body("")).await;
    let listing = started.elapsed();
    let all_hrefs = hrefs(&listed);
    let first_token = token(&listed);
    let started = Instant::now();
    let fetched = report(multiget_body(&all_hrefs)).await;
    let multiget = started.elapsed();
    let (_, peak) = server.memory_mb();
    let cards = fetched.matches("BEGIN:VCARD").count();
    assert_eq!(all_hrefs.len(), contacts, "every contact listed");
    assert_eq!(cards, contacts, "every contact fetched");
    let initial = listing + multiget;
    println!(
        "initial    a new client: sync-collection {:.0} ms ({} entries) + multiget {:.0} ms ({cards} vCards, {:.1} MB) = {:.0} ms; server RSS {rss_before:.0} MB before the build, peak {peak:.0} MB (goal ≤ 2,000 ms, ≤ 200 MB)",
        listing.as_secs_f64() * 1e3,
        all_hrefs.len(),
        multiget.as_secs_f64() * 1e3,
        fetched.len() as f64 / 1e6,
        initial.as_secs_f64() * 1e3,
    );

    // Incremental: one contact's note changes in the wallet; the address book asks what
    // changed since its token and fetches that one entry. Five rounds.
    let mut times = Vec::new();
    let mut sync_token = first_token;
    let first: Value = json_of(
        client
            .get(format!("{base}/api/v1/sync?after=0&limit=1"))
            .bearer_auth(&user.token),
    )
    .await;
    let mut record = first["records"][0].clone();
    assert_eq!(record["kind"], "contact");
    for round in 0..5 {
        let mut change = record.clone();
        change["base_version"] = record["version"].clone();
        change["modified_at"] = json!(10 + round);
        change["data"]["note"] = json!(format!("edited {round}"));
        let r: Value = json_of(
            client
                .post(format!("{base}/api/v1/sync"))
                .bearer_auth(&user.token)
                .json(&json!({ "changes": [change] })),
        )
        .await;
        assert_eq!(r["results"][0]["accepted"], true, "{r}");
        record = r["results"][0]["record"].clone();
        let started = Instant::now();
        let changes = report(sync_body(&sync_token)).await;
        let changed = hrefs(&changes);
        let one = report(multiget_body(&changed)).await;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(changed.len(), 1, "one change: {changes}");
        assert!(one.contains(&format!("NOTE:edited {round}")));
        sync_token = token(&changes);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "incremental one change, sync-collection + multiget: median {:.1} ms, best {:.1} ms, worst {:.1} ms over 5 rounds (goal ≤ 20 ms)",
        times[2], times[0], times[4]
    );
    server.stop();
    if let Some(db) = scratch {
        db.drop_now().await;
    }
}
