//! OData system query options (contract A.4): read from the raw query string, checked, typed.

use crate::domain::properties::{self, ApiVersion, PropId, PropKind};
use crate::error::{ApiError, ApiResult};
use crate::graph::filter::{self, Filter};

/// Most keys one `$orderby` may list, and most names one `$select` may list.
pub const MAX_ORDER_KEYS: usize = 8;
pub const MAX_SELECT_NAMES: usize = 64;
/// Longest `$filter` accepted, in bytes (its node and depth limits apply too).
pub const MAX_FILTER_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub property: PropId,
    pub direction: Direction,
}

/// The options of one request, checked.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub filter: Option<Filter>,
    pub select: Option<Vec<PropId>>,
    pub order_by: Vec<OrderKey>,
    pub top: Option<u32>,
    pub skip: u32,
    pub count: bool,
    pub skip_token: Option<String>,
}

/// The options Graph knows, by their `$` name.
const OPTIONS: [&str; 9] = [
    "$filter",
    "$select",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$skiptoken",
    "$expand",
    "$search",
];

/// Reads `raw_query` (still percent-encoded). On beta the `$` prefix is optional.
pub fn parse(raw_query: &str, version: ApiVersion, max_page_size: u32) -> ApiResult<QueryOptions> {
    let mut options = QueryOptions::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for (raw_name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        let Some(name) = option_name(&raw_name, version)? else {
            continue;
        };
        if seen.contains(&name) {
            return Err(ApiError::bad_request_plain(format!(
                "The query option '{name}' was specified more than once; it may be given only once."
            )));
        }
        seen.push(name);
        let value = value.trim();
        match name {
            "$filter" => options.filter = Some(parse_filter(value, version)?),
            "$select" => options.select = Some(parse_select(value, version)?),
            "$orderby" => options.order_by = parse_order_by(value, version)?,
            "$top" => options.top = Some(parse_top(value, max_page_size)?),
            "$skip" => options.skip = parse_count_value("$skip", value, u32::MAX)?,
            "$count" => options.count = parse_bool("$count", value)?,
            "$skiptoken" => options.skip_token = Some(value.to_owned()),
            "$expand" => {
                return Err(ApiError::bad_request_plain(format!(
                    "Parsing OData Select and Expand failed: Could not find a navigation property named '{value}' on type 'microsoft.graph.vppToken'; vppToken has none to expand."
                )));
            }
            _ => {
                return Err(ApiError::unsupported_query(
                    "Request with $search query parameter only works on Microsoft Graph directory objects; it is not supported on vppTokens.",
                ));
            }
        }
    }
    Ok(options)
}

/// The canonical `$` name of a query parameter, `None` for parameters that are not options
/// (ignored, as Graph ignores them), or an error for an unknown `$` option.
fn option_name(raw: &str, version: ApiVersion) -> ApiResult<Option<&'static str>> {
    let dollar = raw.starts_with('$');
    if !dollar && version != ApiVersion::Beta {
        return Ok(None);
    }
    let bare = raw.trim_start_matches('$');
    let known = OPTIONS
        .iter()
        .find(|option| option[1..].eq_ignore_ascii_case(bare))
        .copied();
    match known {
        Some(name) => Ok(Some(name)),
        None if dollar => Err(ApiError::bad_request_plain(format!(
            "The query parameter '{raw}' is not supported."
        ))),
        None => Ok(None),
    }
}

fn parse_filter(value: &str, version: ApiVersion) -> ApiResult<Filter> {
    if value.len() > MAX_FILTER_BYTES {
        return Err(ApiError::bad_request_plain(format!(
            "Invalid $filter: the expression is longer than {MAX_FILTER_BYTES} bytes."
        )));
    }
    filter::parse(value, version)
        .map_err(|why| ApiError::bad_request_plain(format!("Invalid $filter: {why}.")))
}

fn parse_select(value: &str, version: ApiVersion) -> ApiResult<Vec<PropId>> {
    let names: Vec<&str> = value.split(',').map(str::trim).collect();
    if names.len() > MAX_SELECT_NAMES {
        return Err(ApiError::bad_request_plain(format!(
            "Invalid $select: at most {MAX_SELECT_NAMES} properties may be listed."
        )));
    }
    let mut chosen = Vec::new();
    for name in names {
        if name == "*" {
            return Ok(properties::PROPERTIES.iter().map(|p| p.id).collect());
        }
        let property = properties::find(name, version).ok_or_else(|| {
            ApiError::bad_request_plain(format!(
                "Invalid $select: could not find a property named '{name}' on type 'microsoft.graph.vppToken'."
            ))
        })?;
        if !chosen.contains(&property.id) {
            chosen.push(property.id);
        }
    }
    Ok(chosen)
}

fn parse_order_by(value: &str, version: ApiVersion) -> ApiResult<Vec<OrderKey>> {
    let clauses: Vec<&str> = value.split(',').map(str::trim).collect();
    if clauses.len() > MAX_ORDER_KEYS {
        return Err(ApiError::bad_request_plain(format!(
            "Invalid $orderby: at most {MAX_ORDER_KEYS} keys may be listed."
        )));
    }
    clauses
        .into_iter()
        .map(|clause| {
            let mut words = clause.split_whitespace();
            let name = words.next().unwrap_or_default();
            let direction = match words.next() {
                None | Some("asc") => Direction::Asc,
                Some("desc") => Direction::Desc,
                Some(other) => {
                    return Err(ApiError::bad_request_plain(format!(
                        "Invalid $orderby: '{other}' after '{name}' must be asc or desc."
                    )));
                }
            };
            if words.next().is_some() {
                return Err(ApiError::bad_request_plain(format!(
                    "Invalid $orderby: '{clause}' is not 'property [asc|desc]'."
                )));
            }
            let property = properties::find(name, version)
                .filter(|p| p.column.is_some() && p.id != PropId::Token && p.kind != PropKind::ActionResults)
                .ok_or_else(|| {
                    ApiError::bad_request_plain(format!(
                        "Invalid $orderby: '{name}' is not a property of microsoft.graph.vppToken that can be ordered by."
                    ))
                })?;
            Ok(OrderKey { property: property.id, direction })
        })
        .collect()
}

fn parse_top(value: &str, max_page_size: u32) -> ApiResult<u32> {
    parse_count_value("$top", value, max_page_size)
}

fn parse_count_value(name: &str, value: &str, max: u32) -> ApiResult<u32> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| {
            ApiError::bad_request_plain(format!(
                "Invalid value '{value}' for {name}: expected a whole number from 0 to {max}."
            ))
        })
}

fn parse_bool(name: &str, value: &str) -> ApiResult<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request_plain(format!(
            "Invalid value '{value}' for {name}: expected true or false."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(query: &str) -> String {
        parse(query, ApiVersion::Beta, 999)
            .map(|_| "ok".to_owned())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn beta_accepts_options_without_dollar() -> ApiResult<()> {
        let options = parse(
            "top=5&select=id,displayName&count=true&foo=bar",
            ApiVersion::Beta,
            999,
        )?;
        assert_eq!(options.top, Some(5));
        assert_eq!(options.select, Some(vec![PropId::Id, PropId::DisplayName]));
        assert!(options.count);
        let v1 = parse("top=5", ApiVersion::V1, 999)?;
        assert_eq!(v1.top, None);
        Ok(())
    }

    #[test]
    fn invalid_values_are_named() {
        assert!(code("$top=1000").contains("$top"));
        assert!(code("$top=-1").contains("$top"));
        assert!(code("$skip=x").contains("$skip"));
        assert!(code("$count=yes").contains("$count"));
        assert!(code("$select=nope").contains("nope"));
        assert!(code("$orderby=state sideways").contains("sideways"));
        assert!(code("$orderby=roleScopeTagIds").contains("roleScopeTagIds"));
        assert!(code("$expand=x").contains("expand"));
        assert!(code("$search=x").contains("Request_UnsupportedQuery"));
        assert!(code("$top=1&top=2").contains("more than once"));
        assert!(code("$foo=1").contains("$foo"));
    }
}
