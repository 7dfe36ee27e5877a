//! CardDAV (RFC 6352): the wallet's contacts as the account's address book, so the phone's own
//! Contacts app, caller ID and messaging apps know whose number it is (claim 8). iOS and macOS
//! add it in Settings, Android through DAVx5, desktops natively.
//!
//! - Discovery: `/.well-known/carddav` (RFC 6764) leads to `/dav/`, whose
//!   `current-user-principal` leads to the principal and its `addressbook-home-set`.
//! - One address book, `/dav/addressbooks/wallet/`, with one entry per wallet contact
//!   (`{contact id}.vcf`): `PROPFIND` (Depth 0/1), `REPORT` `addressbook-multiget`,
//!   `addressbook-query` and `sync-collection` (RFC 6578), `GET`/`PUT`/`DELETE` with strong ETags
//!   and `If-Match`/`If-None-Match`, `getctag`.
//! - Entries are a projection of the synced wallet records (see [`crate::store::DavEntry`]),
//!   brought up to date at the start of every request; an edit made in the address book goes
//!   back into the records as the user's own edit of the contact, which the wallet pulls on its
//!   next sync.
//! - Auth: HTTP Basic with the account name and an app password (a device of its own kind that
//!   opens nothing else); rate limits as for the API.

mod entry;
pub mod xml;

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use mingpian_card::vcard::{self, Version};
use mingpian_card::wallet::{Trust, records};
use mingpian_card::{Card, limits};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::routes::limit::Purpose;
use crate::secrets::token_hash;
use crate::store::{Change, DavEntry, DeviceKind, StoreError, UserRecord, now_ms};
use xml::{CARDDAV, CS, DAV, Node, Prop, Props};

/// Brings an account's address book up to date off the request path: after a sync push (when
/// the account has an app password) and when an app password is made, so a client's first
/// sync finds the book built. Requests still refresh first; both take the same lock.
pub fn refresh_in_background(state: &AppState, user_id: i64) {
    // One background refresh per account (and server) at a time: a running one goes on until
    // the book is current, so pushes arriving meanwhile add no work and no tasks.
    static RUNNING: std::sync::Mutex<Vec<(usize, i64)>> = std::sync::Mutex::new(Vec::new());
    /// Takes the account off `RUNNING` however the task ends (a panic included), so its later
    /// pushes refresh again.
    struct Running((usize, i64));
    impl Drop for Running {
        fn drop(&mut self) {
            RUNNING
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|k| *k != self.0);
        }
    }
    let key = (std::sync::Arc::as_ptr(&state.store) as usize, user_id);
    {
        let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains(&key) {
            return;
        }
        running.push(key);
    }
    let running = Running(key);
    let store = state.store.clone();
    tokio::spawn(async move {
        let _running = running;
        // Background refreshes go one page at a time across accounts, behind requests' pages
        // (see `Store::dav_refresh`): many accounts pushing at once never take every worker.
        if let Err(e) = store.dav_refresh(user_id, entry::build, true).await {
            tracing::warn!(error = ?e, "building the address book");
        }
    });
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/carddav", any(well_known))
        .route("/dav", any(dav))
        .route("/dav/", any(dav))
        .route("/dav/{*path}", any(dav))
}

const ROOT: &str = "/dav/";
const PRINCIPAL: &str = "/dav/principal/";
const HOME: &str = "/dav/addressbooks/";
const BOOK: &str = "/dav/addressbooks/wallet/";
/// Largest request body: a vCard with its photo, or a multiget of many hrefs.
const MAX_BODY: usize = 2 * 1024 * 1024;
/// Largest vCard taken by PUT.
const MAX_VCARD: usize = 1024 * 1024;
/// Entries read per page while streaming a multistatus.
const PAGE: i64 = 200;
/// Most distinct entries one multiget may ask for (clients ask for tens to hundreds).
const MAX_HREFS: usize = 10_000;
/// A streamed answer is sent on in pieces of about this size.
const CHUNK: usize = 1024 * 1024;

/// RFC 6764: the well-known address leads to the context path.
async fn well_known() -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, HeaderValue::from_static(ROOT))],
    )
        .into_response()
}

/// Who is asking: the account, and the app password's device.
#[derive(Debug, Clone)]
struct DavUser {
    id: i64,
    name: String,
    device_id: i64,
}

/// A resource of the CardDAV tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Res {
    Root,
    Principal,
    Home,
    Book,
    Item(String),
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a contact id can name an entry: 1 to 128 bytes, no control character, no `/`, not
/// starting with a dot. Ids are only database keys here (never file names), but they travel to
/// the phone's address book, where `.` and `..` mean something.
fn valid_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && !id.starts_with('.')
        && !id.chars().any(|c| c.is_control() || c == '/')
}

/// Bytes an href carries as they are; every other byte is percent-encoded.
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._-@+=~".contains(&b)
}

/// The resource a path (or an href, absolute or not) names.
fn resource(path: &str) -> Option<Res> {
    let path = match path.find("://") {
        Some(i) => &path[path[i + 3..].find('/').map(|j| i + 3 + j)?..],
        None => path,
    };
    let p = path.trim_end_matches('/');
    Some(match p {
        "/dav" => Res::Root,
        "/dav/principal" => Res::Principal,
        "/dav/addressbooks" => Res::Home,
        "/dav/addressbooks/wallet" => Res::Book,
        _ => {
            let name = percent_decode(p.strip_prefix(BOOK)?)?;
            let id = name.strip_suffix(".vcf")?;
            if !valid_id(id) {
                return None;
            }
            Res::Item(id.to_owned())
        }
    })
}

fn href_of(contact_id: &str) -> String {
    let mut href = String::from(BOOK);
    for b in contact_id.bytes() {
        if plain(b) {
            href.push(char::from(b));
        } else {
            href.push_str(&format!("%{b:02X}"));
        }
    }
    href.push_str(".vcf");
    href
}

fn sync_token(state: &AppState, token: i64) -> String {
    format!("{}/dav/sync/{token}", state.public_url)
}

fn status(code: StatusCode, message: &str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            r#"Basic realm="Mingpian CardDAV", charset="UTF-8""#,
        )],
        "Sign in with your Mingpian name and an app password made in the app's Settings.\n",
    )
        .into_response()
}

/// Whether a Basic-auth user name names this account: its name or email (any case), or its phone
/// number (spaces and dashes ignored).
fn signs_in_as(user: &UserRecord, name: &str) -> bool {
    let name = name.trim();
    let digits = |s: &str| -> String {
        s.chars()
            .filter(|c| *c == '+' || c.is_ascii_digit())
            .collect()
    };
    user.name.to_lowercase() == name.to_lowercase()
        || user
            .email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(name))
        || user.phone.as_deref().is_some_and(|p| {
            name.chars()
                .all(|c| c == '+' || c == ' ' || c == '-' || c.is_ascii_digit())
                && digits(p) == digits(name)
        })
}

/// HTTP Basic: the account's name, email or phone, and one of its app passwords.
async fn authenticate(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<DavUser, Response> {
    use base64::Engine as _;
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((name, password)) = credentials.as_deref().and_then(|c| c.split_once(':')) else {
        return Err(unauthorized());
    };
    let found = match state
        .store
        .device_by_token(&token_hash(password.trim()))
        .await
    {
        Ok(device) if device.kind == DeviceKind::CardDav => {
            match state.store.user_by_id(device.user_id).await {
                Ok(user) if signs_in_as(&user, name) => Some(DavUser {
                    id: user.id,
                    name: user.name,
                    device_id: device.id,
                }),
                Ok(_) | Err(StoreError::NotFound) => None,
                Err(e) => return Err(ApiError::from(e).into_response()),
            }
        }
        Ok(_) | Err(StoreError::NotFound) => None,
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    match found {
        Some(user) => {
            if let Err(e) = state.limiter.check_account(user.id).await {
                return Err(e.into_response());
            }
            Ok(user)
        }
        None => {
            // Wrong guesses count against the address like failed log-ins.
            if let Some(peer) = peer
                && let Err(e) = state.limiter.check(peer, headers, Purpose::Auth).await
            {
                return Err(e.into_response());
            }
            Err(unauthorized())
        }
    }
}

fn options() -> Response {
    (
        StatusCode::OK,
        [
            (
                header::ALLOW,
                "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT",
            ),
            (
                header::HeaderName::from_static("dav"),
                "1, 3, addressbook, extended-mkcol",
            ),
        ],
    )
        .into_response()
}

async fn dav(State(state): State<AppState>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (parts, body) = req.into_parts();
    if let Some(peer) = peer
        && let Err(e) = state
            .limiter
            .check(peer, &parts.headers, Purpose::Api)
            .await
    {
        return e.into_response();
    }
    if parts.method == Method::OPTIONS {
        return options();
    }
    let user = match authenticate(&state, peer, &parts.headers).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let Some(res) = resource(parts.uri.path()) else {
        return status(StatusCode::NOT_FOUND, "no such resource");
    };
    let ctx = Ctx { state, user };
    let headers = &parts.headers;
    let result = match parts.method.as_str() {
        "PROPFIND" => ctx.propfind(res, headers, body).await,
        "REPORT" => ctx.report(res, body).await,
        "GET" | "HEAD" => ctx.get(res, headers, parts.method == Method::HEAD).await,
        "PUT" => ctx.put(res, headers, body).await,
        "DELETE" => ctx.delete(res, headers).await,
        _ => Ok(status(
            StatusCode::METHOD_NOT_ALLOWED,
            "this address book takes OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND and REPORT",
        )),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn read_body(body: Body, limit: usize) -> ApiResult<String> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge(format!("a request body is at most {limit} bytes")))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::Invalid("the body is not UTF-8".into()))
}

fn parse_xml(body: &str) -> ApiResult<Option<Node>> {
    xml::parse(body).map_err(|e| ApiError::Invalid(format!("unreadable XML: {e}")))
}

/// The properties a request asks for, refused past [`xml::MAX_PROPS`].
fn props(parent: Option<&Node>) -> ApiResult<Props> {
    match xml::props_of(parent) {
        Props::Some(p) if p.len() > xml::MAX_PROPS => Err(ApiError::Invalid(format!(
            "ask for at most {} properties at once",
            xml::MAX_PROPS
        ))),
        other => Ok(other),
    }
}

/// The vCard version an `address-data` element (inside `parent`'s `prop`) asks for.
fn address_version(parent: Option<&Node>) -> Version {
    let asked = parent
        .and_then(|p| p.child(DAV, "prop"))
        .and_then(|p| p.child(CARDDAV, "address-data"))
        .and_then(|a| a.attr("version"));
    if asked == Some("4.0") {
        Version::V4
    } else {
        Version::V3
    }
}

/// The vCard version an `Accept` header prefers.
fn accepted_version(headers: &HeaderMap) -> Version {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("version=4.0") && !accept.contains("version=3.0") {
        Version::V4
    } else {
        Version::V3
    }
}

/// An entry's ETag for one representation (quoted).
fn etag(entry: &DavEntry, version: Version) -> String {
    match version {
        Version::V3 => format!("\"{}\"", entry.etag),
        Version::V4 => format!("\"{}-4\"", entry.etag),
    }
}

fn content_type(version: Version) -> &'static str {
    match version {
        Version::V3 => "text/vcard; charset=utf-8",
        Version::V4 => "text/vcard; charset=utf-8; version=4.0",
    }
}

/// Whether `If-Match` / `If-None-Match` hold against the entry's current tag (`None`: not
/// published); `exists`: the contact exists (published or not), which `*` asks about.
fn preconditions(headers: &HeaderMap, current: Option<&DavEntry>, exists: bool) -> bool {
    let tags = |name: header::HeaderName| -> Option<Vec<String>> {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|v| {
            v.split(',')
                .map(|t| {
                    t.trim()
                        .trim_start_matches("W/")
                        .trim_matches('"')
                        .to_owned()
                })
                .collect()
        })
    };
    let matches = |tags: &[String]| {
        tags.iter().any(|t| {
            (t == "*" && exists) || current.is_some_and(|e| t.trim_end_matches("-4") == e.etag)
        })
    };
    let if_match = tags(header::IF_MATCH).is_none_or(|t| matches(&t));
    let if_none_match = tags(header::IF_NONE_MATCH).is_none_or(|t| !matches(&t));
    if_match && if_none_match
}

fn precondition_failed() -> Response {
    status(StatusCode::PRECONDITION_FAILED, "the entry changed since")
}

/// The entry of a wallet contact, if the address book holds it now.
fn live(entry: Option<DavEntry>) -> Option<DavEntry> {
    entry.filter(|e| !e.gone)
}

/// One request's account, with the state.
struct Ctx {
    state: AppState,
    user: DavUser,
}

/// What a property request is about.
enum Target<'a> {
    Collection(&'a Res, i64),
    Item(&'a DavEntry, Version),
}

fn href_xml(href: &str) -> String {
    format!("<d:href>{}</d:href>", xml::escape(href))
}

fn dav_prop(name: &str) -> Prop {
    (DAV.to_owned(), name.to_owned())
}

impl Ctx {
    async fn refresh(&self) -> ApiResult<i64> {
        Ok(self
            .state
            .store
            .dav_refresh(self.user.id, entry::build, false)
            .await?)
    }

    async fn entry(&self, id: &str) -> ApiResult<Option<DavEntry>> {
        let found = self
            .state
            .store
            .dav_entries_by_id(self.user.id, &[id.to_owned()])
            .await?;
        Ok(found.into_iter().next())
    }

    /// A property's value as XML, or `None` when this resource has no such property.
    fn value(&self, target: &Target<'_>, prop: &Prop) -> Option<String> {
        let (ns, name) = (prop.0.as_str(), prop.1.as_str());
        let privileges = |write: bool| {
            let mut p = String::from("<d:privilege><d:read/></d:privilege>");
            if write {
                for w in [
                    "write",
                    "write-content",
                    "write-properties",
                    "bind",
                    "unbind",
                ] {
                    p.push_str(&format!("<d:privilege><d:{w}/></d:privilege>"));
                }
            }
            p
        };
        match (target, ns, name) {
            (_, DAV, "current-user-principal") | (_, DAV, "principal-URL") | (_, DAV, "owner") => {
                Some(href_xml(PRINCIPAL))
            }
            (Target::Collection(..), CARDDAV, "addressbook-home-set") => Some(href_xml(HOME)),
            (Target::Collection(res, _), DAV, "resourcetype") => Some(match res {
                Res::Principal => "<d:principal/><d:collection/>".into(),
                Res::Book => "<d:collection/><card:addressbook/>".into(),
                _ => "<d:collection/>".into(),
            }),
            (Target::Collection(res, _), DAV, "displayname") => Some(xml::escape(match res {
                Res::Principal => &self.user.name,
                Res::Book => "Mingpian 名片",
                Res::Home => "Address books",
                _ => "Mingpian",
            })),
            (Target::Collection(res, _), DAV, "current-user-privilege-set") => {
                Some(privileges(matches!(res, Res::Book)))
            }
            (Target::Collection(Res::Book, _), DAV, "supported-report-set") => Some(
                ["<card:addressbook-multiget/>", "<card:addressbook-query/>", "<d:sync-collection/>"]
                    .iter()
                    .map(|r| format!("<d:supported-report><d:report>{r}</d:report></d:supported-report>"))
                    .collect(),
            ),
            (Target::Collection(Res::Book, token), CS, "getctag") => Some(token.to_string()),
            (Target::Collection(Res::Book, token), DAV, "sync-token") => {
                Some(xml::escape(&sync_token(&self.state, *token)))
            }
            (Target::Collection(Res::Book, _), CARDDAV, "supported-address-data") => Some(
                r#"<card:address-data-type content-type="text/vcard" version="3.0"/><card:address-data-type content-type="text/vcard" version="4.0"/>"#.into(),
            ),
            (Target::Collection(Res::Book, _), CARDDAV, "max-resource-size") => {
                Some(MAX_VCARD.to_string())
            }
            (Target::Collection(Res::Book, _), CARDDAV, "addressbook-description") => {
                Some("The cards in your Mingpian wallet / 名片夹".into())
            }
            (Target::Item(..), DAV, "resourcetype") => Some(String::new()),
            (Target::Item(..), DAV, "current-user-privilege-set") => Some(privileges(true)),
            (Target::Item(e, v), DAV, "getetag") => Some(xml::escape(&etag(e, *v))),
            (Target::Item(_, v), DAV, "getcontenttype") => Some(content_type(*v).into()),
            (Target::Item(e, v), DAV, "getcontentlength") => {
                Some(entry::render(&e.contact_id, &e.card_json, *v).len().to_string())
            }
            (Target::Item(e, v), CARDDAV, "address-data") => Some(xml::escape(&entry::render(
                &e.contact_id,
                &e.card_json,
                *v,
            ))),
            _ => None,
        }
    }

    /// One `<d:response>` for a resource.
    fn response(&self, href: &str, target: &Target<'_>, props: &Props) -> String {
        let all: Vec<Prop> = match target {
            Target::Item(..) => ["resourcetype", "getetag", "getcontenttype"]
                .iter()
                .map(|n| dav_prop(n))
                .collect(),
            Target::Collection(..) => ["resourcetype", "displayname", "current-user-principal"]
                .iter()
                .map(|n| dav_prop(n))
                .collect(),
        };
        match props {
            Props::All => {
                let found: Vec<(Prop, String)> = all
                    .into_iter()
                    .filter_map(|p| self.value(target, &p).map(|v| (p, v)))
                    .collect();
                xml::response(href, &found, &[])
            }
            Props::Names => {
                let found: Vec<(Prop, String)> =
                    all.into_iter().map(|p| (p, String::new())).collect();
                xml::response(href, &found, &[])
            }
            Props::Some(asked) => {
                let mut found = Vec::new();
                let mut missing = Vec::new();
                for p in asked {
                    match self.value(target, p) {
                        Some(v) => found.push((p.clone(), v)),
                        None => missing.push(p.clone()),
                    }
                }
                xml::response(href, &found, &missing)
            }
        }
    }

    async fn propfind(&self, res: Res, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
        let root = parse_xml(&read_body(body, MAX_BODY).await?)?;
        if let Some(r) = &root
            && !r.is(DAV, "propfind")
        {
            return Ok(status(
                StatusCode::BAD_REQUEST,
                "expected a propfind element",
            ));
        }
        let props = props(root.as_ref())?;
        let version = address_version(root.as_ref());
        let depth_one = headers
            .get("depth")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|d| d.trim() != "0");
        let token = self.refresh().await?;
        if let Res::Item(id) = &res {
            let Some(e) = live(self.entry(id).await?) else {
                return Ok(status(StatusCode::NOT_FOUND, "no such contact"));
            };
            let body = format!(
                "{}{}{}",
                xml::HEAD,
                self.response(&href_of(id), &Target::Item(&e, version), &props),
                xml::tail(None)
            );
            return Ok(multistatus(Body::from(body)));
        }
        let path = |r: &Res| match r {
            Res::Root => ROOT,
            Res::Principal => PRINCIPAL,
            Res::Home => HOME,
            _ => BOOK,
        };
        let mut head = String::from(xml::HEAD);
        head.push_str(&self.response(path(&res), &Target::Collection(&res, token), &props));
        let children: &[Res] = match (&res, depth_one) {
            (_, false) => &[],
            (Res::Root, true) => &[Res::Principal, Res::Home],
            (Res::Home, true) => &[Res::Book],
            _ => &[],
        };
        for child in children {
            head.push_str(&self.response(path(child), &Target::Collection(child, token), &props));
        }
        if res == Res::Book && depth_one {
            return Ok(self.stream(head, None, props, version, None, xml::tail(None)));
        }
        head.push_str(&xml::tail(None));
        Ok(multistatus(Body::from(head)))
    }

    /// A multistatus of entries, streamed page by page: `since` = (after, upto) lists every
    /// change in that range (deletions as 404), `None` every live entry; `filter` keeps only
    /// the matching ones.
    fn stream(
        &self,
        head: String,
        since: Option<(i64, i64)>,
        props: Props,
        version: Version,
        filter: Option<Filter>,
        tail: String,
    ) -> Response {
        let ctx = Ctx {
            state: self.state.clone(),
            user: self.user.clone(),
        };
        let body = async_stream::stream! {
            yield Ok::<Bytes, std::io::Error>(Bytes::from(head));
            let mut after = (0i64, String::new());
            let mut sent = 0usize;
            loop {
                let page = match ctx.state.store.dav_entries(ctx.user.id, since, (after.0, &after.1), PAGE).await {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::error!(error = ?e, "reading the address book");
                        // Cut the answer short rather than end it as if complete.
                        yield Err(std::io::Error::other("the address book could not be read"));
                        return;
                    }
                };
                let Some(last) = page.last() else { break };
                after = (last.changed, last.contact_id.clone());
                let mut chunk = String::new();
                for e in &page {
                    let href = href_of(&e.contact_id);
                    if e.gone {
                        chunk.push_str(&xml::status_response(&href, "404 Not Found"));
                        continue;
                    }
                    if let Some(f) = &filter {
                        if f.limit.is_some_and(|n| sent >= n) {
                            break;
                        }
                        let card: Card = serde_json::from_str(&e.card_json).unwrap_or_default();
                        if !f.matches(&card) {
                            continue;
                        }
                    }
                    sent += 1;
                    chunk.push_str(&ctx.response(&href, &Target::Item(e, version), &props));
                    if chunk.len() >= CHUNK {
                        yield Ok(Bytes::from(std::mem::take(&mut chunk)));
                    }
                }
                yield Ok(Bytes::from(chunk));
                if filter.as_ref().and_then(|f| f.limit).is_some_and(|n| sent >= n) {
                    break;
                }
            }
            yield Ok(Bytes::from(tail));
        };
        multistatus(Body::from_stream(body))
    }

    async fn report(&self, res: Res, body: Body) -> ApiResult<Response> {
        let root = parse_xml(&read_body(body, MAX_BODY).await?)?
            .ok_or_else(|| ApiError::Invalid("a REPORT needs a body".into()))?;
        if res != Res::Book {
            return Ok(status(
                StatusCode::FORBIDDEN,
                "reports run on the address book",
            ));
        }
        let props = props(Some(&root))?;
        let version = address_version(Some(&root));
        let token = self.refresh().await?;
        if root.is(CARDDAV, "addressbook-multiget") {
            return self.multiget(&root, props, version).await;
        }
        if root.is(DAV, "sync-collection") {
            let asked = root
                .child(DAV, "sync-token")
                .map(|t| t.text.trim().to_owned())
                .unwrap_or_default();
            let since = if asked.is_empty() {
                None
            } else {
                let prefix = format!("{}/dav/sync/", self.state.public_url);
                match asked
                    .strip_prefix(&prefix)
                    .and_then(|n| n.parse::<i64>().ok())
                {
                    Some(n) if (0..=token).contains(&n) => Some((n, token)),
                    _ => {
                        return Ok((
                            StatusCode::FORBIDDEN,
                            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                            xml::error_body("d:valid-sync-token"),
                        )
                            .into_response());
                    }
                }
            };
            let tail = xml::tail(Some(&sync_token(&self.state, token)));
            return Ok(self.stream(xml::HEAD.into(), since, props, version, None, tail));
        }
        if root.is(CARDDAV, "addressbook-query") {
            let filter = Filter::read(&root)?;
            return Ok(self.stream(
                xml::HEAD.into(),
                None,
                props,
                version,
                Some(filter),
                xml::tail(None),
            ));
        }
        Ok((
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            xml::error_body("d:supported-report"),
        )
            .into_response())
    }

    /// `addressbook-multiget`: the asked entries in the order asked, unknown ones as 404.
    async fn multiget(&self, root: &Node, props: Props, version: Version) -> ApiResult<Response> {
        let mut seen = std::collections::HashSet::new();
        let hrefs: Vec<String> = root
            .all(DAV, "href")
            .map(|h| h.text.trim().to_owned())
            .filter(|h| seen.insert(h.clone()))
            .collect();
        if hrefs.len() > MAX_HREFS {
            return Err(ApiError::TooLarge(format!(
                "ask for at most {MAX_HREFS} entries at once"
            )));
        }
        let ctx = Ctx {
            state: self.state.clone(),
            user: self.user.clone(),
        };
        let body = async_stream::stream! {
            yield Ok::<Bytes, std::io::Error>(Bytes::from(xml::HEAD));
            for chunk in hrefs.chunks(PAGE as usize) {
                let ids: Vec<String> = chunk
                    .iter()
                    .filter_map(|h| match resource(h) {
                        Some(Res::Item(id)) => Some(id),
                        _ => None,
                    })
                    .collect();
                let found = match ctx.state.store.dav_entries_by_id(ctx.user.id, &ids).await {
                    Ok(found) => found,
                    Err(e) => {
                        tracing::error!(error = ?e, "reading the address book");
                        yield Err(std::io::Error::other("the address book could not be read"));
                        return;
                    }
                };
                let by_id: std::collections::HashMap<&str, &DavEntry> =
                    found.iter().filter(|e| !e.gone).map(|e| (e.contact_id.as_str(), e)).collect();
                let mut out = String::new();
                for href in chunk {
                    let entry = match resource(href) {
                        Some(Res::Item(id)) => by_id.get(id.as_str()).copied(),
                        _ => None,
                    };
                    match entry {
                        Some(e) => out.push_str(&ctx.response(href, &Target::Item(e, version), &props)),
                        None => out.push_str(&xml::status_response(href, "404 Not Found")),
                    }
                    if out.len() >= CHUNK {
                        yield Ok(Bytes::from(std::mem::take(&mut out)));
                    }
                }
                yield Ok(Bytes::from(out));
            }
            yield Ok(Bytes::from(xml::tail(None)));
        };
        Ok(multistatus(Body::from_stream(body)))
    }

    async fn get(&self, res: Res, headers: &HeaderMap, head_only: bool) -> ApiResult<Response> {
        let Res::Item(id) = res else {
            return Ok(status(
                StatusCode::OK,
                "Mingpian CardDAV address book: add this server to your phone's contacts accounts.",
            ));
        };
        self.refresh().await?;
        let Some(e) = live(self.entry(&id).await?) else {
            return Ok(status(StatusCode::NOT_FOUND, "no such contact"));
        };
        let version = accepted_version(headers);
        let body = entry::render(&e.contact_id, &e.card_json, version);
        let tag = etag(&e, version);
        if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
        {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
        }
        let length = body.len();
        let mut response = (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, content_type(version).to_owned()),
                (header::ETAG, tag),
            ],
            if head_only { String::new() } else { body },
        )
            .into_response();
        if head_only {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        Ok(response)
    }

    fn change(&self, kind: &str, id: &str, base_version: i64, data: String) -> Change {
        Change {
            kind: kind.into(),
            id: id.into(),
            base_version,
            modified_at: now_ms(),
            device: format!("device-{}", self.user.device_id),
            deleted: false,
            data,
            strict: true,
        }
    }

    /// The records that make a contact created in the address book: the contact, a card typed
    /// in by the user, and the card's first version.
    fn new_contact(&self, id: &str, sent: Card) -> ApiResult<Vec<Change>> {
        let now = now_ms();
        let card_id = crate::secrets::random_id();
        let contact = records::Contact {
            note: sent.note.clone().unwrap_or_default(),
            tags: sent.categories.clone(),
            created_at: now,
            deleted_at: None,
            primary_card_id: None,
            own: None,
        };
        let card = records::Card {
            contact_id: id.to_owned(),
            source: "manual".into(),
            owner: None,
            set_no: None,
            uid: sent.uid.clone(),
            full: true,
            version: 1,
            linked_by: "new".into(),
            received_at: now,
            trust: Some(Trust::Verified),
        };
        let version = records::CardVersion {
            card_id: card_id.clone(),
            seq: 1,
            version: 1,
            card: sent,
            origin: Some("carddav".into()),
            received_at: now,
        };
        Ok(vec![
            self.change("contact", id, 0, serde_json::to_string(&contact)?),
            self.change("card", &card_id, 0, serde_json::to_string(&card)?),
            self.change(
                "card_version",
                &format!("{card_id}.1"),
                0,
                serde_json::to_string(&version)?,
            ),
        ])
    }

    async fn put(&self, res: Res, headers: &HeaderMap, body: Body) -> ApiResult<Response> {
        let Res::Item(id) = res else {
            return Ok(status(
                StatusCode::METHOD_NOT_ALLOWED,
                "PUT a .vcf into the address book",
            ));
        };
        let text = read_body(body, MAX_VCARD).await?;
        let mut read = vcard::read(text.as_bytes());
        if read.cards.len() != 1 || !read.errors.is_empty() {
            return Ok(status(
                StatusCode::BAD_REQUEST,
                "an address-book entry is exactly one readable vCard",
            ));
        }
        let sent = read.cards.remove(0);
        limits::check(&sent).map_err(|e| ApiError::TooLarge(e.to_string()))?;
        // The record first, then the entry: a wallet push between the two either changes the
        // entry's tag (the precondition fails) or the record's version (the strict write
        // fails); it is never overwritten unseen.
        let stored = self
            .state
            .store
            .record(self.user.id, "contact", &id)
            .await?
            .filter(|r| !r.deleted);
        self.refresh().await?;
        let current = live(self.entry(&id).await?);
        if !preconditions(headers, current.as_ref(), stored.is_some()) {
            return Ok(precondition_failed());
        }
        // A contact that exists but is not published (in the bin, or only unaccepted web
        // replies): the client's copy is stale, and comparing against nothing would pin every
        // field as the user's own edit.
        if stored.is_some() && current.is_none() {
            return Ok(precondition_failed());
        }
        let created = stored.is_none();
        let changes = match stored {
            Some(row) => {
                let mut contact: records::Contact = serde_json::from_str(&row.data)?;
                let before = contact.clone();
                let published: Card = current
                    .as_ref()
                    .and_then(|e| serde_json::from_str(&e.card_json).ok())
                    .unwrap_or_default();
                entry::apply_edit(&published, &sent, &mut contact);
                if contact == before {
                    Vec::new()
                } else {
                    vec![self.change(
                        "contact",
                        &id,
                        row.version,
                        serde_json::to_string(&contact)?,
                    )]
                }
            }
            None => self.new_contact(&id, sent)?,
        };
        if !changes.is_empty()
            && let Some(response) = self.write(&changes).await?
        {
            return Ok(response);
        }
        // No ETag: the entry as stored is the wallet's rendering, not the bytes sent (RFC 6352
        // 6.3.2.3), so the client reads it back.
        Ok(if created {
            StatusCode::CREATED
        } else {
            StatusCode::NO_CONTENT
        }
        .into_response())
    }

    /// Writes changes made under a precondition, all or none, each only from the version the
    /// precondition saw: `Some(412)` when the contact changed meanwhile.
    async fn write(&self, changes: &[Change]) -> ApiResult<Option<Response>> {
        let quota = self.state.config.quotas.backup_bytes;
        match self
            .state
            .store
            .push_records(self.user.id, changes, quota)
            .await
        {
            Ok(_) => {
                // Saved: a refresh that fails now (busy, say) must not answer a saved write
                // with an error the client would retry into a 412. The book catches up in the
                // background, and the client reads the entry back, which refreshes first.
                if let Err(e) = self.refresh().await {
                    tracing::warn!(error = ?e, "refreshing the address book after a write");
                    refresh_in_background(&self.state, self.user.id);
                }
                Ok(None)
            }
            Err(StoreError::Conflict(_)) => Ok(Some(status(
                StatusCode::PRECONDITION_FAILED,
                "the contact changed meanwhile",
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, res: Res, headers: &HeaderMap) -> ApiResult<Response> {
        let Res::Item(id) = res else {
            return Ok(status(StatusCode::FORBIDDEN, "only entries can be deleted"));
        };
        // The record before the entry, as in `put`.
        let Some(row) = self
            .state
            .store
            .record(self.user.id, "contact", &id)
            .await?
        else {
            return Ok(status(StatusCode::NOT_FOUND, "no such contact"));
        };
        self.refresh().await?;
        let current = live(self.entry(&id).await?);
        if current.is_none() {
            return Ok(status(StatusCode::NOT_FOUND, "no such contact"));
        }
        if !preconditions(headers, current.as_ref(), true) {
            return Ok(precondition_failed());
        }
        let mut contact: records::Contact = serde_json::from_str(&row.data)?;
        // Into the wallet's bin, where the user can undo it.
        contact.deleted_at = Some(now_ms());
        let change = self.change(
            "contact",
            &id,
            row.version,
            serde_json::to_string(&contact)?,
        );
        if let Some(response) = self.write(&[change]).await? {
            return Ok(response);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}

fn multistatus(body: Body) -> Response {
    (
        StatusCode::MULTI_STATUS,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Most property filters in a query, and text matches in each.
const MAX_FILTERS: usize = 16;

/// An `addressbook-query` filter (RFC 6352 10.5): property filters with text matches.
#[derive(Debug, Clone)]
struct Filter {
    all_of: bool,
    props: Vec<PropFilter>,
    limit: Option<usize>,
}

#[derive(Debug, Clone)]
struct PropFilter {
    name: String,
    all_of: bool,
    not_defined: bool,
    matches: Vec<TextMatch>,
}

#[derive(Debug, Clone)]
struct TextMatch {
    text: String,
    how: String,
    negate: bool,
}

impl Filter {
    fn read(root: &Node) -> ApiResult<Filter> {
        let all_of = |n: &Node| n.attr("test") == Some("allof");
        let filter = root.child(CARDDAV, "filter");
        let props: Vec<PropFilter> = filter
            .map(|f| {
                f.all(CARDDAV, "prop-filter")
                    .map(|p| PropFilter {
                        name: p.attr("name").unwrap_or_default().to_ascii_uppercase(),
                        all_of: all_of(p),
                        not_defined: p.child(CARDDAV, "is-not-defined").is_some(),
                        matches: p
                            .all(CARDDAV, "text-match")
                            .map(|t| TextMatch {
                                text: t.text.to_lowercase(),
                                how: t.attr("match-type").unwrap_or("contains").to_owned(),
                                negate: t.attr("negate-condition") == Some("yes"),
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        if props.len() > MAX_FILTERS || props.iter().any(|p| p.matches.len() > MAX_FILTERS) {
            return Err(ApiError::Invalid(format!(
                "a query holds at most {MAX_FILTERS} property filters of at most {MAX_FILTERS} text matches"
            )));
        }
        let limit = root
            .child(CARDDAV, "limit")
            .and_then(|l| l.child(CARDDAV, "nresults"))
            .and_then(|n| n.text.trim().parse().ok());
        Ok(Filter {
            all_of: filter.is_some_and(all_of),
            props,
            limit,
        })
    }

    fn matches(&self, card: &Card) -> bool {
        if self.props.is_empty() {
            return true;
        }
        let mut results = self.props.iter().map(|p| p.matches(card));
        if self.all_of {
            results.all(|r| r)
        } else {
            results.any(|r| r)
        }
    }
}

impl PropFilter {
    fn values(&self, card: &Card) -> Vec<String> {
        match self.name.as_str() {
            "FN" => vec![card.formatted_name.clone()],
            "N" => card
                .name
                .iter()
                .map(|n| format!("{};{}", n.family, n.given))
                .collect(),
            "NICKNAME" => card.nicknames.clone(),
            "EMAIL" => card.emails.iter().map(|e| e.value.clone()).collect(),
            "TEL" => card.phones.iter().map(|p| p.value.clone()).collect(),
            "ORG" => card.org.iter().cloned().collect(),
            "TITLE" => card.title.iter().cloned().collect(),
            "NOTE" => card.note.iter().cloned().collect(),
            "CATEGORIES" => card.categories.clone(),
            _ => Vec::new(),
        }
    }

    fn matches(&self, card: &Card) -> bool {
        let values = self.values(card);
        if self.not_defined {
            return values.iter().all(|v| v.is_empty());
        }
        if self.matches.is_empty() {
            return values.iter().any(|v| !v.is_empty());
        }
        let values: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
        let one = |t: &TextMatch| {
            let hit = values.iter().any(|v| match t.how.as_str() {
                "equals" => *v == t.text,
                "starts-with" => v.starts_with(&t.text),
                "ends-with" => v.ends_with(&t.text),
                _ => v.contains(&t.text),
            });
            hit != t.negate
        };
        if self.all_of {
            self.matches.iter().all(one)
        } else {
            self.matches.iter().any(one)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_hrefs_name_resources_and_nothing_else() {
        assert_eq!(resource("/dav"), Some(Res::Root));
        assert_eq!(resource("/dav/addressbooks/wallet/"), Some(Res::Book));
        assert_eq!(
            resource("/dav/addressbooks/wallet/3f2a-9c.vcf"),
            Some(Res::Item("3f2a-9c".into()))
        );
        assert_eq!(
            resource("https://example.com/dav/addressbooks/wallet/a%40b.vcf"),
            Some(Res::Item("a@b".into()))
        );
        assert_eq!(resource("/dav/addressbooks/wallet/..%2Fx.vcf"), None);
        assert_eq!(resource("/dav/addressbooks/wallet/..vcf"), None);
        // Any id a wallet made goes out and comes back as the same resource.
        for id in ["3f2a-9c", "a b?c#d%e", "名片"] {
            assert_eq!(resource(&href_of(id)), Some(Res::Item(id.into())), "{id}");
        }
        assert_eq!(resource("/dav/addressbooks/wallet/a/b.vcf"), None);
        assert_eq!(resource("/dav/addressbooks/wallet/x.txt"), None);
        assert_eq!(resource("/dav/elsewhere"), None);
    }
}
