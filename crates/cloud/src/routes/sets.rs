//! The owner's card sets (claims 3, 5, 6), their images, and their codes.

use std::io::Cursor;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use image::{ImageFormat, ImageReader};
use mingpian_card::api::{self, CardField};
use mingpian_card::{Card, CardLink, CardSetNo, LiveToken, Media, PublicId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{SetRecord, StoreError, now_ms};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sets", get(list).post(create))
        .route("/sets/{n}", get(fetch).put(replace))
        .route("/sets/{n}/code", get(code))
        .route("/sets/{n}/rotate", post(rotate))
}

/// Largest image we accept, before decoding.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// Longest side we keep; larger pictures are scaled down.
const MAX_IMAGE_SIDE: u32 = 2048;

pub fn set_no(n: u32) -> ApiResult<CardSetNo> {
    CardSetNo::new(n).map_err(|e| ApiError::Invalid(e.to_string()))
}

pub fn to_api(record: &SetRecord) -> ApiResult<api::CardSet> {
    Ok(api::CardSet {
        set_no: CardSetNo::new(record.set_no as u32).map_err(|e| ApiError::Internal(e.into()))?,
        card: serde_json::from_str(&record.card_json)?,
        printed_fields: serde_json::from_str(&record.printed_json)?,
        version: record.version,
        updated_at: record.updated_at,
    })
}

/// The card as a printed code shows it: only the fields its owner chose.
pub fn printed_view(card: &Card, fields: &[CardField]) -> Card {
    fn keep<T: Clone>(shown: bool, value: &Option<T>) -> Option<T> {
        value.clone().filter(|_| shown)
    }
    fn list<T: Clone>(shown: bool, items: &[T]) -> Vec<T> {
        if shown { items.to_vec() } else { Vec::new() }
    }
    let has = |f: CardField| fields.contains(&f);
    let (name, org, title) = (
        has(CardField::Name),
        has(CardField::Org),
        has(CardField::Title),
    );
    Card {
        uid: card.uid.clone(),
        revision: card.revision.clone(),
        formatted_name: if name {
            card.formatted_name.clone()
        } else {
            String::new()
        },
        name: keep(name, &card.name),
        phonetic: keep(name, &card.phonetic),
        nicknames: list(name, &card.nicknames),
        org: keep(org, &card.org),
        departments: list(org, &card.departments),
        title: keep(title, &card.title),
        role: keep(title, &card.role),
        phones: list(has(CardField::Phones), &card.phones),
        emails: list(has(CardField::Emails), &card.emails),
        addresses: list(has(CardField::Addresses), &card.addresses),
        urls: list(has(CardField::Urls), &card.urls),
        socials: list(has(CardField::Socials), &card.socials),
        note: keep(has(CardField::Note), &card.note),
        birthday: keep(has(CardField::Birthday), &card.birthday),
        categories: Vec::new(),
        photo: keep(has(CardField::Photo), &card.photo),
        logo: keep(has(CardField::Logo), &card.logo),
        card_images: list(has(CardField::CardImages), &card.card_images),
        extra: Vec::new(),
    }
}

/// Decodes an uploaded picture and encodes it again, so we never serve the uploaded bytes (which
/// could carry scripts, trackers or exploits for image decoders) and never keep EXIF location.
fn reencode(media: &Media, what: &str) -> ApiResult<Media> {
    let Media::Inline { data, .. } = media else {
        return Err(ApiError::Invalid(format!(
            "the {what} must be uploaded, not linked"
        )));
    };
    if data.len() > MAX_IMAGE_BYTES {
        return Err(ApiError::Invalid(format!("the {what} is larger than 5 MB")));
    }
    let reader = ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .map_err(|_| ApiError::Invalid(format!("the {what} is not a picture")))?;
    let format = reader.format();
    let (out_format, mime) = match format {
        Some(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "image/jpeg"),
        Some(ImageFormat::Png | ImageFormat::WebP) => (ImageFormat::Png, "image/png"),
        _ => {
            return Err(ApiError::Invalid(format!(
                "the {what} must be a JPEG, PNG or WebP picture"
            )));
        }
    };
    let mut image = reader
        .decode()
        .map_err(|e| ApiError::Invalid(format!("the {what} could not be read: {e}")))?;
    if image.width().max(image.height()) > MAX_IMAGE_SIDE {
        image = image.resize(
            MAX_IMAGE_SIDE,
            MAX_IMAGE_SIDE,
            image::imageops::FilterType::Triangle,
        );
    }
    if out_format == ImageFormat::Jpeg {
        image = image::DynamicImage::ImageRgb8(image.to_rgb8());
    }
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, out_format)
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Media::Inline {
        mime: Some(mime.to_owned()),
        data: out.into_inner(),
    })
}

/// Checks and cleans a card before storing it.
pub fn sanitise(mut card: Card) -> ApiResult<Card> {
    card.formatted_name = card.display_name();
    if card.formatted_name.is_empty() {
        return Err(ApiError::Invalid(
            "a card needs a name (or a company, email or phone)".into(),
        ));
    }
    if card.card_images.len() > 2 {
        return Err(ApiError::Invalid(
            "a card set has at most two card images: front and back".into(),
        ));
    }
    card.photo = card
        .photo
        .as_ref()
        .map(|m| reencode(m, "avatar"))
        .transpose()?;
    card.logo = card
        .logo
        .as_ref()
        .map(|m| reencode(m, "logo"))
        .transpose()?;
    card.card_images = card
        .card_images
        .iter()
        .map(|m| reencode(m, "card image"))
        .collect::<ApiResult<_>>()?;
    Ok(card)
}

async fn save(
    state: &AppState,
    caller: Caller,
    set_no: Option<u32>,
    input: api::CardSetInput,
) -> ApiResult<api::CardSet> {
    let card = sanitise(input.card)?;
    let mut printed = input
        .printed_fields
        .unwrap_or_else(|| CardField::PRINTED_DEFAULT.to_vec());
    printed.sort();
    printed.dedup();
    let user = state.store.user_by_id(caller.user_id).await?;
    let record = state
        .store
        .put_set(
            caller.user_id,
            &user.public_id,
            set_no.map(i64::from),
            &serde_json::to_string(&card)?,
            &serde_json::to_string(&printed)?,
            i64::from(state.config.max_sets),
        )
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
async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<api::CardSet>>> {
    let sets = state.store.sets(caller.user_id).await?;
    Ok(Json(sets.iter().map(to_api).collect::<ApiResult<_>>()?))
}

#[utoipa::path(post, path = "/api/v1/sets", tag = "card sets", security(("bearer" = [])), request_body = api::CardSetInput, responses((status = 201, body = api::CardSet), (status = 409, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<api::CardSetInput>,
) -> ApiResult<(StatusCode, Json<api::CardSet>)> {
    Ok((
        StatusCode::CREATED,
        Json(save(&state, caller, None, input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/sets/{n}", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), responses((status = 200, body = api::CardSet), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn fetch(
    State(state): State<AppState>,
    caller: Caller,
    Path(n): Path<u32>,
) -> ApiResult<Json<api::CardSet>> {
    let n = set_no(n)?;
    Ok(Json(to_api(
        &state.store.set(caller.user_id, i64::from(n.get())).await?,
    )?))
}

#[utoipa::path(put, path = "/api/v1/sets/{n}", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), request_body = api::CardSetInput, responses((status = 200, body = api::CardSet), (status = 409, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path(n): Path<u32>,
    Json(input): Json<api::CardSetInput>,
) -> ApiResult<Json<api::CardSet>> {
    let n = set_no(n)?;
    if n.get() > state.config.max_sets {
        return Err(ApiError::Conflict(format!(
            "an account has at most {} card sets",
            state.config.max_sets
        )));
    }
    Ok(Json(save(&state, caller, Some(n.get()), input).await?))
}

#[utoipa::path(get, path = "/api/v1/sets/{n}/code", tag = "card sets", security(("bearer" = [])), params(("n" = u32, Path, description = "set number")), responses((status = 200, body = api::Codes), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn code(
    State(state): State<AppState>,
    caller: Caller,
    Path(n): Path<u32>,
) -> ApiResult<Json<api::Codes>> {
    let n = set_no(n)?;
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
async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(n): Path<u32>,
) -> ApiResult<Json<api::Codes>> {
    let n = set_no(n)?;
    let fresh = PublicId::from_random_bytes(secrets::random_bytes());
    state
        .store
        .rotate_code(caller.user_id, i64::from(n.get()), fresh.as_str())
        .await?;
    code(State(state), caller, Path(n.get())).await
}
