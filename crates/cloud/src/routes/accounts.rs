//! Registering, logging in, and the account's devices (patent step S01).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use mingpian_card::api::{self, CardField};
use mingpian_card::{Card, Email, Phone, PhoneNumber, PublicId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::routes::limit::Purpose;
use crate::secrets;
use crate::store::NewUser;
use crate::store::{StoreError, UserRecord};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", post(register))
        .route("/sessions", post(login))
        .route("/me", get(me))
        .route("/devices", get(devices))
        .route("/devices/{id}", delete(log_out_device))
}

pub fn account(user: &UserRecord) -> ApiResult<api::Account> {
    Ok(api::Account {
        public_id: PublicId::parse(&user.public_id).map_err(|e| ApiError::Internal(e.into()))?,
        name: user.name.clone(),
        phone: user.phone.clone(),
        email: user.email.clone(),
    })
}

fn device_name(name: Option<String>) -> String {
    name.map(|n| n.trim().chars().take(64).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "device".into())
}

fn normalise_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::Invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = api::RegisterRequest, responses((status = 201, body = api::Session), (status = 409, description = "name, phone or email taken", body = api::ApiError), (status = 422, body = api::ApiError), (status = 429, body = api::ApiError)))]
async fn register(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(request): Json<api::RegisterRequest>,
) -> ApiResult<(StatusCode, Json<api::Session>)> {
    state.limiter.check(Some(addr), Purpose::Auth)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::Invalid(
            "a name of 1 to 64 characters is needed".into(),
        ));
    }
    if request.password.chars().count() < 8 {
        return Err(ApiError::Invalid(
            "the password needs at least 8 characters".into(),
        ));
    }
    let phone = match request
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Some(
            PhoneNumber::parse(p, state.region).map_err(|e| ApiError::Invalid(e.to_string()))?,
        ),
        None => None,
    };
    let email = request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(normalise_email)
        .transpose()?;
    let password_hash = secrets::hash_password(&request.password).map_err(ApiError::Internal)?;
    let public_id = PublicId::from_random_bytes(secrets::random_bytes());
    let (token, token_hash) = secrets::new_device_token();
    let new = NewUser {
        public_id: public_id.as_str(),
        name,
        phone: phone.as_ref().map(PhoneNumber::e164),
        email: email.as_deref(),
        password_hash: &password_hash,
    };
    let (user, device) = match state
        .store
        .create_user(new, &device_name(request.device_name), &token_hash)
        .await
    {
        Ok(created) => created,
        // Say what kind of value clashes, never whose account holds it.
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict(
                "that name, phone or email cannot be used; choose another".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // Claim 5: every account has at least one card set; the first is made from what was given.
    let card = Card {
        formatted_name: user.name.clone(),
        phones: phone
            .iter()
            .map(|p| Phone {
                value: p.e164().to_owned(),
                kinds: vec!["cell".into()],
                ..Phone::default()
            })
            .collect(),
        emails: email
            .iter()
            .map(|e| Email {
                value: e.clone(),
                ..Email::default()
            })
            .collect(),
        ..Card::default()
    };
    let printed: Vec<CardField> = CardField::PRINTED_DEFAULT.to_vec();
    state
        .store
        .put_set(
            user.id,
            &user.public_id,
            Some(1),
            &serde_json::to_string(&card)?,
            &serde_json::to_string(&printed)?,
            1,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(api::Session {
            token,
            device_id: device.id,
            account: account(&user)?,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "accounts", request_body = api::LoginRequest, responses((status = 200, body = api::Session), (status = 401, description = "wrong login or password", body = api::ApiError), (status = 429, body = api::ApiError)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Json(request): Json<api::LoginRequest>,
) -> ApiResult<Json<api::Session>> {
    state.limiter.check(Some(addr), Purpose::Auth)?;
    let login = request.login.trim();
    let phone = PhoneNumber::parse(login, state.region)
        .ok()
        .map(|p| p.e164().to_owned());
    let email = login.contains('@').then(|| login.to_lowercase());
    let wrong = ApiError::Unauthorized("wrong login or password");
    let user = match state
        .store
        .user_by_login(&login.to_lowercase(), phone.as_deref(), email.as_deref())
        .await
    {
        Ok(user) => user,
        Err(StoreError::NotFound) => {
            // Spend the same time as a wrong password so the answer does not reveal the account.
            secrets::verify_password(&request.password, secrets::dummy_hash());
            return Err(wrong);
        }
        Err(e) => return Err(e.into()),
    };
    if !secrets::verify_password(&request.password, &user.password_hash) {
        return Err(wrong);
    }
    let (token, token_hash) = secrets::new_device_token();
    let device = state
        .store
        .add_device(user.id, &device_name(request.device_name), &token_hash)
        .await?;
    Ok(Json(api::Session {
        token,
        device_id: device.id,
        account: account(&user)?,
    }))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = api::Account), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<api::Account>> {
    Ok(Json(account(
        &state.store.user_by_id(caller.user_id).await?,
    )?))
}

#[utoipa::path(get, path = "/api/v1/devices", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Vec<api::Device>), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn devices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<api::Device>>> {
    let devices = state.store.devices(caller.user_id).await?;
    Ok(Json(
        devices
            .into_iter()
            .map(|d| api::Device {
                id: d.id,
                name: d.name,
                created_at: d.created_at,
                last_seen_at: d.last_seen_at,
                current: d.id == caller.device_id,
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path, description = "device id")), responses((status = 204, description = "logged out"), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
async fn log_out_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    match state.store.delete_device(caller.user_id, id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("no such device on this account")),
        Err(e) => Err(e.into()),
    }
}
