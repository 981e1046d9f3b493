//! The read connections. sqlx's `Pool` pings every connection it takes back, a round trip to the
//! connection's SQLite thread on every release, which cost about a third of get-by-id throughput.
//! These connections are lent out directly instead, each to one task at a time.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, MutexGuard};

pub struct ReadPool {
    connections: Vec<Mutex<SqliteConnection>>,
    /// Where the next search for a free connection starts, so load spreads over all of them.
    next: AtomicUsize,
}

/// A lent connection; it goes back when dropped. A transaction left open by a cancelled
/// request is rolled back by sqlx before the connection's next statement.
pub type ReadConnection<'a> = MutexGuard<'a, SqliteConnection>;

impl ReadPool {
    pub async fn open(options: &SqliteConnectOptions, size: u32) -> Result<Self, sqlx::Error> {
        let mut connections = Vec::new();
        for _ in 0..size.max(1) {
            connections.push(Mutex::new(options.connect().await?));
        }
        Ok(ReadPool {
            connections,
            next: AtomicUsize::new(0),
        })
    }

    /// A free connection, or, when all are busy, the next in turn once it is free.
    pub async fn acquire(&self) -> ReadConnection<'_> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        for offset in 0..count {
            if let Ok(connection) = self.connections[(start + offset) % count].try_lock() {
                return connection;
            }
        }
        self.connections[start].lock().await
    }

    pub async fn close(self) {
        for connection in self.connections {
            if let Err(e) = connection.into_inner().close().await {
                tracing::warn!(error = %e, "closing a read connection failed");
            }
        }
    }
}
