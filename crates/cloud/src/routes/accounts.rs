//! Registering, logging in, and the account's devices (patent step S01).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use mingpian_card::api::{self, CardField};
use mingpian_card::{Card, Email, Phone, PhoneNumber, PublicId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::routes::limit::Purpose;
use crate::secrets;
use crate::store::{DeviceKind, FirstSet, Login, NewUser, StoreError, Stored, UserRecord};

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
    name.map(|n| {
        n.trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect::<String>()
    })
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| "device".into())
}

fn normalise_email(email: &str) -> ApiResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.contains(char::is_whitespace)
        && !email.contains(char::is_control);
    if valid {
        Ok(email)
    } else {
        Err(ApiError::Invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

/// Whether a name would read as a phone number or an email at log-in: such names are not
/// taken as account names, so a name can never stand for someone else's number or address.
fn looks_like_phone_or_email(name: &str, region: mingpian_card::Region) -> bool {
    if name.contains('@') {
        return true;
    }
    // Only digits and what numbers are written with: "Room 12345" is a name, "138 0013 8000"
    // and "+86 (10) 1234-5678" are numbers.
    let is_digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let digits = name.chars().filter(|&c| is_digit(c)).count();
    let number_like = name
        .chars()
        .all(|c| is_digit(c) || matches!(c, ' ' | '+' | '＋' | '-' | '(' | ')' | '.' | '/'));
    number_like && digits >= 5 && PhoneNumber::parse(name, region).is_ok()
}

#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = api::RegisterRequest, responses((status = 201, body = api::Session), (status = 409, description = "name, phone or email taken", body = api::ApiError), (status = 413, description = "too large", body = api::ApiError), (status = 422, body = api::ApiError), (status = 429, body = api::ApiError), (status = 503, description = "busy", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn register(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<api::RegisterRequest>,
) -> ApiResult<(StatusCode, Json<api::Session>)> {
    state.limiter.check(addr, &headers, Purpose::Auth).await?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::Invalid(
            "a name of 1 to 64 characters (no control characters) is needed".into(),
        ));
    }
    if looks_like_phone_or_email(name, state.region) {
        return Err(ApiError::Invalid(
            "a name cannot be a phone number or an email address; give those as phone and email"
                .into(),
        ));
    }
    let password = request.password;
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(ApiError::Invalid(
            "the password needs 8 to 1024 characters".into(),
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
    let password_hash = state
        .heavy
        .password(move || secrets::hash_password(&password))
        .await?
        .map_err(ApiError::Internal)?;
    let public_id = PublicId::from_random_bytes(secrets::random_bytes());
    let (token, token_hash) = secrets::new_device_token();
    // Claim 5: every account has at least one card set; the first is made from what was given,
    // in the same transaction as the account.
    let card = Card {
        formatted_name: name.to_owned(),
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
    let card = Stored::new(&card)?;
    let printed_fields = Stored::new(&CardField::PRINTED_DEFAULT.to_vec())?;
    let new = NewUser {
        public_id: public_id.as_str(),
        name,
        phone: phone.as_ref().map(PhoneNumber::e164),
        email: email.as_deref(),
        password_hash: &password_hash,
    };
    let (user, device) = match state
        .store
        .create_user(
            new,
            &device_name(request.device_name),
            &token_hash,
            FirstSet {
                card: &card,
                printed_fields: &printed_fields,
            },
        )
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
    Ok((
        StatusCode::CREATED,
        Json(api::Session {
            token,
            device_id: device.id,
            account: account(&user)?,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "accounts", request_body = api::LoginRequest, responses((status = 200, body = api::Session), (status = 401, description = "wrong login or password", body = api::ApiError), (status = 413, description = "too large", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError), (status = 429, body = api::ApiError), (status = 503, description = "busy", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<api::LoginRequest>,
) -> ApiResult<Json<api::Session>> {
    state.limiter.check(addr, &headers, Purpose::Auth).await?;
    let login = request.login.trim();
    if request.password.len() > 1024 || login.len() > 256 || login.chars().any(char::is_control) {
        return Err(ApiError::Unauthorized("wrong login or password"));
    }
    // Each form of login is looked up in its own column only.
    let lower = login.to_lowercase();
    let phone = PhoneNumber::parse(login, state.region)
        .ok()
        .filter(|_| looks_like_phone_or_email(login, state.region))
        .map(|p| p.e164().to_owned());
    let by = if login.contains('@') {
        Login::Email(&lower)
    } else if let Some(phone) = phone.as_deref() {
        Login::Phone(phone)
    } else {
        Login::Name(&lower)
    };
    let wrong = ApiError::Unauthorized("wrong login or password");
    let found = match state.store.user_by_login(by).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    // With no such account, check against a dummy hash anyway, so the answer takes as long as
    // for a wrong password and does not reveal whether the account exists.
    let hash = found.as_ref().map(|u| u.password_hash.clone());
    let password = request.password;
    let ok = state
        .heavy
        .password(move || {
            let hash = hash.as_deref().unwrap_or_else(|| secrets::dummy_hash());
            secrets::verify_password(&password, hash)
        })
        .await?;
    let Some(user) = found.filter(|_| ok) else {
        return Err(wrong);
    };
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
#[tracing::instrument(skip_all)]
async fn me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<api::Account>> {
    Ok(Json(account(
        &state.store.user_by_id(caller.user_id).await?,
    )?))
}

#[utoipa::path(get, path = "/api/v1/devices", tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Vec<api::Device>), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn devices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<api::Device>>> {
    let devices = state.store.devices(caller.user_id, DeviceKind::App).await?;
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
#[tracing::instrument(skip_all)]
async fn log_out_device(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let (store, hub, user_id) = (state.store.clone(), state.hub.clone(), caller.user_id);
    // Its token is refused and its open live streams end now, on every instance. Spawned, so
    // that a client gone mid-request cannot leave a committed logout unknown to this instance.
    let logged_out = tokio::spawn(async move {
        let done = store.delete_device(user_id, id, DeviceKind::App).await;
        if done.is_ok() {
            hub.device_gone(id);
        }
        done
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    match logged_out {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("no such device on this account")),
        Err(e) => Err(e.into()),
    }
}
