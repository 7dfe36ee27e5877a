//! HTTP routes, one module per area, each with its own `router()`.

pub mod accounts;
pub mod carddav;
pub mod cards;
pub mod exchange;
pub mod inbox;
pub mod limit;
pub mod openapi;
pub mod sets;
pub mod sync;
pub mod web;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tower_http::trace::TraceLayer;

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
        .merge(carddav::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limit::per_ip_api,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(web::router())
        .merge(crate::dav::router())
        .route("/openapi.json", get(openapi::document))
        .route("/.well-known/assetlinks.json", get(assetlinks))
        .route(
            "/.well-known/apple-app-site-association",
            get(apple_app_site_association),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Every request runs in a span named by its request id (which the response carries in
        // `x-request-id`); store and handler spans nest inside it.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            // The route's pattern, never the path itself: a web card's path holds its code id,
            // which opens the card to anyone who reads the logs.
            let route = req
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .map_or("(no route)", |m| m.as_str());
            tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route)
        }))
        .layer(axum::middleware::from_fn(request_id))
        // Health checks come every few seconds from every load balancer: not traced.
        .route("/health", get(health))
        .with_state(state)
}

const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id of our own (one a client sent is replaced: it is theirs to
/// invent, ours to log) and returns it in the response's `x-request-id`.
async fn request_id(mut req: Request, next: Next) -> Response {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static PROCESS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let process = *PROCESS.get_or_init(rand::random);
    let id = format!("{process:08x}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("-"));
    req.headers_mut().insert(REQUEST_ID, value.clone());
    let mut response = next.run(req).await;
    response.headers_mut().insert(REQUEST_ID, value);
    response
}

#[utoipa::path(get, path = "/health", tag = "server", responses((status = 200, description = "alive", body = Object)))]
#[tracing::instrument(skip_all)]
async fn health(State(state): State<AppState>) -> Json<Value> {
    let database = match state.store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Json(json!({ "status": "ok", "database": database }))
}

/// Android App Links: lets the code's URL open the app where it is installed.
#[utoipa::path(get, path = "/.well-known/assetlinks.json", tag = "server", responses((status = 200, description = "Android App Links", body = Vec<Object>)))]
#[tracing::instrument(skip_all)]
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
#[tracing::instrument(skip_all)]
async fn apple_app_site_association(State(state): State<AppState>) -> Json<Value> {
    let ids = &state.config.deep_links.apple_app_ids;
    Json(json!({
        "applinks": {
            "details": [{ "appIDs": ids, "components": [{ "/": "/c/*", "comment": "Mingpian card codes" }] }]
        }
    }))
}
