//! Bearer authentication of Graph routes (contract A.7).

use crate::config::{AuthMode, AuthSettings, Settings};
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

/// The admin API's check: with `admin.token` set, `Authorization: Bearer <admin.token>`.
pub fn authenticate_admin(request: &HttpRequest, settings: &Settings) -> ApiResult<()> {
    let Some(expected) = settings.admin_token() else {
        return Ok(());
    };
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match given {
        Some(token) if token == expected => Ok(()),
        Some(_) => Err(ApiError::unauthenticated(
            "Access token validation failure.",
        )),
        None => Err(ApiError::unauthenticated("Access token is empty.")),
    }
}
