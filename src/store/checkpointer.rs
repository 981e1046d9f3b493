//! Copies committed pages from the WAL into the database file on a connection of its own, so that
//! the writer does not stop for it. Left to SQLite, the writer itself checkpoints every 1,000
//! pages, inside the commit of whichever batch crosses the mark: under a create load that was a
//! checkpoint every few batches, each with an fsync of the database file, while every caller of
//! that batch waited. Here the writer only wakes the checkpointer after each commit.
//!
//! A passive checkpoint never waits for the writer, so under a steady load it may never catch up
//! with the end of the WAL, and SQLite starts the WAL over only when it has. The writer keeps a
//! checkpoint of its own at `WAL_BACKSTOP_PAGES` for that: by then the pages before the last few
//! commits are copied already, so it has little left to do, and the WAL starts over.

use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use std::time::Duration;
use tokio::sync::mpsc;

/// The writer's own checkpoint (`wal_autocheckpoint`), in pages: it bounds the WAL file at about
/// 130 MB when the checkpointer falls behind, as it does under a steady write load. Each of these
/// checkpoints syncs the database file inside a commit whose callers wait for it: at 8,000 pages
/// (about 3,300 creates) that was several times a second under the create load and set the p99
/// (12 to 22 ms at 64 connections, against 10 to 14 ms at 32,000); recovery after a kill reads
/// the longer WAL in 25 to 45 ms.
pub const WAL_BACKSTOP_PAGES: u32 = 32_000;

/// The least time between two checkpoints. Each pass syncs the WAL and the database file, and a
/// commit syncing at the same time waits behind it, so the longer a pass, the longer the stall:
/// under the bench's create sequence (1, 16, then 64 connections) p99 at 64 connections was 27 to
/// 36 ms with 100 ms between passes, about 25 ms with 25 ms, 15 ms with 10 ms; 5 ms gave 12 to
/// 18 ms but about 7% fewer creates.
const PAUSE: Duration = Duration::from_millis(10);

pub struct Checkpointer {
    wake: mpsc::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    /// Starts the checkpointer on `conn`, a connection of its own to the writer's database.
    pub fn spawn(conn: SqliteConnection) -> Self {
        // One wake-up waiting is enough: commits made while it waits are copied by that pass.
        let (wake, woken) = mpsc::channel(1);
        let task = tokio::spawn(run(conn, woken));
        Checkpointer { wake, task }
    }

    /// Tells the checkpointer that the writer has committed.
    pub fn committed(&self) {
        // Full means a wake-up is already waiting.
        let _ = self.wake.try_send(());
    }

    /// Waits for the pass under way, if any, and closes the connection.
    pub async fn stop(self) {
        drop(self.wake);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the WAL checkpointer ended abnormally");
        }
    }
}

async fn run(mut conn: SqliteConnection, mut woken: mpsc::Receiver<()>) {
    while woken.recv().await.is_some() {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await
        {
            // The writer's own checkpoint still bounds the WAL; the next commit tries again.
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
        tokio::time::sleep(PAUSE).await;
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the checkpoint connection failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::ConnectOptions;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use std::path::Path;

    type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

    fn options(path: &Path) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
    }

    /// With the writer's own checkpoints off, committed pages reach the database file only
    /// through the checkpointer.
    #[tokio::test]
    async fn committed_pages_reach_the_database_file() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("checkpoint.db");
        let mut writer = options(&path)
            .pragma("wal_autocheckpoint", "0")
            .connect()
            .await?;
        sqlx::query("CREATE TABLE t (v BLOB)")
            .execute(&mut writer)
            .await?;
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256) \
             INSERT INTO t SELECT randomblob(4096) FROM n",
        )
        .execute(&mut writer)
        .await?;
        let file_bytes = || std::fs::metadata(&path).map(|m| m.len());
        assert!(
            file_bytes()? < 1 << 20,
            "the rows are still only in the WAL"
        );

        let checkpointer = Checkpointer::spawn(options(&path).connect().await?);
        checkpointer.committed();
        checkpointer.stop().await;
        assert!(file_bytes()? >= 1 << 20, "{} bytes", file_bytes()?);
        writer.close().await?;
        Ok(())
    }
}
