//! Request bodies to domain values (contract A.3): each property checked once, with an error
//! that names it and says what was expected.

use crate::config::Limits;
use crate::domain::enums::{
    self, AccountType, ActionFailureReason, ActionState, DeliveryProtocol, SyncStatus, TokenState,
    WireEnum,
};
use crate::domain::properties::{self, ApiVersion, PropId};
use crate::domain::{ActionResult, GraphDateTime, RevokeDetails, TokenChanges};
use crate::error::{ApiError, ApiResult};
use crate::graph::json::describe;
use serde_json::{Map, Value};

const VPP_TOKEN_TYPE: &str = "microsoft.graph.vppToken";
const ACTION_RESULT_TYPE: &str = "microsoft.graph.vppTokenActionResult";
const REVOKE_RESULT_TYPE: &str = "microsoft.graph.vppTokenRevokeLicensesActionResult";
const INTUNE_ACTION_RESULT_TYPE: &str = "microsoft.management.services.api.vppTokenActionResult";
const INTUNE_REVOKE_RESULT_TYPE: &str =
    "microsoft.management.services.api.vppTokenRevokeLicensesActionResult";

/// Reads a create or PATCH body into the changes it asks for.
pub fn token_changes(
    body: &Map<String, Value>,
    version: ApiVersion,
    limits: Limits,
) -> ApiResult<TokenChanges> {
    let mut changes = TokenChanges::default();
    for (name, value) in body {
        if name == "@odata.type" {
            expect_type_name(name, value, &[VPP_TOKEN_TYPE])?;
            continue;
        }
        if is_annotation(name) {
            continue;
        }
        let property = properties::find(name, version)
            .ok_or_else(|| ApiError::unknown_property(name).at(name.as_str()))?;
        let field = Field {
            path: name.clone(),
            value,
            limits,
        };
        match property.id {
            // Server-set: a client's value is ignored (contract A.2).
            PropId::Id | PropId::LastModifiedDateTime => {}
            PropId::OrganizationName => changes.organization_name = Some(field.nullable_string()?),
            PropId::VppTokenAccountType => {
                changes.vpp_token_account_type = Some(field.member::<AccountType>()?)
            }
            PropId::AppleId => changes.apple_id = Some(field.nullable_string()?),
            PropId::ExpirationDateTime => changes.expiration_date_time = Some(field.date_time()?),
            PropId::LastSyncDateTime => changes.last_sync_date_time = Some(field.date_time()?),
            PropId::Token => changes.token = Some(field.nullable_string()?),
            PropId::State => changes.state = Some(token_state(&field, version)?),
            PropId::TokenActionResults => {
                changes.token_action_results = Some(action_results(&field)?)
            }
            PropId::LastSyncStatus => {
                changes.last_sync_status = Some(field.member::<SyncStatus>()?)
            }
            PropId::AutomaticallyUpdateApps => {
                changes.automatically_update_apps = Some(field.boolean()?)
            }
            PropId::CountryOrRegion => changes.country_or_region = Some(field.nullable_string()?),
            PropId::DataSharingConsentGranted => {
                changes.data_sharing_consent_granted = Some(field.boolean()?)
            }
            PropId::DisplayName => changes.display_name = Some(field.nullable_string()?),
            PropId::LocationName => changes.location_name = Some(field.nullable_string()?),
            PropId::ClaimTokenManagementFromExternalMdm => {
                changes.claim_token_management_from_external_mdm = Some(field.boolean()?)
            }
            PropId::RoleScopeTagIds => changes.role_scope_tag_ids = Some(field.strings()?),
            PropId::AppleDeviceAppDeliveryProtocolType => {
                changes.apple_device_app_delivery_protocol_type =
                    Some(field.member::<DeliveryProtocol>()?)
            }
        }
    }
    Ok(changes)
}

/// The parameters of `revokeLicenses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevokeParameters {
    pub notify_managed_devices: bool,
    pub revoke_untracked_licenses: bool,
}

pub fn revoke_parameters(body: &Map<String, Value>, limits: Limits) -> ApiResult<RevokeParameters> {
    let mut notify = None;
    let mut untracked = false;
    for (name, value) in body {
        let field = Field {
            path: name.clone(),
            value,
            limits,
        };
        match name.as_str() {
            "notifyManagedDevices" => notify = Some(field.boolean()?),
            "revokeUntrackedLicenses" => untracked = field.boolean()?,
            _ if is_annotation(name) || name == "@odata.type" => {}
            _ => {
                return Err(ApiError::bad_request(format!(
                    "The parameter '{name}' in the request payload is not a valid parameter for the operation 'revokeLicenses'."
                )));
            }
        }
    }
    let notify_managed_devices = notify.ok_or_else(|| {
        ApiError::bad_request(
            "The parameter 'notifyManagedDevices' is required for the operation 'revokeLicenses' and must be a Boolean.",
        )
    })?;
    Ok(RevokeParameters {
        notify_managed_devices,
        revoke_untracked_licenses: untracked,
    })
}

/// `@odata.*` annotations, on the object or on a property (`name@odata.type`), are ignored.
fn is_annotation(name: &str) -> bool {
    name.starts_with("@odata.") || name.contains("@odata.")
}

/// `@odata.type` must name one of `allowed`, with or without `#`, in any case.
fn expect_type_name(
    name: &str,
    value: &Value,
    allowed: &[&'static str],
) -> ApiResult<&'static str> {
    let written = value.as_str().unwrap_or_default();
    let bare = written.strip_prefix('#').unwrap_or(written);
    allowed
        .iter()
        .find(|candidate| candidate.eq_ignore_ascii_case(bare))
        .copied()
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value for '{name}': expected '#{}', got {}.",
                allowed.join("' or '#"),
                shown(value)
            ))
            .at(name)
        })
}

fn token_state(field: &Field<'_>, version: ApiVersion) -> ApiResult<TokenState> {
    field
        .value
        .as_str()
        .and_then(TokenState::parse)
        .filter(|state| state.exists_in(version))
        .ok_or_else(|| field.invalid(&member_list::<TokenState>(version)))
}

fn action_results(field: &Field<'_>) -> ApiResult<Vec<ActionResult>> {
    field.array()?.iter().enumerate().map(|(index, element)| {
        let path = format!("{}[{index}]", field.path);
        let object = element.as_object().ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value for property '{path}': expected a vppTokenActionResult object, got {}.",
                describe(element)
            ))
        })?;
        action_result(&path, object, field.limits)
    }).collect()
}

fn action_result(
    path: &str,
    object: &Map<String, Value>,
    limits: Limits,
) -> ApiResult<ActionResult> {
    let derived = match object.get("@odata.type") {
        Some(value) => {
            expect_type_name(
                &format!("{path}.@odata.type"),
                value,
                &[ACTION_RESULT_TYPE, REVOKE_RESULT_TYPE],
            )? == REVOKE_RESULT_TYPE
        }
        None => false,
    };
    let mut result = ActionResult {
        action_name: None,
        action_state: ActionState::None,
        start_date_time: GraphDateTime::min(),
        last_updated_date_time: GraphDateTime::min(),
        revoke: derived.then_some(RevokeDetails {
            action_failure_reason: ActionFailureReason::None,
            failed_licenses_count: 0,
            total_licenses_count: 0,
        }),
    };
    for (name, value) in object {
        if name == "@odata.type" || is_annotation(name) {
            continue;
        }
        let field = Field {
            path: format!("{path}.{name}"),
            value,
            limits,
        };
        match (name.as_str(), result.revoke.as_mut()) {
            ("actionName", _) => result.action_name = field.nullable_string()?,
            ("actionState", _) => result.action_state = field.member()?,
            ("startDateTime", _) => result.start_date_time = field.date_time()?,
            ("lastUpdatedDateTime", _) => result.last_updated_date_time = field.date_time()?,
            ("actionFailureReason", Some(revoke)) => {
                revoke.action_failure_reason = field.member()?
            }
            ("failedLicensesCount", Some(revoke)) => {
                revoke.failed_licenses_count = field.int32()?
            }
            ("totalLicensesCount", Some(revoke)) => revoke.total_licenses_count = field.int32()?,
            _ => {
                let type_name = if derived {
                    INTUNE_REVOKE_RESULT_TYPE
                } else {
                    INTUNE_ACTION_RESULT_TYPE
                };
                return Err(ApiError::unknown_property_of(name, type_name).at(field.path));
            }
        }
    }
    Ok(result)
}

fn member_list<E: WireEnum>(version: ApiVersion) -> String {
    format!(
        "one of the {} members {}",
        E::GRAPH_NAME,
        enums::members::<E>(version).join(", ")
    )
}

/// A value as an error message shows it: strings quoted, long ones cut.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) if text.chars().count() > 64 => {
            format!("\"{}...\"", text.chars().take(64).collect::<String>())
        }
        Value::String(text) => format!("\"{text}\""),
        other => describe(other).to_owned(),
    }
}

/// One property value with the JSON path it was found at.
struct Field<'a> {
    path: String,
    value: &'a Value,
    limits: Limits,
}

impl Field<'_> {
    fn invalid(&self, expected: &str) -> ApiError {
        ApiError::bad_request(format!(
            "Invalid value for property '{}': expected {expected}, got {}.",
            self.path,
            shown(self.value)
        ))
        .at(self.path.as_str())
    }

    fn nullable_string(&self) -> ApiResult<Option<String>> {
        match self.value {
            Value::Null => Ok(None),
            Value::String(_) => self.string().map(Some),
            _ => Err(self.invalid("a string or null")),
        }
    }

    /// A string within `limits.max_string_bytes`.
    fn string(&self) -> ApiResult<String> {
        let max = self.limits.max_string_bytes;
        match self.value {
            Value::String(text) if text.len() <= max => Ok(text.clone()),
            Value::String(text) => Err(ApiError::bad_request(format!(
                "Invalid value for property '{}': a string of at most {max} bytes is allowed, got {} bytes.",
                self.path,
                text.len()
            ))
            .at(self.path.as_str())),
            _ => Err(self.invalid("a string")),
        }
    }

    fn boolean(&self) -> ApiResult<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.invalid("a Boolean (true or false)"))
    }

    fn int32(&self) -> ApiResult<i32> {
        self.value
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| self.invalid("a 32-bit integer"))
    }

    fn date_time(&self) -> ApiResult<GraphDateTime> {
        self.value
            .as_str()
            .and_then(GraphDateTime::parse)
            .ok_or_else(|| {
                self.invalid("an ISO 8601 date-time with a time zone, such as 2026-09-25T17:09:22Z")
            })
    }

    fn member<E: WireEnum>(&self) -> ApiResult<E> {
        self.value
            .as_str()
            .and_then(E::parse)
            .ok_or_else(|| self.invalid(&member_list::<E>(ApiVersion::Beta)))
    }

    /// An array within `limits.max_collection_items`; `null` is an empty one.
    fn array(&self) -> ApiResult<&[Value]> {
        let max = self.limits.max_collection_items;
        match self.value {
            Value::Null => Ok(&[]),
            Value::Array(items) if items.len() <= max => Ok(items),
            Value::Array(items) => Err(ApiError::bad_request(format!(
                "Invalid value for property '{}': at most {max} items are allowed, got {}.",
                self.path,
                items.len()
            ))
            .at(self.path.as_str())),
            _ => Err(self.invalid("an array")),
        }
    }

    /// `roleScopeTagIds`: an array of strings; `null` clears it.
    fn strings(&self) -> ApiResult<Vec<String>> {
        self.array()?
            .iter()
            .enumerate()
            .map(|(index, item)| {
                Field {
                    path: format!("{}[{index}]", self.path),
                    value: item,
                    limits: self.limits,
                }
                .string()
            })
            .collect()
    }
}
