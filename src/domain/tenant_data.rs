//! A tenant's data as a whole: what fixtures load and export writes.

use super::VppToken;
use uuid::Uuid;

/// Licence counts of one app (bundle id) on one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub token_id: Uuid,
    pub bundle_id: String,
    pub available_license_count: i32,
    pub used_license_count: i32,
}

/// Every token and licence of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantData {
    pub tenant_id: String,
    pub tokens: Vec<VppToken>,
    pub licenses: Vec<License>,
}
