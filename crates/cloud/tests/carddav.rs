//! The CardDAV address book over raw HTTP, on both backends: the request sequence iOS Contacts
//! sends when an account is added (discovery through the first sync, the bodies as Apple's
//! clients send them and RFC 6352/6578/6764 document), then the incremental sync, the
//! preconditions, and who may open what. The wallet records are pushed through the sync API as
//! a phone's wallet pushes them.

use mingpian_testkit::{TestCloud, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    ios_contacts_adds_the_account_and_syncs,
    unaccepted_web_replies_and_other_accounts_stay_out,
    a_contact_stays_published_past_web_floods_and_large_pictures,
    hostile_requests_are_bounded,
);

/// The address book's app password for a registered account.
async fn app_password(cloud: &TestCloud, token: &str, label: &str) -> Value {
    let made = cloud
        .post(
            token,
            "/api/v1/carddav/passwords",
            &json!({ "label": label }),
        )
        .await;
    assert_eq!(made.status(), 201);
    made.json().await.expect("JSON")
}

struct Dav<'a> {
    cloud: &'a TestCloud,
    client: reqwest::Client,
    user: String,
    password: String,
}

impl<'a> Dav<'a> {
    /// A client signing in as `user` with the app password `made` (what the app-password call
    /// returned).
    fn with_app_password(cloud: &'a TestCloud, user: &str, made: &Value) -> Self {
        Dav {
            cloud,
            client: reqwest::Client::new(),
            user: user.into(),
            password: made["password"].as_str().expect("pw").to_owned(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut req = self
            .client
            .request(
                Method::from_bytes(method.as_bytes()).expect("method"),
                self.cloud.url(path),
            )
            .basic_auth(&self.user, Some(&self.password))
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.expect("body"))
    }

    async fn propfind(&self, path: &str, depth: &str, props: &str) -> String {
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav" xmlns:C="http://calendarserver.org/ns/" xmlns:D="http://me.com/_namespace/"><A:prop>{props}</A:prop></A:propfind>"#
        );
        let (status, headers, text) = self
            .send(
                "PROPFIND",
                path,
                &[("Depth", depth), ("Content-Type", "text/xml")],
                &body,
            )
            .await;
        assert_eq!(status, 207, "PROPFIND {path}: {text}");
        assert!(
            headers["content-type"]
                .to_str()
                .expect("type")
                .contains("xml"),
            "a multistatus is XML"
        );
        text
    }

    async fn report(&self, body: &str) -> (StatusCode, String) {
        let (status, _, text) = self
            .send(
                "REPORT",
                "/dav/addressbooks/wallet/",
                &[("Depth", "1"), ("Content-Type", "text/xml")],
                body,
            )
            .await;
        (status, text)
    }

    async fn sync_collection(&self, token: &str) -> String {
        let (status, text) = self
            .report(&format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<A:sync-collection xmlns:A="DAV:"><A:sync-token>{token}</A:sync-token><A:sync-level>1</A:sync-level><A:prop><A:getetag/></A:prop></A:sync-collection>"#
            ))
            .await;
        assert_eq!(status, 207, "{text}");
        text
    }
}

/// The text between `<{tag}>` and `</{tag}>`, every time it occurs.
fn all_between<'a>(text: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

fn card_record(id: &str, contact: &str, source: &str, trust: &str) -> Value {
    json!({ "kind": "card", "id": id, "modified_at": 1, "data": {
        "contact_id": contact, "source": source, "full": true, "version": 1,
        "linked_by": "new", "received_at": 1, "trust": trust } })
}

fn version_record(card: &str, name: &str, phone: &str) -> Value {
    json!({ "kind": "card_version", "id": format!("{card}.1"), "modified_at": 1, "data": {
        "card_id": card, "seq": 1, "version": 1, "received_at": 1,
        "card": { "formatted_name": name, "org": "Acme",
                  "phones": [{ "value": phone, "kinds": ["cell"] }] } } })
}

fn contact_record(id: &str, note: &str) -> Value {
    json!({ "kind": "contact", "id": id, "modified_at": 1, "data": {
        "note": note, "tags": ["client"], "created_at": 1 } })
}

/// Pushes wallet records as a phone's wallet does.
async fn push(cloud: &TestCloud, token: &str, changes: Vec<Value>) -> Value {
    let pushed = cloud
        .post(token, "/api/v1/sync", &json!({ "changes": changes }))
        .await;
    assert_eq!(pushed.status(), 200);
    pushed.json().await.expect("JSON")
}

async fn ios_contacts_adds_the_account_and_syncs(cloud: &TestCloud) {
    let session = cloud.register("Zhang Wei", "+86 138 0013 8000").await;
    let token = session.token.as_str();
    push(
        cloud,
        token,
        vec![
            contact_record("c-li", "met in Guangzhou"),
            card_record("k-li", "c-li", "exchange", "verified"),
            version_record("k-li", "Li Lei", "+86 139 0000 0001"),
            contact_record("c-han", ""),
            card_record("k-han", "c-han", "import", "verified"),
            version_record("k-han", "韩梅梅", "+86 10 6552 9988"),
        ],
    )
    .await;
    let made = app_password(cloud, token, "CardDAV on iPhone").await;
    let dav = Dav {
        cloud,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        user: made["username"].as_str().expect("user").to_owned(),
        password: made["password"].as_str().expect("password").to_owned(),
    };

    // 1. Discovery (RFC 6764): the well-known address leads to the context path.
    let (status, headers, _) = dav
        .send("PROPFIND", "/.well-known/carddav", &[("Depth", "0")], "")
        .await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], "/dav/");
    // Without credentials: a Basic challenge.
    let bare = dav
        .client
        .request(
            Method::from_bytes(b"PROPFIND").expect("m"),
            cloud.url("/dav/"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), 401);
    assert!(
        bare.headers()["www-authenticate"]
            .to_str()
            .expect("h")
            .starts_with("Basic")
    );

    // 2. The context path names the principal.
    let root = dav
        .propfind(
            "/dav/",
            "0",
            "<A:current-user-principal/><A:principal-URL/><A:resourcetype/>",
        )
        .await;
    assert_eq!(
        all_between(&root, "d:current-user-principal"),
        ["<d:href>/dav/principal/</d:href>"]
    );

    // 3. The principal names the address-book home; unknown properties are 404 in their own
    // propstat, never an error.
    let principal = dav
        .propfind(
            "/dav/principal/",
            "0",
            "<B:addressbook-home-set/><B:directory-gateway/><A:displayname/><C:email-address-set/><A:principal-collection-set/><A:principal-URL/><A:resource-id/><A:supported-report-set/>",
        )
        .await;
    assert_eq!(
        all_between(&principal, "card:addressbook-home-set"),
        ["<d:href>/dav/addressbooks/</d:href>"]
    );
    assert_eq!(all_between(&principal, "d:displayname"), ["Zhang Wei"]);
    assert!(principal.contains("HTTP/1.1 404 Not Found"), "{principal}");
    let (status, headers, _) = dav.send("OPTIONS", "/dav/principal/", &[], "").await;
    assert_eq!(status, 200);
    assert!(
        headers["dav"]
            .to_str()
            .expect("dav")
            .contains("addressbook")
    );

    // 4. The home, Depth 1: the one address book with its ctag and sync token.
    let home = dav
        .propfind(
            "/dav/addressbooks/",
            "1",
            "<A:add-member/><D:bulk-requests/><A:current-user-privilege-set/><A:displayname/><C:getctag/><D:max-image-size/><B:max-resource-size/><C:me-card/><C:push-transports/><C:pushkey/><A:quota-available-bytes/><A:quota-used-bytes/><A:resource-id/><A:resourcetype/><A:supported-report-set/><A:sync-token/>",
        )
        .await;
    assert!(
        home.contains("<d:href>/dav/addressbooks/wallet/</d:href>"),
        "{home}"
    );
    assert!(home.contains("<card:addressbook/>"));
    assert!(home.contains("<d:sync-collection/>") && home.contains("<card:addressbook-multiget/>"));
    assert!(home.contains("<d:privilege><d:write/></d:privilege>"));
    let token0 = all_between(&home, "d:sync-token")[0].to_owned();
    assert!(!all_between(&home, "cs:getctag")[0].is_empty());

    // 5. The first sync: every entry with its ETag.
    let first = dav.sync_collection("").await;
    let hrefs = all_between(&first, "d:href");
    assert_eq!(hrefs.len(), 2, "{first}");
    assert!(hrefs.contains(&"/dav/addressbooks/wallet/c-li.vcf"));
    let token1 = all_between(&first, "d:sync-token")[0].to_owned();
    assert_eq!(token1, token0);

    // 6. The entries themselves, by multiget.
    let get = r#"<?xml version="1.0" encoding="UTF-8"?>
<B:addressbook-multiget xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav"><A:prop><A:getetag/><B:address-data/></A:prop><A:href>/dav/addressbooks/wallet/c-li.vcf</A:href><A:href>/dav/addressbooks/wallet/c-han.vcf</A:href><A:href>/dav/addressbooks/wallet/nobody.vcf</A:href></B:addressbook-multiget>"#;
    let (status, got) = dav.report(get).await;
    assert_eq!(status, 207);
    let cards = all_between(&got, "card:address-data");
    assert_eq!(cards.len(), 2, "{got}");
    assert!(
        cards[0].contains("FN:Li Lei") && cards[0].contains("UID:c-li"),
        "{}",
        cards[0]
    );
    assert!(cards[0].contains("NOTE:met in Guangzhou") && cards[0].contains("CATEGORIES:client"));
    assert!(cards[1].contains("FN:韩梅梅"));
    assert!(got.contains("<d:href>/dav/addressbooks/wallet/nobody.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status>"));
    let etag_li = all_between(&got, "d:getetag")[0].replace("&quot;", "\"");

    // GET with its strong ETag; a conditional GET is 304.
    let (status, headers, body) = dav
        .send("GET", "/dav/addressbooks/wallet/c-li.vcf", &[], "")
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["etag"], etag_li.as_str());
    assert!(
        headers["content-type"]
            .to_str()
            .expect("t")
            .starts_with("text/vcard")
    );
    assert!(body.starts_with("BEGIN:VCARD\r\nVERSION:3.0"));
    let (status, _, _) = dav
        .send(
            "GET",
            "/dav/addressbooks/wallet/c-li.vcf",
            &[("If-None-Match", &etag_li)],
            "",
        )
        .await;
    assert_eq!(status, 304);
    let (_, headers, v4) = dav
        .send(
            "GET",
            "/dav/addressbooks/wallet/c-li.vcf",
            &[("Accept", "text/vcard; version=4.0")],
            "",
        )
        .await;
    assert!(v4.contains("VERSION:4.0"), "{v4}");
    assert_ne!(
        headers["etag"],
        etag_li.as_str(),
        "each representation has its own tag"
    );

    // 7. Nothing changed: the next sync lists nothing.
    let idle = dav.sync_collection(&token1).await;
    assert!(all_between(&idle, "d:response").is_empty(), "{idle}");

    // 8. A new contact made on the iPhone: PUT with If-None-Match: *; again is 412.
    let new_card = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 18.0//EN\r\nN:Wang;Fang;;;\r\nFN:Wang Fang\r\nORG:Example Ltd;\r\nTEL;type=CELL;type=VOICE;type=pref:+86 186 0000 1234\r\nUID:8D4A1C2E-7B1F-4C3A-9E55-0F1B2C3D4E5F\r\nEND:VCARD\r\n";
    let path_new = "/dav/addressbooks/wallet/8D4A1C2E-7B1F-4C3A-9E55-0F1B2C3D4E5F.vcf";
    let (status, _, _) = dav
        .send(
            "PUT",
            path_new,
            &[
                ("If-None-Match", "*"),
                ("Content-Type", "text/vcard; charset=utf-8"),
            ],
            new_card,
        )
        .await;
    assert_eq!(status, 201);
    let (status, _, _) = dav
        .send("PUT", path_new, &[("If-None-Match", "*")], new_card)
        .await;
    assert_eq!(status, 412, "it exists now");

    // 9. An edit with a stale If-Match is refused; with the current tag it is taken.
    let edited = body.replace("FN:Li Lei", "FN:Li Lei (Acme)");
    let (status, _, _) = dav
        .send(
            "PUT",
            "/dav/addressbooks/wallet/c-li.vcf",
            &[("If-Match", "\"0000\"")],
            &edited,
        )
        .await;
    assert_eq!(status, 412);
    let (status, _, _) = dav
        .send(
            "PUT",
            "/dav/addressbooks/wallet/c-li.vcf",
            &[("If-Match", &etag_li)],
            &edited,
        )
        .await;
    assert_eq!(status, 204);

    // 10. The incremental sync lists exactly the two changes, and the contact's record now
    // carries the user's own edit for the wallet to pull.
    let changes = dav.sync_collection(&token1).await;
    let mut changed = all_between(&changes, "d:href");
    changed.sort();
    assert_eq!(
        changed,
        [
            "/dav/addressbooks/wallet/8D4A1C2E-7B1F-4C3A-9E55-0F1B2C3D4E5F.vcf",
            "/dav/addressbooks/wallet/c-li.vcf"
        ]
    );
    let token2 = all_between(&changes, "d:sync-token")[0].to_owned();
    let pulled: Value = cloud
        .get(token, "/api/v1/sync?after=0")
        .await
        .json()
        .await
        .expect("JSON");
    let li = pulled["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["kind"] == "contact" && r["id"] == "c-li")
        .expect("Li's contact record");
    assert_eq!(li["data"]["own"]["name"], "Li Lei (Acme)");
    assert!(
        li["device"]
            .as_str()
            .expect("device")
            .starts_with("device-")
    );

    // 11. DELETE with the current tag: the contact goes to the wallet's bin, and the next sync
    // reports it gone.
    let (_, headers, _) = dav
        .send("GET", "/dav/addressbooks/wallet/c-han.vcf", &[], "")
        .await;
    let etag_han = headers["etag"].to_str().expect("etag").to_owned();
    let (status, _, _) = dav
        .send(
            "DELETE",
            "/dav/addressbooks/wallet/c-han.vcf",
            &[("If-Match", &etag_han)],
            "",
        )
        .await;
    assert_eq!(status, 204);
    let gone = dav.sync_collection(&token2).await;
    assert!(gone.contains("<d:href>/dav/addressbooks/wallet/c-han.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status>"), "{gone}");
    let (status, _, _) = dav
        .send("GET", "/dav/addressbooks/wallet/c-han.vcf", &[], "")
        .await;
    assert_eq!(status, 404);

    // 12. A query by text (RFC 6352 8.6): contains, case-insensitive.
    let (status, found) = dav
        .report(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter test="anyof"><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">wang</C:text-match></C:prop-filter><C:prop-filter name="TEL"><C:text-match match-type="contains">0000 0001</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#,
        )
        .await;
    assert_eq!(status, 207);
    let mut hits = all_between(&found, "d:href");
    hits.sort();
    assert_eq!(
        hits,
        [
            "/dav/addressbooks/wallet/8D4A1C2E-7B1F-4C3A-9E55-0F1B2C3D4E5F.vcf",
            "/dav/addressbooks/wallet/c-li.vcf"
        ]
    );

    // A token the server never gave is refused with the RFC 6578 precondition.
    let (status, text) = dav
        .report(r#"<A:sync-collection xmlns:A="DAV:"><A:sync-token>http://elsewhere/1</A:sync-token><A:sync-level>1</A:sync-level><A:prop><A:getetag/></A:prop></A:sync-collection>"#)
        .await;
    assert_eq!(status, 403);
    assert!(text.contains("valid-sync-token"));
}

async fn unaccepted_web_replies_and_other_accounts_stay_out(cloud: &TestCloud) {
    let a = cloud.register("Zhang Wei", "+86 138 0013 8000").await;
    let b = cloud.register("Anna Berg", "+86 138 0013 8001").await;
    push(
        cloud,
        &a.token,
        vec![
            contact_record("c-web", ""),
            card_record("k-web", "c-web", "web", "unverified"),
            version_record("k-web", "Someone From The Web", "+86 170 0000 0000"),
        ],
    )
    .await;
    let made_a = app_password(cloud, &a.token, "iPhone").await;
    let made_b = app_password(cloud, &b.token, "iPhone").await;
    let dav_a = Dav::with_app_password(cloud, "Zhang Wei", &made_a);
    // An unaccepted web reply is not published.
    let first = dav_a.sync_collection("").await;
    assert!(all_between(&first, "d:href").is_empty(), "{first}");
    let token = all_between(&first, "d:sync-token")[0].to_owned();
    // The user accepts it: it appears.
    let pulled: Value = cloud
        .get(&a.token, "/api/v1/sync?after=0")
        .await
        .json()
        .await
        .expect("JSON");
    let version = pulled["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["id"] == "k-web")
        .expect("card")["version"]
        .clone();
    let mut accepted = card_record("k-web", "c-web", "web", "verified");
    accepted["base_version"] = version;
    accepted["modified_at"] = json!(2);
    push(cloud, &a.token, vec![accepted]).await;
    let after = dav_a.sync_collection(&token).await;
    assert_eq!(
        all_between(&after, "d:href"),
        ["/dav/addressbooks/wallet/c-web.vcf"]
    );

    // B's app password opens B's address book only: with A's name it is refused, and B's
    // own book does not hold A's contact.
    let crossed = Dav::with_app_password(cloud, "Zhang Wei", &made_b);
    let (status, _, _) = crossed
        .send("GET", "/dav/addressbooks/wallet/c-web.vcf", &[], "")
        .await;
    assert_eq!(status, 401);
    let dav_b = Dav {
        user: "Anna Berg".into(),
        ..crossed
    };
    let (status, _, _) = dav_b
        .send("GET", "/dav/addressbooks/wallet/c-web.vcf", &[], "")
        .await;
    assert_eq!(status, 404);
    // B cannot write into A's book by naming A's contact either: the PUT creates B's own.
    let (status, _, _) = dav_b
        .send(
            "PUT",
            "/dav/addressbooks/wallet/c-web.vcf",
            &[],
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mallory\r\nEND:VCARD\r\n",
        )
        .await;
    assert_eq!(status, 201);
    let (_, _, still) = dav_a
        .send("GET", "/dav/addressbooks/wallet/c-web.vcf", &[], "")
        .await;
    assert!(
        still.contains("FN:Someone From The Web") && !still.contains("Mallory"),
        "{still}"
    );

    // An app password is not an API token, and a device token is not an app password.
    let api = cloud
        .get(made_a["password"].as_str().expect("pw"), "/api/v1/me")
        .await;
    assert_eq!(api.status(), 401);
    let as_device = Dav {
        cloud,
        client: reqwest::Client::new(),
        user: "Zhang Wei".into(),
        password: a.token.clone(),
    };
    let (status, _, _) = as_device
        .send("GET", "/dav/addressbooks/wallet/c-web.vcf", &[], "")
        .await;
    assert_eq!(status, 401);
    // Revoked: refused.
    let id = made_a["app_password"]["id"].as_i64().expect("id");
    let revoked = cloud
        .delete(&a.token, &format!("/api/v1/carddav/passwords/{id}"))
        .await;
    assert_eq!(revoked.status(), 204);
    let (status, _, _) = dav_a
        .send("GET", "/dav/addressbooks/wallet/c-web.vcf", &[], "")
        .await;
    assert_eq!(status, 401);
}

/// A contact whose verified card arrived after more than a hundred unaccepted web replies linked
/// to it, and one whose only card carries megabytes of card pictures, are both published: the
/// entry's read limits never push out what it can publish.
async fn a_contact_stays_published_past_web_floods_and_large_pictures(cloud: &TestCloud) {
    let session = cloud.register("Zhang Wei", "+86 138 0013 8000").await;
    let token = session.token.as_str();
    let mut flood = vec![contact_record("c-flood", "")];
    for i in 0..120 {
        let id = format!("a-web-{i:03}");
        flood.push(card_record(&id, "c-flood", "web", "unverified"));
        flood.push(version_record(
            &id,
            "Someone From The Web",
            "+86 170 0000 0000",
        ));
    }
    flood.push(card_record("z-real", "c-flood", "exchange", "verified"));
    flood.push(version_record("z-real", "Wang Fang", "+86 139 0000 0002"));
    push(cloud, token, flood).await;
    // 3 MB of card pictures (base64 of zero bytes), within the sync API's 8 MB a record.
    let mut big = version_record("k-big", "Chen Jie", "+86 139 0000 0003");
    big["data"]["card"]["card_images"] =
        json!([{ "kind": "inline", "mime": "image/jpeg", "data": "A".repeat(3_000_000) }]);
    push(
        cloud,
        token,
        vec![
            contact_record("c-big", ""),
            card_record("k-big", "c-big", "exchange", "verified"),
            big,
        ],
    )
    .await;
    // Contact and card records past their caps (no wallet writes such; the sync API takes up to
    // 8 MB a record) are not read for an entry: a 1.2 MB note unpublishes its contact, and a
    // card record padded to 100 KB is not weighed beside the contact's ordinary card.
    let mut fat = card_record("k-fat", "c-fat", "exchange", "verified");
    fat["data"]["uid"] = json!("x".repeat(100_000));
    push(
        cloud,
        token,
        vec![
            contact_record("c-huge", &"备".repeat(400_000)),
            card_record("k-huge", "c-huge", "exchange", "verified"),
            version_record("k-huge", "Huge Note", "+86 139 0000 0004"),
            contact_record("c-fat", ""),
            fat,
            version_record("k-fat", "Fat Record", "+86 139 0000 0005"),
            card_record("k-thin", "c-fat", "exchange", "verified"),
            version_record("k-thin", "Thin Record", "+86 139 0000 0006"),
        ],
    )
    .await;
    let made = app_password(cloud, token, "iPhone").await;
    let dav = Dav::with_app_password(cloud, "Zhang Wei", &made);
    let listed = dav.sync_collection("").await;
    let hrefs = all_between(&listed, "d:href");
    assert!(
        !hrefs.iter().any(|h| h.ends_with("/c-huge.vcf")),
        "{listed}"
    );
    let (status, _, thin) = dav
        .send("GET", "/dav/addressbooks/wallet/c-fat.vcf", &[], "")
        .await;
    assert_eq!(status, 200);
    assert!(thin.contains("FN:Thin Record"), "{thin}");
    assert!(
        !thin.contains("Fat Record") && !thin.contains("0000 0005") && !thin.contains("00000005"),
        "{thin}"
    );
    for contact in ["c-flood", "c-big"] {
        assert!(
            hrefs
                .iter()
                .any(|h| h.ends_with(&format!("/{contact}.vcf"))),
            "{contact} is published: {listed}"
        );
    }
    let (status, _, flooded) = dav
        .send("GET", "/dav/addressbooks/wallet/c-flood.vcf", &[], "")
        .await;
    assert_eq!(status, 200);
    assert!(flooded.contains("FN:Wang Fang"), "{flooded}");
    assert!(!flooded.contains("Someone From The Web"), "{flooded}");
}

async fn hostile_requests_are_bounded(cloud: &TestCloud) {
    let a = cloud.register("Zhang Wei", "+86 138 0013 8000").await;
    let phones: Vec<Value> = (0..500)
        .map(|i| json!({ "value": format!("+86 138 0000 {i:04}") }))
        .collect();
    let mut huge = version_record("k-huge", "Many Numbers", "+86 138 0000 0000");
    huge["data"]["card"]["phones"] = json!(phones);
    push(
        cloud,
        &a.token,
        vec![
            contact_record("c-li", ""),
            card_record("k-li", "c-li", "exchange", "verified"),
            version_record("k-li", "Li Lei", "+86 139 0000 0001"),
            contact_record("c-huge", ""),
            card_record("k-huge", "c-huge", "exchange", "verified"),
            huge,
        ],
    )
    .await;
    let made = app_password(cloud, &a.token, "iPhone").await;
    let dav = Dav::with_app_password(cloud, "Zhang Wei", &made);
    // A card past the card limits (500 numbers) is not published; the others are.
    let listed = dav.sync_collection("").await;
    assert_eq!(
        all_between(&listed, "d:href"),
        ["/dav/addressbooks/wallet/c-li.vcf"]
    );
    // One href asked 5,000 times is answered once.
    let hrefs = "<A:href>/dav/addressbooks/wallet/c-li.vcf</A:href>".repeat(5000);
    let (status, got) = dav
        .report(&format!(
            r#"<B:addressbook-multiget xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:carddav"><A:prop><B:address-data/><B:address-data/></A:prop>{hrefs}</B:addressbook-multiget>"#
        ))
        .await;
    assert_eq!(status, 207);
    assert_eq!(
        got.matches("BEGIN:VCARD").count(),
        1,
        "one answer per entry"
    );
    // Too many distinct properties, or query filters, are refused.
    let props: String = (0..100)
        .map(|i| format!("<X:p{i} xmlns:X=\"urn:x\"/>"))
        .collect();
    let (status, _, _) = dav
        .send(
            "PROPFIND",
            "/dav/addressbooks/wallet/",
            &[("Depth", "0")],
            &format!(r#"<A:propfind xmlns:A="DAV:"><A:prop>{props}</A:prop></A:propfind>"#),
        )
        .await;
    assert_eq!(status, 422);
    let filters =
        r#"<C:prop-filter name="FN"><C:text-match>a</C:text-match></C:prop-filter>"#.repeat(40);
    let (status, _) = dav
        .report(&format!(
            r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter>{filters}</C:filter></C:addressbook-query>"#
        ))
        .await;
    assert_eq!(status, 422);
    // `If-None-Match: *` sees a contact that exists even when it is not published.
    let (status, _, _) = dav
        .send(
            "PUT",
            "/dav/addressbooks/wallet/c-huge.vcf",
            &[("If-None-Match", "*")],
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Overwrite\r\nEND:VCARD\r\n",
        )
        .await;
    assert_eq!(status, 412);
    // Without a precondition too: the client's copy of a contact it cannot see is stale.
    let (status, _, _) = dav
        .send(
            "PUT",
            "/dav/addressbooks/wallet/c-huge.vcf",
            &[],
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Overwrite\r\nEND:VCARD\r\n",
        )
        .await;
    assert_eq!(status, 412);
    // Malformed XML and a body past the limit are refused, not guessed at.
    let (status, _) = dav
        .report("<A:sync-collection xmlns:A=\"DAV:\"><A:sync-token>")
        .await;
    assert_eq!(status, 422);
    let big = "x".repeat(3 * 1024 * 1024);
    let (status, _) = dav.report(&big).await;
    assert_eq!(status, 413);
}
