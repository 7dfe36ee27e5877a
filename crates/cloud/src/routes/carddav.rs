//! App passwords for the CardDAV address book (see [`crate::dav`]): made and revoked from the
//! app, shown once, each one a device of its own kind that opens the address book and nothing
//! else.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use mingpian_card::api;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult};
use crate::secrets;
use crate::store::{DeviceKind, DeviceRecord, StoreError, UserRecord};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/carddav", get(access))
        .route("/carddav/passwords", post(create))
        .route("/carddav/passwords/{id}", delete(revoke))
}

/// App passwords one account may hold.
const MAX_PASSWORDS: i64 = 20;

fn app_password(d: DeviceRecord) -> api::AppPassword {
    api::AppPassword {
        id: d.id,
        label: d.name,
        created_at: d.created_at,
        last_seen_at: d.last_seen_at,
    }
}

/// The user name an address-book app signs in with: the account's email or phone number when it
/// has one (ASCII, which every client's Basic auth can send: some encode user names as Latin-1,
/// and "张伟" would not survive), else its name. [`crate::dav`] takes any of the three.
pub fn username(user: &UserRecord) -> String {
    user.email
        .clone()
        .or_else(|| user.phone.clone())
        .unwrap_or_else(|| user.name.clone())
}

fn url(state: &AppState) -> String {
    format!("{}/dav/", state.public_url)
}

/// 20 characters from 32 that cannot be mistaken for one another (no 0/o, 1/l), in groups of
/// four: 100 random bits, typed easily into a phone's account settings.
fn new_password() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let bytes = secrets::random_bytes::<20>();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[utoipa::path(get, path = "/api/v1/carddav", tag = "carddav", security(("bearer" = [])), responses((status = 200, body = api::CardDavAccess), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn access(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<api::CardDavAccess>> {
    let user = state.store.user_by_id(caller.user_id).await?;
    let passwords = state
        .store
        .devices(caller.user_id, DeviceKind::CardDav)
        .await?;
    Ok(Json(api::CardDavAccess {
        url: url(&state),
        username: username(&user),
        passwords: passwords.into_iter().map(app_password).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/carddav/passwords", tag = "carddav", security(("bearer" = [])), request_body = api::AppPasswordRequest, responses((status = 201, body = api::NewAppPassword), (status = 409, description = "at most 20 app passwords", body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<api::AppPasswordRequest>,
) -> ApiResult<(StatusCode, Json<api::NewAppPassword>)> {
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(ApiError::Invalid(
            "a label is 1 to 64 characters, none of them control characters".into(),
        ));
    }
    let password = new_password();
    let device = match state
        .store
        .add_app_password(
            caller.user_id,
            label,
            &secrets::token_hash(&password),
            MAX_PASSWORDS,
        )
        .await
    {
        Ok(device) => device,
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict(format!(
                "an account holds at most {MAX_PASSWORDS} app passwords; revoke one first"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let user = state.store.user_by_id(caller.user_id).await?;
    crate::dav::refresh_in_background(&state, caller.user_id);
    Ok((
        StatusCode::CREATED,
        Json(api::NewAppPassword {
            app_password: app_password(device),
            url: url(&state),
            username: username(&user),
            password,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/carddav/passwords/{id}", tag = "carddav", security(("bearer" = [])), params(("id" = i64, Path, description = "app password id")), responses((status = 204, description = "revoked"), (status = 404, body = api::ApiError), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    match state
        .store
        .delete_device(caller.user_id, id, DeviceKind::CardDav)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::NotFound("no such app password")),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn app_passwords_are_five_groups_of_four_unambiguous_characters() {
        let p = super::new_password();
        assert_eq!(p.len(), 24, "{p}");
        assert_eq!(p.split('-').count(), 5);
        assert!(
            p.chars()
                .all(|c| c == '-' || "abcdefghijkmnpqrstuvwxyz23456789".contains(c))
        );
        assert_ne!(p, super::new_password());
    }
}
