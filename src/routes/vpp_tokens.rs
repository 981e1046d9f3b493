//! The Graph vppTokens surface: one entry point resolves the route, then one function per
//! operation extracts, calls the store, and shapes the Graph response.

use super::AppState;
use crate::auth::authenticate;
use crate::domain::{ApiVersion, GraphDateTime, VppToken};
use crate::error::{ApiError, ApiResult};
use crate::graph::entity::{CollectionBody, EntityBody, Shape};
use crate::graph::middleware::RequestContext;
use crate::graph::query::{self, QueryOptions};
use crate::graph::route::{self, Operation};
use crate::graph::{input, json, response};
use crate::store::{Cursor, ListRequest};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use uuid::Uuid;

/// Everything one operation needs to know about its request.
struct Call<'a> {
    request: &'a HttpRequest,
    state: &'a AppState,
    tenant: &'a str,
    version: ApiVersion,
    base_url: String,
    options: QueryOptions,
}

pub async fn dispatch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let tenant = authenticate(&request, &state.settings.auth)?;
    let route = route::resolve(request.method(), request.uri().path())?;
    let options = query::parse(
        request.query_string(),
        route.version,
        state.settings.paging.max_page_size,
    )?;
    let base_url = request
        .extensions()
        .get::<RequestContext>()
        .map(|context| context.base_url.clone())
        .unwrap_or_default();
    let call = Call {
        request: &request,
        state: &state,
        tenant,
        version: route.version,
        base_url,
        options,
    };
    match route.operation {
        Operation::List => list(&call).await,
        Operation::Count => count(&call).await,
        Operation::Create => create(&call, payload).await,
        Operation::Get(key) => get(&call, token_id(&key)?).await,
        Operation::Update(key) => update(&call, token_id(&key)?, payload).await,
        Operation::Delete(key) => delete(&call, token_id(&key)?).await,
        Operation::SyncLicenses(key) => sync_licenses(&call, token_id(&key)?).await,
        Operation::RevokeLicenses(key) => revoke_licenses(&call, token_id(&key)?, payload).await,
        Operation::SyncLicenseCounts => sync_license_counts(&call).await,
        Operation::GetLicensesForApp(bundle_id) => licenses_for_app(&call, &bundle_id).await,
    }
}

/// A key that is not a GUID names no token: 404, as for a GUID with no token.
fn token_id(key: &str) -> ApiResult<Uuid> {
    Uuid::try_parse(key).map_err(|_| ApiError::not_found())
}

async fn list(call: &Call<'_>) -> ApiResult<HttpResponse> {
    let options = &call.options;
    let settings = &call.state.settings.paging;
    let after = match &options.skip_token {
        Some(token) => Some(Cursor::decode(token, &options.order_by).ok_or_else(|| {
            ApiError::bad_request_plain(
                "The $skiptoken is not valid for this query; start again from the first page.",
            )
        })?),
        None => None,
    };
    let limit = options.top.unwrap_or(settings.default_page_size);
    let request = ListRequest {
        filter: options.filter.as_ref(),
        order_by: &options.order_by,
        after: after.as_ref(),
        skip: options.skip,
        limit,
        with_count: options.count,
    };
    let store = &call.state.store;
    let page = store.list(call.tenant, &request).await?;
    let next_link = page
        .next
        .filter(|_| limit > 0)
        .map(|cursor| next_link(call, &cursor.encode()));
    let select = options.select.as_deref();
    let context = response::token_context(&call.base_url, call.version, select, false);
    response::json(
        StatusCode::OK,
        &CollectionBody {
            context: &context,
            count: page.count,
            next_link: next_link.as_deref(),
            items: &page.tokens,
            shape: Shape::answer(call.version, select),
        },
        response::TOKEN_JSON_BYTES * (page.tokens.len() + 1),
    )
}

/// The request's own URL with `$skip`/`$skiptoken` replaced by the cursor: the other options
/// ride along exactly as the client wrote them.
fn next_link(call: &Call<'_>, skip_token: &str) -> String {
    let kept: Vec<&str> = call
        .request
        .query_string()
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            let bare = name.trim_start_matches('$');
            !pair.is_empty()
                && !bare.eq_ignore_ascii_case("skip")
                && !bare.eq_ignore_ascii_case("skiptoken")
        })
        .collect();
    let mut query = kept.join("&");
    if !query.is_empty() {
        query.push('&');
    }
    format!(
        "{}{}?{query}$skiptoken={skip_token}",
        call.base_url,
        call.request.uri().path()
    )
}

async fn count(call: &Call<'_>) -> ApiResult<HttpResponse> {
    let total = call
        .state
        .store
        .count(call.tenant, call.options.filter.as_ref())
        .await?;
    Ok(response::count(total))
}

async fn get(call: &Call<'_>, id: Uuid) -> ApiResult<HttpResponse> {
    let token = call
        .state
        .store
        .get(call.tenant, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    entity(call, StatusCode::OK, &token)
}

async fn create(call: &Call<'_>, payload: web::Payload) -> ApiResult<HttpResponse> {
    let body = json_body(call, payload).await?;
    let changes = input::token_changes(&body, call.version, call.state.settings.limits)?;
    let mut token = VppToken::new(Uuid::new_v4(), GraphDateTime::now());
    token.apply(changes);
    call.state.store.create(call.tenant, token.clone()).await?;
    entity(call, StatusCode::CREATED, &token)
}

async fn update(call: &Call<'_>, id: Uuid, payload: web::Payload) -> ApiResult<HttpResponse> {
    let body = json_body(call, payload).await?;
    let changes = input::token_changes(&body, call.version, call.state.settings.limits)?;
    let token = call
        .state
        .store
        .update(call.tenant, id, changes, GraphDateTime::now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    if wants_representation(call.request) {
        let mut response = entity(call, StatusCode::OK, &token)?;
        response.headers_mut().insert(
            PREFERENCE_APPLIED,
            actix_web::http::header::HeaderValue::from_static("return=representation"),
        );
        return Ok(response);
    }
    Ok(response::no_content())
}

const PREFERENCE_APPLIED: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("preference-applied");

/// `Prefer: return=representation` (among other preferences, in any case).
fn wants_representation(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all("prefer")
        .filter_map(|value| value.to_str().ok())
        .any(|value| {
            value.split(',').any(|preference| {
                preference
                    .trim()
                    .eq_ignore_ascii_case("return=representation")
            })
        })
}

async fn delete(call: &Call<'_>, id: Uuid) -> ApiResult<HttpResponse> {
    match call.state.store.delete(call.tenant, id).await? {
        true => Ok(response::no_content()),
        false => Err(ApiError::not_found()),
    }
}

async fn sync_licenses(call: &Call<'_>, id: Uuid) -> ApiResult<HttpResponse> {
    let token = call
        .state
        .store
        .sync_licenses(call.tenant, id, GraphDateTime::now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    entity(call, StatusCode::OK, &token)
}

async fn revoke_licenses(
    call: &Call<'_>,
    id: Uuid,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = json_body(call, payload).await?;
    // The parameters are checked as Graph does; the emulator has no devices to notify.
    input::revoke_parameters(&body, call.state.settings.limits)?;
    match call
        .state
        .store
        .revoke_licenses(call.tenant, id, GraphDateTime::now())
        .await?
    {
        true => Ok(response::no_content()),
        false => Err(ApiError::not_found()),
    }
}

async fn sync_license_counts(call: &Call<'_>) -> ApiResult<HttpResponse> {
    call.state
        .store
        .sync_license_counts(call.tenant, GraphDateTime::now())
        .await?;
    Ok(response::no_content())
}

async fn licenses_for_app(call: &Call<'_>, bundle_id: &str) -> ApiResult<HttpResponse> {
    let summaries = call
        .state
        .store
        .licenses_for_app(call.tenant, bundle_id)
        .await?;
    let context = response::license_summary_context(&call.base_url, call.version);
    response::json(
        StatusCode::OK,
        &serde_json::json!({ "@odata.context": context, "value": summaries }),
        response::TOKEN_JSON_BYTES,
    )
}

/// The entity body with its context, narrowed by `$select`.
fn entity(call: &Call<'_>, status: StatusCode, token: &VppToken) -> ApiResult<HttpResponse> {
    let select = call.options.select.as_deref();
    let context = response::token_context(&call.base_url, call.version, select, true);
    response::json(
        status,
        &EntityBody {
            context: &context,
            token,
            shape: Shape::answer(call.version, select),
        },
        response::TOKEN_JSON_BYTES,
    )
}

/// Checks the content type, reads at most `server.max_body_bytes`, and parses one JSON object.
async fn json_body(
    call: &Call<'_>,
    mut payload: web::Payload,
) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    let is_json = call
        .request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    let limit = call.state.settings.server.max_body_bytes;
    let declared = call
        .request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk: Bytes = chunk.map_err(|e| {
            ApiError::bad_request_plain(format!("The request body could not be read: {e}."))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    json::parse_object(&body)
}
