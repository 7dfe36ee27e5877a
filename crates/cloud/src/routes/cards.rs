//! Living cards: when an owner edits a set, everyone holding that card gets the new version the
//! next time their wallet asks.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use mingpian_card::api;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::routes::sets::card_view;

pub fn router() -> Router<AppState> {
    Router::new().route("/cards/updates", post(updates))
}

const MAX_HELD: usize = 5000;

#[utoipa::path(post, path = "/api/v1/cards/updates", tag = "sync", security(("bearer" = [])), request_body = api::CardUpdatesRequest, responses((status = 200, body = Vec<api::CardUpdate>), (status = 401, description = "not logged in", body = api::ApiError), (status = 422, description = "invalid input", body = api::ApiError)))]
#[tracing::instrument(skip_all)]
async fn updates(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<api::CardUpdatesRequest>,
) -> ApiResult<Json<Vec<api::CardUpdate>>> {
    if request.held.len() > MAX_HELD {
        return Err(ApiError::Invalid(format!(
            "ask about at most {MAX_HELD} cards at a time"
        )));
    }
    let mut out = Vec::new();
    for held in request.held {
        let found = state
            .store
            .held_set(
                caller.user_id,
                held.owner.as_str(),
                i64::from(held.set_no.get()),
            )
            .await?;
        let Some((set, full)) = found.filter(|(set, _)| set.version > held.version) else {
            continue;
        };
        let card = card_view(&set, full)?;
        out.push(api::CardUpdate {
            owner: held.owner,
            set_no: held.set_no,
            version: set.version,
            card,
            full,
        });
    }
    Ok(Json(out))
}
