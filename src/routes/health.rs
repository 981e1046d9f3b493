//! `GET /health`: no authentication; 200 when the database answers, 503 otherwise.

use super::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ok",
            "database": "ok",
            "version": env!("CARGO_PKG_VERSION"),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "unavailable",
                "database": "unavailable",
                "version": env!("CARGO_PKG_VERSION"),
            }))
        }
    }
}
