//! The read side: queries on the read pool, each in one read transaction so that a token and
//! its child rows come from the same snapshot.

use super::StoreError;
use super::filter_sql::push_filter;
use super::page::{Cursor, push_order_by};
use super::rows::{StoredToken, attach_children, token_columns, token_from_row};
use crate::domain::VppToken;
use crate::graph::filter::Filter;
use crate::graph::query::OrderKey;
use sqlx::sqlite::{Sqlite, SqlitePool};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

/// What to list: filter, order, where to resume, how many.
pub struct ListRequest<'a> {
    pub filter: Option<&'a Filter>,
    pub order_by: &'a [OrderKey],
    pub after: Option<&'a Cursor>,
    pub skip: u32,
    pub limit: u32,
}

pub struct Page {
    pub tokens: Vec<VppToken>,
    /// Where the next page starts, when more rows remain.
    pub next: Option<Cursor>,
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

pub async fn get(
    pool: &SqlitePool,
    tenant: &str,
    id: Uuid,
) -> Result<Option<VppToken>, StoreError> {
    let mut snapshot = pool.begin().await?;
    let token = super::rows::load_token(&mut snapshot, tenant, id).await?;
    snapshot.commit().await?;
    Ok(token.map(|stored| stored.token))
}

pub async fn list(
    pool: &SqlitePool,
    tenant: &str,
    request: &ListRequest<'_>,
) -> Result<Page, StoreError> {
    let mut query =
        QueryBuilder::<Sqlite>::new(concat!("SELECT ", token_columns!(), " FROM vpp_tokens t"));
    push_conditions(&mut query, tenant, request.filter);
    if let Some(cursor) = request.after {
        cursor.push_after(&mut query, request.order_by);
    }
    push_order_by(&mut query, request.order_by);
    // One row more than the page tells whether another page follows.
    query
        .push(" LIMIT ")
        .push_bind(i64::from(request.limit) + 1);
    if request.after.is_none() && request.skip > 0 {
        query.push(" OFFSET ").push_bind(i64::from(request.skip));
    }

    let mut snapshot = pool.begin().await?;
    let rows = query.build().fetch_all(&mut *snapshot).await?;
    let mut tokens = rows
        .iter()
        .map(token_from_row)
        .collect::<Result<Vec<StoredToken>, _>>()?;
    let more = tokens.len() > request.limit as usize;
    tokens.truncate(request.limit as usize);
    attach_children(&mut snapshot, tenant, &mut tokens).await?;
    snapshot.commit().await?;

    let next = match tokens.last() {
        Some(last) if more => Some(Cursor::after(&last.token, last.seq, request.order_by)),
        _ => None,
    };
    Ok(Page {
        tokens: tokens.into_iter().map(|stored| stored.token).collect(),
        next,
    })
}

pub async fn count(
    pool: &SqlitePool,
    tenant: &str,
    filter: Option<&Filter>,
) -> Result<i64, StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new("SELECT count(*) FROM vpp_tokens t");
    push_conditions(&mut query, tenant, filter);
    let row = query.build().fetch_one(pool).await?;
    Ok(row.try_get(0)?)
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
    pool: &SqlitePool,
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
    .fetch_all(pool)
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
