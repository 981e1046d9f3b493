//! The outermost middleware: gives every request its ids, renders every error (ours, or one
//! actix produced itself) as the Graph envelope, and adds Graph's headers to every response.

use crate::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, STRICT_TRANSPORT_SECURITY, VARY,
    WWW_AUTHENTICATE,
};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde::Serialize;
use std::time::Instant;
use uuid::Uuid;

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
const DIAGNOSTIC: HeaderName = HeaderName::from_static("x-ms-ags-diagnostic");
const DIAGNOSTIC_VALUE: &str = r#"{"ServerInfo":{"DataCenter":"vpp-emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"vpp-emulator"}}"#;
/// Longest `client-request-id` echoed back; a longer one is replaced by the request id.
const MAX_CLIENT_REQUEST_ID: usize = 128;

/// Per-request facts the error envelope and the context URLs need.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub client_request_id: String,
    /// Scheme and host (or `server.public_base_url`), no trailing slash.
    pub base_url: String,
}

impl RequestContext {
    /// The absolute URL of the request, for Intune's error document.
    pub fn url(&self, request: &HttpRequest) -> String {
        format!(
            "{}{}",
            self.base_url,
            request.uri().path_and_query().map_or("/", |p| p.as_str())
        )
    }
}

/// The settings the middleware needs, shared with it as app data.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// `server.public_base_url`, when set.
    pub public_base_url: Option<String>,
    /// `limits.max_url_bytes`.
    pub max_url_bytes: usize,
}

pub async fn graph_envelope(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    // The shared handle, not a copy of the settings: this runs on every request.
    let edge = request
        .app_data::<actix_web::web::Data<EdgeSettings>>()
        .cloned();
    let context = context_of(&request, edge.as_ref().map(|edge| edge.get_ref()));
    request.extensions_mut().insert(context.clone());
    let target_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    let response = match edge.map(|edge| edge.max_url_bytes) {
        Some(max) if target_len > max => request.error_response(ApiError::uri_too_long(max)),
        // Handler and extractor errors arrive as responses; an `Err` here would come from
        // actix's own service plumbing, which holds no request to answer with, so it is passed on.
        _ => next.call(request).await?.map_into_boxed_body(),
    };
    let response = finish(response, &context);
    tracing::info!(
        request_id = %context.request_id,
        method = %response.request().method(),
        path = %response.request().path(),
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

fn context_of(request: &ServiceRequest, edge: Option<&EdgeSettings>) -> RequestContext {
    let request_id = Uuid::new_v4().hyphenated().to_string();
    let client_request_id = request
        .headers()
        .get(&CLIENT_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty() && value.len() <= MAX_CLIENT_REQUEST_ID)
        .map_or_else(|| request_id.clone(), str::to_owned);
    let configured = edge.and_then(|edge| edge.public_base_url.clone());
    let base_url = configured.unwrap_or_else(|| {
        let info = request.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    });
    RequestContext {
        request_id,
        client_request_id,
        base_url,
    }
}

fn finish(
    response: ServiceResponse<BoxBody>,
    context: &RequestContext,
) -> ServiceResponse<BoxBody> {
    let parked = response.response().extensions().get::<ApiError>().cloned();
    let error = parked.or_else(|| {
        let status = response.status();
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"));
        let failed = status.is_client_error() || status.is_server_error();
        (failed && !is_json).then(|| ApiError::from_status(status))
    });
    let mut response = match error {
        Some(error) => {
            let envelope = render(&error, context, response.request());
            let (request, _) = response.into_parts();
            ServiceResponse::new(request, envelope)
        }
        None => response,
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (REQUEST_ID, &context.request_id),
        (CLIENT_REQUEST_ID, &context.client_request_id),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert(DIAGNOSTIC, HeaderValue::from_static(DIAGNOSTIC_VALUE));
    // Graph's fixed headers (contract B.5.4), sent as Graph sends them. Over plain HTTP a browser
    // ignores Strict-Transport-Security (RFC 6797 8.1), so it pins nothing on a local emulator.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// The Graph error envelope (contract A.6).
fn render(error: &ApiError, context: &RequestContext, request: &HttpRequest) -> HttpResponse {
    let body = Envelope {
        error: ErrorBody {
            code: error.code,
            message: error.message_text(&context.request_id, &context.url(request)),
            inner_error: InnerError {
                message: error.inner_message(),
                date: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                request_id: &context.request_id,
                client_request_id: &context.client_request_id,
            },
        },
    };
    let mut builder = HttpResponse::build(error.status);
    builder.insert_header((CONTENT_TYPE, "application/json"));
    if error.status == actix_web::http::StatusCode::UNAUTHORIZED {
        builder.insert_header((WWW_AUTHENTICATE, "Bearer"));
    }
    builder.body(serde_json::to_string(&body).unwrap_or_default())
}

/// `{"error":{"code","message","innerError":{["message",]"date","request-id","client-request-id"}}}`,
/// in Graph's field order.
#[derive(Serialize)]
struct Envelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(rename = "innerError")]
    inner_error: InnerError<'a>,
}

#[derive(Serialize)]
struct InnerError<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    date: String,
    #[serde(rename = "request-id")]
    request_id: &'a str,
    #[serde(rename = "client-request-id")]
    client_request_id: &'a str,
}
