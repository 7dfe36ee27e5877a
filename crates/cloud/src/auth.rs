//! Who is calling: the bearer token of a logged-in device.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::AppState;
use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::store::{DeviceKind, StoreError};

/// An authenticated request's account and device.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: i64,
    pub device_id: i64,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized(
                "log in first: this needs a bearer token",
            ))?;
        // Only the token's hash is stored and looked up, so comparing it leaks nothing useful.
        match state.store.device_by_token(&token_hash(token)).await {
            // An app password opens the address book only (see `crate::dav`).
            Ok(device) if device.kind == DeviceKind::CardDav => Err(ApiError::Unauthorized(
                "an app password opens the CardDAV address book only",
            )),
            Ok(device) => {
                // Per account, across all its devices and addresses.
                state.limiter.check_account(device.user_id).await?;
                Ok(Caller {
                    user_id: device.user_id,
                    device_id: device.id,
                })
            }
            Err(StoreError::NotFound) => Err(ApiError::Unauthorized(
                "this device is logged out; log in again",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
