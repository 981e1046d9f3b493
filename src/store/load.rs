//! Loading fixtures and resetting: one write, so a reader sees the data before or after it,
//! never a mix, and a load that fails changes nothing.

use super::StoreError;
use super::write_sql;
use crate::domain::TenantData;
use sqlx::sqlite::SqliteConnection;

/// What to wipe before loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clear {
    Nothing,
    /// The named tenants.
    Tenants(Vec<String>),
    /// The whole database.
    Everything,
}

#[derive(Debug)]
pub struct Load {
    pub clear: Clear,
    pub sets: Vec<TenantData>,
    /// Skip a set whose tenant already has tokens (`seed.mode = "if-empty"`).
    pub only_into_empty_tenants: bool,
}

/// What a load did for one fixture set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub tenant_id: String,
    pub vpp_tokens: usize,
    pub licenses: usize,
    /// True when the tenant already had tokens and `if-empty` left it alone.
    pub skipped: bool,
}

pub async fn apply(conn: &mut SqliteConnection, load: Load) -> Result<Vec<LoadReport>, StoreError> {
    match &load.clear {
        Clear::Nothing => {}
        Clear::Everything => write_sql::clear(conn, None).await?,
        Clear::Tenants(tenants) => {
            for tenant in tenants {
                write_sql::clear(conn, Some(tenant)).await?;
            }
        }
    }
    let mut reports = Vec::with_capacity(load.sets.len());
    for set in &load.sets {
        let tenant = set.tenant_id.as_str();
        if load.only_into_empty_tenants && !write_sql::tenant_is_empty(conn, tenant).await? {
            reports.push(LoadReport {
                tenant_id: tenant.to_owned(),
                vpp_tokens: 0,
                licenses: 0,
                skipped: true,
            });
            continue;
        }
        // Tokens already stored are replaced in place; the rest go in with multi-row inserts,
        // which keeps a large seed fast.
        let existing = write_sql::existing_ids(conn, tenant, &set.tokens).await?;
        let mut new = Vec::new();
        for token in &set.tokens {
            match existing.get(&token.id) {
                Some(&seq) => write_sql::replace_token(conn, tenant, seq, token).await?,
                None => new.push((tenant, token)),
            }
        }
        write_sql::insert_tokens(conn, &new).await?;
        for license in &set.licenses {
            write_sql::upsert_license(conn, tenant, license).await?;
        }
        reports.push(LoadReport {
            tenant_id: tenant.to_owned(),
            vpp_tokens: set.tokens.len(),
            licenses: set.licenses.len(),
            skipped: false,
        });
    }
    Ok(reports)
}
