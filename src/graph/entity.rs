//! The entity and collection bodies, serialised straight from the domain structs in Graph's
//! property order (contract A.2), without building an intermediate JSON tree.

use crate::domain::properties::{ApiVersion, PROPERTIES, PropId};
use crate::domain::{ActionResult, VppToken};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

pub const VPP_TOKEN_TYPE: &str = "#microsoft.graph.vppToken";
const REVOKE_RESULT_TYPE: &str = "#microsoft.graph.vppTokenRevokeLicensesActionResult";

/// Which properties a response carries: the version's, narrowed by `$select`.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    pub version: ApiVersion,
    pub select: Option<&'a [PropId]>,
    /// Only fixture export writes the stored `token`; Graph answers always carry `null`.
    pub reveal_token: bool,
}

impl Shape<'_> {
    /// Graph's answer for `version`, narrowed by `$select`.
    pub fn answer(version: ApiVersion, select: Option<&[PropId]>) -> Shape<'_> {
        Shape {
            version,
            select,
            reveal_token: false,
        }
    }

    /// Every beta property with the stored `token`: the fixture format.
    pub fn export() -> Shape<'static> {
        Shape {
            version: ApiVersion::Beta,
            select: None,
            reveal_token: true,
        }
    }

    fn includes(&self, id: PropId) -> bool {
        let property = &PROPERTIES[id as usize];
        property.in_version(self.version) && self.select.is_none_or(|chosen| chosen.contains(&id))
    }
}

/// A single entity: `@odata.context`, `@odata.type`, then the properties.
pub struct EntityBody<'a> {
    pub context: &'a str,
    pub token: &'a VppToken,
    pub shape: Shape<'a>,
}

impl Serialize for EntityBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@odata.context", self.context)?;
        map.serialize_entry("@odata.type", VPP_TOKEN_TYPE)?;
        write_properties(&mut map, self.token, self.shape)?;
        map.end()
    }
}

/// A collection page; items carry no `@odata.type` (as live Graph under minimal metadata).
pub struct CollectionBody<'a> {
    pub context: &'a str,
    pub count: Option<i64>,
    pub next_link: Option<&'a str>,
    pub items: &'a [VppToken],
    pub shape: Shape<'a>,
}

impl Serialize for CollectionBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@odata.context", self.context)?;
        if let Some(count) = self.count {
            map.serialize_entry("@odata.count", &count)?;
        }
        if let Some(link) = self.next_link {
            map.serialize_entry("@odata.nextLink", link)?;
        }
        let items: Vec<Item<'_>> = self
            .items
            .iter()
            .map(|token| Item {
                token,
                shape: self.shape,
            })
            .collect();
        map.serialize_entry("value", &items)?;
        map.end()
    }
}

/// A token without annotations: a collection item, or a fixture entry.
pub struct Item<'a> {
    pub token: &'a VppToken,
    pub shape: Shape<'a>,
}

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        write_properties(&mut map, self.token, self.shape)?;
        map.end()
    }
}

fn write_properties<M: SerializeMap>(
    map: &mut M,
    token: &VppToken,
    shape: Shape<'_>,
) -> Result<(), M::Error> {
    for property in PROPERTIES.iter().filter(|p| shape.includes(p.id)) {
        let name = property.name;
        match property.id {
            PropId::Id => map.serialize_entry(name, &token.id.hyphenated().to_string())?,
            PropId::OrganizationName => map.serialize_entry(name, &token.organization_name)?,
            PropId::VppTokenAccountType => {
                map.serialize_entry(name, &token.vpp_token_account_type)?
            }
            PropId::AppleId => map.serialize_entry(name, &token.apple_id)?,
            PropId::ExpirationDateTime => map.serialize_entry(name, &token.expiration_date_time)?,
            PropId::LastSyncDateTime => map.serialize_entry(name, &token.last_sync_date_time)?,
            // Write-only: null in every Graph answer (contract A.2); only export reveals it.
            PropId::Token if shape.reveal_token => map.serialize_entry(name, &token.token)?,
            PropId::Token => map.serialize_entry(name, &None::<&str>)?,
            PropId::LastModifiedDateTime => {
                map.serialize_entry(name, &token.last_modified_date_time)?
            }
            PropId::State => map.serialize_entry(name, &token.state.as_seen_in(shape.version))?,
            PropId::TokenActionResults => {
                let results: Vec<ResultJson<'_>> =
                    token.token_action_results.iter().map(ResultJson).collect();
                map.serialize_entry(name, &results)?
            }
            PropId::LastSyncStatus => map.serialize_entry(name, &token.last_sync_status)?,
            PropId::AutomaticallyUpdateApps => {
                map.serialize_entry(name, &token.automatically_update_apps)?
            }
            PropId::CountryOrRegion => map.serialize_entry(name, &token.country_or_region)?,
            PropId::DataSharingConsentGranted => {
                map.serialize_entry(name, &token.data_sharing_consent_granted)?
            }
            PropId::DisplayName => map.serialize_entry(name, &token.display_name)?,
            PropId::LocationName => map.serialize_entry(name, &token.location_name)?,
            PropId::ClaimTokenManagementFromExternalMdm => {
                map.serialize_entry(name, &token.claim_token_management_from_external_mdm)?
            }
            PropId::RoleScopeTagIds => map.serialize_entry(name, &token.role_scope_tag_ids)?,
            PropId::AppleDeviceAppDeliveryProtocolType => {
                map.serialize_entry(name, &token.apple_device_app_delivery_protocol_type)?
            }
        }
    }
    Ok(())
}

/// An action result; `@odata.type` only on the derived revoke result.
struct ResultJson<'a>(&'a ActionResult);

impl Serialize for ResultJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let result = self.0;
        let mut map = serializer.serialize_map(None)?;
        if result.revoke.is_some() {
            map.serialize_entry("@odata.type", REVOKE_RESULT_TYPE)?;
        }
        map.serialize_entry("actionName", &result.action_name)?;
        map.serialize_entry("actionState", &result.action_state)?;
        map.serialize_entry("startDateTime", &result.start_date_time)?;
        map.serialize_entry("lastUpdatedDateTime", &result.last_updated_date_time)?;
        if let Some(revoke) = &result.revoke {
            map.serialize_entry("actionFailureReason", &revoke.action_failure_reason)?;
            map.serialize_entry("failedLicensesCount", &revoke.failed_licenses_count)?;
            map.serialize_entry("totalLicensesCount", &revoke.total_licenses_count)?;
        }
        map.end()
    }
}
