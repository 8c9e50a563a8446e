//! A pure-Rust, durable, transactional storage backend for
//! [whatsapp-rust](https://crates.io/crates/whatsapp-rust) on the embedded
//! database [redb](https://crates.io/crates/redb).
//!
//! [`RedbStore`] implements every `wacore::store::traits` trait, so it is a
//! `Backend`:
//!
//! - **Durable by default.** A write returns after its changes are in the
//!   engine's commit log and the log is `fdatasync`ed
//!   ([`Durability::Immediate`]; the indexed file is checkpointed behind
//!   it). [`Durability::ProcessCrashSafe`] acknowledges once the log write
//!   reached the OS (a SIGKILL loses nothing; a power cut at most
//!   `sync_interval`); [`Durability::Relaxed`] trades a bounded window of
//!   recent writes for speed. See `docs/SEMANTICS.md`.
//! - **One transaction per call.** Every batch method, mutation-MAC batches
//!   of any size included, is all-or-nothing; every read-modify-write
//!   (tc-token merges, `take_sent_message`, message-secret merges) is atomic.
//! - **Group commit.** The requests of concurrent callers share one
//!   transaction, one commit-log record and one fsync. Readers never wait
//!   for writers, and no fsync ever runs on the caller's (async) thread:
//!   dedicated threads sync the log and checkpoint it into redb. The engine
//!   uses no async runtime: it works under tokio, smol or anything else.
//! - **Many accounts per file.** [`RedbStore::for_device`].
//! - **A persistent cache store.** [`RedbCacheStore`] keeps whatsapp-rust's
//!   pluggable caches in the same file, bounded, with expiry.
//! - **Owned, versioned on-disk format.** No wacore serde type is written
//!   positionally; a newer file is refused with [`Error::NewerFormat`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), wacore::store::error::StoreError> {
//! use std::sync::Arc;
//! use wacore::store::traits::Backend;
//! use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};
//!
//! let store = RedbStore::open("whatsapp.redb")?;                      // account 1, fsync per commit
//! let fast = RedbStore::open_with(
//!     "bots.redb",
//!     StoreConfig::default().with_durability(Durability::relaxed()),
//! )?;
//! let backend: Arc<dyn Backend> = Arc::new(store);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod app_sync;
mod cache;
mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
mod device;
mod error;
mod inventory;
mod keys;
mod log;
mod msg_secret;
mod overlay;
pub mod portable;
mod protocol;
mod records;
mod rows;
mod signal;
mod snapshot;
mod store;
mod tables;
mod txn;
mod view;
mod writer;

pub use cache::{DEFAULT_CACHE_BYTES, RedbCacheStore};
pub use config::{Durability, StoreConfig};
pub use error::Error;
pub use inventory::TableUsage;
pub use log::path_for as commit_log_path;
pub use records::{decode_any as decode_record, record_types};
pub use store::RedbStore;
pub use writer::WriterStats;

/// The on-disk format version this build writes and the newest it opens.
pub const FORMAT_VERSION: u64 = tables::FORMAT_VERSION;
