//! Cards that arrived for the user: a cursor-paged list to catch up, and a live stream (SSE)
//! that the app keeps open while it shows the user's QR code.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use mingpian_card::api::{self, InboxVia};
use mingpian_card::{CardSetNo, PublicId};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::InboxRecord;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(page))
        .route("/inbox/stream", get(stream))
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

fn to_api(record: InboxRecord) -> ApiResult<api::InboxItem> {
    Ok(api::InboxItem {
        cursor: record.cursor,
        card: serde_json::from_str(&record.card_json)?,
        from: record
            .from_public_id
            .as_deref()
            .and_then(|p| PublicId::parse(p).ok()),
        exchange_id: record.exchange_id,
        from_set: record
            .from_set_no
            .and_then(|n| CardSetNo::new(n as u32).ok()),
        version: record.from_version,
        via: if record.via == "web" {
            InboxVia::Web
        } else {
            InboxVia::Exchange
        },
        place: record.place,
        received_at: record.created_at,
    })
}

#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", security(("bearer" = [])), params(("after" = Option<i64>, Query, description = "cursor"), ("limit" = Option<i64>, Query, description = "1 to 500")), responses((status = 200, body = api::InboxPage), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<api::InboxPage>> {
    if q.after < 0 {
        return Err(ApiError::Invalid("after must not be negative".into()));
    }
    let limit = q.limit.clamp(1, 500);
    let items: Vec<api::InboxItem> = state
        .store
        .inbox(caller.user_id, q.after, limit)
        .await?
        .into_iter()
        .map(to_api)
        .collect::<ApiResult<_>>()?;
    let next_cursor = items.last().map_or(q.after, |i| i.cursor);
    Ok(Json(api::InboxPage { items, next_cursor }))
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    #[serde(default)]
    after: Option<i64>,
}

/// Sends every item after the cursor (`after`, or the `Last-Event-ID` of a reconnecting client),
/// then each new one the moment it arrives. Event ids are cursors.
#[utoipa::path(get, path = "/api/v1/inbox/stream", tag = "inbox", security(("bearer" = [])), params(("after" = Option<i64>, Query, description = "cursor")), responses((status = 200, description = "Server-Sent Events: `card` events carrying an InboxItem, ids are cursors", content_type = "text/event-stream", body = String), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let mut cursor = last_event.or(q.after).unwrap_or(0).max(0);
    // Subscribe before the first read so nothing delivered in between is missed.
    let mut wake = state.hub.subscribe();
    let user_id = caller.user_id;
    let events = async_stream::stream! {
        loop {
            match state.store.inbox(user_id, cursor, 100).await {
                Ok(records) if !records.is_empty() => {
                    for record in records {
                        cursor = record.cursor;
                        match to_api(record) {
                            Ok(item) => {
                                let event = Event::default().event("card").id(item.cursor.to_string());
                                match event.json_data(&item) {
                                    Ok(event) => yield Ok(event),
                                    Err(e) => tracing::error!(error = %e, "inbox event"),
                                }
                            }
                            Err(e) => tracing::error!(error = %e, "inbox item"),
                        }
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = ?e, "inbox stream read");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            // Wait for this user's next delivery (or re-read after missing some wake-ups).
            loop {
                match wake.recv().await {
                    Ok(id) if id == user_id => break,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                }
            }
        }
    };
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
