//! Resolves a Graph path and verb to an operation (contract A.1). One resolver instead of one
//! actix route per shape, so that OData key syntax, case-insensitive segments, and Intune's
//! "No method match route template" answer for everything else live in one place.

use crate::domain::ApiVersion;
use crate::error::{ApiError, ApiResult};
use actix_web::http::Method;
use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    List,
    Create,
    Count,
    Get(String),
    Update(String),
    Delete(String),
    SyncLicenses(String),
    RevokeLicenses(String),
    SyncLicenseCounts,
    GetLicensesForApp(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphRoute {
    pub version: ApiVersion,
    pub operation: Operation,
}

/// The path shapes under `vppTokens`, with the OData template Intune names in its route errors.
enum Shape {
    Collection,
    Count,
    Item(String),
    ItemAction(String, String),
    CollectionAction(String),
    GetLicensesForApp(String),
    Unknown,
}

impl Shape {
    fn template(&self) -> &'static str {
        match self {
            Shape::Collection => "~/singleton/navigation",
            Shape::Count => "~/singleton/navigation/$count",
            Shape::Item(_) => "~/singleton/navigation/key",
            Shape::ItemAction(..) => "~/singleton/navigation/key/action",
            Shape::CollectionAction(_) => "~/singleton/navigation/action",
            Shape::GetLicensesForApp(_) => "~/singleton/navigation/function",
            Shape::Unknown => "~/unresolved",
        }
    }
}

/// Resolves `raw_path` (still percent-encoded) and `method` to an operation.
pub fn resolve(method: &Method, raw_path: &str) -> ApiResult<GraphRoute> {
    let mut segments: Vec<String> = raw_path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    // One trailing slash is tolerated.
    if segments.len() > 1 && segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    let first = segments.first().map(String::as_str).unwrap_or_default();
    let (version, rest) = if first.eq_ignore_ascii_case("deviceAppManagement") {
        (ApiVersion::Beta, &segments[..])
    } else {
        let version = ApiVersion::parse(first).ok_or_else(|| ApiError::invalid_version(first))?;
        (version, &segments[1..])
    };
    let shape = shape_of(rest);
    let no_route = || ApiError::no_route(shape.template(), method.as_str(), raw_path);
    let beta = version == ApiVersion::Beta;
    let operation = match (&shape, method.as_str()) {
        (Shape::Collection, "GET") => Operation::List,
        (Shape::Collection, "POST") => Operation::Create,
        (Shape::Count, "GET") => Operation::Count,
        (Shape::Item(key), "GET") => Operation::Get(key.clone()),
        (Shape::Item(key), "PATCH") => Operation::Update(key.clone()),
        (Shape::Item(key), "DELETE") => Operation::Delete(key.clone()),
        (Shape::ItemAction(key, action), "POST") => match action.as_str() {
            "syncLicenses" => Operation::SyncLicenses(key.clone()),
            "revokeLicenses" if beta => Operation::RevokeLicenses(key.clone()),
            _ => return Err(no_route()),
        },
        (Shape::CollectionAction(action), "POST") if beta && action == "syncLicenseCounts" => {
            Operation::SyncLicenseCounts
        }
        (Shape::GetLicensesForApp(bundle_id), "GET") if beta => {
            Operation::GetLicensesForApp(bundle_id.clone())
        }
        _ => return Err(no_route()),
    };
    Ok(GraphRoute { version, operation })
}

fn shape_of(segments: &[String]) -> Shape {
    let [container, navigation, rest @ ..] = segments else {
        return Shape::Unknown;
    };
    if !container.eq_ignore_ascii_case("deviceAppManagement") {
        return Shape::Unknown;
    }
    // `vppTokens('{id}')` is the same as `vppTokens/{id}`.
    let (navigation, key_in_parens) = match split_call(navigation) {
        Some((name, argument)) => (name, Some(unquote(argument).to_owned())),
        None => (navigation.as_str(), None),
    };
    if !navigation.eq_ignore_ascii_case("vppTokens") {
        return Shape::Unknown;
    }
    match (key_in_parens, rest) {
        (None, []) => Shape::Collection,
        (Some(key), []) => Shape::Item(key),
        (Some(key), [action]) => Shape::ItemAction(key, operation_name(action)),
        (None, [segment]) if segment == "$count" => Shape::Count,
        (None, [segment]) => match split_call(segment) {
            Some((name, argument)) if operation_name(name) == "getLicensesForApp" => {
                match argument.split_once('=') {
                    Some((parameter, value)) if parameter.trim() == "bundleId" => {
                        Shape::GetLicensesForApp(unquote(value.trim()).replace("''", "'"))
                    }
                    _ => Shape::Unknown,
                }
            }
            Some(_) => Shape::Unknown,
            None if operation_name(segment) == "syncLicenseCounts" => {
                Shape::CollectionAction(operation_name(segment))
            }
            None => Shape::Item(segment.clone()),
        },
        (None, [key, action]) => Shape::ItemAction(key.clone(), operation_name(action)),
        _ => Shape::Unknown,
    }
}

/// `name(argument)` → (`name`, `argument`).
fn split_call(segment: &str) -> Option<(&str, &str)> {
    let (name, rest) = segment.split_once('(')?;
    rest.strip_suffix(')').map(|argument| (name, argument))
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text)
}

/// Operation names are matched case-insensitively and may carry the `microsoft.graph.` namespace.
fn operation_name(segment: &str) -> String {
    let bare = segment
        .get(..16)
        .filter(|prefix| prefix.eq_ignore_ascii_case("microsoft.graph."))
        .map_or(segment, |_| &segment[16..]);
    [
        "syncLicenses",
        "revokeLicenses",
        "syncLicenseCounts",
        "getLicensesForApp",
    ]
    .into_iter()
    .find(|name| name.eq_ignore_ascii_case(bare))
    .map_or_else(|| bare.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, path: &str) -> Result<(ApiVersion, Operation), String> {
        resolve(&method, path)
            .map(|r| (r.version, r.operation))
            .map_err(|e| e.code.to_owned())
    }

    const ID: &str = "3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76";

    #[test]
    fn resolves_every_operation() {
        let base = "/beta/deviceAppManagement/vppTokens";
        let cases = [
            (Method::GET, base.to_owned(), Operation::List),
            (Method::POST, base.to_owned(), Operation::Create),
            (Method::GET, format!("{base}/$count"), Operation::Count),
            (
                Method::GET,
                format!("{base}/{ID}"),
                Operation::Get(ID.into()),
            ),
            (
                Method::GET,
                format!("{base}('{ID}')"),
                Operation::Get(ID.into()),
            ),
            (
                Method::GET,
                format!("{base}(%27{ID}%27)"),
                Operation::Get(ID.into()),
            ),
            (
                Method::PATCH,
                format!("{base}/{ID}"),
                Operation::Update(ID.into()),
            ),
            (
                Method::DELETE,
                format!("{base}/{ID}"),
                Operation::Delete(ID.into()),
            ),
            (
                Method::POST,
                format!("{base}/{ID}/syncLicenses"),
                Operation::SyncLicenses(ID.into()),
            ),
            (
                Method::POST,
                format!("{base}('{ID}')/microsoft.graph.revokeLicenses"),
                Operation::RevokeLicenses(ID.into()),
            ),
            (
                Method::POST,
                format!("{base}/syncLicenseCounts"),
                Operation::SyncLicenseCounts,
            ),
            (
                Method::GET,
                format!("{base}/getLicensesForApp(bundleId='com.a''b')"),
                Operation::GetLicensesForApp("com.a'b".into()),
            ),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                op(method, &path),
                Ok((ApiVersion::Beta, expected)),
                "{path}"
            );
        }
        assert_eq!(
            op(Method::GET, "/deviceAppManagement/vppTokens"),
            Ok((ApiVersion::Beta, Operation::List))
        );
        assert_eq!(
            op(Method::GET, "/v1.0/deviceappmanagement/VPPTOKENS/"),
            Ok((ApiVersion::V1, Operation::List))
        );
    }

    #[test]
    fn unknown_verbs_paths_and_versions_are_400() {
        let route_error = Err("No method match route template".to_owned());
        assert_eq!(
            op(
                Method::PUT,
                &format!("/beta/deviceAppManagement/vppTokens/{ID}")
            ),
            route_error
        );
        assert_eq!(
            op(Method::POST, "/beta/deviceAppManagement/vppTokens/$count"),
            route_error
        );
        assert_eq!(op(Method::GET, "/beta/users"), route_error);
        assert_eq!(
            op(
                Method::POST,
                &format!("/v1.0/deviceAppManagement/vppTokens/{ID}/revokeLicenses")
            ),
            route_error
        );
        assert_eq!(
            op(
                Method::POST,
                "/v1.0/deviceAppManagement/vppTokens/syncLicenseCounts"
            ),
            route_error
        );
        assert_eq!(
            op(Method::GET, "/v2.0/deviceAppManagement/vppTokens"),
            Err("BadRequest".to_owned())
        );
    }
}
