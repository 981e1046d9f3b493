//! The read side: queries on the read pool, each in one read transaction so that a token and
//! its child rows come from the same snapshot.

use super::StoreError;
use super::filter_sql::push_filter;
use super::page::{Cursor, push_order_by};
use super::rows::{StoredToken, parse_token, token_document};
use crate::domain::{License, TenantData, VppToken};
use crate::graph::filter::Filter;
use crate::graph::query::OrderKey;
use sqlx::Connection;
use sqlx::sqlite::{Sqlite, SqliteConnection};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

/// What to list: filter, order, where to resume, how many.
pub struct ListRequest<'a> {
    pub filter: Option<&'a Filter>,
    pub order_by: &'a [OrderKey],
    pub after: Option<&'a Cursor>,
    pub skip: u32,
    pub limit: u32,
    /// Also count every row the filter matches (`$count=true`), in the same snapshot.
    pub with_count: bool,
}

pub struct Page {
    pub tokens: Vec<VppToken>,
    /// Where the next page starts, when more rows remain.
    pub next: Option<Cursor>,
    pub count: Option<i64>,
}

/// One `vppTokenLicenseSummary`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseSummary {
    pub vpp_token_id: String,
    pub apple_id: Option<String>,
    pub organization_name: Option<String>,
    pub available_license_count: i32,
    pub used_license_count: i32,
}

pub async fn list(
    conn: &mut SqliteConnection,
    tenant: &str,
    request: &ListRequest<'_>,
) -> Result<Page, StoreError> {
    let mut page = page_query(tenant, request);
    // One statement reads one snapshot; the count needs a second one in the same snapshot.
    let (documents, count) = if request.with_count {
        let mut snapshot = conn.begin().await?;
        let documents: Vec<String> = page.build_query_scalar().fetch_all(&mut *snapshot).await?;
        let count: i64 = count_query(tenant, request.filter)
            .build_query_scalar()
            .fetch_one(&mut *snapshot)
            .await?;
        snapshot.commit().await?;
        (documents, Some(count))
    } else {
        (page.build_query_scalar().fetch_all(&mut *conn).await?, None)
    };
    let mut tokens = documents
        .iter()
        .map(|document| parse_token(document))
        .collect::<Result<Vec<StoredToken>, _>>()?;
    let more = tokens.len() > request.limit as usize;
    tokens.truncate(request.limit as usize);

    let next = match tokens.last() {
        Some(last) if more => Some(Cursor::after(&last.token, last.seq, request.order_by)),
        _ => None,
    };
    Ok(Page {
        tokens: tokens.into_iter().map(|stored| stored.token).collect(),
        next,
        count,
    })
}

/// The page's token documents, one more than the page, which tells whether another page
/// follows. (Gathering them into one array in SQL was slower: SQLite's sorter and the growing
/// string cost more than the per-row hand-offs it saved.)
pub(super) fn page_query(tenant: &str, request: &ListRequest<'_>) -> QueryBuilder<Sqlite> {
    let mut query =
        QueryBuilder::<Sqlite>::new(concat!("SELECT ", token_document!(), " FROM vpp_tokens t"));
    push_conditions(&mut query, tenant, request.filter);
    if let Some(cursor) = request.after {
        cursor.push_after(&mut query, request.order_by);
    }
    push_order_by(&mut query, request.order_by);
    query
        .push(" LIMIT ")
        .push_bind(i64::from(request.limit) + 1);
    if request.after.is_none() && request.skip > 0 {
        query.push(" OFFSET ").push_bind(i64::from(request.skip));
    }
    query
}

pub async fn count(
    conn: &mut SqliteConnection,
    tenant: &str,
    filter: Option<&Filter>,
) -> Result<i64, StoreError> {
    let row = count_query(tenant, filter)
        .build()
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get(0)?)
}

fn count_query(tenant: &str, filter: Option<&Filter>) -> QueryBuilder<Sqlite> {
    let mut query = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM vpp_tokens t");
    push_conditions(&mut query, tenant, filter);
    query
}

fn push_conditions(query: &mut QueryBuilder<Sqlite>, tenant: &str, filter: Option<&Filter>) {
    query
        .push(" WHERE t.tenant_id = ")
        .push_bind(tenant.to_owned());
    if let Some(filter) = filter {
        query.push(" AND ");
        push_filter(query, filter);
    }
}

pub async fn licenses_for_app(
    conn: &mut SqliteConnection,
    tenant: &str,
    bundle_id: &str,
) -> Result<Vec<LicenseSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT t.id, t.apple_id, t.organization_name, l.available_license_count, l.used_license_count \
         FROM vpp_token_licenses l JOIN vpp_tokens t ON t.tenant_id = l.tenant_id AND t.id = l.token_id \
         WHERE l.tenant_id = ? AND l.bundle_id = ? ORDER BY t.seq",
    )
    .bind(tenant)
    .bind(bundle_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LicenseSummary {
                vpp_token_id: row.try_get("id")?,
                apple_id: row.try_get("apple_id")?,
                organization_name: row.try_get("organization_name")?,
                available_license_count: row.try_get("available_license_count")?,
                used_license_count: row.try_get("used_license_count")?,
            })
        })
        .collect()
}

pub async fn export(conn: &mut SqliteConnection, tenant: &str) -> Result<TenantData, StoreError> {
    let mut snapshot = conn.begin().await?;
    let tokens = sqlx::query_scalar::<_, String>(concat!(
        "SELECT ",
        token_document!(with_token),
        " FROM vpp_tokens t WHERE t.tenant_id = ? ORDER BY t.seq"
    ))
    .bind(tenant)
    .fetch_all(&mut *snapshot)
    .await?
    .iter()
    .map(|document| parse_token(document).map(|stored| stored.token))
    .collect::<Result<Vec<VppToken>, StoreError>>()?;
    let licenses = sqlx::query(
        "SELECT l.token_id, l.bundle_id, l.available_license_count, l.used_license_count \
         FROM vpp_token_licenses l JOIN vpp_tokens t ON t.tenant_id = l.tenant_id AND t.id = l.token_id \
         WHERE l.tenant_id = ? ORDER BY t.seq, l.bundle_id",
    )
    .bind(tenant)
    .fetch_all(&mut *snapshot)
    .await?
    .iter()
    .map(|row| {
        let token_id: String = row.try_get("token_id")?;
        Ok(License {
            token_id: Uuid::parse_str(&token_id).map_err(|_| StoreError::CorruptValue(format!("token_id = {token_id:?}")))?,
            bundle_id: row.try_get("bundle_id")?,
            available_license_count: row.try_get("available_license_count")?,
            used_license_count: row.try_get("used_license_count")?,
        })
    })
    .collect::<Result<Vec<License>, StoreError>>()?;
    snapshot.commit().await?;
    Ok(TenantData {
        tenant_id: tenant.to_owned(),
        tokens,
        licenses,
    })
}
