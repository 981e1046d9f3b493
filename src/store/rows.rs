//! Mapping between the tables and `VppToken`: the column list, row decoding, child rows.

use super::StoreError;
use crate::domain::enums::WireEnum;
use crate::domain::{ActionResult, GraphDateTime, RevokeDetails, VppToken};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// The token columns every read selects, as a literal so that `concat!` can build `&'static str`
/// queries from it; `t` is `vpp_tokens`.
macro_rules! token_columns {
    () => {
        "t.seq, t.id, t.organization_name, t.vpp_token_account_type, t.apple_id, \
         t.expiration_date_time, t.last_sync_date_time, t.token, t.last_modified_date_time, \
         t.state, t.last_sync_status, t.automatically_update_apps, t.country_or_region, \
         t.data_sharing_consent_granted, t.display_name, t.location_name, \
         t.claim_token_management_from_external_mdm, t.apple_device_app_delivery_protocol_type"
    };
}
pub(crate) use token_columns;

/// A token and its creation sequence number (the keyset of paging).
pub struct StoredToken {
    pub seq: i64,
    pub token: VppToken,
}

pub fn token_from_row(row: &SqliteRow) -> Result<StoredToken, StoreError> {
    let id: String = row.try_get("id")?;
    let token = VppToken {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("id", &id))?,
        organization_name: row.try_get("organization_name")?,
        vpp_token_account_type: member(row, "vpp_token_account_type")?,
        apple_id: row.try_get("apple_id")?,
        expiration_date_time: date_time(row, "expiration_date_time")?,
        last_sync_date_time: date_time(row, "last_sync_date_time")?,
        token: row.try_get("token")?,
        last_modified_date_time: date_time(row, "last_modified_date_time")?,
        state: member(row, "state")?,
        token_action_results: Vec::new(),
        last_sync_status: member(row, "last_sync_status")?,
        automatically_update_apps: row.try_get("automatically_update_apps")?,
        country_or_region: row.try_get("country_or_region")?,
        data_sharing_consent_granted: row.try_get("data_sharing_consent_granted")?,
        display_name: row.try_get("display_name")?,
        location_name: row.try_get("location_name")?,
        claim_token_management_from_external_mdm: row
            .try_get("claim_token_management_from_external_mdm")?,
        role_scope_tag_ids: Vec::new(),
        apple_device_app_delivery_protocol_type: member(
            row,
            "apple_device_app_delivery_protocol_type",
        )?,
    };
    Ok(StoredToken {
        seq: row.try_get("seq")?,
        token,
    })
}

fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::CorruptValue(format!("{column} = {value:?}"))
}

fn member<E: WireEnum>(row: &SqliteRow, column: &str) -> Result<E, StoreError> {
    let text: String = row.try_get(column)?;
    E::parse(&text).ok_or_else(|| corrupt(column, &text))
}

fn date_time(row: &SqliteRow, column: &str) -> Result<GraphDateTime, StoreError> {
    let text: String = row.try_get(column)?;
    GraphDateTime::from_storage(&text).ok_or_else(|| corrupt(column, &text))
}

/// Fills the collections of `tokens` with one query per child table (not one per token).
pub async fn attach_children(
    conn: &mut SqliteConnection,
    tenant: &str,
    tokens: &mut [StoredToken],
) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return Ok(());
    }
    let index: HashMap<String, usize> = tokens
        .iter()
        .enumerate()
        .map(|(position, stored)| (stored.token.id.hyphenated().to_string(), position))
        .collect();

    let mut query = children_query(
        "SELECT token_id, is_revoke_result, action_name, action_state, start_date_time, \
         last_updated_date_time, action_failure_reason, failed_licenses_count, total_licenses_count \
         FROM vpp_token_action_results",
        tenant,
        index.keys(),
    );
    for row in query.build().fetch_all(&mut *conn).await? {
        let token_id: String = row.try_get("token_id")?;
        if let Some(&position) = index.get(&token_id) {
            tokens[position]
                .token
                .token_action_results
                .push(action_result_from_row(&row)?);
        }
    }

    let mut query = children_query(
        "SELECT token_id, role_scope_tag_id FROM vpp_token_role_scope_tag_ids",
        tenant,
        index.keys(),
    );
    for row in query.build().fetch_all(&mut *conn).await? {
        let token_id: String = row.try_get("token_id")?;
        if let Some(&position) = index.get(&token_id) {
            tokens[position]
                .token
                .role_scope_tag_ids
                .push(row.try_get("role_scope_tag_id")?);
        }
    }
    Ok(())
}

/// `{select} WHERE tenant_id = ? AND token_id IN (...) ORDER BY token_id, ordinal`.
fn children_query<'a>(
    select: &str,
    tenant: &str,
    ids: impl Iterator<Item = &'a String>,
) -> QueryBuilder<Sqlite> {
    let mut query = QueryBuilder::new(select);
    query
        .push(" WHERE tenant_id = ")
        .push_bind(tenant.to_owned())
        .push(" AND token_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.clone());
    }
    query.push(") ORDER BY token_id, ordinal");
    query
}

fn action_result_from_row(row: &SqliteRow) -> Result<ActionResult, StoreError> {
    let is_revoke: bool = row.try_get("is_revoke_result")?;
    let revoke = if is_revoke {
        Some(RevokeDetails {
            action_failure_reason: member(row, "action_failure_reason")?,
            failed_licenses_count: row.try_get("failed_licenses_count")?,
            total_licenses_count: row.try_get("total_licenses_count")?,
        })
    } else {
        None
    };
    Ok(ActionResult {
        action_name: row.try_get("action_name")?,
        action_state: member(row, "action_state")?,
        start_date_time: date_time(row, "start_date_time")?,
        last_updated_date_time: date_time(row, "last_updated_date_time")?,
        revoke,
    })
}

/// Loads one token with its collections.
pub async fn load_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<StoredToken>, StoreError> {
    let sql = concat!(
        "SELECT ",
        token_columns!(),
        " FROM vpp_tokens t WHERE t.tenant_id = ? AND t.id = ?"
    );
    let row = sqlx::query(sql)
        .bind(tenant)
        .bind(id.hyphenated().to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut tokens = [token_from_row(&row)?];
    attach_children(conn, tenant, &mut tokens).await?;
    let [stored] = tokens;
    Ok(Some(stored))
}
