//! Gets by id, answered together. Each get on its own paid two hand-offs between threads (to a
//! read connection's SQLite thread and back), and those, not SQLite, were most of its cost. The
//! batcher runs the gets waiting at one moment as one query on its own connection, the way the
//! writer commits the writes waiting at one moment: a lone get goes straight through, and under
//! load the batch grows while the previous one runs. Every get in a batch is read after it was
//! queued, so it sees every write answered before it was sent.

use super::StoreError;
use super::rows::token_document;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Most gets one query answers; more wait for the next one.
pub const MAX_BATCH: usize = 128;

/// How many gets may wait for the batcher before callers wait to queue (back-pressure).
const QUEUE_CAPACITY: usize = 4096;

/// One waiting get: the stored document of the token, when there is one.
struct Wanted {
    tenant: String,
    id: String,
    reply: oneshot::Sender<Result<Option<String>, StoreError>>,
}

pub struct GetBatcher {
    queue: mpsc::Sender<Wanted>,
    task: tokio::task::JoinHandle<()>,
}

impl GetBatcher {
    /// Starts the batcher on `conn`, a read connection of its own.
    pub fn spawn(conn: SqliteConnection) -> Self {
        let (queue, wanted) = mpsc::channel(QUEUE_CAPACITY);
        let task = tokio::spawn(run(conn, wanted));
        GetBatcher { queue, task }
    }

    /// The token document of `id` in `tenant`, read in a batch with the gets waiting beside it.
    pub async fn document(&self, tenant: &str, id: Uuid) -> Result<Option<String>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let wanted = Wanted {
            tenant: tenant.to_owned(),
            id: id.hyphenated().to_string(),
            reply,
        };
        self.queue
            .send(wanted)
            .await
            .map_err(|_| StoreError::ReaderStopped)?;
        answer.await.map_err(|_| StoreError::ReaderStopped)?
    }

    /// Answers the gets already queued, then closes the connection.
    pub async fn close(self) {
        drop(self.queue);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the get batcher ended abnormally");
        }
    }
}

async fn run(mut conn: SqliteConnection, mut queue: mpsc::Receiver<Wanted>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        answer(&mut conn, std::mem::take(&mut batch)).await;
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the get batcher's connection failed");
    }
}

/// Reads the tokens of `batch` in one statement per tenant (tenants are few, usually only the
/// default one) and answers each get.
async fn answer(conn: &mut SqliteConnection, mut batch: Vec<Wanted>) {
    batch.sort_unstable_by(|a, b| a.tenant.cmp(&b.tenant));
    while let Some(first) = batch.first() {
        let same_tenant = batch
            .iter()
            .take_while(|w| w.tenant == first.tenant)
            .count();
        let group: Vec<Wanted> = batch.drain(..same_tenant).collect();
        let found = read_documents(conn, &group).await;
        for wanted in group {
            let result = match &found {
                Ok(rows) => Ok(rows
                    .iter()
                    .find(|(id, _)| *id == wanted.id)
                    .map(|(_, document)| document.clone())),
                Err(e) => Err(StoreError::GetBatchFailed(e.to_string())),
            };
            // A get whose client went away no longer waits for its answer.
            let _ = wanted.reply.send(result);
        }
    }
}

async fn read_documents(
    conn: &mut SqliteConnection,
    batch: &[Wanted],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut query = QueryBuilder::<Sqlite>::new(concat!(
        "SELECT t.id, ",
        token_document!(),
        " FROM vpp_tokens t WHERE t.tenant_id = "
    ));
    query.push_bind(batch[0].tenant.as_str());
    query.push(" AND t.id IN (");
    let mut ids = query.separated(", ");
    for wanted in batch {
        ids.push_bind(wanted.id.as_str());
    }
    query.push(")");
    query.build_query_as().fetch_all(&mut *conn).await
}

#[cfg(test)]
mod tests {
    use crate::config::DatabaseSettings;
    use crate::domain::{GraphDateTime, VppToken};
    use crate::store::Store;
    use futures_util::future::join_all;
    use uuid::Uuid;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    /// Gets queued together are answered by one query: each must get its own token, or none
    /// when the id is unknown or belongs to another tenant, however the batch mixes them.
    #[tokio::test]
    async fn each_get_of_a_batch_gets_its_own_answer() -> TestResult {
        let dir = tempfile::tempdir()?;
        let settings = DatabaseSettings::for_tests(dir.path().join("gets.db"));
        let (store, task) = Store::open(&settings).await?;
        let (a, b, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for (tenant, id, name) in [("t1", a, "a"), ("t1", b, "b"), ("t2", other, "other")] {
            let mut token = VppToken::new(id, GraphDateTime::now());
            token.display_name = Some(name.to_owned());
            store.create(tenant, token).await?;
        }

        let asked = [
            ("t1", b),
            ("t2", a),
            ("t1", Uuid::new_v4()),
            ("t2", other),
            ("t1", a),
            ("t1", b),
            ("t1", other),
        ];
        let answers = join_all(asked.iter().map(|(tenant, id)| store.get(tenant, *id))).await;
        let names = answers
            .into_iter()
            .map(|answer| Ok(answer?.and_then(|token| token.display_name)))
            .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
        let expected = [
            Some("b"),
            None,
            None,
            Some("other"),
            Some("a"),
            Some("b"),
            None,
        ];
        assert_eq!(names, expected.map(|name| name.map(str::to_owned)));
        store.close(task).await;
        Ok(())
    }
}
