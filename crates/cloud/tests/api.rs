//! The cloud over real HTTP, on SQLite and on PostgreSQL: accounts, sets with images, both code
//! kinds, the two-way exchange, live delivery, catch-up, idempotent retries, rotation, the web
//! card, escaping, rate limits.

use std::time::Duration;

use futures_util::StreamExt as _;
use mingpian_card::api;
use mingpian_card::vcard;
use serde_json::{Value, json};

use mingpian_testkit::{Backend, TestCloud as TestApp, on_both_backends};

on_both_backends!(
    accounts_log_in_by_name_phone_or_email_and_manage_devices,
    card_sets_store_cards_and_reencode_images,
    live_code_exchange_gives_both_cards_and_streams_to_the_owner,
    printed_code_shows_only_printed_fields_but_still_delivers,
    retried_exchange_never_makes_two,
    concurrent_deliveries_keep_the_inbox_totals_exact,
    inbox_catches_up_from_a_cursor,
    rotated_code_answers_gone,
    web_card_page_vcf_and_share_back,
    card_fields_are_escaped_on_the_web_page,
    concurrent_edits_from_two_devices_resolve_the_same_either_way,
    a_new_device_restores_the_whole_wallet,
    holders_get_the_new_version_after_the_owner_edits,
);

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

async fn accounts_log_in_by_name_phone_or_email_and_manage_devices(app: &TestApp) {
    let session = app.register("Zhang Wei", "138 0013 8000").await;
    assert_eq!(
        session.account.phone.as_deref(),
        Some("+8613800138000"),
        "the phone is stored in E.164"
    );
    assert!(
        session.account.public_id.as_str().len() >= 16,
        "an unguessable public ID"
    );

    for login in ["zhang wei", "+86 138-0013-8000", "ZHANG.WEI@example.com"] {
        let response = app.login(json!({ "login": login, "password": "correct horse battery", "device_name": "tablet" })).await;
        assert_eq!(response.status(), 200, "log in with {login:?}");
    }
    let wrong_password = app
        .login(json!({ "login": "zhang wei", "password": "wrong password" }))
        .await;
    let unknown_account = app
        .login(json!({ "login": "nobody here", "password": "wrong password" }))
        .await;
    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_account.status(), 401);
    let (a, b): (Value, Value) = (
        wrong_password.json().await.expect("json"),
        unknown_account.json().await.expect("json"),
    );
    assert_eq!(
        a, b,
        "a wrong password and an unknown account read the same"
    );

    let taken = app
        .client
        .post(app.url("/api/v1/accounts"))
        .json(&json!({ "name": "Someone Else", "phone": "13800138000", "password": "long enough pw" }))
        .send()
        .await
        .expect("register");
    assert_eq!(
        taken.status(),
        409,
        "a phone already in use cannot register again"
    );

    let devices: Vec<api::Device> = app
        .get(&session.token, "/api/v1/devices")
        .await
        .json()
        .await
        .expect("devices");
    assert_eq!(devices.len(), 4, "the first device and three log-ins");
    assert_eq!(devices.iter().filter(|d| d.current).count(), 1);
    let other = devices.iter().find(|d| !d.current).expect("another device");
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/devices/{}", other.id)))
        .bearer_auth(&session.token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    let devices: Vec<api::Device> = app
        .get(&session.token, "/api/v1/devices")
        .await
        .json()
        .await
        .expect("devices");
    assert_eq!(devices.len(), 3, "the logged-out device is gone");
    assert_eq!(app.get("not-a-token", "/api/v1/me").await.status(), 401);
}

async fn card_sets_store_cards_and_reencode_images(app: &TestApp) {
    let session = app.register("Li Na", "139 1000 2000").await;
    let sets: Vec<api::CardSet> = app
        .get(&session.token, "/api/v1/sets")
        .await
        .json()
        .await
        .expect("sets");
    assert_eq!(
        sets.len(),
        1,
        "registration creates the first card set (claim 5)"
    );
    assert_eq!(sets[0].card.formatted_name, "Li Na");

    let photo = png(3000, 1000);
    let card = json!({
        "formatted_name": "李娜 Li Na",
        "org": "名片科技", "title": "CTO",
        "phones": [{"value": "+86 139 1000 2000", "kinds": ["cell"]}],
        "emails": [{"value": "li.na@example.com"}],
        "photo": {"kind": "inline", "mime": "image/png", "data": base64(&photo)},
        "card_images": [{"kind": "inline", "mime": "image/png", "data": base64(&png(600, 350))}],
    });
    let response = app
        .put(&session.token, "/api/v1/sets/1", &json!({ "card": card }))
        .await;
    assert_eq!(response.status(), 200);
    let set: api::CardSet = response.json().await.expect("set");
    assert_eq!(set.version, 2, "an edit raises the version");
    let Some(mingpian_card::Media::Inline { data, mime }) = &set.card.photo else {
        panic!("photo kept inline")
    };
    assert_eq!(mime.as_deref(), Some("image/png"));
    assert_ne!(
        data, &photo,
        "the picture is re-encoded, never stored as uploaded"
    );
    let decoded = image::load_from_memory(data).expect("stored photo decodes");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (2048, 683),
        "large pictures are scaled to 2048 px"
    );

    let not_image = json!({ "card": { "formatted_name": "X", "photo": {"kind": "inline", "mime": "image/png", "data": base64(b"<script>")} } });
    assert_eq!(
        app.put(&session.token, "/api/v1/sets/1", &not_image)
            .await
            .status(),
        422,
        "a fake picture is refused"
    );
    let too_big = json!({ "card": { "formatted_name": "X", "photo": {"kind": "inline", "data": base64(&vec![0u8; 5 * 1024 * 1024 + 1])} } });
    assert_eq!(
        app.put(&session.token, "/api/v1/sets/1", &too_big)
            .await
            .status(),
        413,
        "over 5 MB is refused"
    );

    let response = app.post(&session.token, "/api/v1/sets", &json!({ "card": { "formatted_name": "Li Na (personal)" }, "printed_fields": ["name"] })).await;
    assert_eq!(response.status(), 201);
    let second: api::CardSet = response.json().await.expect("set");
    assert_eq!(second.set_no.get(), 2, "the next free set number");

    let codes = app.codes(&session.token, 2).await;
    let printed = mingpian_card::CardLink::parse(&codes.printed_url)
        .expect("valid")
        .expect("a link");
    assert_eq!(printed.set_no.get(), 2);
    let first = mingpian_card::CardLink::parse(&app.codes(&session.token, 1).await.printed_url)
        .expect("valid")
        .expect("a link");
    assert_ne!(
        printed.public_id, session.account.public_id,
        "a code carries its set's own random id and the set number (claim 6), never the account's"
    );
    assert_ne!(
        printed.public_id, first.public_id,
        "so one set's printed code does not lead to another set"
    );
    assert!(printed.token.is_none());
    let live = mingpian_card::CardLink::parse(&codes.live_url)
        .expect("valid")
        .expect("a link");
    assert!(live.token.is_some(), "the live code carries a token");
    assert!(codes.live_expires_at > mingpian_cloud::store::now_ms());
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reads SSE events from a response until `count` cards arrived or `wait` passed.
async fn read_events(
    response: reqwest::Response,
    count: usize,
    wait: Duration,
) -> Vec<api::InboxItem> {
    let mut items = Vec::new();
    let mut buffer = String::new();
    let mut body = response.bytes_stream();
    let deadline = tokio::time::Instant::now() + wait;
    while items.len() < count {
        let Ok(Some(chunk)) = tokio::time::timeout_at(deadline, body.next()).await else {
            break;
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk.expect("stream chunk")));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    items.push(serde_json::from_str(data.trim()).expect("event is an inbox item"));
                }
            }
        }
    }
    items
}

async fn live_code_exchange_gives_both_cards_and_streams_to_the_owner(app: &TestApp) {
    let a = app.register("Alice Chen", "138 0000 0001").await;
    let b = app.register("Bob Wang", "138 0000 0002").await;
    // A shows the QR: the app holds the stream open.
    let stream = app.get(&a.token, "/api/v1/inbox/stream").await;
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // The stream subscribes before it answers and reads the inbox from the start: no wait
    // is needed before the exchange.
    let listener = tokio::spawn(read_events(stream, 1, Duration::from_secs(10)));

    let codes = app.codes(&a.token, 1).await;
    let response = app
        .exchange(&b.token, &codes.live_url, 1, "exchange-live-0001")
        .await;
    assert_eq!(response.status(), 200);
    let exchange: api::Exchange = response.json().await.expect("exchange");
    assert!(exchange.full, "a live code gives the whole card");
    assert_eq!(exchange.card.formatted_name, "Alice Chen");
    assert_eq!(
        exchange.card.phones[0].value, "+8613800000001",
        "the whole card includes the phone"
    );
    assert_ne!(
        exchange.owner, a.account.public_id,
        "the answer names the set's own id, not the account's"
    );

    let arrived = listener.await.expect("listener");
    assert_eq!(
        arrived.len(),
        1,
        "A's open stream received B's card without asking"
    );
    assert_eq!(arrived[0].card.formatted_name, "Bob Wang");
    let from = arrived[0]
        .from
        .as_ref()
        .expect("the card came from an account");
    assert_ne!(
        from, &b.account.public_id,
        "the inbox never shows the sender's account id"
    );
    assert_eq!(arrived[0].exchange_id, Some(exchange.exchange_id));

    // And the other way round: A scans B.
    let codes_b = app.codes(&b.token, 1).await;
    let response = app
        .exchange(&a.token, &codes_b.live_url, 1, "exchange-live-0002")
        .await;
    assert_eq!(response.status(), 200);
    let back: api::Exchange = response.json().await.expect("exchange");
    assert_eq!(back.card.formatted_name, "Bob Wang");
    let inbox_b = app.inbox(&b.token, 0).await;
    assert_eq!(inbox_b.items.len(), 1, "B received A's card");
    assert_eq!(inbox_b.items[0].card.formatted_name, "Alice Chen");

    let own = app
        .exchange(&a.token, &codes.live_url, 1, "exchange-own-0001")
        .await;
    assert_eq!(own.status(), 422, "scanning one's own code is refused");
    let not_card = app
        .exchange(
            &a.token,
            "https://example.com/hello",
            1,
            "exchange-bad-0001",
        )
        .await;
    assert_eq!(not_card.status(), 422);
    let body: api::ApiError = not_card.json().await.expect("error body");
    assert_eq!(body.code, api::ErrorCode::Invalid);
    assert_eq!(body.message, "this is not a business card code");
}

async fn printed_code_shows_only_printed_fields_but_still_delivers(app: &TestApp) {
    let a = app.register("Carol Liu", "138 0000 0003").await;
    let b = app.register("Dan Zhao", "138 0000 0004").await;
    let codes = app.codes(&a.token, 1).await;
    let response = app
        .exchange(&b.token, &codes.printed_url, 1, "exchange-printed-1")
        .await;
    assert_eq!(response.status(), 200);
    let exchange: api::Exchange = response.json().await.expect("exchange");
    assert!(!exchange.full);
    assert_eq!(exchange.card.formatted_name, "Carol Liu");
    assert!(
        exchange.card.phones.is_empty(),
        "a printed code does not show the mobile number by default"
    );
    assert_eq!(exchange.card.emails.len(), 1, "but does show the email");
    let inbox = app.inbox(&a.token, 0).await;
    assert_eq!(
        inbox.items.len(),
        1,
        "the owner still receives the scanner's card"
    );
    assert_eq!(
        inbox.items[0].card.phones[0].value, "+8613800000004",
        "the scanner gives their whole card"
    );

    // An expired or forged live token counts as a printed code, not an error.
    let forged = format!("{}?t=1.AAAAAAAAAAAAAAAAAAAAAA", codes.printed_url);
    let response = app
        .exchange(&b.token, &forged, 1, "exchange-forged-1")
        .await;
    let exchange: api::Exchange = response.json().await.expect("exchange");
    assert!(!exchange.full, "a forged token gives only printed fields");
}

async fn retried_exchange_never_makes_two(app: &TestApp) {
    let a = app.register("Eve Sun", "138 0000 0005").await;
    let b = app.register("Frank Ma", "138 0000 0006").await;
    let codes = app.codes(&a.token, 1).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = app
            .exchange(&b.token, &codes.live_url, 1, "same-key-123456")
            .await;
        assert_eq!(response.status(), 200);
        ids.push(
            response
                .json::<api::Exchange>()
                .await
                .expect("exchange")
                .exchange_id,
        );
    }
    // Concurrent retries too.
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (client, url, token, live) = (app.client.clone(), app.url("/api/v1/exchanges"), b.token.clone(), codes.live_url.clone());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "scanned": live, "give_set": 1, "idempotency_key": "same-key-123456" }))
                    .send()
                    .await
                    .expect("post");
                r.json::<api::Exchange>().await.expect("exchange").exchange_id
            })
        })
        .collect();
    for task in tasks {
        ids.push(task.await.expect("task"));
    }
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every retry answers the same exchange: {ids:?}"
    );
    assert_eq!(
        app.inbox(&a.token, 0).await.items.len(),
        1,
        "the owner received the card once"
    );
}

/// Many scanners, each from two devices at once, exchange with one owner while the owner's
/// items are replaced under them: one item per sender, and the owner's running totals (what
/// the caps are checked against) equal what the inbox holds.
async fn concurrent_deliveries_keep_the_inbox_totals_exact(app: &TestApp) {
    use sqlx::Connection as _;
    let owner = app.register("Busy Owner", "138 0000 0701").await;
    let live = app.codes(&owner.token, 1).await.live_url;
    let mut scanners = Vec::new();
    for i in 0..5 {
        scanners.push(
            app.register(&format!("Busy Scanner {i}"), &format!("138 0000 071{i}"))
                .await,
        );
    }
    let tasks: Vec<_> = scanners
        .iter()
        .flat_map(|s| (0..8).map(move |n| (s.token.clone(), n)))
        .map(|(token, n)| {
            let (client, url, live) = (app.client.clone(), app.url("/api/v1/exchanges"), live.clone());
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "scanned": live, "give_set": 1, "idempotency_key": format!("busy-key-{n:04}") }))
                    .send()
                    .await
                    .expect("post")
                    .status()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task"), 200);
    }
    let inbox = app.inbox(&owner.token, 0).await;
    assert_eq!(inbox.items.len(), 5, "one item per sender");
    assert!(
        inbox.items.windows(2).all(|w| w[0].cursor < w[1].cursor),
        "cursors ascend"
    );
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url())
        .await
        .expect("database");
    let (items, bytes, held, held_bytes): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT u.inbox_items, u.inbox_bytes, \
           (SELECT COUNT(*) FROM inbox i WHERE i.user_id = u.id), \
           (SELECT CAST(COALESCE(SUM(i.bytes), 0) AS BIGINT) FROM inbox i WHERE i.user_id = u.id) \
         FROM users u WHERE u.name = 'Busy Owner'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("totals");
    assert_eq!((items, bytes), (held, held_bytes), "running totals agree");
    assert_eq!(items, 5);
}

async fn inbox_catches_up_from_a_cursor(app: &TestApp) {
    let owner = app.register("Grace Xu", "138 0000 0007").await;
    let codes = app.codes(&owner.token, 1).await;
    for i in 0..3 {
        let scanner = app
            .register(&format!("Scanner {i}"), &format!("138 0001 000{i}"))
            .await;
        assert_eq!(
            app.exchange(
                &scanner.token,
                &codes.printed_url,
                1,
                &format!("catch-up-key-{i}")
            )
            .await
            .status(),
            200
        );
    }
    let first = app.inbox(&owner.token, 0).await;
    assert_eq!(first.items.len(), 3);
    let names: Vec<_> = first
        .items
        .iter()
        .map(|i| i.card.formatted_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Scanner 0", "Scanner 1", "Scanner 2"],
        "oldest first"
    );
    let again = app.inbox(&owner.token, first.next_cursor).await;
    assert!(again.items.is_empty(), "nothing after the last cursor");
    assert_eq!(again.next_cursor, first.next_cursor);
    let middle = app.inbox(&owner.token, first.items[0].cursor).await;
    assert_eq!(
        middle.items.len(),
        2,
        "catching up from a cursor gives exactly what came after it"
    );

    // A stream opened after the fact replays from its cursor.
    let stream = app
        .get(
            &owner.token,
            &format!("/api/v1/inbox/stream?after={}", first.items[1].cursor),
        )
        .await;
    let replay = read_events(stream, 1, Duration::from_secs(5)).await;
    assert_eq!(replay.len(), 1);
    assert_eq!(replay[0].card.formatted_name, "Scanner 2");
}

async fn rotated_code_answers_gone(app: &TestApp) {
    let a = app.register("Henry Gao", "138 0000 0008").await;
    let b = app.register("Ivy Hu", "138 0000 0009").await;
    let old = app.codes(&a.token, 1).await;
    let response = app
        .post(&a.token, "/api/v1/sets/1/rotate", &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    let new: api::Codes = response.json().await.expect("codes");
    assert_ne!(
        new.printed_url, old.printed_url,
        "rotation issues a new code"
    );
    let response = app
        .exchange(&b.token, &old.printed_url, 1, "rotated-key-0001")
        .await;
    assert_eq!(response.status(), 410, "old printed codes answer 410 Gone");
    assert_eq!(
        app.client
            .get(&old.printed_url)
            .send()
            .await
            .expect("get")
            .status(),
        410,
        "and so does their web page"
    );
    assert_eq!(
        app.exchange(&b.token, &new.printed_url, 1, "rotated-key-0002")
            .await
            .status(),
        200
    );
    let old_link = mingpian_card::CardLink::parse(&old.printed_url)
        .expect("valid")
        .expect("a link");
    let unknown = old
        .printed_url
        .replace(old_link.public_id.as_str(), "AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        app.exchange(&b.token, &unknown, 1, "rotated-key-0003")
            .await
            .status(),
        404
    );
}

async fn web_card_page_vcf_and_share_back(app: &TestApp) {
    let a = app.register("Jack Lin", "138 0000 0010").await;
    let codes = app.codes(&a.token, 1).await;
    let page = app
        .client
        .get(&codes.printed_url)
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("default-src 'none'"),
        "no scripts at all"
    );
    let html = page.text().await.expect("html");
    assert!(html.contains("<h1>Jack Lin</h1>"), "shows the name");
    assert!(
        html.contains("保存到通讯录"),
        "Chinese for a Chinese browser"
    );
    assert!(
        !html.contains("+8613800000010"),
        "a printed code's page does not show the mobile number"
    );
    let english = app
        .client
        .get(&codes.printed_url)
        .header("accept-language", "en-US")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(english.contains("Save to contacts"));

    let vcf = app
        .client
        .get(format!("{}.vcf", codes.printed_url))
        .send()
        .await
        .expect("vcf");
    assert_eq!(vcf.status(), 200);
    assert!(
        vcf.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/vcard")
    );
    let report = vcard::read(&vcf.bytes().await.expect("bytes"));
    assert_eq!(report.cards.len(), 1);
    assert_eq!(report.cards[0].formatted_name, "Jack Lin");

    let live_vcf = app
        .client
        .get(codes.live_url.replace("/1?t=", "/1.vcf?t="))
        .send()
        .await
        .expect("vcf")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(
        vcard::read(&live_vcf).cards[0].phones[0].value,
        "+8613800000010",
        "the live code's download is the whole card"
    );

    let reply_url = format!("{}/reply", codes.printed_url);
    let missing = app
        .client
        .post(&reply_url)
        .form(&[("name", "No Contact")])
        .send()
        .await
        .expect("reply");
    assert_eq!(missing.status(), 422, "a reply needs a phone or email");
    let sent = app
        .client
        .post(&reply_url)
        .form(&[
            ("name", "Kate Web"),
            ("phone", "139 2222 3333"),
            ("org", "Walk-in Ltd"),
            ("note", "Met at the fair"),
        ])
        .send()
        .await
        .expect("reply");
    assert_eq!(sent.status(), 200);
    let inbox = app.inbox(&a.token, 0).await;
    assert_eq!(
        inbox.items.len(),
        1,
        "the web reply lands in the owner's inbox"
    );
    assert_eq!(inbox.items[0].via, api::InboxVia::Web);
    assert_eq!(inbox.items[0].card.formatted_name, "Kate Web");
    assert_eq!(inbox.items[0].card.org.as_deref(), Some("Walk-in Ltd"));
}

async fn card_fields_are_escaped_on_the_web_page(app: &TestApp) {
    let a = app.register("Xss Tester", "138 0000 0011").await;
    let payload = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>";
    let card = json!({
        "formatted_name": payload, "org": payload, "title": payload, "note": payload,
        "emails": [{"value": payload}], "urls": [{"value": "javascript:alert(3)"}, {"value": payload}],
        "addresses": [{"street": payload}], "socials": [{"service": payload, "value": payload}],
    });
    let printed = json!([
        "name",
        "org",
        "title",
        "emails",
        "urls",
        "addresses",
        "socials",
        "note"
    ]);
    assert_eq!(
        app.put(
            &a.token,
            "/api/v1/sets/1",
            &json!({ "card": card, "printed_fields": printed })
        )
        .await
        .status(),
        200
    );
    let codes = app.codes(&a.token, 1).await;
    let html = app
        .client
        .get(&codes.printed_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        !html.contains("<script>alert"),
        "no script element from card data"
    );
    assert!(
        !html.contains("<img src=x"),
        "no image element from card data"
    );
    assert!(!html.contains("href=\"javascript:"), "no script links");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the text is shown, escaped"
    );
}

#[tokio::test]
async fn rate_limit_answers_429() {
    let app = TestApp::start(Backend::Sqlite, |c| c.rate_limit.auth_per_ip = 3)
        .await
        .expect("sqlite");
    let mut statuses = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..5 {
        let r = app.login(json!({ "login": "x", "password": "y" })).await;
        statuses.push(r.status().as_u16());
        waits.push(
            r.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429, 429],
        "three attempts, then 429"
    );
    // Three a minute: the next attempt is let through within 20 s, and the 429 says so.
    let twenty = Some("20".to_owned());
    assert_eq!(waits, [None, None, None, twenty.clone(), twenty]);
    app.stop().await;
}

#[tokio::test]
async fn account_rate_limit_answers_429_across_devices() {
    let app = TestApp::start(Backend::Sqlite, |c| c.rate_limit.api_per_account = 4)
        .await
        .expect("sqlite");
    let session = app.register("Busy Account", "138 0000 0400").await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            app.get(&session.token, "/api/v1/me")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429, 429],
        "four calls, then 429 for this account"
    );
    let other = app.register("Quiet Account", "138 0000 0401").await;
    assert_eq!(
        app.get(&other.token, "/api/v1/me").await.status(),
        200,
        "other accounts are not affected"
    );
    app.stop().await;
}

#[tokio::test]
async fn health_and_deep_link_files() {
    let app = TestApp::start(Backend::Sqlite, |c| {
        c.deep_links.apple_app_ids = vec!["ABCDE12345.cn.mingpian.card".into()];
        c.deep_links.android_sha256_fingerprints = vec!["AA:BB".into()];
    })
    .await
    .expect("sqlite");
    let health: Value = app.get_json("/health").await;
    assert_eq!(health, json!({ "status": "ok", "database": "sqlite" }));
    let aasa: Value = app
        .get_json("/.well-known/apple-app-site-association")
        .await;
    assert_eq!(
        aasa["applinks"]["details"][0]["appIDs"][0],
        "ABCDE12345.cn.mingpian.card"
    );
    assert_eq!(aasa["applinks"]["details"][0]["components"][0]["/"], "/c/*");
    let links: Value = app.get_json("/.well-known/assetlinks.json").await;
    assert_eq!(links[0]["target"]["package_name"], "cn.mingpian.card");
    assert_eq!(links[0]["target"]["sha256_cert_fingerprints"][0], "AA:BB");
    app.stop().await;
}

/// Behind a load balancer the owner's stream and the scanner's exchange may reach different
/// instances: the delivery must cross between them (PostgreSQL LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_delivery_crosses_instances_on_postgres() {
    let Some(first) = TestApp::start(Backend::Postgres, |_| {}).await else {
        return;
    };
    let second = first.second_instance().await;
    let a = first.register("Owner Across", "138 0000 0020").await;
    let b = second.register("Scanner Across", "138 0000 0021").await;
    let stream = first.get(&a.token, "/api/v1/inbox/stream").await;
    let listener = tokio::spawn(read_events(stream, 1, Duration::from_secs(10)));
    let codes = first.codes(&a.token, 1).await;
    let scanned = codes.live_url.replace(&first.base, &second.base);
    assert_eq!(
        second
            .exchange(&b.token, &scanned, 1, "across-instances-1")
            .await
            .status(),
        200
    );
    let arrived = listener.await.expect("listener");
    assert_eq!(
        arrived.len(),
        1,
        "the stream on instance 1 received the exchange made on instance 2"
    );
    assert_eq!(arrived[0].card.formatted_name, "Scanner Across");
    second.stop().await;
    first.stop().await;
}

async fn second_device(app: &TestApp, login: &str) -> String {
    let response = app
        .login(
            json!({ "login": login, "password": "correct horse battery", "device_name": "second" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    response
        .json::<api::Session>()
        .await
        .expect("session")
        .token
}

async fn push(app: &TestApp, token: &str, changes: Value) -> api::SyncPushResult {
    let response = app
        .post(token, "/api/v1/sync", &json!({ "changes": changes }))
        .await;
    assert_eq!(
        response.status(),
        200,
        "push: {}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("push result")
}

async fn pull_all(app: &TestApp, token: &str, after: i64) -> Vec<api::SyncRecord> {
    let mut records = Vec::new();
    let mut cursor = after;
    loop {
        let page: api::SyncPage = app
            .get(token, &format!("/api/v1/sync?after={cursor}&limit=2"))
            .await
            .json()
            .await
            .expect("page");
        records.extend(page.records);
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    records
}

async fn concurrent_edits_from_two_devices_resolve_the_same_either_way(app: &TestApp) {
    for (round, x_first) in [(0, true), (1, false)] {
        let name = format!("Sync Owner {round}");
        let session = app.register(&name, &format!("138 0000 01{round}0")).await;
        let x = session.token.clone();
        let y = second_device(app, &name).await;
        let created = push(
            app,
            &x,
            json!([{ "kind": "note", "id": "n1", "modified_at": 1000, "data": {"text": "first"} }]),
        )
        .await;
        let base = created.results[0].record.version;
        // Both devices edit from the same base: X at t=2000, Y later at t=3000.
        let edit_x = json!([{ "kind": "note", "id": "n1", "base_version": base, "modified_at": 2000, "data": {"text": "from X"} }]);
        let edit_y = json!([{ "kind": "note", "id": "n1", "base_version": base, "modified_at": 3000, "data": {"text": "from Y"} }]);
        let (first, second) = if x_first {
            ((&x, &edit_x), (&y, &edit_y))
        } else {
            ((&y, &edit_y), (&x, &edit_x))
        };
        let r1 = push(app, first.0, first.1.clone()).await;
        let r2 = push(app, second.0, second.1.clone()).await;
        assert!(
            r1.results[0].accepted,
            "the first push from the current version is taken"
        );
        assert_eq!(
            r2.results[0].accepted, x_first,
            "the second wins only if it is the later edit"
        );
        for token in [&x, &y] {
            let records = pull_all(app, token, 0).await;
            assert_eq!(records.len(), 1);
            assert_eq!(
                records[0].data,
                json!({"text": "from Y"}),
                "round {round}: every device converges on the later edit"
            );
        }
    }
}

async fn a_new_device_restores_the_whole_wallet(app: &TestApp) {
    let session = app.register("Restore Owner", "138 0000 0200").await;
    let contacts: Vec<Value> = (0..5)
        .map(|i| json!({ "kind": "contact", "id": format!("c{i}"), "modified_at": 1000 + i, "data": {"name": format!("联系人 {i}"), "phones": ["+8613800000000"]} }))
        .collect();
    push(app, &session.token, Value::Array(contacts)).await;
    push(
        app,
        &session.token,
        json!([{ "kind": "tag", "id": "t1", "modified_at": 5000, "data": {"name": "客户"} }]),
    )
    .await;
    let c2 = pull_all(app, &session.token, 0)
        .await
        .into_iter()
        .find(|r| r.id == "c2")
        .expect("c2");
    push(app, &session.token, json!([{ "kind": "contact", "id": "c2", "base_version": c2.version, "modified_at": 6000, "deleted": true }])).await;

    // The phone is lost; a new one logs in and pulls from the beginning.
    let fresh = second_device(app, "Restore Owner").await;
    let restored = pull_all(app, &fresh, 0).await;
    let live: Vec<&str> = restored
        .iter()
        .filter(|r| !r.deleted)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(live.len(), 5, "four contacts and a tag: {live:?}");
    assert!(
        restored.iter().any(|r| r.id == "c2" && r.deleted),
        "the deletion is restored too, as a tombstone"
    );
    assert_eq!(
        restored.iter().find(|r| r.id == "c0").expect("c0").data["name"],
        "联系人 0"
    );
    let cursor = restored.iter().map(|r| r.version).max().expect("records");
    assert!(
        pull_all(app, &fresh, cursor).await.is_empty(),
        "nothing after the last cursor"
    );
    let other = app.register("Someone Else Sync", "138 0000 0201").await;
    assert!(
        pull_all(app, &other.token, 0).await.is_empty(),
        "accounts never see each other's records"
    );
}

async fn updates(app: &TestApp, token: &str, held: Value) -> Vec<api::CardUpdate> {
    let response = app
        .post(token, "/api/v1/cards/updates", &json!({ "held": held }))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("updates")
}

async fn holders_get_the_new_version_after_the_owner_edits(app: &TestApp) {
    let a = app.register("Living Owner", "138 0000 0300").await;
    let b = app.register("Living Holder", "138 0000 0301").await;
    let c = app.register("Living Stranger", "138 0000 0302").await;
    let codes = app.codes(&a.token, 1).await;
    let exchange: api::Exchange = app
        .exchange(&b.token, &codes.live_url, 1, "living-card-0001")
        .await
        .json()
        .await
        .expect("exchange");
    let held = json!([{ "owner": exchange.owner, "set_no": 1, "version": exchange.version }]);
    assert!(
        updates(app, &b.token, held.clone()).await.is_empty(),
        "nothing new yet"
    );

    let edited = json!({ "card": { "formatted_name": "Living Owner", "title": "New Title", "phones": [{"value": "+8613800000300"}] } });
    assert_eq!(
        app.put(&a.token, "/api/v1/sets/1", &edited).await.status(),
        200
    );
    let news = updates(app, &b.token, held.clone()).await;
    assert_eq!(news.len(), 1, "the holder learns of the edit");
    assert_eq!(news[0].card.title.as_deref(), Some("New Title"));
    assert!(
        news[0].full,
        "received whole through a live code, so updated whole"
    );
    assert_eq!(news[0].card.phones.len(), 1);
    assert!(news[0].version > exchange.version);
    assert!(
        updates(app, &c.token, held).await.is_empty(),
        "someone who never received the card learns nothing"
    );

    // The owner holds the scanner's card too, and sees its edits.
    let inbox = app.inbox(&a.token, 0).await;
    let item = &inbox.items[0];
    let from_b = json!([{ "owner": item.from.clone().expect("from an account"), "set_no": item.from_set.expect("set"), "version": item.version.expect("version") }]);
    assert!(updates(app, &a.token, from_b.clone()).await.is_empty());
    assert_eq!(
        app.put(
            &b.token,
            "/api/v1/sets/1",
            &json!({ "card": { "formatted_name": "Living Holder", "org": "New Co" } })
        )
        .await
        .status(),
        200
    );
    let news = updates(app, &a.token, from_b).await;
    assert_eq!(news.len(), 1);
    assert_eq!(news[0].card.org.as_deref(), Some("New Co"));
}

#[tokio::test]
async fn openapi_documents_every_operation() {
    let app = TestApp::sqlite().await;
    let doc = app.get_json("/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/accounts", "post"),
        ("/api/v1/sessions", "post"),
        ("/api/v1/sets/{n}", "put"),
        ("/api/v1/sets/{n}/code", "get"),
        ("/api/v1/exchanges", "post"),
        ("/api/v1/inbox/stream", "get"),
        ("/api/v1/sync", "post"),
        ("/api/v1/cards/updates", "post"),
        ("/c/{public_id}/{set}/reply", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is documented"
        );
    }
    assert!(
        doc["components"]["schemas"]["Card"].is_object(),
        "the shared card type is a schema"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    app.stop().await;
}
