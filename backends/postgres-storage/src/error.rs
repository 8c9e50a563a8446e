//! The store's typed errors and their mapping into wacore's `StoreError`.
//!
//! Trait methods must return `wacore::store::error::StoreError`; each
//! [`Error`] is wrapped into the closest variant with itself kept as the
//! `source()`, so a caller can downcast it back.

use wacore::store::error::StoreError;

/// Everything that can go wrong in the Postgres store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work (a bad schema name, a pool of size 0, ...).
    #[error("invalid Postgres store configuration: {0}")]
    Config(String),

    /// No connection could be made or taken from the pool.
    #[error("cannot get a Postgres connection: {0}")]
    Connect(String),

    /// The server or the driver reported an error for a statement.
    #[error("Postgres error during {context}: {}", with_causes(source))]
    Postgres {
        /// What the store was doing.
        context: &'static str,
        /// The driver's error (`as_db_error()` gives the server's code).
        #[source]
        source: tokio_postgres::Error,
    },

    /// The schema was migrated by a newer release of this crate.
    #[error(
        "schema {schema:?} is at version {found}, this build knows versions up to {supported}; \
         upgrade whatsapp-rust-postgres-storage (or point this build at another schema)"
    )]
    NewerSchema {
        /// The schema that was opened.
        schema: String,
        /// The version recorded in the schema.
        found: i32,
        /// The newest version this build can migrate to.
        supported: i32,
    },

    /// A stored row cannot be turned back into wacore's type.
    #[error("stored {table} row is invalid: {detail}")]
    Decode {
        /// The table the row came from.
        table: &'static str,
        /// What was wrong with it.
        detail: String,
    },

    /// A value cannot be stored (it does not fit the column's type).
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// An error and its causes, `outer: inner: ...` (the driver's own message
/// is often only "db error" or "error performing TLS handshake").
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = inner.source();
    }
    text
}

impl Error {
    pub(crate) fn decode(table: &'static str, detail: impl Into<String>) -> Error {
        Error::Decode {
            table,
            detail: detail.into(),
        }
    }

    /// Whether the error means the connection or the server went away (the
    /// store gets a fresh connection on the next call).
    pub fn is_connection_lost(&self) -> bool {
        match self {
            Error::Connect(_) => true,
            Error::Postgres { source, .. } => source.is_closed() || source.as_db_error().is_none(),
            _ => false,
        }
    }

    /// The store's own error behind a `StoreError`, if it came from this crate.
    pub fn from_store_error(error: &StoreError) -> Option<&Error> {
        std::error::Error::source(error)?.downcast_ref::<Error>()
    }
}

/// Adds what the store was doing to a driver error.
pub(crate) trait Context<T> {
    fn context(self, context: &'static str) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, tokio_postgres::Error> {
    fn context(self, context: &'static str) -> Result<T, Error> {
        self.map_err(|source| Error::Postgres { context, source })
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Config(ref message) => StoreError::InvalidConfig(message.clone()),
            Error::NewerSchema { .. } => StoreError::Migration(Box::new(e)),
            Error::Decode { .. } => StoreError::Serialization(Box::new(e)),
            Error::InvalidInput(ref message) => StoreError::Validation(message.clone()),
            ref lost if lost.is_connection_lost() => StoreError::Connection(Box::new(e)),
            _ => StoreError::Database(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_schema_is_a_migration_error_that_names_both_versions() {
        let e = Error::NewerSchema {
            schema: "bots".into(),
            found: 9,
            supported: 1,
        };
        let text = e.to_string();
        assert!(
            text.contains("version 9") && text.contains("up to 1"),
            "{text}"
        );
        let store: StoreError = e.into();
        assert!(matches!(store, StoreError::Migration(_)), "{store:?}");
        assert!(matches!(
            Error::from_store_error(&store),
            Some(Error::NewerSchema { found: 9, .. })
        ));
    }

    #[test]
    fn a_lost_connection_is_a_connection_error() {
        let store: StoreError = Error::Connect("refused".into()).into();
        assert!(matches!(store, StoreError::Connection(_)), "{store:?}");
    }
}
