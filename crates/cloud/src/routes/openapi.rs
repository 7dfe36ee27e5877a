//! `GET /openapi.json`: every operation, generated from the handlers and the shared wire types.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{accounts, carddav, cards, exchange, inbox, sets, sync, web};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Mingpian cloud", description = "Business-card exchange: accounts, card sets and their QR codes, the two-way exchange, live delivery, sync."),
    paths(
        accounts::register, accounts::login, accounts::me, accounts::devices, accounts::log_out_device,
        sets::list, sets::create, sets::fetch, sets::replace, sets::code, sets::rotate,
        exchange::exchange, exchange::preview, inbox::page, inbox::stream, inbox::delete_item,
        inbox::blocks, inbox::block, inbox::unblock, sync::push, sync::pull, cards::updates,
        carddav::access, carddav::create, carddav::revoke,
        web::card_page, web::reply, super::health, super::assetlinks, super::apple_app_site_association,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
