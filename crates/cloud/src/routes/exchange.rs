//! The two-way exchange (patent step S03, claim 1): B scanned A's code; B receives A's card and,
//! in the same transaction, B's card lands in A's inbox and A's open streams are woken.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use mingpian_card::api::{self, CardField};
use mingpian_card::qr::{Scanned, classify};
use mingpian_card::{Card, PublicId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::sets::printed_view;
use crate::store::{CodeState, NewExchange, StoreError, now_ms};

pub fn router() -> Router<AppState> {
    Router::new().route("/exchanges", post(exchange))
}

#[utoipa::path(post, path = "/api/v1/exchanges", tag = "exchange", security(("bearer" = [])), request_body = api::ExchangeRequest, responses((status = 200, body = api::Exchange), (status = 404, description = "no card behind the code", body = api::ApiError), (status = 410, description = "the code was rotated", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn exchange(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<api::ExchangeRequest>,
) -> ApiResult<impl IntoResponse> {
    let key = request.idempotency_key.trim();
    if !(8..=128).contains(&key.len()) {
        return Err(ApiError::Invalid(
            "idempotency_key must be 8 to 128 characters".into(),
        ));
    }
    let link = match classify(&request.scanned) {
        Ok(Scanned::Link(link)) => link,
        Ok(Scanned::Card(_)) => {
            return Err(ApiError::Invalid(
                "this code carries the card itself; save it without the cloud".into(),
            ));
        }
        Err(e) => return Err(ApiError::Invalid(e.to_string())),
    };
    let (owner_set, owner_public_id) = match state
        .store
        .resolve_code(link.public_id.as_str(), i64::from(link.set_no.get()))
        .await
    {
        Ok(CodeState::Active {
            set,
            owner_public_id,
        }) => (set, owner_public_id),
        Ok(CodeState::Rotated) => return Err(ApiError::Gone),
        Err(StoreError::NotFound) => return Err(ApiError::NotFound("no card behind this code")),
        Err(e) => return Err(e.into()),
    };
    if owner_set.user_id == caller.user_id {
        return Err(ApiError::Invalid("this is your own card".into()));
    }
    let scanner_set = match state
        .store
        .set(caller.user_id, i64::from(request.give_set.get()))
        .await
    {
        Ok(set) => set,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(
                "you have no card set with that number to give",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let full = link.token.as_ref().is_some_and(|t| {
        state.live_key.verify(
            t.as_str(),
            link.public_id.as_str(),
            link.set_no.get(),
            now_ms(),
        )
    });
    let owner_card: Card = serde_json::from_str(&owner_set.card_json)?;
    let owner_card = if full {
        owner_card
    } else {
        let fields: Vec<CardField> = serde_json::from_str(&owner_set.printed_json)?;
        printed_view(&owner_card, &fields)
    };
    let owner_public =
        PublicId::parse(&owner_public_id).map_err(|e| ApiError::Internal(e.into()))?;
    let owner_set_no = link.set_no;
    let owner_version = owner_set.version;
    let response = move |exchange_id: i64, created_at: i64| {
        serde_json::to_string(&api::Exchange {
            exchange_id,
            card: owner_card.clone(),
            full,
            owner: owner_public.clone(),
            owner_set: owner_set_no,
            version: owner_version,
            created_at,
        })
        .unwrap_or_default()
    };
    let place = request
        .place
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.chars().take(200).collect::<String>());
    let outcome = state
        .store
        .record_exchange(&NewExchange {
            scanner_id: caller.user_id,
            owner_id: owner_set.user_id,
            owner_set_no: owner_set.set_no,
            scanner_set_no: scanner_set.set_no,
            owner_version: owner_set.version,
            scanner_version: scanner_set.version,
            idempotency_key: key,
            full_card: full,
            place: place.as_deref(),
            scanner_card_json: &scanner_set.card_json,
            response: &response,
        })
        .await?;
    if outcome.created {
        state.hub.delivered(owner_set.user_id).await;
    }
    Ok(([(CONTENT_TYPE, "application/json")], outcome.response_json))
}
