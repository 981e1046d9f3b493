//! Failures of the store. None of them is the client's fault: each becomes a 500 whose cause is
//! logged, never sent.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database {path} was written by a newer vpp-emulator (it has migration {version}, which this binary does not know); use a newer binary or another database.path"
    )]
    NewerSchema { path: String, version: i64 },
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored value is invalid: {0}")]
    CorruptValue(String),
    #[error("undoing a failed write failed, so the transaction holding it cannot go on: {0}")]
    UndoFailed(sqlx::Error),
    #[error("the transaction holding this write failed: {0}")]
    BatchFailed(String),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("the batch of gets holding this one failed: {0}")]
    GetBatchFailed(String),
    #[error("the reader of gets by id has stopped")]
    ReaderStopped,
}

impl From<StoreError> for crate::error::ApiError {
    fn from(error: StoreError) -> Self {
        crate::error::ApiError::internal(error)
    }
}
