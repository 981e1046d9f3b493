//! `ApiError`: every failure a client can see, and the Graph error envelope it becomes.
//!
//! Handlers and extractors return an `ApiError`; its `ResponseError` impl only sets the status and
//! parks the error in the response's extensions. The Graph middleware (`graph::headers`) renders the
//! envelope there, because the body needs the request's id, URL and date.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

/// How the `message` field is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A plain sentence, as Graph's gateway and OData layers write it.
    Plain(String),
    /// Intune's JSON document (contract B.5.2) whose `Message` starts with this detail.
    Intune(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Message,
    /// The JSON path of the offending value in a request body, when there is one. Not sent
    /// (Graph's envelope has no such field); fixture loading reports it.
    pub target: Option<String>,
}

/// The type name Intune's model validation names in its messages.
const INTUNE_VPP_TOKEN_TYPE: &str = "microsoft.management.services.api.vppToken";
/// The code of an unknown property; Graph repeats its message in `innerError.message`.
const MODEL_VALIDATION_FAILURE: &str = "ModelValidationFailure";

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: Message) -> Self {
        ApiError {
            status,
            code,
            message,
            target: None,
        }
    }

    /// Names the JSON path of the value that caused the error.
    pub fn at(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The reason in words, without Intune's document around it.
    pub fn reason(&self) -> &str {
        match &self.message {
            Message::Plain(text) | Message::Intune(text) => text,
        }
    }

    /// A validation failure found by the vppTokens service (wrong type, bad enum, bad date...).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            Message::Intune(detail.into()),
        )
    }

    /// A malformed request the OData layer rejects before the service sees it (query options,
    /// unreadable JSON): plain message.
    pub fn bad_request_plain(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            Message::Plain(message.into()),
        )
    }

    /// A key that is not a property of the type (contract A.3).
    pub fn unknown_property(name: &str) -> Self {
        Self::unknown_property_of(name, INTUNE_VPP_TOKEN_TYPE)
    }

    /// A key that is not a property of the named Intune type.
    pub fn unknown_property_of(name: &str, type_name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            MODEL_VALIDATION_FAILURE,
            Message::Plain(format!(
                "The property '{name}' does not exist on type '{type_name}'. Make sure to only use property names that are defined by the type."
            )),
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            Message::Intune("An error has occurred".to_owned()),
        )
    }

    /// No route for this path and verb under a known version (Intune never answers 405).
    pub fn no_route(template: &str, method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "No method match route template",
            Message::Plain(format!(
                "No OData route exists that match template {template} with http verb {method} for request {path}"
            )),
        )
    }

    pub fn invalid_version(version: &str) -> Self {
        Self::bad_request_plain(format!("Invalid version: {version}"))
    }

    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            Message::Plain(message.into()),
        )
    }

    pub fn unauthenticated(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            Message::Plain(message.to_owned()),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            Message::Plain(
                "The content type of the request is not supported; send application/json."
                    .to_owned(),
            ),
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            Message::Plain(format!(
                "The request body is larger than the limit of {limit} bytes."
            )),
        )
    }

    pub fn uri_too_long(limit: usize) -> Self {
        Self::new(
            StatusCode::URI_TOO_LONG,
            "RequestUriTooLong",
            Message::Plain(format!(
                "The request URL is longer than the limit of {limit} bytes."
            )),
        )
    }

    /// An internal failure: the cause is logged here and never sent to the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            Message::Plain("An internal server error occurred.".to_owned()),
        )
    }

    /// The error a status answered by actix itself (not by our code) stands for.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                status,
                "RequestEntityTooLarge",
                Message::Plain("The request body is too large.".to_owned()),
            ),
            StatusCode::URI_TOO_LONG => Self::new(
                status,
                "RequestUriTooLong",
                Message::Plain("The request URL is too long.".to_owned()),
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Self::new(
                status,
                "RequestHeaderFieldsTooLarge",
                Message::Plain("The request headers are too large.".to_owned()),
            ),
            s if s.is_server_error() => Self::internal(format!("actix answered {s}")),
            s => Self::new(
                s,
                "BadRequest",
                Message::Plain(s.canonical_reason().unwrap_or("Bad request").to_owned()),
            ),
        }
    }

    /// The `innerError.message` field: only model validation failures carry one (contract A.3).
    pub fn inner_message(&self) -> Option<&str> {
        (self.code == MODEL_VALIDATION_FAILURE).then(|| self.reason())
    }

    /// The `message` field: plain, or Intune's document naming the request's id and URL.
    pub fn message_text(&self, request_id: &str, url: &str) -> String {
        match &self.message {
            Message::Plain(text) => text.clone(),
            Message::Intune(detail) => intune_message(detail, request_id, url),
        }
    }
}

/// Intune's error document, field order and `\r\n` line breaks as the service writes them.
#[derive(Serialize)]
struct IntuneDocument<'a> {
    #[serde(rename = "_version")]
    version: u8,
    #[serde(rename = "Message")]
    message: String,
    #[serde(rename = "CustomApiErrorPhrase")]
    custom_api_error_phrase: &'a str,
    #[serde(rename = "RetryAfter")]
    retry_after: Option<u32>,
    #[serde(rename = "ErrorSourceService")]
    error_source_service: &'a str,
    #[serde(rename = "HttpHeaders")]
    http_headers: &'a str,
}

fn intune_message(detail: &str, request_id: &str, url: &str) -> String {
    let document = IntuneDocument {
        version: 3,
        message: format!(
            "{detail} - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: {request_id} - Url: {url}"
        ),
        custom_api_error_phrase: "",
        retry_after: None,
        error_source_service: "",
        http_headers: "{}",
    };
    // Newlines inside JSON strings are escaped, so only the layout's line breaks are replaced.
    serde_json::to_string_pretty(&document)
        .map(|text| text.replace('\n', "\r\n"))
        .unwrap_or_else(|_| detail.to_owned())
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Message::Plain(text) | Message::Intune(text) => {
                write!(f, "{} {}: {}", self.status.as_u16(), self.code, text)
            }
        }
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status).finish();
        response.extensions_mut().insert(self.clone());
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intune_message_is_the_documented_json_with_crlf() {
        let text = intune_message("Bad state", "rid", "http://h/beta/x");
        assert!(
            text.starts_with(
                "{\r\n  \"_version\": 3,\r\n  \"Message\": \"Bad state - Operation ID"
            )
        );
        assert!(text.contains(
            "Activity ID: rid - Url: http://h/beta/x\",\r\n  \"CustomApiErrorPhrase\": \"\""
        ));
        assert!(text.ends_with("\"HttpHeaders\": \"{}\"\r\n}"));
    }
}
