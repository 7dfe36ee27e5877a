//! The two-way exchange (patent step S03, claim 1): B scanned A's code; B receives A's card and,
//! in the same transaction, B's card lands in A's inbox and A's open streams are woken. Before
//! that, B may preview whose code it is, and B may take A's card without giving B's ("save
//! only").

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use mingpian_card::api;
use mingpian_card::qr::{Scanned, classify};
use mingpian_card::{CardLink, PublicId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::sets::{card_view, set_no};
use crate::store::{CodeState, Gift, NewExchange, SetRecord, StoreError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/exchanges", post(exchange))
        .route("/codes/preview", post(preview))
}

/// A scanned card link, checked.
fn link_of(scanned: &str) -> ApiResult<CardLink> {
    match classify(scanned) {
        Ok(Scanned::Link(link)) => Ok(link),
        Ok(Scanned::Card(_)) => Err(ApiError::Invalid(
            "this code carries the card itself; save it without the cloud".into(),
        )),
        Err(e) => Err(ApiError::Invalid(e.to_string())),
    }
}

/// The set behind a link, and whether its live token lets the scanner see it whole.
#[tracing::instrument(skip_all)]
async fn resolve(state: &AppState, link: &CardLink) -> ApiResult<(SetRecord, bool)> {
    let code = match state
        .store
        .resolve_code(link.public_id.as_str(), i64::from(link.set_no.get()))
        .await
    {
        Ok(code) => Some(code),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    active(state, link, code)
}

/// What a code's state means for its scanner: its set and whether the scanner sees it whole.
fn active(
    state: &AppState,
    link: &CardLink,
    code: Option<CodeState>,
) -> ApiResult<(SetRecord, bool)> {
    let set = match code {
        Some(CodeState::Active(set)) => set,
        Some(CodeState::Rotated) => return Err(ApiError::Gone),
        None => return Err(ApiError::NotFound("no card behind this code")),
    };
    let full = link.token.as_ref().is_some_and(|t| {
        state.live_token_ok(t.as_str(), link.public_id.as_str(), link.set_no.get())
    });
    Ok((set, full))
}

#[utoipa::path(post, path = "/api/v1/codes/preview", tag = "exchange", security(("bearer" = [])), request_body = api::PreviewRequest, responses((status = 200, body = api::CodePreview), (status = 404, description = "no card behind the code", body = api::ApiError), (status = 410, description = "the code was rotated", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 413, description = "too large", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn preview(
    State(state): State<AppState>,
    _caller: Caller,
    ApiJson(request): ApiJson<api::PreviewRequest>,
) -> ApiResult<Json<api::CodePreview>> {
    let link = link_of(&request.scanned)?;
    let (set, full) = resolve(&state, &link).await?;
    Ok(Json(api::CodePreview {
        card: card_view(&set, full)?,
        full,
    }))
}

#[utoipa::path(post, path = "/api/v1/exchanges", tag = "exchange", security(("bearer" = [])), request_body = api::ExchangeRequest, responses((status = 200, body = api::Exchange), (status = 404, description = "no card behind the code", body = api::ApiError), (status = 410, description = "the code was rotated", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 413, description = "too large", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, description = "too many requests", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn exchange(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<api::ExchangeRequest>,
) -> ApiResult<Json<api::Exchange>> {
    let key = request.idempotency_key.trim();
    if !(8..=128).contains(&key.len()) || key.chars().any(char::is_control) {
        return Err(ApiError::Invalid(
            "idempotency_key must be 8 to 128 characters, none of them control characters".into(),
        ));
    }
    let link = link_of(&request.scanned)?;
    // The code, the set given back and an earlier attempt with this key: one round trip.
    let reads = state
        .store
        .exchange_reads(
            link.public_id.as_str(),
            i64::from(link.set_no.get()),
            caller.user_id,
            (!request.save_only).then(|| i64::from(request.give_set.get())),
            key,
        )
        .await?;
    let (owner_set, full) = active(&state, &link, reads.code)?;
    if owner_set.user_id == caller.user_id {
        return Err(ApiError::Invalid("this is your own card".into()));
    }
    let scanner_set = match (request.save_only, reads.gift) {
        (true, _) => None,
        (false, Some(set)) => Some(set),
        (false, None) => {
            return Err(ApiError::NotFound(
                "you have no card set with that number to give",
            ));
        }
    };
    let place = request
        .place
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|p| !p.is_empty());
    let outcome = match reads.previous {
        // A retry: answered as the first attempt was.
        Some(previous) => previous,
        None => {
            state
                .store
                .record_exchange(&NewExchange {
                    scanner_id: caller.user_id,
                    owner_id: owner_set.user_id,
                    owner_set_no: owner_set.set_no,
                    give: scanner_set.as_ref().map(|s| Gift {
                        set_no: s.set_no,
                        version: s.version,
                        card: &s.card,
                    }),
                    owner_version: owner_set.version,
                    idempotency_key: key,
                    full_card: full,
                    place: place.as_deref(),
                    caps: state.inbox_caps(),
                })
                .await?
        }
    };
    if outcome.created && outcome.delivered {
        // Other instances were notified with the delivery itself.
        state.hub.delivered_here(owner_set.user_id);
    }
    // A retry is answered from the set the first attempt recorded, as that attempt saw it.
    let answered_set = if outcome.created
        || (outcome.owner_id == owner_set.user_id && outcome.owner_set_no == owner_set.set_no)
    {
        owner_set
    } else {
        state
            .store
            .set(outcome.owner_id, outcome.owner_set_no)
            .await?
    };
    Ok(Json(api::Exchange {
        exchange_id: outcome.exchange_id,
        card: card_view(&answered_set, outcome.full_card)?,
        full: outcome.full_card,
        owner: PublicId::parse(&answered_set.card_id).map_err(|e| ApiError::Internal(e.into()))?,
        owner_set: set_no(&answered_set)?,
        version: answered_set.version,
        created_at: outcome.created_at,
        delivered: outcome.delivered,
    }))
}
