-- vppTokens and their collections. Date-times are fixed-width UTC text with 7 fractional
-- digits ("2026-07-17T14:50:53.5002993Z"), so text order is time order. Enums are the Graph
-- member names. Forward-only: never edit a migration once it has landed.

CREATE TABLE vpp_tokens (
    -- Creation order: the default list order and the keyset of $skiptoken. AUTOINCREMENT so a
    -- number is never reused, even after the newest token is deleted.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    organization_name TEXT,
    vpp_token_account_type TEXT NOT NULL
        CHECK (vpp_token_account_type IN ('business', 'education')),
    apple_id TEXT,
    expiration_date_time TEXT NOT NULL CHECK (length(expiration_date_time) = 28),
    last_sync_date_time TEXT NOT NULL CHECK (length(last_sync_date_time) = 28),
    token TEXT,
    last_modified_date_time TEXT NOT NULL CHECK (length(last_modified_date_time) = 28),
    state TEXT NOT NULL CHECK (state IN ('unknown', 'valid', 'expired', 'invalid',
        'assignedToExternalMDM', 'duplicateLocationId')),
    last_sync_status TEXT NOT NULL
        CHECK (last_sync_status IN ('none', 'inProgress', 'completed', 'failed')),
    automatically_update_apps INTEGER NOT NULL CHECK (automatically_update_apps IN (0, 1)),
    country_or_region TEXT,
    data_sharing_consent_granted INTEGER NOT NULL CHECK (data_sharing_consent_granted IN (0, 1)),
    display_name TEXT,
    location_name TEXT,
    claim_token_management_from_external_mdm INTEGER NOT NULL
        CHECK (claim_token_management_from_external_mdm IN (0, 1)),
    apple_device_app_delivery_protocol_type TEXT NOT NULL
        CHECK (apple_device_app_delivery_protocol_type IN ('default', 'mobileDeviceManagement',
            'declarativeDeviceManagement', 'unknownFutureValue')),
    UNIQUE (tenant_id, id)
);

-- Default order and keyset paging within a tenant.
CREATE INDEX vpp_tokens_by_tenant_seq ON vpp_tokens (tenant_id, seq);

-- Child rows hang off the token's seq, not its GUID: creation-ordered keys make a batch of
-- creates append its child rows, where random GUID keys dirtied a page per row; and the key is
-- an integer, not two 36-character texts.
CREATE TABLE vpp_token_action_results (
    token_seq INTEGER NOT NULL REFERENCES vpp_tokens (seq) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    -- The derived vppTokenRevokeLicensesActionResult carries the three revoke columns.
    is_revoke_result INTEGER NOT NULL CHECK (is_revoke_result IN (0, 1)),
    action_name TEXT,
    action_state TEXT NOT NULL CHECK (action_state IN ('none', 'pending', 'canceled', 'active',
        'done', 'failed', 'notSupported')),
    start_date_time TEXT NOT NULL CHECK (length(start_date_time) = 28),
    last_updated_date_time TEXT NOT NULL CHECK (length(last_updated_date_time) = 28),
    action_failure_reason TEXT CHECK (action_failure_reason IN ('none', 'appleFailure',
        'internalError', 'expiredVppToken', 'expiredApplePushNotificationCertificate')),
    failed_licenses_count INTEGER,
    total_licenses_count INTEGER,
    PRIMARY KEY (token_seq, ordinal),
    CHECK ((is_revoke_result = 1) = (action_failure_reason IS NOT NULL
        AND failed_licenses_count IS NOT NULL AND total_licenses_count IS NOT NULL))
);

CREATE TABLE vpp_token_role_scope_tag_ids (
    token_seq INTEGER NOT NULL REFERENCES vpp_tokens (seq) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    role_scope_tag_id TEXT NOT NULL,
    PRIMARY KEY (token_seq, ordinal)
);

-- Licence counts per token and app bundle id (filled by fixtures), for getLicensesForApp and
-- the counts of revokeLicenses.
CREATE TABLE vpp_token_licenses (
    tenant_id TEXT NOT NULL,
    token_id TEXT NOT NULL,
    bundle_id TEXT NOT NULL,
    available_license_count INTEGER NOT NULL CHECK (available_license_count >= 0),
    used_license_count INTEGER NOT NULL CHECK (used_license_count >= 0),
    PRIMARY KEY (tenant_id, token_id, bundle_id),
    FOREIGN KEY (tenant_id, token_id) REFERENCES vpp_tokens (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX vpp_token_licenses_by_bundle ON vpp_token_licenses (tenant_id, bundle_id);
