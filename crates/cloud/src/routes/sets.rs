//! The owner's card sets (claims 3, 5, 6), their images, and their codes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use mingpian_card::api::{self, CardField};
use mingpian_card::{Card, CardLink, CardSetNo, LiveToken, PublicId, limits};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::store::{SetRecord, SetWrite, StoreError, Stored, now_ms};
use crate::{images, secrets};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sets", get(list).post(create))
        .route("/sets/{n}", get(fetch).put(replace))
        .route("/sets/{n}/code", get(code))
        .route("/sets/{n}/rotate", post(rotate))
}

fn valid_set_no(n: u32) -> ApiResult<CardSetNo> {
    CardSetNo::new(n).map_err(|e| ApiError::Invalid(e.to_string()))
}

/// A stored set's number.
pub fn set_no(record: &SetRecord) -> ApiResult<CardSetNo> {
    u32::try_from(record.set_no)
        .ok()
        .and_then(|n| CardSetNo::new(n).ok())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("set number {}", record.set_no)))
}

/// The set's card as a code shows it: whole for a live code, the printed fields otherwise.
pub fn card_view(record: &SetRecord, full: bool) -> ApiResult<Card> {
    let card = record.card.get()?;
    if full {
        return Ok(card);
    }
    Ok(card.printed_view(&record.printed_fields.get()?))
}

pub fn to_api(record: &SetRecord) -> ApiResult<api::CardSet> {
    Ok(api::CardSet {
        set_no: set_no(record)?,
        card: record.card.get()?,
        printed_fields: record.printed_fields.get()?,
        version: record.version,
        updated_at: record.updated_at,
    })
}

/// Checks and cleans a card before storing it: within the card limits, named, its pictures
/// decoded and encoded again.
#[tracing::instrument(skip_all)]
pub async fn sanitise(state: &AppState, mut card: Card) -> ApiResult<Card> {
    card.formatted_name = card.display_name();
    if card.formatted_name.is_empty() {
        return Err(ApiError::Invalid(
            "a card needs a name (or a company, email or phone)".into(),
        ));
    }
    limits::check(&card).map_err(|e| ApiError::Invalid(e.to_string()))?;
    let heavy = &state.heavy;
    if let Some(photo) = &card.photo {
        card.photo = Some(images::reencode(heavy, photo, "avatar").await?);
    }
    if let Some(logo) = &card.logo {
        card.logo = Some(images::reencode(heavy, logo, "logo").await?);
    }
    let mut cleaned = Vec::with_capacity(card.card_images.len());
    for image in &card.card_images {
        cleaned.push(images::reencode(heavy, image, "card image").await?);
    }
    card.card_images = cleaned;
    Ok(card)
}

#[tracing::instrument(skip_all)]
async fn save(
    state: &AppState,
    caller: Caller,
    set_no: Option<u32>,
    input: api::CardSetInput,
) -> ApiResult<api::CardSet> {
    let card = sanitise(state, input.card).await?;
    let mut printed = input
        .printed_fields
        .unwrap_or_else(|| CardField::PRINTED_DEFAULT.to_vec());
    printed.sort();
    printed.dedup();
    let record = state
        .store
        .put_set(SetWrite {
            user_id: caller.user_id,
            set_no: set_no.map(i64::from),
            card: &Stored::new(&card)?,
            printed_fields: &Stored::new(&printed)?,
            max_sets: i64::from(state.config.max_sets),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::Conflict(format!(
                "an account has at most {} card sets",
                state.config.max_sets
            )),
            other => other.into(),
        })?;
    to_api(&record)
}

#[utoipa::path(get, path = "/api/v1/sets", tag = "card sets", security(("bearer" = [])), responses((status = 200, body = Vec<api::CardSet>), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<api::CardSet>>> {
    let sets = state.store.sets(caller.user_id).await?;
    Ok(Json(sets.iter().map(to_api).collect::<ApiResult<_>>()?))
}

#[utoipa::path(post, path = "/api/v1/sets", tag = "card sets", security(("bearer" = [])), request_body = api::CardSetInput, responses((status = 201, body = api::CardSet), (status = 409, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<api::CardSetInput>,
) -> ApiResult<(StatusCode, Json<api::CardSet>)> {
    Ok((
        StatusCode::CREATED,
        Json(save(&state, caller, None, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/sets/{n}", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), responses((status = 200, body = api::CardSet), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn fetch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<u32>,
) -> ApiResult<Json<api::CardSet>> {
    let n = valid_set_no(n)?;
    Ok(Json(to_api(
        &state.store.set(caller.user_id, i64::from(n.get())).await?,
    )?))
}

#[utoipa::path(put, path = "/api/v1/sets/{n}", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), request_body = api::CardSetInput, responses((status = 200, body = api::CardSet), (status = 409, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<u32>,
    ApiJson(input): ApiJson<api::CardSetInput>,
) -> ApiResult<Json<api::CardSet>> {
    let n = valid_set_no(n)?;
    if n.get() > state.config.max_sets {
        return Err(ApiError::Conflict(format!(
            "an account has at most {} card sets",
            state.config.max_sets
        )));
    }
    Ok(Json(save(&state, caller, Some(n.get()), input).await?))
}

#[utoipa::path(get, path = "/api/v1/sets/{n}/code", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), responses((status = 200, body = api::Codes), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn code(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<u32>,
) -> ApiResult<Json<api::Codes>> {
    let n = valid_set_no(n)?;
    let public_id = state
        .store
        .current_code(caller.user_id, i64::from(n.get()))
        .await?;
    let public_id = PublicId::parse(&public_id).map_err(|e| ApiError::Internal(e.into()))?;
    let expires = now_ms() + state.config.live_code_seconds as i64 * 1000;
    let token = state.live_key.sign(public_id.as_str(), n.get(), expires);
    let token = LiveToken::parse(&token).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Json(api::Codes {
        printed_url: CardLink::printed(&state.public_url, public_id.clone(), n).url(),
        live_url: CardLink::live(&state.public_url, public_id, n, token).url(),
        live_expires_at: expires,
    }))
}

#[utoipa::path(post, path = "/api/v1/sets/{n}/rotate", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), responses((status = 200, body = api::Codes), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(n): ApiPath<u32>,
) -> ApiResult<Json<api::Codes>> {
    let n = valid_set_no(n)?;
    state
        .store
        .rotate_code(caller.user_id, i64::from(n.get()), &secrets::random_id())
        .await?;
    code(State(state), caller, ApiPath(n.get())).await
}
