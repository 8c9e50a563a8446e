//! A whatsapp-rust storage backend on PostgreSQL.
//!
//! [`PostgresStore`] implements every method of wacore 0.7.0's `Backend`
//! (`SignalStore`, `AppSyncStore`, `ProtocolStore`, `MsgSecretStore`,
//! `DeviceStore`) for operators who run many bots against one database:
//!
//! - **Many accounts, many processes.** Every row is keyed by the account's
//!   device id; any number of processes may share a schema.
//! - **Batches are one statement.** Each batch method sends its rows as
//!   arrays (`UNNEST`): one round trip and one atomic statement, whatever
//!   the size.
//! - **Read-modify-writes are one statement.** `take_sent_message` is a
//!   `DELETE .. RETURNING` (exactly one of two racing takers gets the
//!   payload), the trusted-contact token and message-secret merges are
//!   `INSERT .. ON CONFLICT DO UPDATE` with the merge written in SQL.
//! - **Versioned migrations.** Tables are created or migrated on connect,
//!   in one transaction under an advisory lock (two instances starting at
//!   once migrate once); a schema from a newer release is refused with
//!   [`Error::NewerSchema`].
//! - **Any async runtime.** The driver (tokio-postgres) needs tokio for its
//!   sockets; the store runs its connections on one tokio thread of its own,
//!   so it can be awaited from smol, async-std or tokio alike.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use whatsapp_rust_postgres_storage::{PostgresConfig, PostgresStore};
//!
//! let store = PostgresStore::connect(
//!     PostgresConfig::new("postgres://bot@localhost/whatsapp").schema("bots"),
//! )
//! .await?;
//! let backend: Arc<dyn wacore::store::traits::Backend> = Arc::new(store);
//! # Ok(()) }
//! ```
//!
//! Durability is the server's: an acknowledged write is committed, and with
//! the default `synchronous_commit = on` it survives a server crash.

#![warn(missing_docs)]

mod app_sync;
mod config;
mod connect;
mod device;
mod error;
mod msg_secret;
mod protocol;
mod schema;
mod signal;
mod store;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use config::{DEFAULT_SCHEMA, PostgresConfig};
pub use error::Error;
/// The rustls this crate speaks, for [`PostgresConfig::tls`].
pub use rustls;
pub use schema::SCHEMA_VERSION;
pub use store::PostgresStore;
