//! The vppToken entity, its complex types, and the changes a create or PATCH body describes.

use super::datetime::GraphDateTime;
use super::enums::{
    AccountType, ActionFailureReason, ActionState, DeliveryProtocol, SyncStatus, TokenState,
};
use uuid::Uuid;

/// Intune's default scope tag, given to a token created without `roleScopeTagIds`.
pub const DEFAULT_SCOPE_TAG: &str = "0";

#[derive(Debug, Clone, PartialEq)]
pub struct VppToken {
    pub id: Uuid,
    pub organization_name: Option<String>,
    pub vpp_token_account_type: AccountType,
    pub apple_id: Option<String>,
    pub expiration_date_time: GraphDateTime,
    pub last_sync_date_time: GraphDateTime,
    /// Write-only: stored, never answered.
    pub token: Option<String>,
    pub last_modified_date_time: GraphDateTime,
    pub state: TokenState,
    pub token_action_results: Vec<ActionResult>,
    pub last_sync_status: SyncStatus,
    pub automatically_update_apps: bool,
    pub country_or_region: Option<String>,
    pub data_sharing_consent_granted: bool,
    pub display_name: Option<String>,
    pub location_name: Option<String>,
    pub claim_token_management_from_external_mdm: bool,
    pub role_scope_tag_ids: Vec<String>,
    pub apple_device_app_delivery_protocol_type: DeliveryProtocol,
}

/// `vppTokenActionResult`, or its derived `vppTokenRevokeLicensesActionResult` when `revoke` is set.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionResult {
    pub action_name: Option<String>,
    pub action_state: ActionState,
    pub start_date_time: GraphDateTime,
    pub last_updated_date_time: GraphDateTime,
    pub revoke: Option<RevokeDetails>,
}

/// The properties `vppTokenRevokeLicensesActionResult` adds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RevokeDetails {
    pub action_failure_reason: ActionFailureReason,
    pub failed_licenses_count: i32,
    pub total_licenses_count: i32,
}

/// The writable properties a request body set. `None`: absent (unchanged, or the default on
/// create); nullable properties carry `Some(None)` for an explicit `null`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenChanges {
    pub organization_name: Option<Option<String>>,
    pub vpp_token_account_type: Option<AccountType>,
    pub apple_id: Option<Option<String>>,
    pub expiration_date_time: Option<GraphDateTime>,
    pub last_sync_date_time: Option<GraphDateTime>,
    pub token: Option<Option<String>>,
    pub state: Option<TokenState>,
    pub token_action_results: Option<Vec<ActionResult>>,
    pub last_sync_status: Option<SyncStatus>,
    pub automatically_update_apps: Option<bool>,
    pub country_or_region: Option<Option<String>>,
    pub data_sharing_consent_granted: Option<bool>,
    pub display_name: Option<Option<String>>,
    pub location_name: Option<Option<String>>,
    pub claim_token_management_from_external_mdm: Option<bool>,
    pub role_scope_tag_ids: Option<Vec<String>>,
    pub apple_device_app_delivery_protocol_type: Option<DeliveryProtocol>,
}

impl VppToken {
    /// A token with every default of contract A.2, created now with a fresh id.
    pub fn new(id: Uuid, now: GraphDateTime) -> Self {
        VppToken {
            id,
            organization_name: None,
            vpp_token_account_type: AccountType::Business,
            apple_id: None,
            expiration_date_time: GraphDateTime::min(),
            last_sync_date_time: GraphDateTime::min(),
            token: None,
            last_modified_date_time: now,
            state: TokenState::Unknown,
            token_action_results: Vec::new(),
            last_sync_status: SyncStatus::None,
            automatically_update_apps: false,
            country_or_region: None,
            data_sharing_consent_granted: false,
            display_name: None,
            location_name: None,
            claim_token_management_from_external_mdm: false,
            role_scope_tag_ids: vec![DEFAULT_SCOPE_TAG.to_owned()],
            apple_device_app_delivery_protocol_type: DeliveryProtocol::Default,
        }
    }

    /// Applies a body's changes: present properties replace the stored ones (collections whole).
    pub fn apply(&mut self, changes: TokenChanges) {
        fn set<T>(target: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *target = value;
            }
        }
        set(&mut self.organization_name, changes.organization_name);
        set(
            &mut self.vpp_token_account_type,
            changes.vpp_token_account_type,
        );
        set(&mut self.apple_id, changes.apple_id);
        set(&mut self.expiration_date_time, changes.expiration_date_time);
        set(&mut self.last_sync_date_time, changes.last_sync_date_time);
        set(&mut self.token, changes.token);
        set(&mut self.state, changes.state);
        set(&mut self.token_action_results, changes.token_action_results);
        set(&mut self.last_sync_status, changes.last_sync_status);
        set(
            &mut self.automatically_update_apps,
            changes.automatically_update_apps,
        );
        set(&mut self.country_or_region, changes.country_or_region);
        set(
            &mut self.data_sharing_consent_granted,
            changes.data_sharing_consent_granted,
        );
        set(&mut self.display_name, changes.display_name);
        set(&mut self.location_name, changes.location_name);
        set(
            &mut self.claim_token_management_from_external_mdm,
            changes.claim_token_management_from_external_mdm,
        );
        set(&mut self.role_scope_tag_ids, changes.role_scope_tag_ids);
        set(
            &mut self.apple_device_app_delivery_protocol_type,
            changes.apple_device_app_delivery_protocol_type,
        );
    }

    /// The `syncLicenses` action (contract A.5).
    pub fn record_license_sync(&mut self, now: GraphDateTime) {
        self.last_sync_status = SyncStatus::Completed;
        self.last_sync_date_time = now;
        self.last_modified_date_time = now;
        self.token_action_results.push(ActionResult {
            action_name: Some("syncLicenses".to_owned()),
            action_state: ActionState::Done,
            start_date_time: now,
            last_updated_date_time: now,
            revoke: None,
        });
    }

    /// The `revokeLicenses` action (contract A.5): `total` licences were revoked, none failed.
    pub fn record_license_revoke(&mut self, now: GraphDateTime, total: i32) {
        self.last_modified_date_time = now;
        self.token_action_results.push(ActionResult {
            action_name: Some("revokeLicenses".to_owned()),
            action_state: ActionState::Done,
            start_date_time: now,
            last_updated_date_time: now,
            revoke: Some(RevokeDetails {
                action_failure_reason: ActionFailureReason::None,
                failed_licenses_count: 0,
                total_licenses_count: total,
            }),
        });
    }
}
