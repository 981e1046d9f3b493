//! The read connections. sqlx's `Pool` pings every connection it takes back, a round trip to the
//! connection's SQLite thread on every release, which cost about a third of get-by-id throughput.
//! These connections are lent out directly instead, each to one task at a time; a fair semaphore
//! queues the tasks that find them all busy, so a slow list page holds up no one in particular.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

pub struct ReadPool {
    connections: Vec<Mutex<SqliteConnection>>,
    /// One permit per connection: a task holding one is sure to find a connection free.
    permits: Semaphore,
    /// Where the search for a free connection starts, so that use spreads over all of them.
    next: AtomicUsize,
}

/// A lent connection; it goes back when dropped. A transaction left open by a cancelled request
/// is rolled back by sqlx before the connection's next statement.
pub struct ReadConnection<'a> {
    // Declared first, so dropped first: the connection is free before the permit is returned.
    connection: MutexGuard<'a, SqliteConnection>,
    _permit: SemaphorePermit<'a>,
}

impl ReadPool {
    pub async fn open(options: &SqliteConnectOptions, size: u32) -> Result<Self, sqlx::Error> {
        let mut connections = Vec::new();
        for _ in 0..size.max(1) {
            connections.push(Mutex::new(options.connect().await?));
        }
        Ok(ReadPool {
            permits: Semaphore::new(connections.len()),
            connections,
            next: AtomicUsize::new(0),
        })
    }

    pub async fn acquire(&self) -> Result<ReadConnection<'_>, sqlx::Error> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        let free = (0..count)
            .find_map(|offset| self.connections[(start + offset) % count].try_lock().ok());
        let connection = match free {
            Some(connection) => connection,
            // Unreachable while every holder has a permit; waiting is still correct.
            None => self.connections[start].lock().await,
        };
        Ok(ReadConnection {
            connection,
            _permit: permit,
        })
    }

    pub async fn close(self) {
        for connection in self.connections {
            if let Err(e) = connection.into_inner().close().await {
                tracing::warn!(error = %e, "closing a read connection failed");
            }
        }
    }
}

impl Deref for ReadConnection<'_> {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.connection
    }
}

impl DerefMut for ReadConnection<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.connection
    }
}
