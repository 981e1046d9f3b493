//! The vppToken's properties: one table that input parsing, output, `$select`, `$filter` and
//! `$orderby` all read, so that a property's name, type and versions are stated once.

/// The Graph API version of the request path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    Beta,
    V1,
}

impl ApiVersion {
    pub fn parse(segment: &str) -> Option<Self> {
        match segment {
            "beta" => Some(ApiVersion::Beta),
            "v1.0" => Some(ApiVersion::V1),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::Beta => "beta",
            ApiVersion::V1 => "v1.0",
        }
    }
}

/// Every property of `microsoft.graph.vppToken`, in the order Graph writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropId {
    Id,
    OrganizationName,
    VppTokenAccountType,
    AppleId,
    ExpirationDateTime,
    LastSyncDateTime,
    Token,
    LastModifiedDateTime,
    State,
    TokenActionResults,
    LastSyncStatus,
    AutomaticallyUpdateApps,
    CountryOrRegion,
    DataSharingConsentGranted,
    DisplayName,
    LocationName,
    ClaimTokenManagementFromExternalMdm,
    RoleScopeTagIds,
    AppleDeviceAppDeliveryProtocolType,
}

/// The EDM type of a property, as far as parsing, filtering and ordering need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropKind {
    /// The key: a GUID written as a string.
    Key,
    String,
    Boolean,
    DateTime,
    /// An enumeration; the name is the Graph type name.
    Enum(&'static str),
    ActionResults,
    StringCollection,
}

#[derive(Debug)]
pub struct Property {
    pub id: PropId,
    /// The Graph (JSON) name.
    pub name: &'static str,
    /// The SQL column of `vpp_tokens`; `None` for collections, which live in child tables.
    pub column: Option<&'static str>,
    pub kind: PropKind,
    pub nullable: bool,
    pub beta_only: bool,
}

impl Property {
    pub fn in_version(&self, version: ApiVersion) -> bool {
        version == ApiVersion::Beta || !self.beta_only
    }
}

const fn prop(
    id: PropId,
    name: &'static str,
    column: Option<&'static str>,
    kind: PropKind,
    nullable: bool,
    beta_only: bool,
) -> Property {
    Property {
        id,
        name,
        column,
        kind,
        nullable,
        beta_only,
    }
}

use PropKind as K;

/// The table of contract B.1, in its order.
#[rustfmt::skip]
pub static PROPERTIES: [Property; 19] = [
    prop(PropId::Id, "id", Some("id"), K::Key, false, false),
    prop(PropId::OrganizationName, "organizationName", Some("organization_name"), K::String, true, false),
    prop(PropId::VppTokenAccountType, "vppTokenAccountType", Some("vpp_token_account_type"), K::Enum("vppTokenAccountType"), false, false),
    prop(PropId::AppleId, "appleId", Some("apple_id"), K::String, true, false),
    prop(PropId::ExpirationDateTime, "expirationDateTime", Some("expiration_date_time"), K::DateTime, false, false),
    prop(PropId::LastSyncDateTime, "lastSyncDateTime", Some("last_sync_date_time"), K::DateTime, false, false),
    prop(PropId::Token, "token", Some("token"), K::String, true, false),
    prop(PropId::LastModifiedDateTime, "lastModifiedDateTime", Some("last_modified_date_time"), K::DateTime, false, false),
    prop(PropId::State, "state", Some("state"), K::Enum("vppTokenState"), false, false),
    prop(PropId::TokenActionResults, "tokenActionResults", None, K::ActionResults, true, true),
    prop(PropId::LastSyncStatus, "lastSyncStatus", Some("last_sync_status"), K::Enum("vppTokenSyncStatus"), false, false),
    prop(PropId::AutomaticallyUpdateApps, "automaticallyUpdateApps", Some("automatically_update_apps"), K::Boolean, false, false),
    prop(PropId::CountryOrRegion, "countryOrRegion", Some("country_or_region"), K::String, true, false),
    prop(PropId::DataSharingConsentGranted, "dataSharingConsentGranted", Some("data_sharing_consent_granted"), K::Boolean, false, true),
    prop(PropId::DisplayName, "displayName", Some("display_name"), K::String, true, true),
    prop(PropId::LocationName, "locationName", Some("location_name"), K::String, true, true),
    prop(PropId::ClaimTokenManagementFromExternalMdm, "claimTokenManagementFromExternalMdm", Some("claim_token_management_from_external_mdm"), K::Boolean, false, true),
    prop(PropId::RoleScopeTagIds, "roleScopeTagIds", None, K::StringCollection, true, true),
    prop(PropId::AppleDeviceAppDeliveryProtocolType, "appleDeviceAppDeliveryProtocolType", Some("apple_device_app_delivery_protocol_type"), K::Enum("appleDeviceDeliveryProtocol"), false, true),
];

/// Looks a property up by its exact Graph name, if the version has it.
pub fn find(name: &str, version: ApiVersion) -> Option<&'static Property> {
    PROPERTIES
        .iter()
        .find(|p| p.name == name && p.in_version(version))
}

/// The property record of an id.
pub fn property(id: PropId) -> &'static Property {
    // PROPERTIES is declared in PropId order, which the unit test below guards.
    &PROPERTIES[id as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_prop_id_order_with_19_beta_and_12_v1_properties() {
        for (index, p) in PROPERTIES.iter().enumerate() {
            assert_eq!(p.id as usize, index, "{}", p.name);
        }
        assert_eq!(
            PROPERTIES
                .iter()
                .filter(|p| p.in_version(ApiVersion::Beta))
                .count(),
            19
        );
        assert_eq!(
            PROPERTIES
                .iter()
                .filter(|p| p.in_version(ApiVersion::V1))
                .count(),
            12
        );
    }
}
