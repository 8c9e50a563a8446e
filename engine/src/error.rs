//! The engine's typed errors and their mapping into wacore's `StoreError`.
//!
//! Every failure the engine can report is one [`Error`] variant that says what
//! happened (corrupt file, newer format, I/O, ...). Trait methods must return
//! `wacore::store::error::StoreError`, so each variant is wrapped into the
//! closest `StoreError` variant with the [`Error`] kept as its `source()`:
//! callers who care can downcast it back (see [`Error::from_store_error`]).

use std::path::PathBuf;
use std::sync::Arc;

use wacore::store::error::StoreError;

/// The result type of the engine's internal operations.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the engine.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file exists but is not a readable redb database, or its pages are damaged.
    #[error("{path}: not a redb database, or the file is corrupt: {detail}")]
    Corrupt {
        /// The file that failed to open.
        path: PathBuf,
        /// What redb reported.
        detail: String,
    },

    /// The file is a redb database that holds tables of some other program.
    #[error(
        "{path}: this redb file belongs to another program (it has tables but no \
         whatsapp-rust-redb-storage format marker); refusing to write into it"
    )]
    ForeignDatabase {
        /// The file that was opened.
        path: PathBuf,
    },

    /// The file was written by a newer release of this engine.
    #[error(
        "{path}: the file has on-disk format version {found}, this build reads up to version \
         {supported}; upgrade whatsapp-rust-redb-storage to open it"
    )]
    NewerFormat {
        /// The file that was opened.
        path: PathBuf,
        /// The format version stored in the file.
        found: u64,
        /// The newest format version this build understands.
        supported: u64,
    },

    /// The commit log next to the file was written by a newer release.
    #[error(
        "{path}: the commit log has format version {found}, this build reads up to version \
         {supported}; upgrade whatsapp-rust-redb-storage to open the store (the log holds \
         acknowledged writes: do not delete it)"
    )]
    NewerLogFormat {
        /// The log file.
        path: PathBuf,
        /// The format version in the log's header.
        found: u32,
        /// The newest log format this build understands.
        supported: u32,
    },

    /// The commit log's path holds something that is not a commit log.
    #[error(
        "{path}: expected the store's commit log, found another file; move it away (the \
         store keeps its log at `<store file>-log`)"
    )]
    ForeignLog {
        /// The log file.
        path: PathBuf,
    },

    /// The file needs a newer (or older) redb file format than this build's redb handles.
    #[error("{path}: the redb file format needs an upgrade this build cannot do ({detail})")]
    UnsupportedRedbFormat {
        /// The file that was opened.
        path: PathBuf,
        /// What redb reported.
        detail: String,
    },

    /// The file is already open, in this process or another one.
    #[error(
        "{path}: the database is already open; one process may open a file once: share it \
         with RedbStore::for_device, or close the other handle first"
    )]
    AlreadyOpen {
        /// The file that was opened.
        path: PathBuf,
    },

    /// An operating-system I/O error.
    #[error("I/O error while {context}: {source}")]
    Io {
        /// What the engine was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// A stored record could not be decoded (damaged bytes or a foreign writer).
    #[error("stored {record} record cannot be decoded: {reason}")]
    Decode {
        /// Which record type.
        record: &'static str,
        /// Why decoding failed.
        reason: String,
    },

    /// An earlier write failed with an I/O error, so the database refuses further writes.
    #[error(
        "the store hit an I/O error on an earlier write and no longer accepts writes; \
         close every handle and reopen the file (redb rolls back to the last commit)"
    )]
    Poisoned,

    /// The background writer thread is gone (the store was closed).
    #[error("the store's writer thread has stopped; the store was closed")]
    WriterStopped,

    /// The caller passed something the engine cannot store.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// Any other failure reported by redb.
    #[error("database error: {0}")]
    Database(String),
}

impl Error {
    /// Finds the engine error inside a `StoreError` returned by a trait method.
    pub fn from_store_error(err: &StoreError) -> Option<&Error> {
        std::error::Error::source(err).and_then(|s| s.downcast_ref::<Error>())
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn decode(record: &'static str, reason: impl Into<String>) -> Self {
        Error::Decode {
            record,
            reason: reason.into(),
        }
    }
}

impl From<redb::StorageError> for Error {
    fn from(e: redb::StorageError) -> Self {
        match e {
            redb::StorageError::Io(io) => Error::io("accessing the database file", io),
            redb::StorageError::PreviousIo => Error::Poisoned,
            redb::StorageError::ValueTooLarge(n) => too_large(n),
            other => Error::Database(other.to_string()),
        }
    }
}

fn too_large(bytes: usize) -> Error {
    Error::InvalidInput(format!(
        "a key or value of {bytes} bytes is larger than redb can store"
    ))
}

/// redb has one error type per operation; all of them convert into `redb::Error`.
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                match redb::Error::from(e) {
                    redb::Error::Io(io) => Error::io("accessing the database file", io),
                    redb::Error::PreviousIo => Error::Poisoned,
                    redb::Error::ValueTooLarge(n) => too_large(n),
                    other => Error::Database(other.to_string()),
                }
            }
        }
    )*};
}
from_redb!(
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::SetDurabilityError,
    redb::DatabaseError,
    redb::Error
);

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidInput(msg) => StoreError::Validation(msg),
            Error::Decode { .. } => StoreError::Serialization(Box::new(e)),
            Error::NewerFormat { .. } | Error::UnsupportedRedbFormat { .. } => {
                StoreError::Migration(Box::new(e))
            }
            Error::AlreadyOpen { .. } | Error::WriterStopped => StoreError::Connection(Box::new(e)),
            _ => StoreError::Database(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The client sees `StoreError`; which variant an engine error becomes is
    /// part of the contract (a mutation run showed no test pinned it).
    #[test]
    fn engine_errors_become_the_store_error_kind_they_are() {
        let path = || PathBuf::from("s.redb");
        let kind = |e: Error| match StoreError::from(e) {
            StoreError::Validation(_) => "validation",
            StoreError::Serialization(_) => "serialization",
            StoreError::Migration(_) => "migration",
            StoreError::Connection(_) => "connection",
            StoreError::Database(_) => "database",
            _ => "other",
        };
        assert_eq!(kind(Error::InvalidInput("x".into())), "validation");
        assert_eq!(kind(Error::decode("prekey", "truncated")), "serialization");
        let newer = Error::NewerFormat {
            path: path(),
            found: 2,
            supported: 1,
        };
        assert_eq!(kind(newer), "migration");
        let redb = Error::UnsupportedRedbFormat {
            path: path(),
            detail: "v2".into(),
        };
        assert_eq!(kind(redb), "migration");
        assert_eq!(kind(Error::AlreadyOpen { path: path() }), "connection");
        assert_eq!(kind(Error::WriterStopped), "connection");
        assert_eq!(kind(Error::Poisoned), "database");
        assert_eq!(kind(Error::Database("x".into())), "database");
        match StoreError::from(Error::InvalidInput("bad id".into())) {
            StoreError::Validation(message) => assert_eq!(message, "bad id"),
            other => panic!("{other:?}"),
        }
    }
}
