//! The one error type every route returns, and the HTTP status and body each variant becomes.
//! Internal details are logged, never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use mingpian_card::api::{self, ErrorCode};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no token, an unknown token, or a wrong password (never saying which).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404.
    #[error("{0}")]
    NotFound(&'static str),
    /// 410: the code was rotated by its owner.
    #[error("this code is no longer in use; ask its owner for the new one")]
    Gone,
    /// 409: a name, phone or email is taken, or a limit is reached.
    #[error("{0}")]
    Conflict(String),
    /// 400 / 422: the request is malformed or its values are not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// 413: a body, a picture or a card is larger than we take.
    #[error("{0}")]
    TooLarge(String),
    /// 409: a quota on what the account may store is reached.
    #[error("{0}")]
    Full(String),
    /// 429, with the seconds until the limit lets one more request through.
    #[error("too many requests; try again in a moment")]
    RateLimited { retry_after: u32 },
    /// 503: heavy work (password checks, pictures) is queued past its wait; try again.
    #[error("the server is busy; try again in a moment")]
    Busy,
    /// 500: logged with details, answered without them.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The wait a busy answer asks for.
const BUSY_RETRY_AFTER_SECONDS: u32 = 2;

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::Gone => (StatusCode::GONE, ErrorCode::Gone),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Invalid),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge),
            ApiError::Full(_) => (StatusCode::CONFLICT, ErrorCode::Full),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let body = api::ApiError {
            code,
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        // Busy and rate-limited answers say when to come back (RFC 9110 10.2.3), so clients
        // (CardDAV ones especially) wait instead of retrying at once.
        let retry_after = match self {
            ApiError::Busy => Some(BUSY_RETRY_AFTER_SECONDS),
            ApiError::RateLimited { retry_after } => Some(retry_after.max(1)),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found"),
            StoreError::Conflict(what) => {
                ApiError::Conflict(format!("that {what} is already taken"))
            }
            StoreError::Full(what) => ApiError::Full(format!("the {what} is full")),
            StoreError::Busy => ApiError::Busy,
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Json<T>` whose rejections are [`ApiError`] bodies like every other error: 413 `too_large`
/// past the body limit, 422 `invalid` for anything malformed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                ApiError::TooLarge("the request body is larger than the server takes".into()),
            ),
            Err(rejection) => Err(ApiError::Invalid(rejection.body_text())),
        }
    }
}

/// `Query<T>` with [`ApiError`] rejections (422 `invalid`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|r| ApiError::Invalid(r.body_text()))
    }
}

/// `Path<T>` with [`ApiError`] rejections (422 `invalid`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|r| ApiError::Invalid(r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Busy and rate-limited answers say when to come back; others do not.
    #[test]
    fn busy_and_rate_limited_answers_carry_retry_after() {
        for (e, status, wait) in [
            (ApiError::Busy, StatusCode::SERVICE_UNAVAILABLE, "2"),
            (
                ApiError::RateLimited { retry_after: 12 },
                StatusCode::TOO_MANY_REQUESTS,
                "12",
            ),
            (
                ApiError::RateLimited { retry_after: 0 },
                StatusCode::TOO_MANY_REQUESTS,
                "1",
            ),
        ] {
            let response = e.into_response();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], wait);
        }
        let response = ApiError::Gone.into_response();
        assert!(
            !response
                .headers()
                .contains_key(axum::http::header::RETRY_AFTER)
        );
    }
}
