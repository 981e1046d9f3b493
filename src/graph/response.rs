//! Successful Graph responses: content type, OData headers, context URLs.

use crate::domain::properties::{self, ApiVersion, PropId};
use crate::error::{ApiError, ApiResult};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

pub const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// About the size of one token's JSON, to size a body's buffer once instead of growing it by
/// doubling (a list page grew and copied its buffer more than ten times).
pub const TOKEN_JSON_BYTES: usize = 1024;

/// A JSON success with Graph's content type and `OData-Version`; `size_hint` is about how many
/// bytes the body takes.
pub fn json(
    status: StatusCode,
    body: &impl Serialize,
    size_hint: usize,
) -> ApiResult<HttpResponse> {
    let mut bytes = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut bytes, body).map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON)))
        .insert_header(("OData-Version", "4.0"))
        .body(bytes))
}

pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// `/$count`: the number as `text/plain`.
pub fn count(value: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain"))
        .insert_header(("OData-Version", "4.0"))
        .body(value.to_string())
}

/// `{base}/{version}/$metadata#deviceAppManagement/vppTokens[(selected)][/$entity]`.
pub fn token_context(
    base: &str,
    version: ApiVersion,
    select: Option<&[PropId]>,
    entity: bool,
) -> String {
    let selected = select
        .map(|ids| {
            let names: Vec<&str> = ids
                .iter()
                .map(|id| properties::property(*id).name)
                .collect();
            format!("({})", names.join(","))
        })
        .unwrap_or_default();
    let suffix = if entity { "/$entity" } else { "" };
    format!(
        "{base}/{}/$metadata#deviceAppManagement/vppTokens{selected}{suffix}",
        version.as_str()
    )
}

pub fn license_summary_context(base: &str, version: ApiVersion) -> String {
    format!(
        "{base}/{}/$metadata#Collection(microsoft.graph.vppTokenLicenseSummary)",
        version.as_str()
    )
}
