//! The emulator's own API under `/_emulator`, outside Graph's authentication: reset, export,
//! import and health probes for QA pipelines. With `admin.token` set, every route but the
//! health probes needs `Authorization: Bearer <admin.token>`.

use super::AppState;
use crate::auth::authenticate_admin;
use crate::config::SeedMode;
use crate::error::{ApiError, ApiResult};
use crate::fixtures::{self, Document};
use crate::store::{Clear, Load};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;
use std::time::Instant;

/// Largest import body: fixture sets are far larger than Graph requests.
const MAX_IMPORT_BYTES: usize = 512 * 1024 * 1024;

pub fn scope() -> actix_web::Scope {
    web::scope("/_emulator")
        .route("/reset", web::post().to(reset))
        .route("/export", web::get().to(export))
        .route("/import", web::post().to(import))
        .route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
}

/// One query parameter of an admin route, or an error naming the unknown ones.
fn parameters(request: &HttpRequest, known: &[&str]) -> ApiResult<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(request.query_string().as_bytes())
        .into_owned()
        .collect();
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        return Err(ApiError::bad_request_plain(format!(
            "Unknown parameter '{name}'; this route takes {}.",
            known.join(", ")
        )));
    }
    Ok(pairs)
}

fn parameter<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

async fn reset(request: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    authenticate_admin(&request, &state.settings)?;
    let pairs = parameters(&request, &["to", "tenant"])?;
    let tenant = parameter(&pairs, "tenant").map(str::to_owned);
    let started = Instant::now();
    let mut sets = match parameter(&pairs, "to").unwrap_or("seed") {
        "empty" => Vec::new(),
        "seed" => match state.settings.seed_path() {
            Some(path) => {
                fixtures::read_path(path, fixtures::Rules::of(&state.settings)).map_err(|e| {
                    ApiError::bad_request_plain(format!("The seed fixtures cannot be loaded: {e}"))
                })?
            }
            None => Vec::new(),
        },
        other => {
            return Err(ApiError::bad_request_plain(format!(
                "Invalid value '{other}' for to: expected seed or empty."
            )));
        }
    };
    if let Some(tenant) = &tenant {
        sets.retain(|set| &set.tenant_id == tenant);
    }
    let clear = tenant.map_or(Clear::Everything, |t| Clear::Tenants(vec![t]));
    let reports = state
        .store
        .load(Load {
            clear,
            sets,
            only_into_empty_tenants: false,
        })
        .await?;
    tracing::info!("reset: {}", fixtures::summary(&reports, started.elapsed()));
    Ok(HttpResponse::Ok()
        .json(json!({ "tenants": reports, "elapsedMs": started.elapsed().as_millis() as u64 })))
}

async fn export(request: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    authenticate_admin(&request, &state.settings)?;
    let pairs = parameters(&request, &["tenant"])?;
    let tenant = parameter(&pairs, "tenant").unwrap_or(&state.settings.auth.default_tenant_id);
    let data = state.store.export(tenant).await?;
    let body = serde_json::to_vec(&Document::of(&data)).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

async fn import(
    request: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    authenticate_admin(&request, &state.settings)?;
    let pairs = parameters(&request, &["mode"])?;
    let mode = match parameter(&pairs, "mode").unwrap_or("upsert") {
        "upsert" => SeedMode::Upsert,
        "replace" => SeedMode::Replace,
        other => {
            return Err(ApiError::bad_request_plain(format!(
                "Invalid value '{other}' for mode: expected upsert or replace."
            )));
        }
    };
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request_plain(format!("The request body could not be read: {e}."))
        })?;
        if body.len() + chunk.len() > MAX_IMPORT_BYTES {
            return Err(ApiError::payload_too_large(MAX_IMPORT_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    let started = Instant::now();
    let fixture_error = |e: fixtures::FixtureError| {
        ApiError::bad_request_plain(format!("{}: {}", e.path, e.reason))
    };
    let data =
        fixtures::parse_document(&body, "request body", fixtures::Rules::of(&state.settings))
            .map_err(fixture_error)?;
    let sets = vec![data];
    fixtures::check_license_references(&sets).map_err(fixture_error)?;
    let reports = state.store.load(fixtures::plan(sets, mode)).await?;
    tracing::info!("import: {}", fixtures::summary(&reports, started.elapsed()));
    Ok(HttpResponse::Ok()
        .json(json!({ "tenants": reports, "elapsedMs": started.elapsed().as_millis() as u64 })))
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "live" }))
}

/// Ready once migrated and seeded (the server listens only after both) and while the database
/// answers.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
                .json(json!({ "status": "unavailable" }))
        }
    }
}
