//! The statements of the write path. Each function runs inside the writer's transaction.

use super::StoreError;
use super::rows::{StoredToken, action_columns, collection_columns, load_token};
use crate::domain::enums::WireEnum;
use crate::domain::{ActionResult, GraphDateTime, License, TokenChanges, VppToken};
use sqlx::QueryBuilder;
use sqlx::sqlite::{Sqlite, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

/// SQLite's limit on bound values in one statement (`SQLITE_MAX_VARIABLE_NUMBER`, 32766 since
/// SQLite 3.32): multi-row inserts are cut into statements below it.
const MAX_BOUND_VALUES: usize = 32_766;

/// The statements of one write, sent to SQLite as one query text: sqlx runs each statement of a
/// text in turn, binding each its own values, and every `execute` is a round trip to the
/// connection's thread. In the writer those round trips, not SQLite, took most of a batch's time.
/// The text opens with a savepoint of its own and `execute` closes it, so a write is all or
/// nothing without two more round trips for a savepoint around it.
type Statements = QueryBuilder<Sqlite>;

const OPEN_WRITE: &str = "SAVEPOINT one_write;";

fn statements() -> Statements {
    QueryBuilder::new(OPEN_WRITE)
}

/// Runs the statements of one write. A text stops at the statement that fails, leaving those
/// before it done: they are undone here, and the transaction around the write goes on without
/// it. When even the undo fails, the error is `UndoFailed`, and that transaction must not commit.
async fn execute(
    conn: &mut SqliteConnection,
    mut statements: Statements,
) -> Result<(), StoreError> {
    if statements.sql().as_str() == OPEN_WRITE {
        return Ok(());
    }
    statements.push("RELEASE one_write;");
    match statements.build().execute(&mut *conn).await {
        Ok(_) => Ok(()),
        Err(failed) => {
            sqlx::query("ROLLBACK TO one_write; RELEASE one_write;")
                .execute(&mut *conn)
                .await
                .map_err(StoreError::UndoFailed)?;
            Err(failed.into())
        }
    }
}

/// Inserts tokens and their child rows with one multi-row statement per table (more only when a
/// statement would pass `MAX_BOUND_VALUES`), all in one round trip. Fixture loads use it inside
/// their transaction.
pub async fn insert_tokens(
    conn: &mut SqliteConnection,
    tokens: &[(&str, &VppToken)],
) -> Result<(), StoreError> {
    let mut query = statements();
    push_insert_tokens(&mut query, tokens)?;
    execute(conn, query).await
}

/// Stores tokens in a transaction of their own whose `BEGIN` and `COMMIT` travel in the same
/// query text as the inserts: one round trip to SQLite's thread where a `Transaction` would
/// make three. The writer's batches of creates, the commonest batch under load, go this way.
/// On failure the transaction is rolled back, so nothing of it stays.
pub async fn insert_tokens_committed(
    conn: &mut SqliteConnection,
    tokens: &[(&str, &VppToken)],
) -> Result<(), StoreError> {
    let mut query = QueryBuilder::new("BEGIN;");
    push_insert_tokens(&mut query, tokens)?;
    query.push("COMMIT;");
    let stored = query.build().execute(&mut *conn).await;
    if stored.is_err() {
        // The text stops at the statement that failed, which leaves the transaction open
        // (unless SQLite already rolled it back, and then this ROLLBACK has nothing to do).
        if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
            tracing::debug!(error = %e, "rolling back a failed batch of creates");
        }
    }
    stored.map(|_| ()).map_err(StoreError::from)
}

fn push_insert_tokens(
    query: &mut Statements,
    tokens: &[(&str, &VppToken)],
) -> Result<(), StoreError> {
    let collections = tokens
        .iter()
        .map(|(_, token)| collection_columns(token))
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<_> = tokens.iter().zip(collections).collect();
    const COLUMNS: usize = 20;
    for chunk in rows.chunks(MAX_BOUND_VALUES / COLUMNS) {
        // No seq: AUTOINCREMENT numbers the rows in the order of the VALUES list.
        query.push(
            "INSERT INTO vpp_tokens (tenant_id, id, organization_name, vpp_token_account_type, apple_id, \
             expiration_date_time, last_sync_date_time, token, last_modified_date_time, state, \
             last_sync_status, automatically_update_apps, country_or_region, data_sharing_consent_granted, \
             display_name, location_name, claim_token_management_from_external_mdm, \
             apple_device_app_delivery_protocol_type, action_results_json, role_scope_tag_ids_json) ",
        );
        query.push_values(chunk, |mut row, ((tenant, token), (results, tags))| {
            row.push_bind(tenant.to_string())
                .push_bind(token.id.hyphenated().to_string())
                .push_bind(token.organization_name.clone())
                .push_bind(token.vpp_token_account_type.as_str())
                .push_bind(token.apple_id.clone())
                .push_bind(token.expiration_date_time.to_storage())
                .push_bind(token.last_sync_date_time.to_storage())
                .push_bind(token.token.clone())
                .push_bind(token.last_modified_date_time.to_storage())
                .push_bind(token.state.as_str())
                .push_bind(token.last_sync_status.as_str())
                .push_bind(token.automatically_update_apps)
                .push_bind(token.country_or_region.clone())
                .push_bind(token.data_sharing_consent_granted)
                .push_bind(token.display_name.clone())
                .push_bind(token.location_name.clone())
                .push_bind(token.claim_token_management_from_external_mdm)
                .push_bind(token.apple_device_app_delivery_protocol_type.as_str())
                .push_bind(results.clone())
                .push_bind(tags.clone());
        });
        query.push(";");
    }
    // Counted back from the last token inserted: the first of n is n - 1 before the last.
    let keys = (0..tokens.len() as i64).rev().map(|back| -back);
    let results: Vec<_> = keys
        .clone()
        .zip(tokens)
        .flat_map(|(key, (_, token))| child_rows(key, 0, &token.token_action_results))
        .collect();
    push_action_results(query, Parents::JustInserted, &results);
    let tags: Vec<_> = keys
        .zip(tokens)
        .flat_map(|(key, (_, token))| child_rows(key, 0, &token.role_scope_tag_ids))
        .collect();
    push_scope_tags(query, Parents::JustInserted, &tags);
    Ok(())
}

/// Which tokens the child rows of a statement belong to. Each row names its token by a key, and
/// its `token_seq` is that key plus the statement's `base`.
#[derive(Clone, Copy)]
enum Parents {
    /// Stored tokens: the key is the token's seq.
    Stored,
    /// Tokens the same query text has just inserted: the key counts back (0, -1, ...) from the
    /// last of them, whose seq `sqlite_sequence` holds (AUTOINCREMENT keeps the largest seq it
    /// has given there).
    JustInserted,
}

impl Parents {
    /// Added once per statement, in the SELECT over the VALUES list: a subquery in each row of
    /// the list made a 50,000-token fixture load nine times slower.
    fn base(self) -> &'static str {
        match self {
            Parents::Stored => "0",
            Parents::JustInserted => "(SELECT seq FROM sqlite_sequence WHERE name = 'vpp_tokens')",
        }
    }
}

/// One element of a token's collection, as a row of its child table.
struct ChildRow<'a, T> {
    token_key: i64,
    ordinal: usize,
    item: &'a T,
}

fn child_rows<T>(
    token_key: i64,
    first_ordinal: usize,
    items: &[T],
) -> impl Iterator<Item = ChildRow<'_, T>> {
    items
        .iter()
        .enumerate()
        .map(move |(offset, item)| ChildRow {
            token_key,
            ordinal: first_ordinal + offset,
            item,
        })
}

/// `INSERT INTO {into} SELECT column1 + base, column2, ... FROM (`: the caller pushes the VALUES
/// list and the closing parenthesis.
fn push_child_insert(query: &mut Statements, into: &str, columns: usize, parents: Parents) {
    query
        .push("INSERT INTO ")
        .push(into)
        .push(" SELECT column1 + ")
        .push(parents.base());
    for column in 2..=columns {
        query.push(format_args!(", column{column}"));
    }
    query.push(" FROM (");
}

/// Writes every column of a stored token's row back, its copies of the collections included (the
/// caller replaces the child rows that changed).
fn push_update_row(
    query: &mut Statements,
    tenant: &str,
    token: &VppToken,
) -> Result<(), StoreError> {
    let (results, tags) = collection_columns(token)?;
    query
        .push("UPDATE vpp_tokens SET organization_name = ")
        .push_bind(token.organization_name.clone())
        .push(", vpp_token_account_type = ")
        .push_bind(token.vpp_token_account_type.as_str())
        .push(", apple_id = ")
        .push_bind(token.apple_id.clone())
        .push(", expiration_date_time = ")
        .push_bind(token.expiration_date_time.to_storage())
        .push(", last_sync_date_time = ")
        .push_bind(token.last_sync_date_time.to_storage())
        .push(", token = ")
        .push_bind(token.token.clone())
        .push(", last_modified_date_time = ")
        .push_bind(token.last_modified_date_time.to_storage())
        .push(", state = ")
        .push_bind(token.state.as_str())
        .push(", last_sync_status = ")
        .push_bind(token.last_sync_status.as_str())
        .push(", automatically_update_apps = ")
        .push_bind(token.automatically_update_apps)
        .push(", country_or_region = ")
        .push_bind(token.country_or_region.clone())
        .push(", data_sharing_consent_granted = ")
        .push_bind(token.data_sharing_consent_granted)
        .push(", display_name = ")
        .push_bind(token.display_name.clone())
        .push(", location_name = ")
        .push_bind(token.location_name.clone())
        .push(", claim_token_management_from_external_mdm = ")
        .push_bind(token.claim_token_management_from_external_mdm)
        .push(", apple_device_app_delivery_protocol_type = ")
        .push_bind(token.apple_device_app_delivery_protocol_type.as_str())
        .push(", action_results_json = ")
        .push_bind(results)
        .push(", role_scope_tag_ids_json = ")
        .push_bind(tags)
        .push(" WHERE tenant_id = ")
        .push_bind(tenant.to_owned())
        .push(" AND id = ")
        .push_bind(token.id.hyphenated().to_string())
        .push(";");
    Ok(())
}

/// PATCH: applies the changes, refreshes `lastModifiedDateTime`, replaces changed collections.
pub async fn update_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: Uuid,
    changes: TokenChanges,
    now: GraphDateTime,
) -> Result<Option<VppToken>, StoreError> {
    let Some(StoredToken { mut token, seq }) = load_token(conn, tenant, id).await? else {
        return Ok(None);
    };
    let results_changed = changes.token_action_results.is_some();
    let tags_changed = changes.role_scope_tag_ids.is_some();
    token.apply(changes);
    token.last_modified_date_time = now;
    let mut query = statements();
    push_update_row(&mut query, tenant, &token)?;
    if results_changed {
        push_replace_action_results(&mut query, seq, &token.token_action_results);
    }
    if tags_changed {
        push_replace_scope_tags(&mut query, seq, &token.role_scope_tag_ids);
    }
    execute(conn, query).await?;
    Ok(Some(token))
}

/// Runs an action that changes one token's scalars and appends one action result.
pub async fn record_action(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: Uuid,
    action: impl FnOnce(&mut VppToken),
) -> Result<Option<VppToken>, StoreError> {
    let Some(StoredToken { mut token, seq }) = load_token(conn, tenant, id).await? else {
        return Ok(None);
    };
    let before = token.token_action_results.len();
    action(&mut token);
    let mut query = statements();
    push_update_row(&mut query, tenant, &token)?;
    let added: Vec<_> = child_rows(seq, before, &token.token_action_results[before..]).collect();
    push_action_results(&mut query, Parents::Stored, &added);
    execute(conn, query).await?;
    Ok(Some(token))
}

/// The licences a revoke counts: every used licence of the token, across its apps.
pub async fn used_license_total(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: Uuid,
) -> Result<i32, StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(used_license_count), 0) FROM vpp_token_licenses WHERE tenant_id = ? AND token_id = ?",
    )
    .bind(tenant)
    .bind(id.hyphenated().to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(i32::try_from(total).unwrap_or(i32::MAX))
}

pub async fn delete_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM vpp_tokens WHERE tenant_id = ? AND id = ?")
        .bind(tenant)
        .bind(id.hyphenated().to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// `syncLicenseCounts`: every token of the tenant was synced now.
pub async fn touch_all_syncs(
    conn: &mut SqliteConnection,
    tenant: &str,
    now: GraphDateTime,
) -> Result<(), StoreError> {
    let now = now.to_storage();
    sqlx::query("UPDATE vpp_tokens SET last_sync_date_time = ?, last_modified_date_time = ? WHERE tenant_id = ?")
        .bind(&now)
        .bind(&now)
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn push_action_results(
    query: &mut Statements,
    parents: Parents,
    rows: &[ChildRow<'_, ActionResult>],
) {
    const COLUMNS: usize = 10;
    for chunk in rows.chunks(MAX_BOUND_VALUES / COLUMNS) {
        push_child_insert(
            query,
            "vpp_token_action_results (token_seq, ordinal, is_revoke_result, action_name, \
             action_state, start_date_time, last_updated_date_time, action_failure_reason, \
             failed_licenses_count, total_licenses_count)",
            COLUMNS,
            parents,
        );
        query.push_values(chunk, |mut row, child| {
            let (is_revoke, name, state, start, last_updated, reason, failed, total) =
                action_columns(child.item);
            row.push_bind(child.token_key)
                .push_bind(child.ordinal as i64)
                .push_bind(is_revoke)
                .push_bind(name.clone())
                .push_bind(state)
                .push_bind(start)
                .push_bind(last_updated)
                .push_bind(reason)
                .push_bind(failed)
                .push_bind(total);
        });
        query.push(");");
    }
}

fn push_scope_tags(query: &mut Statements, parents: Parents, rows: &[ChildRow<'_, String>]) {
    const COLUMNS: usize = 3;
    for chunk in rows.chunks(MAX_BOUND_VALUES / COLUMNS) {
        push_child_insert(
            query,
            "vpp_token_role_scope_tag_ids (token_seq, ordinal, role_scope_tag_id)",
            COLUMNS,
            parents,
        );
        query.push_values(chunk, |mut row, child| {
            row.push_bind(child.token_key)
                .push_bind(child.ordinal as i64)
                .push_bind(child.item.clone());
        });
        query.push(");");
    }
}

/// The ids among `tokens` that `tenant` already stores, with their seq.
pub async fn existing_ids(
    conn: &mut SqliteConnection,
    tenant: &str,
    tokens: &[VppToken],
) -> Result<HashMap<Uuid, i64>, StoreError> {
    let mut found = HashMap::new();
    for chunk in tokens.chunks(MAX_BOUND_VALUES - 1) {
        let mut query: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT id, seq FROM vpp_tokens WHERE tenant_id = ");
        query.push_bind(tenant.to_owned()).push(" AND id IN (");
        let mut ids = query.separated(", ");
        for token in chunk {
            ids.push_bind(token.id.hyphenated().to_string());
        }
        query.push(")");
        for (id, seq) in query
            .build_query_as::<(String, i64)>()
            .fetch_all(&mut *conn)
            .await?
        {
            let id = Uuid::parse_str(&id)
                .map_err(|_| StoreError::CorruptValue(format!("id = {id:?}")))?;
            found.insert(id, seq);
        }
    }
    Ok(found)
}

/// Puts a fixture token over the stored token `seq` with the same id (which keeps its place in
/// the creation order).
pub async fn replace_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    seq: i64,
    token: &VppToken,
) -> Result<(), StoreError> {
    let mut query = statements();
    push_update_row(&mut query, tenant, token)?;
    push_replace_action_results(&mut query, seq, &token.token_action_results);
    push_replace_scope_tags(&mut query, seq, &token.role_scope_tag_ids);
    execute(conn, query).await
}

fn push_replace_action_results(query: &mut Statements, seq: i64, results: &[ActionResult]) {
    query
        .push("DELETE FROM vpp_token_action_results WHERE token_seq = ")
        .push_bind(seq)
        .push(";");
    let rows: Vec<_> = child_rows(seq, 0, results).collect();
    push_action_results(query, Parents::Stored, &rows);
}

fn push_replace_scope_tags(query: &mut Statements, seq: i64, tags: &[String]) {
    query
        .push("DELETE FROM vpp_token_role_scope_tag_ids WHERE token_seq = ")
        .push_bind(seq)
        .push(";");
    let rows: Vec<_> = child_rows(seq, 0, tags).collect();
    push_scope_tags(query, Parents::Stored, &rows);
}

pub async fn upsert_license(
    conn: &mut SqliteConnection,
    tenant: &str,
    license: &License,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO vpp_token_licenses (tenant_id, token_id, bundle_id, available_license_count, used_license_count) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, token_id, bundle_id) DO UPDATE SET \
         available_license_count = excluded.available_license_count, used_license_count = excluded.used_license_count",
    )
    .bind(tenant)
    .bind(license.token_id.hyphenated().to_string())
    .bind(&license.bundle_id)
    .bind(license.available_license_count)
    .bind(license.used_license_count)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes the tokens (and, by cascade, their child rows and licences) of `tenant`, or of every
/// tenant.
pub async fn clear(conn: &mut SqliteConnection, tenant: Option<&str>) -> Result<(), StoreError> {
    match tenant {
        Some(tenant) => {
            sqlx::query("DELETE FROM vpp_tokens WHERE tenant_id = ?")
                .bind(tenant)
                .execute(&mut *conn)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM vpp_tokens")
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(())
}

pub async fn tenant_is_empty(
    conn: &mut SqliteConnection,
    tenant: &str,
) -> Result<bool, StoreError> {
    let any: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM vpp_tokens WHERE tenant_id = ? LIMIT 1")
            .bind(tenant)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(any.is_none())
}
