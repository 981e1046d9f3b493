//! `GET /openapi.json`: the emulator's OpenAPI 3 description (no authentication).

use super::AppState;
use crate::graph::openapi;
use actix_web::{HttpResponse, web};

pub async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(openapi::document(&state.settings))
}
