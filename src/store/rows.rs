//! Reading tokens back: SQLite assembles each token with its collections into one JSON document.
//! sqlx hands every result row from SQLite's worker thread to the caller as a message of its
//! own, and those hand-offs, not SQLite, dominated the cost of a read when a page of 100 tokens
//! came back as some 400 token and child rows from three statements. As one document per token,
//! a get is one row and a page is one statement (and so one snapshot, without a transaction).
//! The collections are read from the token row's own JSON copy of them, which the writer keeps
//! beside the child tables, not gathered from those tables per token.

use super::StoreError;
use crate::domain::enums::WireEnum;
use crate::domain::{ActionResult, GraphDateTime, RevokeDetails, VppToken};
use serde::Deserialize;
use sqlx::sqlite::SqliteConnection;
use std::borrow::Cow;
use uuid::Uuid;

/// The JSON document of the token row `t`, as a literal so that `concat!` can build
/// `&'static str` queries from it. It is an array in the field order of [`TokenDocument`], not an
/// object: without the keys SQLite writes and serde reads a third less text per token. The
/// collections come from the row's own copy of them (see [`collection_columns`]); JSON booleans
/// are SQLite integers.
///
/// `token_document!(with_token)` carries the stored `token`, for the writer and fixture export;
/// `token_document!()` has `null` in its place, for Graph answers, which always show `null`
/// (contract A.2): the stored token never leaves SQLite for them.
macro_rules! token_document {
    () => {
        $crate::store::rows::token_document!(@with "NULL")
    };
    (with_token) => {
        $crate::store::rows::token_document!(@with "t.token")
    };
    (@with $token:literal) => {
        concat!(
            "json_array(t.seq, t.id, t.organization_name, t.vpp_token_account_type, t.apple_id, \
             t.expiration_date_time, t.last_sync_date_time, ",
            $token,
            ", t.last_modified_date_time, t.state, t.last_sync_status, \
             t.automatically_update_apps, t.country_or_region, t.data_sharing_consent_granted, \
             t.display_name, t.location_name, t.claim_token_management_from_external_mdm, \
             t.apple_device_app_delivery_protocol_type, json(t.action_results_json), \
             json(t.role_scope_tag_ids_json))"
        )
    };
}
pub(crate) use token_document;

/// A token and its creation sequence number (the keyset of paging).
pub struct StoredToken {
    pub seq: i64,
    pub token: VppToken,
}

/// A token document as `token_document!` writes it (an array, read in field order); values are
/// still in storage form. Values that are only parsed borrow from the document.
#[derive(Deserialize)]
struct TokenDocument<'a> {
    seq: i64,
    #[serde(borrow)]
    id: Cow<'a, str>,
    organization_name: Option<String>,
    #[serde(borrow)]
    account_type: Cow<'a, str>,
    apple_id: Option<String>,
    #[serde(borrow)]
    expiration: Cow<'a, str>,
    #[serde(borrow)]
    last_sync: Cow<'a, str>,
    token: Option<String>,
    #[serde(borrow)]
    last_modified: Cow<'a, str>,
    #[serde(borrow)]
    state: Cow<'a, str>,
    #[serde(borrow)]
    last_sync_status: Cow<'a, str>,
    auto_update: i64,
    country_or_region: Option<String>,
    consent: i64,
    display_name: Option<String>,
    location_name: Option<String>,
    claim_from_external_mdm: i64,
    #[serde(borrow)]
    delivery_protocol: Cow<'a, str>,
    #[serde(borrow)]
    action_results: Vec<ActionDocument<'a>>,
    scope_tags: Vec<String>,
}

/// `[is_revoke_result, action_name, action_state, start, last_updated, failure_reason, failed,
/// total]`.
#[derive(Deserialize)]
struct ActionDocument<'a>(
    i64,
    Option<String>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    Option<i32>,
    Option<i32>,
);

/// Reads one token document.
pub fn parse_token(document: &str) -> Result<StoredToken, StoreError> {
    let document: TokenDocument = serde_json::from_str(document)
        .map_err(|e| StoreError::CorruptValue(format!("token document: {e}")))?;
    document.into_stored()
}

impl TokenDocument<'_> {
    fn into_stored(self) -> Result<StoredToken, StoreError> {
        let token = VppToken {
            id: Uuid::parse_str(&self.id).map_err(|_| corrupt("id", &self.id))?,
            organization_name: self.organization_name,
            vpp_token_account_type: member("vpp_token_account_type", &self.account_type)?,
            apple_id: self.apple_id,
            expiration_date_time: date_time("expiration_date_time", &self.expiration)?,
            last_sync_date_time: date_time("last_sync_date_time", &self.last_sync)?,
            token: self.token,
            last_modified_date_time: date_time("last_modified_date_time", &self.last_modified)?,
            state: member("state", &self.state)?,
            token_action_results: self
                .action_results
                .into_iter()
                .map(ActionDocument::into_result)
                .collect::<Result<_, _>>()?,
            last_sync_status: member("last_sync_status", &self.last_sync_status)?,
            automatically_update_apps: self.auto_update != 0,
            country_or_region: self.country_or_region,
            data_sharing_consent_granted: self.consent != 0,
            display_name: self.display_name,
            location_name: self.location_name,
            claim_token_management_from_external_mdm: self.claim_from_external_mdm != 0,
            role_scope_tag_ids: self.scope_tags,
            apple_device_app_delivery_protocol_type: member(
                "apple_device_app_delivery_protocol_type",
                &self.delivery_protocol,
            )?,
        };
        Ok(StoredToken {
            seq: self.seq,
            token,
        })
    }
}

impl ActionDocument<'_> {
    fn into_result(self) -> Result<ActionResult, StoreError> {
        let ActionDocument(is_revoke, name, state, start, last_updated, reason, failed, total) =
            self;
        let revoke = match (is_revoke != 0, reason, failed, total) {
            (false, ..) => None,
            (true, Some(reason), Some(failed), Some(total)) => Some(RevokeDetails {
                action_failure_reason: member("action_failure_reason", &reason)?,
                failed_licenses_count: failed,
                total_licenses_count: total,
            }),
            (true, ..) => return Err(corrupt("is_revoke_result", "1 without revoke details")),
        };
        Ok(ActionResult {
            action_name: name,
            action_state: member("action_state", &state)?,
            start_date_time: date_time("start_date_time", &start)?,
            last_updated_date_time: date_time("last_updated_date_time", &last_updated)?,
            revoke,
        })
    }
}

/// The row's copies of its collections (`action_results_json`, `role_scope_tag_ids_json`), in
/// the storage form `token_document!` embeds and [`TokenDocument`] reads.
pub fn collection_columns(token: &VppToken) -> Result<(String, String), StoreError> {
    let results: Vec<_> = token
        .token_action_results
        .iter()
        .map(action_columns)
        .collect();
    let encode = |e: serde_json::Error| {
        StoreError::CorruptValue(format!("the collections could not be written as JSON: {e}"))
    };
    Ok((
        serde_json::to_string(&results).map_err(encode)?,
        serde_json::to_string(&token.role_scope_tag_ids).map_err(encode)?,
    ))
}

/// An action result in storage form: the columns of `vpp_token_action_results` after its key,
/// and the array [`ActionDocument`] reads, in that order. Both copies are written from this one
/// mapping, so they cannot disagree.
pub type ActionColumns<'a> = (
    i64,
    &'a Option<String>,
    &'static str,
    String,
    String,
    Option<&'static str>,
    Option<i32>,
    Option<i32>,
);

pub fn action_columns(result: &ActionResult) -> ActionColumns<'_> {
    let revoke = result.revoke.as_ref();
    (
        i64::from(revoke.is_some()),
        &result.action_name,
        result.action_state.as_str(),
        result.start_date_time.to_storage(),
        result.last_updated_date_time.to_storage(),
        revoke.map(|r| r.action_failure_reason.as_str()),
        revoke.map(|r| r.failed_licenses_count),
        revoke.map(|r| r.total_licenses_count),
    )
}

fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::CorruptValue(format!("{column} = {value:?}"))
}

fn member<E: WireEnum>(column: &str, text: &str) -> Result<E, StoreError> {
    E::parse(text).ok_or_else(|| corrupt(column, text))
}

fn date_time(column: &str, text: &str) -> Result<GraphDateTime, StoreError> {
    GraphDateTime::from_storage(text).ok_or_else(|| corrupt(column, text))
}

/// Loads one token with its collections.
pub async fn load_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: Uuid,
) -> Result<Option<StoredToken>, StoreError> {
    let sql = concat!(
        "SELECT ",
        token_document!(with_token),
        " FROM vpp_tokens t WHERE t.tenant_id = ? AND t.id = ?"
    );
    let document: Option<String> = sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(id.hyphenated().to_string())
        .fetch_optional(&mut *conn)
        .await?;
    document.as_deref().map(parse_token).transpose()
}
