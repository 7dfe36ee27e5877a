//! Wallet sync, backup and restore (claim 7): devices push their changes and pull everyone
//! else's by cursor; a new device pulls from 0 and has the whole wallet back.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use mingpian_card::api;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::store::{Change, RecordRow};

pub fn router() -> Router<AppState> {
    Router::new().route("/sync", get(pull).post(push))
}

const MAX_CHANGES: usize = 1000;
/// Most record data in one page past its first record: a restore never reads a whole backup of
/// large cards into memory at once.
const PAGE_BYTES: i64 = 8 * 1024 * 1024;
/// A card version carries its avatar, logo and card images inline (each ≤ 5 MB, usually far less).
const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

fn to_api(row: RecordRow) -> ApiResult<api::SyncRecord> {
    Ok(api::SyncRecord {
        kind: row.kind,
        id: row.id,
        version: row.version,
        modified_at: row.modified_at,
        device: row.device,
        deleted: row.deleted,
        data: serde_json::from_str(&row.data)?,
    })
}

#[utoipa::path(post, path = "/api/v1/sync", tag = "sync", security(("bearer" = [])), request_body = api::SyncPush, responses((status = 200, body = api::SyncPushResult), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn push(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(push): ApiJson<api::SyncPush>,
) -> ApiResult<Json<api::SyncPushResult>> {
    if push.changes.len() > MAX_CHANGES {
        return Err(ApiError::Invalid(format!(
            "push at most {MAX_CHANGES} changes at a time"
        )));
    }
    let mut changes = Vec::with_capacity(push.changes.len());
    for change in push.changes {
        let kind_ok = (1..=32).contains(&change.kind.len())
            && change
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_');
        if !kind_ok {
            return Err(ApiError::Invalid(format!(
                "record kind {:?} must be 1–32 lower-case letters",
                change.kind
            )));
        }
        if !(1..=128).contains(&change.id.len()) || change.id.chars().any(char::is_control) {
            return Err(ApiError::Invalid(
                "record ids are 1 to 128 characters, none of them control characters".into(),
            ));
        }
        if change.base_version < 0 {
            return Err(ApiError::Invalid(
                "base_version must not be negative".into(),
            ));
        }
        let data = serde_json::to_string(&change.data)?;
        if data.len() > MAX_RECORD_BYTES {
            return Err(ApiError::TooLarge(format!(
                "record {} is larger than 8 MB",
                change.id
            )));
        }
        changes.push(Change {
            kind: change.kind,
            id: change.id,
            base_version: change.base_version,
            modified_at: change.modified_at,
            device: format!("device-{}", caller.device_id),
            deleted: change.deleted,
            data,
            strict: false,
        });
    }
    let results = state
        .store
        .push_records(caller.user_id, &changes, state.config.quotas.backup_bytes)
        .await?;
    if state.store.has_app_password(caller.user_id).await? {
        crate::dav::refresh_in_background(&state, caller.user_id);
    }
    Ok(Json(api::SyncPushResult {
        results: results
            .into_iter()
            .map(|(row, accepted)| {
                Ok(api::SyncOutcome {
                    record: to_api(row)?,
                    accepted,
                })
            })
            .collect::<ApiResult<_>>()?,
    }))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    500
}

#[utoipa::path(get, path = "/api/v1/sync", tag = "sync", security(("bearer" = [])), params(("after" = Option<i64>, Query, description = "cursor"), ("limit" = Option<i64>, Query, description = "1 to 1000")), responses((status = 200, body = api::SyncPage), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> ApiResult<Json<api::SyncPage>> {
    if q.after < 0 {
        return Err(ApiError::Invalid("after must not be negative".into()));
    }
    let limit = q.limit.clamp(1, 1000);
    let (rows, more) = state
        .store
        .pull_records(caller.user_id, q.after, limit, PAGE_BYTES)
        .await?;
    let records: Vec<api::SyncRecord> = rows.into_iter().map(to_api).collect::<ApiResult<_>>()?;
    let next_cursor = records.last().map_or(q.after, |r| r.version);
    Ok(Json(api::SyncPage {
        records,
        next_cursor,
        more,
    }))
}
