//! The cloud's HTTP API from the phone: typed calls over `mingpian_card::api`, errors mapped to
//! [`WalletError`] (unreachable → `Offline`, error bodies → `Cloud` with the server's code).
//!
//! TLS is rustls with the *ring* provider: reqwest 0.13's default aws-lc-rs needs cmake and a
//! C toolchain per target, which is hard to cross-build for Android and iOS; ring is not.

use std::sync::Once;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use mingpian_card::CardSetNo;
use mingpian_card::api::{
    self, Account, AppPasswordRequest, Block, BlockRequest, CardDavAccess, CardSet, CardSetInput,
    CardUpdate, CardUpdatesRequest, CodePreview, Codes, Device, Exchange, ExchangeRequest,
    InboxItem, InboxPage, LoginRequest, NewAppPassword, PreviewRequest, RegisterRequest, Session,
    SyncPage, SyncPush, SyncPushResult,
};
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ErrorCode, Result, WalletError};

fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider was installed first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A connection to one cloud, with or without a device token.
#[derive(Clone)]
pub struct Cloud {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cloud")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

impl Cloud {
    pub fn new(base: &str, token: Option<String>) -> Result<Cloud> {
        install_tls_provider();
        let parsed = url::Url::parse(base)
            .map_err(|e| WalletError::Invalid(format!("server URL {base:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(WalletError::Invalid(format!(
                "server URL {base:?} must start with https:// or http://"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("mingpian-wallet/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WalletError::Offline(e.to_string()))?;
        Ok(Cloud {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        req
    }

    async fn send(req: RequestBuilder) -> Result<Response> {
        let resp = req.send().await.map_err(network)?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        let (code, message) = match serde_json::from_str::<api::ApiError>(&body) {
            Ok(e) => (e.code.into(), e.message),
            Err(_) => (
                if status >= 500 {
                    ErrorCode::Internal
                } else {
                    ErrorCode::Unknown
                },
                format!("the cloud answered {status}"),
            ),
        };
        Err(WalletError::Cloud {
            status,
            code,
            message,
        })
    }

    async fn call<T: DeserializeOwned>(req: RequestBuilder) -> Result<T> {
        let resp = Self::send(req.timeout(Duration::from_secs(60))).await?;
        resp.json().await.map_err(network)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        Self::call(self.request(Method::POST, path).json(body)).await
    }

    pub async fn register(&self, req: &RegisterRequest) -> Result<Session> {
        self.post("/accounts", req).await
    }

    pub async fn login(&self, req: &LoginRequest) -> Result<Session> {
        self.post("/sessions", req).await
    }

    pub async fn me(&self) -> Result<Account> {
        Self::call(self.request(Method::GET, "/me")).await
    }

    pub async fn devices(&self) -> Result<Vec<Device>> {
        Self::call(self.request(Method::GET, "/devices")).await
    }

    pub async fn log_out_device(&self, id: i64) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/devices/{id}"))).await?;
        Ok(())
    }

    pub async fn carddav(&self) -> Result<CardDavAccess> {
        Self::call(self.request(Method::GET, "/carddav")).await
    }

    pub async fn new_app_password(&self, req: &AppPasswordRequest) -> Result<NewAppPassword> {
        self.post("/carddav/passwords", req).await
    }

    pub async fn revoke_app_password(&self, id: i64) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/carddav/passwords/{id}"))).await?;
        Ok(())
    }

    pub async fn sets(&self) -> Result<Vec<CardSet>> {
        Self::call(self.request(Method::GET, "/sets")).await
    }

    pub async fn create_set(&self, input: &CardSetInput) -> Result<CardSet> {
        self.post("/sets", input).await
    }

    pub async fn replace_set(&self, n: CardSetNo, input: &CardSetInput) -> Result<CardSet> {
        Self::call(
            self.request(Method::PUT, &format!("/sets/{}", n.get()))
                .json(input),
        )
        .await
    }

    pub async fn codes(&self, n: CardSetNo) -> Result<Codes> {
        Self::call(self.request(Method::GET, &format!("/sets/{}/code", n.get()))).await
    }

    pub async fn rotate(&self, n: CardSetNo) -> Result<Codes> {
        Self::call(self.request(Method::POST, &format!("/sets/{}/rotate", n.get()))).await
    }

    pub async fn exchange(&self, req: &ExchangeRequest) -> Result<Exchange> {
        self.post("/exchanges", req).await
    }

    /// Whose card a scanned code leads to; nothing is recorded or given.
    pub async fn preview(&self, scanned: &str) -> Result<CodePreview> {
        self.post(
            "/codes/preview",
            &PreviewRequest {
                scanned: scanned.to_owned(),
            },
        )
        .await
    }

    /// Deletes one item of the user's inbox.
    pub async fn delete_inbox_item(&self, cursor: i64) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/inbox/{cursor}"))).await?;
        Ok(())
    }

    /// Stops cards from the account behind a received card.
    pub async fn block(&self, card: &BlockRequest) -> Result<Block> {
        self.post("/blocks", card).await
    }

    pub async fn blocks(&self) -> Result<Vec<Block>> {
        Self::call(self.request(Method::GET, "/blocks")).await
    }

    pub async fn unblock(&self, id: i64) -> Result<()> {
        Self::send(self.request(Method::DELETE, &format!("/blocks/{id}"))).await?;
        Ok(())
    }

    pub async fn inbox(&self, after: i64) -> Result<InboxPage> {
        Self::call(
            self.request(Method::GET, "/inbox")
                .query(&[("after", after), ("limit", 500)]),
        )
        .await
    }

    pub async fn sync_push(&self, push: &SyncPush) -> Result<SyncPushResult> {
        self.post("/sync", push).await
    }

    pub async fn sync_pull(&self, after: i64) -> Result<SyncPage> {
        Self::call(
            self.request(Method::GET, "/sync")
                .query(&[("after", after), ("limit", 1000)]),
        )
        .await
    }

    pub async fn card_updates(&self, req: &CardUpdatesRequest) -> Result<Vec<CardUpdate>> {
        self.post("/cards/updates", req).await
    }

    /// The live inbox: cards as they arrive, after `after` (missed ones first). Ends when the
    /// connection drops; the caller reconnects from the last cursor it stored.
    pub async fn inbox_stream(
        &self,
        after: i64,
    ) -> Result<impl Stream<Item = Result<InboxItem>> + use<>> {
        let resp = Self::send(
            self.request(Method::GET, "/inbox/stream")
                .query(&[("after", after)])
                .header("accept", "text/event-stream"),
        )
        .await?;
        let mut bytes = resp.bytes_stream();
        Ok(async_stream::stream! {
            let mut parser = SseParser::default();
            while let Some(chunk) = bytes.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        yield Err(network(e));
                        return;
                    }
                };
                for event in parser.feed(&chunk) {
                    if event.event == "card" {
                        yield serde_json::from_str::<InboxItem>(&event.data)
                            .map_err(|e| WalletError::Corrupt(format!("inbox event: {e}")));
                    }
                }
            }
        })
    }
}

fn network(e: reqwest::Error) -> WalletError {
    WalletError::Offline(if e.is_timeout() {
        "the cloud did not answer in time".to_owned()
    } else if e.is_connect() {
        format!("cannot connect: {e}")
    } else {
        e.to_string()
    })
}

#[derive(Debug, Default, PartialEq)]
struct SseEvent {
    event: String,
    data: String,
    id: Option<String>,
}

/// Server-Sent Events framing: lines `field: value`, events end at a blank line.
#[derive(Debug, Default)]
struct SseParser {
    buf: Vec<u8>,
    current: SseEvent,
}

impl SseParser {
    fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                let event = std::mem::take(&mut self.current);
                if !event.data.is_empty() || !event.event.is_empty() {
                    out.push(event);
                }
                continue;
            }
            if line.starts_with(':') {
                continue; // keep-alive comment
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.current.event = value.to_owned(),
                "data" => {
                    if !self.current.data.is_empty() {
                        self.current.data.push('\n');
                    }
                    self.current.data.push_str(value);
                }
                "id" => self.current.id = Some(value.to_owned()),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_split_across_chunks() {
        let mut p = SseParser::default();
        assert!(p.feed(b": keep-alive\n\nevent: card\nid: 4").is_empty());
        let events = p.feed(b"2\ndata: {\"a\":\ndata: 1}\r\n\r\n");
        assert_eq!(
            events,
            vec![SseEvent {
                event: "card".into(),
                data: "{\"a\":\n1}".into(),
                id: Some("42".into())
            }]
        );
    }
}
