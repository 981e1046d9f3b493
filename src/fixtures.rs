//! The fixture format (README "Fixtures"): reading files and folders with errors that name the
//! file, the JSON path of the bad value and the reason, and writing the same format on export so
//! that export → seed round-trips exactly.
//!
//! ```json
//! {"tenantId": "…", "vppTokens": [{…token as the API returns it, plus "id" and "token"…}],
//!  "licenses": [{"vppTokenId": "…", "bundleId": "…", "availableLicenseCount": 5, "usedLicenseCount": 2}]}
//! ```

use crate::config::{Limits, SeedMode, Settings};
use crate::domain::{ApiVersion, GraphDateTime, License, TenantData, VppToken};
use crate::graph::entity::{Item, Shape};
use crate::graph::{input, json};
use crate::store::{Clear, Load, LoadReport};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// A fixture that cannot be loaded: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {path}: {reason}")]
pub struct FixtureError {
    pub file: String,
    /// JSON path of the offending value (`$` for the document itself).
    pub path: String,
    pub reason: String,
}

/// After how many tokens a large import reports progress.
const PROGRESS_EVERY: usize = 10_000;

/// What fixture documents are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The tenant of a document without `tenantId`.
    pub default_tenant: &'a str,
    /// The limits of a create body.
    pub limits: Limits,
}

impl<'a> Rules<'a> {
    pub fn of(settings: &'a Settings) -> Self {
        Rules {
            default_tenant: &settings.auth.default_tenant_id,
            limits: settings.limits,
        }
    }
}

/// Reads `path`: one file, or every `*.json` in a folder in name order.
pub fn read_path(path: &Path, rules: Rules<'_>) -> Result<Vec<TenantData>, FixtureError> {
    let files = fixture_files(path)?;
    let mut sets = Vec::with_capacity(files.len());
    for file in files {
        let name = file.display().to_string();
        let bytes = std::fs::read(&file).map_err(|e| FixtureError {
            file: name.clone(),
            path: "$".to_owned(),
            reason: format!("cannot read the file: {e}"),
        })?;
        sets.push(parse_document(&bytes, &name, rules)?);
    }
    check_license_references(&sets)?;
    Ok(sets)
}

fn fixture_files(path: &Path) -> Result<Vec<PathBuf>, FixtureError> {
    let unreadable = |e: std::io::Error| FixtureError {
        file: path.display().to_string(),
        path: "$".to_owned(),
        reason: format!("cannot read: {e}"),
    };
    if !path.is_dir() {
        std::fs::metadata(path).map_err(unreadable)?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(unreadable)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|file| file.is_file() && file.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Parses one fixture document. Tokens are validated exactly like a create body; `id` and
/// `lastModifiedDateTime` are taken from the file when present.
pub fn parse_document(
    bytes: &[u8],
    file: &str,
    rules: Rules<'_>,
) -> Result<TenantData, FixtureError> {
    let fail = |path: String, reason: String| FixtureError {
        file: file.to_owned(),
        path,
        reason,
    };
    let document =
        json::parse_object(bytes).map_err(|e| fail("$".to_owned(), e.reason().to_owned()))?;
    let mut data = TenantData {
        tenant_id: rules.default_tenant.to_owned(),
        tokens: Vec::new(),
        licenses: Vec::new(),
    };
    for (key, value) in &document {
        match key.as_str() {
            "tenantId" => match value.as_str().map(str::trim) {
                Some(tenant) if !tenant.is_empty() => data.tenant_id = tenant.to_owned(),
                _ => {
                    return Err(fail(
                        "$.tenantId".to_owned(),
                        "expected a non-empty string".to_owned(),
                    ));
                }
            },
            "vppTokens" => data.tokens = parse_tokens(value, rules.limits, &fail)?,
            "licenses" => data.licenses = parse_licenses(value, &fail)?,
            other => {
                return Err(fail(
                    format!("$.{other}"),
                    "unknown key; a fixture has tenantId, vppTokens and licenses".to_owned(),
                ));
            }
        }
    }
    Ok(data)
}

type Fail<'a> = dyn Fn(String, String) -> FixtureError + 'a;

fn array<'v>(value: &'v Value, path: &str, fail: &Fail<'_>) -> Result<&'v [Value], FixtureError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| fail(path.to_owned(), "expected an array".to_owned()))
}

fn object<'v>(
    value: &'v Value,
    path: &str,
    fail: &Fail<'_>,
) -> Result<&'v Map<String, Value>, FixtureError> {
    value
        .as_object()
        .ok_or_else(|| fail(path.to_owned(), "expected an object".to_owned()))
}

fn parse_tokens(
    value: &Value,
    limits: Limits,
    fail: &Fail<'_>,
) -> Result<Vec<VppToken>, FixtureError> {
    let items = array(value, "$.vppTokens", fail)?;
    let mut seen = HashSet::new();
    let mut tokens = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("$.vppTokens[{index}]");
        let body = object(item, &path, fail)?;
        let changes = input::token_changes(body, ApiVersion::Beta, limits).map_err(|e| {
            let target = e
                .target
                .as_deref()
                .map_or(String::new(), |t| format!(".{t}"));
            fail(format!("{path}{target}"), e.reason().to_owned())
        })?;
        let id = match body.get("id") {
            None => Uuid::new_v4(),
            Some(id) => id
                .as_str()
                .and_then(|text| Uuid::try_parse(text).ok())
                .ok_or_else(|| fail(format!("{path}.id"), "expected a GUID string".to_owned()))?,
        };
        if !seen.insert(id) {
            return Err(fail(
                format!("{path}.id"),
                format!("the id {id} is given twice"),
            ));
        }
        let modified = match body.get("lastModifiedDateTime") {
            None => GraphDateTime::now(),
            Some(value) => value
                .as_str()
                .and_then(GraphDateTime::parse)
                .ok_or_else(|| {
                    fail(
                        format!("{path}.lastModifiedDateTime"),
                        "expected an ISO 8601 date-time with a time zone".to_owned(),
                    )
                })?,
        };
        let mut token = VppToken::new(id, modified);
        token.apply(changes);
        tokens.push(token);
        if (index + 1) % PROGRESS_EVERY == 0 {
            eprintln!("  validated {} of {} tokens", index + 1, items.len());
        }
    }
    Ok(tokens)
}

fn parse_licenses(value: &Value, fail: &Fail<'_>) -> Result<Vec<License>, FixtureError> {
    let items = array(value, "$.licenses", fail)?;
    let mut licenses = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("$.licenses[{index}]");
        let body = object(item, &path, fail)?;
        let mut license = License {
            token_id: Uuid::nil(),
            bundle_id: String::new(),
            available_license_count: 0,
            used_license_count: 0,
        };
        let mut has = (false, false);
        for (key, value) in body {
            let at = format!("{path}.{key}");
            let count = || {
                value
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| {
                        fail(
                            at.clone(),
                            "expected a whole number from 0 to 2147483647".to_owned(),
                        )
                    })
            };
            match key.as_str() {
                "vppTokenId" => {
                    license.token_id = value
                        .as_str()
                        .and_then(|t| Uuid::try_parse(t).ok())
                        .ok_or_else(|| {
                            fail(at.clone(), "expected the GUID of a token".to_owned())
                        })?;
                    has.0 = true;
                }
                "bundleId" => {
                    license.bundle_id = value
                        .as_str()
                        .filter(|b| !b.is_empty())
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            fail(at.clone(), "expected a non-empty string".to_owned())
                        })?;
                    has.1 = true;
                }
                "availableLicenseCount" => license.available_license_count = count()?,
                "usedLicenseCount" => license.used_license_count = count()?,
                other => return Err(fail(at, format!("unknown key '{other}' in a licence"))),
            }
        }
        if !has.0 || !has.1 {
            return Err(fail(
                path,
                "a licence needs vppTokenId and bundleId".to_owned(),
            ));
        }
        licenses.push(license);
    }
    Ok(licenses)
}

/// The load that applies `sets` in `mode`.
pub fn plan(sets: Vec<TenantData>, mode: SeedMode) -> Load {
    let clear = match mode {
        SeedMode::Replace => Clear::Tenants(sets.iter().map(|s| s.tenant_id.clone()).collect()),
        SeedMode::IfEmpty | SeedMode::Upsert => Clear::Nothing,
    };
    Load {
        clear,
        sets,
        only_into_empty_tenants: mode == SeedMode::IfEmpty,
    }
}

/// One line per fixture set: what a load did.
pub fn summary(reports: &[LoadReport], elapsed: std::time::Duration) -> String {
    let parts: Vec<String> = reports
        .iter()
        .map(|r| match r.skipped {
            true => format!("tenant {}: skipped (it already has tokens)", r.tenant_id),
            false => format!(
                "tenant {}: {} vppTokens, {} licenses",
                r.tenant_id, r.vpp_tokens, r.licenses
            ),
        })
        .collect();
    let what = if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join("; ")
    };
    format!("{what} in {} ms", elapsed.as_millis())
}

/// A licence must name a token of its tenant given in the fixtures.
pub fn check_license_references(sets: &[TenantData]) -> Result<(), FixtureError> {
    for (set_index, set) in sets.iter().enumerate() {
        let known: HashSet<Uuid> = sets
            .iter()
            .filter(|other| other.tenant_id == set.tenant_id)
            .flat_map(|other| other.tokens.iter().map(|t| t.id))
            .collect();
        if let Some((index, license)) = set
            .licenses
            .iter()
            .enumerate()
            .find(|(_, l)| !known.contains(&l.token_id))
        {
            return Err(FixtureError {
                file: format!("fixture set {}", set_index + 1),
                path: format!("$.licenses[{index}].vppTokenId"),
                reason: format!(
                    "no token {} in the fixtures of tenant {}",
                    license.token_id, set.tenant_id
                ),
            });
        }
    }
    Ok(())
}

/// The fixture document of one tenant, as export writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<'a> {
    tenant_id: &'a str,
    vpp_tokens: Vec<Item<'a>>,
    licenses: Vec<LicenseJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LicenseJson<'a> {
    vpp_token_id: String,
    bundle_id: &'a str,
    available_license_count: i32,
    used_license_count: i32,
}

impl<'a> Document<'a> {
    pub fn of(data: &'a TenantData) -> Self {
        Document {
            tenant_id: &data.tenant_id,
            vpp_tokens: data
                .tokens
                .iter()
                .map(|token| Item {
                    token,
                    shape: Shape::export(),
                })
                .collect(),
            licenses: data
                .licenses
                .iter()
                .map(|l| LicenseJson {
                    vpp_token_id: l.token_id.hyphenated().to_string(),
                    bundle_id: &l.bundle_id,
                    available_license_count: l.available_license_count,
                    used_license_count: l.used_license_count,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_rules() -> Rules<'static> {
        Rules {
            default_tenant: "t",
            limits: Limits {
                max_string_bytes: 64,
                max_collection_items: 4,
                max_url_bytes: 1024,
            },
        }
    }

    #[test]
    fn errors_name_the_json_path_deep_inside_a_token() {
        let document =
            br#"{"vppTokens": [{}, {}, {"tokenActionResults": [{"actionState": "finished"}]}]}"#;
        let error = parse_document(document, "f.json", test_rules()).err();
        let error = error.map(|e| (e.file, e.path));
        assert_eq!(
            error,
            Some((
                "f.json".to_owned(),
                "$.vppTokens[2].tokenActionResults[0].actionState".to_owned()
            ))
        );
    }

    #[test]
    fn ids_and_last_modified_come_from_the_file() -> Result<(), FixtureError> {
        let document = br#"{"tenantId": "t2", "vppTokens": [{"id": "3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76", "lastModifiedDateTime": "2026-01-01T00:00:00Z", "token": "s"}]}"#;
        let data = parse_document(document, "f.json", test_rules())?;
        assert_eq!(data.tenant_id, "t2");
        assert_eq!(
            data.tokens[0].id.to_string(),
            "3b4c6f0e-8d21-4c55-9a7e-2f1d0c9b8a76"
        );
        assert_eq!(
            data.tokens[0].last_modified_date_time.to_string(),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(data.tokens[0].token.as_deref(), Some("s"));
        Ok(())
    }
}
