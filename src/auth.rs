//! Bearer authentication of Graph routes (contract A.7).

use crate::config::{AuthMode, AuthSettings};
use crate::error::{ApiError, ApiResult};
use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;

/// Checks the `Authorization` header and answers the tenant the request acts in.
pub fn authenticate<'a>(request: &HttpRequest, settings: &'a AuthSettings) -> ApiResult<&'a str> {
    if settings.mode == AuthMode::Bearer {
        let header = request
            .headers()
            .get(AUTHORIZATION)
            .map(|value| value.to_str().unwrap_or("\u{0}"));
        match header.map(str::trim) {
            None | Some("") => return Err(ApiError::unauthenticated("Access token is empty.")),
            Some(value) => match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    if token.trim().is_empty() {
                        return Err(ApiError::unauthenticated("Access token is empty."));
                    }
                }
                _ if value.eq_ignore_ascii_case("bearer") => {
                    return Err(ApiError::unauthenticated("Access token is empty."));
                }
                _ => {
                    return Err(ApiError::unauthenticated(
                        "Access token validation failure.",
                    ));
                }
            },
        }
    }
    Ok(&settings.default_tenant_id)
}
