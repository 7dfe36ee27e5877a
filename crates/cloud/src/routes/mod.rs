//! HTTP routes, one module per area, each with its own `router()`.

pub mod accounts;
pub mod cards;
pub mod exchange;
pub mod inbox;
pub mod limit;
pub mod openapi;
pub mod sets;
pub mod sync;
pub mod web;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::store::Backend;

/// Largest request body: a card set with two card images and an avatar, base64 in JSON.
pub const MAX_BODY: usize = 24 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(accounts::router())
        .merge(sets::router())
        .merge(exchange::router())
        .merge(inbox::router())
        .merge(sync::router())
        .merge(cards::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::per_ip_api,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(web::router())
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::document))
        .route("/.well-known/assetlinks.json", get(assetlinks))
        .route(
            "/.well-known/apple-app-site-association",
            get(apple_app_site_association),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

#[utoipa::path(get, path = "/health", tag = "server", responses((status = 200, description = "alive", body = Object)))]
async fn health(State(state): State<AppState>) -> Json<Value> {
    let database = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Json(json!({ "status": "ok", "database": database }))
}

/// Android App Links: lets the code's URL open the app where it is installed.
#[utoipa::path(get, path = "/.well-known/assetlinks.json", tag = "server", responses((status = 200, description = "Android App Links", body = Vec<Object>)))]
async fn assetlinks(State(state): State<AppState>) -> Json<Value> {
    let links = &state.config.deep_links;
    Json(json!([{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": links.android_package,
            "sha256_cert_fingerprints": links.android_sha256_fingerprints,
        }
    }]))
}

/// iOS Universal Links for card URLs (`/c/*`).
#[utoipa::path(get, path = "/.well-known/apple-app-site-association", tag = "server", responses((status = 200, description = "iOS Universal Links", body = Object)))]
async fn apple_app_site_association(State(state): State<AppState>) -> Json<Value> {
    let ids = &state.config.deep_links.apple_app_ids;
    Json(json!({
        "applinks": {
            "details": [{ "appIDs": ids, "components": [{ "/": "/c/*", "comment": "Mingpian card codes" }] }]
        }
    }))
}
