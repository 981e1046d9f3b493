//! All SQL lives here: the schema (embedded migrations), the read pool, and the single writer.

mod checkpointer;
mod error;
mod filter_sql;
mod get_batcher;
mod load;
mod page;
mod read;
mod read_pool;
mod rows;
mod write_sql;
mod writer;

#[cfg(test)]
mod query_plans;

pub use error::StoreError;
pub use load::{Clear, Load, LoadReport};
pub use page::Cursor;
pub use read::{LicenseSummary, ListRequest, Page};
use writer::{Outcome, Write, WriterHandle};

use crate::config::{DatabaseSettings, Synchronous};
use crate::domain::{GraphDateTime, TenantData, TokenChanges, VppToken};
use crate::graph::filter::Filter;
use checkpointer::Checkpointer;
use get_batcher::GetBatcher;
use read_pool::ReadPool;
use rows::parse_token;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a connection waits on a lock before failing (only start-up and tools contend).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The database: the read side and the handle of the one writer.
#[derive(Clone)]
pub struct Store {
    reads: Arc<Readers>,
    writer: WriterHandle,
}

/// Gets by id go to the batcher; every other read borrows a connection of the pool.
struct Readers {
    pool: ReadPool,
    gets: GetBatcher,
}

/// Kept by the owner of the store to wait for the writer to finish at shutdown.
pub struct WriterTask(tokio::task::JoinHandle<()>);

impl Store {
    /// Opens (creating when missing) and migrates the database, then starts the writer.
    pub async fn open(settings: &DatabaseSettings) -> Result<(Store, WriterTask), StoreError> {
        let mut conn = connect_writer(settings).await?;
        migrate(&mut conn, settings).await?;
        let read_options = base_options(settings)
            .read_only(true)
            .row_buffer_size(READ_ROW_BUFFER);
        let reads = Readers {
            pool: ReadPool::open(&read_options, settings.read_pool_size).await?,
            gets: GetBatcher::spawn(
                read_options
                    .clone()
                    .statement_cache_capacity(GET_STATEMENT_CACHE)
                    .connect()
                    .await?,
            ),
        };
        let max_batch = if settings.group_commit {
            settings.max_batch
        } else {
            1
        };
        let checkpoints = Checkpointer::spawn(base_options(settings).connect().await?);
        let (writer, task) = WriterHandle::spawn(conn, checkpoints, max_batch);
        Ok((
            Store {
                reads: Arc::new(reads),
                writer,
            },
            WriterTask(task),
        ))
    }

    /// Applies the migrations and closes the database (`vpp-emulator migrate`).
    pub async fn migrate_only(settings: &DatabaseSettings) -> Result<(), StoreError> {
        let mut conn = connect_writer(settings).await?;
        migrate(&mut conn, settings).await?;
        conn.close().await?;
        Ok(())
    }

    /// Closes the read connections, then the writer (the last to close, it checkpoints the WAL
    /// and removes it). Only the last `Store` clone closes the readers; others just let go.
    pub async fn close(self, task: WriterTask) {
        if let Some(reads) = Arc::into_inner(self.reads) {
            reads.gets.close().await;
            reads.pool.close().await;
        }
        drop(self.writer);
        if let Err(e) = task.0.await {
            tracing::error!(error = %e, "the database writer ended abnormally");
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.reads.pool.acquire().await?)
            .await?;
        Ok(())
    }

    pub async fn get(&self, tenant: &str, id: Uuid) -> Result<Option<VppToken>, StoreError> {
        let document = self.reads.gets.document(tenant, id).await?;
        document
            .as_deref()
            .map(|document| parse_token(document).map(|stored| stored.token))
            .transpose()
    }

    pub async fn list(&self, tenant: &str, request: &ListRequest<'_>) -> Result<Page, StoreError> {
        read::list(&mut *self.reads.pool.acquire().await?, tenant, request).await
    }

    pub async fn count(&self, tenant: &str, filter: Option<&Filter>) -> Result<i64, StoreError> {
        read::count(&mut *self.reads.pool.acquire().await?, tenant, filter).await
    }

    pub async fn licenses_for_app(
        &self,
        tenant: &str,
        bundle_id: &str,
    ) -> Result<Vec<LicenseSummary>, StoreError> {
        read::licenses_for_app(&mut *self.reads.pool.acquire().await?, tenant, bundle_id).await
    }

    pub async fn create(&self, tenant: &str, token: VppToken) -> Result<(), StoreError> {
        let write = Write::Create {
            tenant: tenant.to_owned(),
            token: Box::new(token),
        };
        self.writer.submit(write).await.map(|_| ())
    }

    /// PATCH; `None` when there is no such token.
    pub async fn update(
        &self,
        tenant: &str,
        id: Uuid,
        changes: TokenChanges,
        now: GraphDateTime,
    ) -> Result<Option<VppToken>, StoreError> {
        let write = Write::Update {
            tenant: tenant.to_owned(),
            id,
            changes: Box::new(changes),
            now,
        };
        token_outcome(self.writer.submit(write).await?)
    }

    /// `true` when the token existed.
    pub async fn delete(&self, tenant: &str, id: Uuid) -> Result<bool, StoreError> {
        found_outcome(
            self.writer
                .submit(Write::Delete {
                    tenant: tenant.to_owned(),
                    id,
                })
                .await?,
        )
    }

    pub async fn sync_licenses(
        &self,
        tenant: &str,
        id: Uuid,
        now: GraphDateTime,
    ) -> Result<Option<VppToken>, StoreError> {
        token_outcome(
            self.writer
                .submit(Write::SyncLicenses {
                    tenant: tenant.to_owned(),
                    id,
                    now,
                })
                .await?,
        )
    }

    pub async fn revoke_licenses(
        &self,
        tenant: &str,
        id: Uuid,
        now: GraphDateTime,
    ) -> Result<bool, StoreError> {
        found_outcome(
            self.writer
                .submit(Write::RevokeLicenses {
                    tenant: tenant.to_owned(),
                    id,
                    now,
                })
                .await?,
        )
    }

    pub async fn sync_license_counts(
        &self,
        tenant: &str,
        now: GraphDateTime,
    ) -> Result<(), StoreError> {
        self.writer
            .submit(Write::SyncLicenseCounts {
                tenant: tenant.to_owned(),
                now,
            })
            .await
            .map(|_| ())
    }
}

impl Store {
    /// Loads fixtures, resets or imports, atomically.
    pub async fn load(&self, load: Load) -> Result<Vec<LoadReport>, StoreError> {
        match self.writer.submit(Write::Load(Box::new(load))).await? {
            Outcome::Loaded(reports) => Ok(reports),
            other => Err(StoreError::CorruptValue(format!(
                "unexpected writer outcome {other:?}"
            ))),
        }
    }

    /// Every token and licence of `tenant`, in creation order, from one snapshot.
    pub async fn export(&self, tenant: &str) -> Result<TenantData, StoreError> {
        read::export(&mut *self.reads.pool.acquire().await?, tenant).await
    }
}

fn token_outcome(outcome: Outcome) -> Result<Option<VppToken>, StoreError> {
    match outcome {
        Outcome::Token(token) => Ok(token.map(|boxed| *boxed)),
        other => Err(StoreError::CorruptValue(format!(
            "unexpected writer outcome {other:?}"
        ))),
    }
}

fn found_outcome(outcome: Outcome) -> Result<bool, StoreError> {
    match outcome {
        Outcome::Found(found) => Ok(found),
        other => Err(StoreError::CorruptValue(format!(
            "unexpected writer outcome {other:?}"
        ))),
    }
}

/// Rows a read connection's SQLite thread may run ahead of its reader. With sqlx's default of 50
/// that thread stopped to wait for the reader twice on every page of 100 (101 rows); with room
/// for the largest page (`$top` 999, and one more row) it never waits.
const READ_ROW_BUFFER: usize = 1024;

/// Prepared statements the get batcher keeps: its query has one text per batch size.
const GET_STATEMENT_CACHE: usize = get_batcher::MAX_BATCH + 8;

fn base_options(settings: &DatabaseSettings) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(&settings.path)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .synchronous(match settings.synchronous {
            Synchronous::Full => SqliteSynchronous::Full,
            Synchronous::Normal => SqliteSynchronous::Normal,
        })
}

async fn connect_writer(settings: &DatabaseSettings) -> Result<SqliteConnection, StoreError> {
    if let Some(folder) = settings.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
    }
    base_options(settings)
        .create_if_missing(true)
        // The journals of the writer's savepoints stay in memory instead of a temporary file.
        .pragma("temp_store", "memory")
        // Checkpoints are the checkpointer's; the writer keeps one only as a backstop.
        .pragma(
            "wal_autocheckpoint",
            checkpointer::WAL_BACKSTOP_PAGES.to_string(),
        )
        .connect()
        .await
        .map_err(|source| StoreError::Open {
            path: settings.path.display().to_string(),
            source,
        })
}

async fn migrate(
    conn: &mut SqliteConnection,
    settings: &DatabaseSettings,
) -> Result<(), StoreError> {
    match MIGRATOR.run(conn).await {
        Err(MigrateError::VersionMissing(version)) => Err(StoreError::NewerSchema {
            path: settings.path.display().to_string(),
            version,
        }),
        other => Ok(other?),
    }
}
