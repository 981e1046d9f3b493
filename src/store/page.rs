//! Keyset paging: the `$skiptoken` cursor and the SQL that resumes after it. The cursor holds
//! the sort-key values of the last row served and its creation number, so inserts and deletes
//! between pages never make a page repeat or skip a surviving row, and it stays valid across
//! restarts (it names data, not server state).

use super::filter_sql::property_column;
use crate::domain::VppToken;
use crate::domain::enums::WireEnum;
use crate::domain::properties::PropId;
use crate::graph::query::{Direction, OrderKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::QueryBuilder;
use sqlx::sqlite::Sqlite;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The `$orderby` the cursor was made for, so that it is not used with another one.
    #[serde(rename = "o")]
    order: String,
    /// Sort-key values of the last row served, one per `$orderby` key.
    #[serde(rename = "k")]
    keys: Vec<Value>,
    /// Creation number of the last row served: the final tie-breaker.
    #[serde(rename = "s")]
    seq: i64,
}

impl Cursor {
    /// The cursor after `token` in the order `order_by`.
    pub fn after(token: &VppToken, seq: i64, order_by: &[OrderKey]) -> Self {
        Cursor {
            order: fingerprint(order_by),
            keys: order_by
                .iter()
                .map(|key| sort_value(token, key.property))
                .collect(),
            seq,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a `$skiptoken`; `None` when it is not one of ours or was made for another order.
    pub fn decode(text: &str, order_by: &[OrderKey]) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        let keys_fit = cursor.keys.len() == order_by.len()
            && cursor
                .keys
                .iter()
                .all(|v| v.is_null() || v.is_string() || v.is_i64());
        (keys_fit && cursor.order == fingerprint(order_by)).then_some(cursor)
    }

    /// Appends ` AND (<rows after the cursor>)` for the order `order_by` (+ `seq` ascending).
    pub fn push_after(&self, query: &mut QueryBuilder<Sqlite>, order_by: &[OrderKey]) {
        query.push(" AND (");
        for prefix in 0..=order_by.len() {
            if prefix > 0 {
                query.push(" OR ");
            }
            query.push("(");
            for (key, value) in order_by.iter().zip(&self.keys).take(prefix) {
                query.push(property_column(key.property)).push(" IS ");
                push_value(query, value);
                query.push(" AND ");
            }
            match order_by.get(prefix).zip(self.keys.get(prefix)) {
                Some((key, value)) => push_later(query, key, value),
                None => {
                    query.push("t.seq > ").push_bind(self.seq);
                }
            }
            query.push(")");
        }
        query.push(")");
    }
}

/// `ORDER BY` for the keys, ties broken by creation order.
pub fn push_order_by(query: &mut QueryBuilder<Sqlite>, order_by: &[OrderKey]) {
    query.push(" ORDER BY ");
    for key in order_by {
        query.push(property_column(key.property));
        query.push(if key.direction == Direction::Desc {
            " DESC, "
        } else {
            " ASC, "
        });
    }
    query.push("t.seq ASC");
}

/// Rows that sort after `value` on this key. SQLite puts NULL first ascending, last descending.
fn push_later(query: &mut QueryBuilder<Sqlite>, key: &OrderKey, value: &Value) {
    let column = property_column(key.property);
    match (key.direction, value.is_null()) {
        (Direction::Asc, true) => query.push(column).push(" IS NOT NULL"),
        (Direction::Asc, false) => {
            query.push(column).push(" > ");
            push_value(query, value);
            query
        }
        (Direction::Desc, true) => query.push("0"),
        (Direction::Desc, false) => {
            query.push("(").push(column).push(" < ");
            push_value(query, value);
            query.push(" OR ").push(column).push(" IS NULL)")
        }
    };
}

fn push_value(query: &mut QueryBuilder<Sqlite>, value: &Value) {
    match value {
        Value::String(text) => query.push_bind(text.clone()),
        Value::Number(number) => query.push_bind(number.as_i64().unwrap_or_default()),
        _ => query.push("NULL"),
    };
}

fn fingerprint(order_by: &[OrderKey]) -> String {
    order_by
        .iter()
        .map(|key| {
            format!(
                "{}{}",
                key.property as usize,
                if key.direction == Direction::Desc {
                    "d"
                } else {
                    "a"
                }
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The value a token has in a sort column, as stored (booleans 0/1, date-times in storage form).
fn sort_value(token: &VppToken, property: PropId) -> Value {
    let text = |s: &Option<String>| s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()));
    match property {
        PropId::Id => Value::String(token.id.hyphenated().to_string()),
        PropId::OrganizationName => text(&token.organization_name),
        PropId::VppTokenAccountType => token.vpp_token_account_type.as_str().into(),
        PropId::AppleId => text(&token.apple_id),
        PropId::ExpirationDateTime => token.expiration_date_time.to_storage().into(),
        PropId::LastSyncDateTime => token.last_sync_date_time.to_storage().into(),
        PropId::LastModifiedDateTime => token.last_modified_date_time.to_storage().into(),
        PropId::State => token.state.as_str().into(),
        PropId::LastSyncStatus => token.last_sync_status.as_str().into(),
        PropId::AutomaticallyUpdateApps => i64::from(token.automatically_update_apps).into(),
        PropId::CountryOrRegion => text(&token.country_or_region),
        PropId::DataSharingConsentGranted => i64::from(token.data_sharing_consent_granted).into(),
        PropId::DisplayName => text(&token.display_name),
        PropId::LocationName => text(&token.location_name),
        PropId::ClaimTokenManagementFromExternalMdm => {
            i64::from(token.claim_token_management_from_external_mdm).into()
        }
        PropId::AppleDeviceAppDeliveryProtocolType => token
            .apple_device_app_delivery_protocol_type
            .as_str()
            .into(),
        // Not orderable ($orderby rejects them), so never part of a cursor.
        PropId::Token | PropId::TokenActionResults | PropId::RoleScopeTagIds => Value::Null,
    }
}
