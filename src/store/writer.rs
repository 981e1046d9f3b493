//! The single owner of the write connection. Writes queue here; the writer takes everything
//! waiting (up to `max_batch`) into one transaction, runs each write (or each run of consecutive
//! creates, inserted together) inside its own savepoint, so that one write's failure does not
//! fail its neighbours, commits once (one fsync for the batch) and only then answers each caller.
//! Every write but a fixture load makes its changes in one query text that carries its own
//! savepoint (`write_sql::execute`); a load makes many, and the writer opens one around it.
//! A batch of nothing but creates, the commonest under load, first goes in whole, with its
//! transaction begun and committed in the same query text as its inserts; only if that fails
//! does it take the savepoint path. With group commit off, `max_batch` is 1.

use super::StoreError;
use super::checkpointer::Checkpointer;
use super::load::{self, Load, LoadReport};
use super::write_sql;
use crate::domain::{GraphDateTime, TokenChanges, VppToken};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// One change to the stored data.
#[derive(Debug)]
pub enum Write {
    Create {
        tenant: String,
        token: Box<VppToken>,
    },
    Update {
        tenant: String,
        id: Uuid,
        changes: Box<TokenChanges>,
        now: GraphDateTime,
    },
    Delete {
        tenant: String,
        id: Uuid,
    },
    SyncLicenses {
        tenant: String,
        id: Uuid,
        now: GraphDateTime,
    },
    RevokeLicenses {
        tenant: String,
        id: Uuid,
        now: GraphDateTime,
    },
    SyncLicenseCounts {
        tenant: String,
        now: GraphDateTime,
    },
    /// Fixtures, reset and import: one transaction however large.
    Load(Box<Load>),
}

impl Write {
    fn as_create(&self) -> Option<(&str, &VppToken)> {
        match self {
            Write::Create { tenant, token } => Some((tenant, token)),
            _ => None,
        }
    }
}

/// What a write found: the token after it, whether its target existed, or nothing to report.
#[derive(Debug)]
pub enum Outcome {
    Done,
    Token(Option<Box<VppToken>>),
    Found(bool),
    Loaded(Vec<LoadReport>),
}

struct Job {
    write: Write,
    reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

/// The sending side; cloned into every request handler.
#[derive(Clone)]
pub struct WriterHandle {
    jobs: mpsc::Sender<Job>,
}

/// How many writes may wait for the writer before callers wait to enqueue (back-pressure).
const QUEUE_CAPACITY: usize = 4096;

impl WriterHandle {
    /// Starts the writer task on `conn`; it ends, closing the connection, when every handle is
    /// dropped.
    pub fn spawn(
        conn: SqliteConnection,
        checkpointer: Checkpointer,
        max_batch: usize,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let task = tokio::spawn(run(conn, checkpointer, queue, max_batch.max(1)));
        (WriterHandle { jobs }, task)
    }

    /// Queues `write` and waits until it is committed (or has failed).
    pub async fn submit(&self, write: Write) -> Result<Outcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { write, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(
    mut conn: SqliteConnection,
    checkpointer: Checkpointer,
    mut queue: mpsc::Receiver<Job>,
    max_batch: usize,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        commit_batch(&mut conn, std::mem::take(&mut batch)).await;
        checkpointer.committed();
    }
    checkpointer.stop().await;
    // Every handle is gone: fold the WAL back into the database file before closing.
    if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
    {
        tracing::warn!(error = %e, "WAL checkpoint at shutdown failed");
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the write connection failed");
    }
}

async fn commit_batch(conn: &mut SqliteConnection, jobs: Vec<Job>) {
    let (writes, replies): (Vec<Write>, Vec<_>) =
        jobs.into_iter().map(|job| (job.write, job.reply)).unzip();
    match apply_batch(conn, writes).await {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A caller that went away (client disconnected) needs no answer.
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, writes = replies.len(), "batch commit failed; nothing in it was stored");
            for reply in replies {
                let _ = reply.send(Err(StoreError::BatchFailed(e.to_string())));
            }
        }
    }
}

/// Runs the writes in one transaction; returns each write's own result once the commit is done.
async fn apply_batch(
    conn: &mut SqliteConnection,
    writes: Vec<Write>,
) -> Result<Vec<Result<Outcome, StoreError>>, sqlx::Error> {
    let all_creates = writes
        .iter()
        .map(Write::as_create)
        .collect::<Option<Vec<_>>>();
    if let Some(creates) = &all_creates {
        // Their input is validated and their ids are fresh, so this rarely fails; when it does,
        // nothing of it stays, and the general path below finds the one at fault.
        match write_sql::insert_tokens_committed(conn, creates).await {
            Ok(()) => return Ok(writes.iter().map(|_| Ok(Outcome::Done)).collect()),
            Err(e) => {
                tracing::warn!(error = %e, creates = creates.len(), "a batch of creates failed; retrying each in its own savepoint");
            }
        }
    }
    // A batch of creates that gets here has just failed together: no second try of the same.
    let insert_runs_together = all_creates.is_none();
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut transaction = Connection::begin(&mut *conn).await?;
    let mut writes = writes.into_iter().peekable();
    while let Some(write) = writes.next() {
        if write.as_create().is_none() {
            outcomes.push(apply_isolated(&mut transaction, write).await?);
            continue;
        }
        let mut run = vec![write];
        while let Some(create) = writes.next_if(|next| next.as_create().is_some()) {
            run.push(create);
        }
        if run.len() > 1 && insert_runs_together && insert_together(&mut transaction, &run).await? {
            outcomes.extend(run.iter().map(|_| Ok(Outcome::Done)));
            continue;
        }
        for create in run {
            outcomes.push(apply_isolated(&mut transaction, create).await?);
        }
    }
    transaction.commit().await?;
    Ok(outcomes)
}

/// A run of consecutive creates among other writes goes in together, a few multi-row statements
/// for the lot. When that fails (false), nothing of it stays, and the caller retries each create
/// on its own, so that only the one at fault fails.
async fn insert_together(conn: &mut SqliteConnection, run: &[Write]) -> Result<bool, sqlx::Error> {
    let rows: Vec<(&str, &VppToken)> = run.iter().filter_map(Write::as_create).collect();
    match write_sql::insert_tokens(conn, &rows).await {
        Ok(()) => Ok(true),
        Err(StoreError::UndoFailed(e)) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, creates = rows.len(), "creates inserted together failed; retrying one by one");
            Ok(false)
        }
    }
}

/// Runs one write so that its failure leaves the rest of the batch intact. The inner result is
/// the write's own; the outer error fails the whole batch (the transaction can no longer commit).
async fn apply_isolated(
    conn: &mut SqliteConnection,
    write: Write,
) -> Result<Result<Outcome, StoreError>, sqlx::Error> {
    if !matches!(write, Write::Load(_)) {
        // Its changes are one query text with a savepoint of its own.
        return match apply(conn, write).await {
            Err(StoreError::UndoFailed(e)) => Err(e),
            outcome => Ok(outcome),
        };
    }
    let mut savepoint = Connection::begin(conn).await?;
    let outcome = apply(&mut savepoint, write).await;
    match outcome {
        Ok(_) => savepoint.commit().await?,
        Err(_) => savepoint.rollback().await?,
    }
    Ok(outcome)
}

/// Each arm but `Load` changes the database in one statement or one `write_sql::execute`, so
/// that it needs no savepoint of the writer's; reads before it change nothing.
async fn apply(conn: &mut SqliteConnection, write: Write) -> Result<Outcome, StoreError> {
    match write {
        Write::Create { tenant, token } => {
            write_sql::insert_tokens(conn, &[(&tenant, &token)]).await?;
            Ok(Outcome::Done)
        }
        Write::Update {
            tenant,
            id,
            changes,
            now,
        } => write_sql::update_token(conn, &tenant, id, *changes, now)
            .await
            .map(|token| Outcome::Token(token.map(Box::new))),
        Write::Delete { tenant, id } => write_sql::delete_token(conn, &tenant, id)
            .await
            .map(Outcome::Found),
        Write::SyncLicenses { tenant, id, now } => {
            write_sql::record_action(conn, &tenant, id, |token| token.record_license_sync(now))
                .await
                .map(|token| Outcome::Token(token.map(Box::new)))
        }
        Write::RevokeLicenses { tenant, id, now } => {
            let total = write_sql::used_license_total(conn, &tenant, id).await?;
            let token = write_sql::record_action(conn, &tenant, id, |token| {
                token.record_license_revoke(now, total)
            })
            .await?;
            Ok(Outcome::Found(token.is_some()))
        }
        Write::Load(request) => load::apply(conn, *request).await.map(Outcome::Loaded),
        Write::SyncLicenseCounts { tenant, now } => {
            write_sql::touch_all_syncs(conn, &tenant, now).await?;
            Ok(Outcome::Done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MIGRATOR;
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

    const TENANT: &str = "7f0a44c0-3b1d-4f5e-9c2a-000000000001";

    async fn migrated(dir: &tempfile::TempDir) -> TestResult<SqliteConnection> {
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.path().join("writer.db"))
            .create_if_missing(true)
            .foreign_keys(true)
            .connect()
            .await?;
        MIGRATOR.run(&mut conn).await?;
        Ok(conn)
    }

    fn create(id: Uuid) -> Write {
        Write::Create {
            tenant: TENANT.to_owned(),
            token: Box::new(VppToken::new(id, GraphDateTime::now())),
        }
    }

    async fn stored_ids(conn: &mut SqliteConnection) -> TestResult<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM vpp_tokens ORDER BY seq")
            .fetch_all(&mut *conn)
            .await?;
        Ok(ids
            .iter()
            .map(|id| Uuid::parse_str(id))
            .collect::<Result<_, _>>()?)
    }

    fn create_tagged(id: Uuid, tags: &[&str]) -> Write {
        let mut token = VppToken::new(id, GraphDateTime::now());
        token.role_scope_tag_ids = tags.iter().map(|tag| tag.to_string()).collect();
        Write::Create {
            tenant: TENANT.to_owned(),
            token: Box::new(token),
        }
    }

    /// A batch's child rows name their tokens by the seq SQLite gives them, counted back from the
    /// last token of the batch: each row must land on its own token, not on a neighbour.
    #[tokio::test]
    async fn child_rows_of_a_batch_belong_to_their_own_tokens() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut conn = migrated(&dir).await?;
        let first = Uuid::new_v4();
        apply_batch(&mut conn, vec![create_tagged(first, &["1"])]).await?;
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let outcomes = apply_batch(
            &mut conn,
            vec![
                create_tagged(a, &["3", "4"]),
                create_tagged(b, &[]),
                create_tagged(c, &["5"]),
            ],
        )
        .await?;
        assert!(
            outcomes
                .iter()
                .all(|outcome| matches!(outcome, Ok(Outcome::Done))),
            "{outcomes:?}"
        );
        let tags: Vec<(String, String)> = sqlx::query_as(
            "SELECT t.id, r.role_scope_tag_id FROM vpp_token_role_scope_tag_ids r \
             JOIN vpp_tokens t ON t.seq = r.token_seq ORDER BY t.seq, r.ordinal",
        )
        .fetch_all(&mut conn)
        .await?;
        let expected: Vec<(String, String)> = [(first, "1"), (a, "3"), (a, "4"), (c, "5")]
            .iter()
            .map(|(id, tag)| (id.hyphenated().to_string(), tag.to_string()))
            .collect();
        assert_eq!(tags, expected);
        Ok(())
    }

    /// A create whose id is taken fails the multi-row insert of its batch; it alone must fail.
    #[tokio::test]
    async fn a_failing_create_fails_alone_in_a_batch_of_creates() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut conn = migrated(&dir).await?;
        let taken = Uuid::new_v4();
        apply_batch(&mut conn, vec![create(taken)]).await?;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let outcomes = apply_batch(&mut conn, vec![create(a), create(taken), create(b)]).await?;
        assert!(
            matches!(
                outcomes.as_slice(),
                [Ok(Outcome::Done), Err(_), Ok(Outcome::Done)]
            ),
            "{outcomes:?}"
        );
        assert_eq!(stored_ids(&mut conn).await?, [taken, a, b]);
        Ok(())
    }

    /// The same behind another write of the batch: that write stays done.
    #[tokio::test]
    async fn a_failing_create_leaves_the_writes_before_it_in_its_batch() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut conn = migrated(&dir).await?;
        let (taken, doomed) = (Uuid::new_v4(), Uuid::new_v4());
        apply_batch(&mut conn, vec![create(taken), create(doomed)]).await?;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let delete = Write::Delete {
            tenant: TENANT.to_owned(),
            id: doomed,
        };
        let outcomes =
            apply_batch(&mut conn, vec![delete, create(a), create(taken), create(b)]).await?;
        assert!(
            matches!(
                outcomes.as_slice(),
                [
                    Ok(Outcome::Found(true)),
                    Ok(Outcome::Done),
                    Err(_),
                    Ok(Outcome::Done)
                ]
            ),
            "{outcomes:?}"
        );
        assert_eq!(stored_ids(&mut conn).await?, [taken, a, b]);
        Ok(())
    }

    fn update(id: Uuid, changes: TokenChanges) -> Write {
        Write::Update {
            tenant: TENANT.to_owned(),
            id,
            changes: Box::new(changes),
            now: GraphDateTime::now(),
        }
    }

    /// A write whose query text fails after its first statements ran (a trigger refuses one of
    /// an update's new tags, after the token row was updated and its old tags deleted) must leave
    /// nothing of itself, while the writes before and after it in the batch stay done.
    #[tokio::test]
    async fn a_write_failing_midway_leaves_nothing_of_itself() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut conn = migrated(&dir).await?;
        let (target, neighbour, created) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        apply_batch(
            &mut conn,
            vec![
                create_tagged(target, &["1", "2"]),
                create_tagged(neighbour, &["1"]),
            ],
        )
        .await?;
        sqlx::query(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON vpp_token_role_scope_tag_ids \
             WHEN NEW.role_scope_tag_id = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(&mut conn)
        .await?;
        let doomed = TokenChanges {
            display_name: Some(Some("changed".to_owned())),
            role_scope_tag_ids: Some(vec!["3".to_owned(), "boom".to_owned()]),
            ..TokenChanges::default()
        };
        let fine = TokenChanges {
            display_name: Some(Some("fine".to_owned())),
            ..TokenChanges::default()
        };
        let outcomes = apply_batch(
            &mut conn,
            vec![
                create(created),
                update(target, doomed),
                update(neighbour, fine),
            ],
        )
        .await?;
        assert!(
            matches!(
                outcomes.as_slice(),
                [Ok(Outcome::Done), Err(_), Ok(Outcome::Token(Some(_)))]
            ),
            "{outcomes:?}"
        );
        let rows: Vec<(String, Option<String>, String, Option<String>)> = sqlx::query_as(
            "SELECT t.id, t.display_name, t.role_scope_tag_ids_json, \
             (SELECT group_concat(role_scope_tag_id, ',') FROM \
              (SELECT role_scope_tag_id FROM vpp_token_role_scope_tag_ids r \
               WHERE r.token_seq = t.seq ORDER BY r.ordinal)) \
             FROM vpp_tokens t ORDER BY t.seq",
        )
        .fetch_all(&mut conn)
        .await?;
        let id = |id: Uuid| id.hyphenated().to_string();
        assert_eq!(
            rows,
            [
                (
                    id(target),
                    None,
                    r#"["1","2"]"#.to_owned(),
                    Some("1,2".to_owned())
                ),
                (
                    id(neighbour),
                    Some("fine".to_owned()),
                    r#"["1"]"#.to_owned(),
                    Some("1".to_owned())
                ),
                (
                    id(created),
                    None,
                    r#"["0"]"#.to_owned(),
                    Some("0".to_owned())
                ),
            ]
        );
        Ok(())
    }
}
