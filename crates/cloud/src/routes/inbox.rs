//! Cards that arrived for the user: a cursor-paged list to catch up, a live stream (SSE) that
//! the app keeps open while it shows the user's QR code, deleting an item, and blocking a
//! sender.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{delete, get};
use axum::{Json, Router};
use futures_util::Stream;
use mingpian_card::api::{self, InboxVia};
use mingpian_card::{CardSetNo, PublicId};
use serde::Deserialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::live::{StreamPlace, Wake};
use crate::store::{BlockRecord, InboxRecord, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(page))
        .route("/inbox/stream", get(stream))
        .route("/inbox/{cursor}", delete(delete_item))
        .route("/blocks", get(blocks).post(block))
        .route("/blocks/{id}", delete(unblock))
}

/// Most card bytes in one page past its first item.
const PAGE_BYTES: i64 = 4 * 1024 * 1024;
/// A live stream's pages are smaller: a page waits in memory while its client reads it, and a
/// client that stops reading holds its page until the connection is dropped (at most a minute
/// of unacknowledged data later, see `serve`).
const STREAM_PAGE_BYTES: i64 = 256 * 1024;
/// How often an idle stream checks that its device is still logged in (a missed wake-up cannot
/// keep a logged-out device listening for longer than this).
const RECHECK: Duration = Duration::from_secs(30);

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
        card: record.card.get()?,
        from: record
            .from_card_id
            .as_deref()
            .and_then(|p| PublicId::parse(p).ok()),
        exchange_id: record.exchange_id,
        from_set: record
            .from_set_no
            .and_then(|n| u32::try_from(n).ok())
            .and_then(|n| CardSetNo::new(n).ok()),
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

#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", security(("bearer" = [])), params(("after" = Option<i64>, Query, description = "cursor", minimum = 0), ("limit" = Option<i64>, Query, description = "1 to 500")), responses((status = 200, body = api::InboxPage), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<api::InboxPage>> {
    if q.after < 0 {
        return Err(ApiError::Invalid("after must not be negative".into()));
    }
    let limit = q.limit.clamp(1, 500);
    let items: Vec<api::InboxItem> = state
        .store
        .inbox(caller.user_id, q.after, limit, PAGE_BYTES)
        .await?
        .into_iter()
        .map(to_api)
        .collect::<ApiResult<_>>()?;
    let next_cursor = items.last().map_or(q.after, |i| i.cursor);
    Ok(Json(api::InboxPage { items, next_cursor }))
}

/// One event of the live inbox, as the stream frames it.
#[derive(Debug, utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "describes the stream's events for the OpenAPI document"
)]
pub struct SseEvent {
    /// Always `card`.
    #[schema(pattern = "^card$")]
    event: String,
    /// The item's cursor.
    #[schema(pattern = "^[0-9]+$")]
    id: String,
    /// An InboxItem, as JSON.
    #[schema(content_media_type = "application/json")]
    data: String,
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    #[serde(default)]
    after: Option<i64>,
}

/// Sends every item after the cursor (`after`, or the `Last-Event-ID` of a reconnecting client),
/// then each new one the moment it arrives. Event ids are cursors. The stream ends when its
/// device is logged out, and when a newer stream takes its place: an instance keeps at most
/// two streams per device and eight per account, the newest, and opens at most 5,000 in all
/// (then 429, unless the new one takes the place of its device's live stream; see
/// `live::STREAMS_PER_INSTANCE`).
#[utoipa::path(get, path = "/api/v1/inbox/stream", tag = "inbox", security(("bearer" = [])), params(("after" = Option<i64>, Query, description = "cursor")), responses((status = 200, description = "Server-Sent Events: `card` events carrying an InboxItem, ids are cursors", content_type = "text/event-stream", body = SseEvent), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let last_event = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let mut cursor = last_event.or(q.after).unwrap_or(0).max(0);
    // Subscribe before the first read so nothing delivered in between is missed.
    let mut wake = state.hub.subscribe();
    let (user_id, device_id) = (caller.user_id, caller.device_id);
    // Counted among the device's and the account's streams here; a newer one beyond the bound
    // ends this one (`Hub::open_stream`).
    let mut place = state
        .hub
        .open_stream(user_id, device_id)
        .ok_or(ApiError::RateLimited {
            retry_after: RECHECK.as_secs() as u32,
        })?;
    let events = async_stream::stream! {
        let mut next_check = tokio::time::Instant::now() + RECHECK;
        // Wake-ups may have been missed (the listener reconnected, or this stream lagged): the
        // device check is due now, and every stream here was told so at once.
        let mut herd = false;
        loop {
            // Before every page, however long the inbox or slow the reader: a logged-out device
            // gets nothing more. Wake-ups taken here need no other answer than this read.
            match take_waiting(&mut wake, device_id, &place) {
                None => return,
                Some(missed) => herd |= missed,
            }
            if herd || tokio::time::Instant::now() >= next_check {
                if std::mem::take(&mut herd) {
                    // Spread out over a second, so that the streams do not all ask the database
                    // at the same moment. Nothing is sent before the check.
                    let spread = rand::random_range(0..1000);
                    tokio::time::sleep(Duration::from_millis(spread)).await;
                    if place.is_ended() {
                        return;
                    }
                }
                match state.store.device_exists(device_id).await {
                    Ok(false) => return,
                    Ok(true) => next_check = tokio::time::Instant::now() + RECHECK,
                    // Nothing more is sent until the device is known to be logged in: the
                    // check stays due.
                    Err(e) => {
                        tracing::warn!(error = ?e, "inbox stream device check");
                        next_check = tokio::time::Instant::now();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
            match state.store.inbox(user_id, cursor, 100, STREAM_PAGE_BYTES).await {
                Ok(records) if !records.is_empty() => {
                    for record in records {
                        // Before every item too: a logout ends the page, and wake-ups that may
                        // have been missed send the rest after the device check.
                        match take_waiting(&mut wake, device_id, &place) {
                            None => return,
                            Some(true) => {
                                herd = true;
                                break;
                            }
                            Some(false) => {}
                        }
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
                // Read again after a pause: waiting for the next wake-up could leave what is
                // there unsent.
                Err(e) => {
                    tracing::warn!(error = ?e, "inbox stream read");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            // Wait for this user's next delivery. Every RECHECK, however many wake-ups arrive,
            // and whenever wake-ups may have been missed, the check before the next page asks
            // whether the device is still logged in: a logout whose wake-up was lost must still
            // end the stream.
            loop {
                let woken = tokio::select! {
                    woken = tokio::time::timeout_at(next_check, wake.recv()) => woken,
                    // A newer stream of this device or account took its place.
                    () = place.ended() => return,
                };
                match woken {
                    Ok(Ok(Wake::Inbox(id))) if id == user_id => break,
                    Ok(Ok(Wake::DeviceGone(id))) if id == device_id => return,
                    Ok(Ok(Wake::Recheck)) | Ok(Err(RecvError::Lagged(_))) => {
                        herd = true;
                        break;
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(RecvError::Closed)) => return,
                    // The check is due.
                    Err(_) => break,
                }
            }
        }
    };
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Takes the wake-ups waiting for a stream of `device_id`. `None`: the stream ends (the device
/// was logged out, a newer stream took its place, or the server is stopping); `Some(true)`:
/// wake-ups may have been missed, so the device must be checked before anything more is sent.
fn take_waiting(
    wake: &mut broadcast::Receiver<Wake>,
    device_id: i64,
    place: &StreamPlace,
) -> Option<bool> {
    if place.is_ended() {
        return None;
    }
    let mut missed = false;
    loop {
        match wake.try_recv() {
            Ok(Wake::DeviceGone(id)) if id == device_id => return None,
            Ok(Wake::Recheck) | Err(TryRecvError::Lagged(_)) => missed = true,
            Ok(_) => {}
            Err(TryRecvError::Closed) => return None,
            Err(TryRecvError::Empty) => return Some(missed),
        }
    }
}

#[utoipa::path(delete, path = "/api/v1/inbox/{cursor}", tag = "inbox", security(("bearer" = [])), params(("cursor" = i64, Path, description = "the item's cursor")), responses((status = 204, description = "deleted"), (status = 404, description = "no such item", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn delete_item(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(cursor): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    match state.store.delete_inbox_item(caller.user_id, cursor).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("no such inbox item")),
        Err(e) => Err(e.into()),
    }
}

fn block_to_api(b: BlockRecord) -> api::Block {
    api::Block {
        id: b.id,
        name: b.name,
        created_at: b.created_at,
    }
}

#[utoipa::path(get, path = "/api/v1/blocks", tag = "inbox", security(("bearer" = [])), responses((status = 200, body = Vec<api::Block>), (status = 401, description = "not logged in", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn blocks(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<api::Block>>> {
    let blocks = state.store.blocks(caller.user_id).await?;
    Ok(Json(blocks.into_iter().map(block_to_api).collect()))
}

/// Blocks the account behind a card the user received: its exchanges stop reaching the user's
/// inbox (it is not told), and what it already sent leaves the inbox.
#[utoipa::path(post, path = "/api/v1/blocks", tag = "inbox", security(("bearer" = [])), request_body = api::BlockRequest, responses((status = 201, body = api::Block), (status = 404, description = "no such card", body = api::ApiError), (status = 409, description = "your own card", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 413, description = "too large", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn block(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<api::BlockRequest>,
) -> ApiResult<(StatusCode, Json<api::Block>)> {
    match state
        .store
        .block(caller.user_id, request.card.as_str())
        .await
    {
        Ok(b) => Ok((StatusCode::CREATED, Json(block_to_api(b)))),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("no card with that id")),
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict("that is your own card".into())),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(delete, path = "/api/v1/blocks/{id}", tag = "inbox", security(("bearer" = [])), params(("id" = i64, Path, description = "the block's id")), responses((status = 204, description = "unblocked"), (status = 404, description = "no such block", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn unblock(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    match state.store.unblock(caller.user_id, id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("no such block")),
        Err(e) => Err(e.into()),
    }
}
