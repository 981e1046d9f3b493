//! The list queries the store builds are served by the migrations' indexes (checked with
//! `EXPLAIN QUERY PLAN` on a real database), so a page costs the same at a thousand stored
//! tokens as at a million: no full scan, and no sort of every match for one page.

use super::read::{ListRequest, page_query};
use super::{Cursor, Store};
use crate::config::DatabaseSettings;
use crate::domain::properties::ApiVersion;
use crate::domain::{GraphDateTime, VppToken};
use crate::graph::query::{self, QueryOptions};
use sqlx::sqlite::SqliteConnection;
use sqlx::{AssertSqlSafe, Execute, Row};
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const TENANT: &str = "7f0a44c0-3b1d-4f5e-9c2a-000000000001";

async fn open(dir: &tempfile::TempDir) -> TestResult<(Store, super::WriterTask)> {
    let settings = DatabaseSettings::for_tests(dir.path().join("plans.db"));
    Ok(Store::open(&settings).await?)
}

/// The plan SQLite picks for the first page (or, with `resume`, a later page) of `raw_query`.
async fn plan(conn: &mut SqliteConnection, raw_query: &str, resume: bool) -> TestResult<String> {
    let options: QueryOptions = query::parse(raw_query, ApiVersion::Beta, 999)?;
    let cursor = Cursor::after(
        &VppToken::new(Uuid::new_v4(), GraphDateTime::now()),
        42,
        &options.order_by,
    );
    let request = ListRequest {
        filter: options.filter.as_ref(),
        order_by: &options.order_by,
        after: resume.then_some(&cursor),
        skip: 0,
        limit: 100,
        with_count: false,
    };
    let mut builder = page_query(TENANT, &request);
    let sql = format!("EXPLAIN QUERY PLAN {}", builder.sql().as_str());
    let arguments = builder
        .build()
        .take_arguments()?
        .ok_or("the page query has no bound arguments")?;
    Ok(sqlx::query_with(AssertSqlSafe(sql), arguments)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| row.get::<String, _>("detail"))
        .collect::<Vec<_>>()
        .join("; "))
}

#[tokio::test]
async fn list_pages_are_read_off_an_index_in_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, task) = open(&dir).await?;
    let cases = [
        // (query, resume from a cursor, index that must serve it)
        ("", false, "vpp_tokens_by_tenant_seq (tenant_id=?)"),
        ("", true, "vpp_tokens_by_tenant_seq (tenant_id=? AND seq>?)"),
        (
            "$filter=state eq 'valid'",
            false,
            "vpp_tokens_by_state (tenant_id=? AND state=?)",
        ),
        (
            "$filter=state eq 'valid'",
            true,
            "vpp_tokens_by_state (tenant_id=? AND state=? AND seq>?)",
        ),
        (
            "$filter=displayName eq 'Contoso VPP'",
            false,
            "vpp_tokens_by_display_name (tenant_id=? AND display_name=?)",
        ),
        (
            "$orderby=displayName",
            false,
            "vpp_tokens_by_display_name (tenant_id=?)",
        ),
        (
            "$orderby=lastModifiedDateTime desc",
            false,
            "vpp_tokens_by_last_modified (tenant_id=?)",
        ),
        (
            "$orderby=lastModifiedDateTime desc",
            true,
            "vpp_tokens_by_last_modified (tenant_id=?",
        ),
    ];
    for (raw_query, resume, index) in cases {
        let plan = plan(&mut *store.reads.pool.acquire().await?, raw_query, resume).await?;
        assert!(
            plan.contains(&format!("USING INDEX {index}"))
                || plan.contains(&format!("USING COVERING INDEX {index}")),
            "{raw_query:?} (resume: {resume}) should use {index}; plan: {plan}"
        );
        // A full sort reads every match before the first row; "FOR LAST TERM OF ORDER BY" (the
        // seq tie-break of a descending key) only orders rows with equal keys, as they stream.
        assert!(
            !plan.contains("TEMP B-TREE FOR ORDER BY"),
            "{raw_query:?} (resume: {resume}) sorts every match; plan: {plan}"
        );
    }
    store.close(task).await;
    Ok(())
}

#[tokio::test]
async fn a_date_range_filter_is_served_by_the_last_modified_index() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, task) = open(&dir).await?;
    let plan = plan(
        &mut *store.reads.pool.acquire().await?,
        "$filter=lastModifiedDateTime gt 2026-01-01T00:00:00Z&$orderby=lastModifiedDateTime",
        false,
    )
    .await?;
    assert!(
        plan.contains(
            "USING INDEX vpp_tokens_by_last_modified (tenant_id=? AND last_modified_date_time>?)"
        ),
        "plan: {plan}"
    );
    store.close(task).await;
    Ok(())
}
