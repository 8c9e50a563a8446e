//! Factories for the embedded default (our redb engine) and the two bundled
//! references, with their declared deviations. `SqliteStore` compiles SQLite
//! (C), which is why these live in the lab and not in the kit.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tempfile::TempDir;
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::Expectations;
use whatsapp_rust_conformance::storage::{
    Capabilities, Factory, Instance, MessageTs, PrekeyBatchOrder, SetupError, in_memory,
};
use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};
use whatsapp_rust_sqlite_storage::SqliteStore;

/// The environment variable that sets the redb references'
/// `StoreConfig::checkpoint_bytes` (default: the engine's). Small values
/// make the commit log checkpoint and wrap every few writes: a crash
/// campaign of the ring, `CONFORMANCE_REDB_CHECKPOINT_BYTES=16384 cargo
/// conformance crash --backend redb,redb-pcs` (`docs/RELIABILITY.md`).
/// Crash children inherit it.
pub const CHECKPOINT_BYTES_VAR: &str = "CONFORMANCE_REDB_CHECKPOINT_BYTES";

/// [`CHECKPOINT_BYTES_VAR`], if set to a number of bytes (at least 1).
fn checkpoint_bytes_override() -> Option<u64> {
    let value = std::env::var(CHECKPOINT_BYTES_VAR).ok()?;
    match value.trim().parse::<u64>() {
        Ok(bytes) if bytes > 0 => Some(bytes),
        _ => {
            eprintln!("{CHECKPOINT_BYTES_VAR}={value:?} is not a number of bytes; ignored");
            None
        }
    }
}

/// A backend the lab knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reference {
    /// Our redb engine, default configuration (fsync before every ack).
    Redb,
    /// Our redb engine, process-crash-safe (acknowledged once the commit
    /// log has the write in the OS cache; synced every 100 ms).
    RedbPcs,
    /// Our redb engine, relaxed (no log; flushed every second).
    RedbRelaxed,
    /// `SqliteStore` 0.7.0, default configuration.
    Sqlite,
    /// wacore's `InMemoryBackend`.
    Memory,
}

impl Reference {
    /// Every reference, in report order.
    pub const ALL: [Reference; 5] = [
        Reference::Redb,
        Reference::RedbPcs,
        Reference::RedbRelaxed,
        Reference::Sqlite,
        Reference::Memory,
    ];

    /// The name in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Reference::Redb => "redb",
            Reference::RedbPcs => "redb-pcs",
            Reference::RedbRelaxed => "redb-relaxed",
            Reference::Sqlite => "sqlite",
            Reference::Memory => "memory",
        }
    }

    /// The reference named `name`.
    pub fn from_name(name: &str) -> Option<Reference> {
        Reference::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether its data survives a reopen (crash campaigns need that).
    pub fn is_persistent(self) -> bool {
        self != Reference::Memory
    }

    /// Whether it needs a tokio runtime (`SqliteStore` calls `spawn_blocking`).
    pub fn needs_tokio(self) -> bool {
        self == Reference::Sqlite
    }

    /// A factory of fresh stores.
    pub fn factory(self) -> Box<dyn Factory> {
        match self {
            Reference::Redb | Reference::RedbPcs | Reference::RedbRelaxed => {
                Box::new(self.mode_factory())
            }
            Reference::Sqlite => Box::new(SqliteFactory),
            Reference::Memory => Box::new(in_memory::factory()),
        }
    }

    /// The engine in this reference's durability mode (redb modes only;
    /// `redb` is the default configuration, as `RedbFactory` opens it),
    /// with [`CHECKPOINT_BYTES_VAR`] applied.
    fn mode_factory(self) -> RedbModeFactory {
        let durability = match self {
            Reference::Redb => Durability::Immediate,
            Reference::RedbRelaxed => Durability::relaxed(),
            _ => Durability::process_crash_safe(),
        };
        let mut config = StoreConfig::default().with_durability(durability);
        if let Some(bytes) = checkpoint_bytes_override() {
            let interval = config.checkpoint_interval;
            config = config.with_checkpoints(bytes, interval);
        }
        RedbModeFactory::with_config(self.name(), config)
    }

    /// Its declared deviations.
    pub fn expectations(self) -> Expectations {
        match self {
            Reference::Redb | Reference::RedbPcs | Reference::RedbRelaxed => Expectations::none(),
            Reference::Sqlite => sqlite_expectations(),
            Reference::Memory => in_memory::expectations(),
        }
    }

    /// Opens the store at `path` (persistent references only): the crash
    /// campaign's parent and child both open it this way.
    pub async fn open_at(self, path: &Path) -> Result<Arc<dyn Backend>, SetupError> {
        match self {
            Reference::Redb | Reference::RedbPcs | Reference::RedbRelaxed => Ok(Arc::new(
                RedbStore::open_with(path, self.mode_factory().config().clone())?,
            )),
            Reference::Sqlite => Ok(Arc::new(SqliteStore::new(&path.to_string_lossy()).await?)),
            Reference::Memory => Err(SetupError::Unsupported("a path (it is not persistent)")),
        }
    }
}

/// The redb engine, default configuration (fsync before every ack): the
/// engine's own factory (feature `conformance`).
pub use whatsapp_rust_redb_storage::conformance::{RedbFactory, RedbModeFactory};

/// `SqliteStore` with its default configuration (WAL, synchronous=NORMAL).
pub struct SqliteFactory;

struct SqliteInstance {
    dir: TempDir,
    store: Arc<dyn Backend>,
}

impl SqliteInstance {
    fn url(&self) -> String {
        self.dir
            .path()
            .join("store.db")
            .to_string_lossy()
            .into_owned()
    }
}

#[async_trait]
impl Factory for SqliteFactory {
    fn name(&self) -> &str {
        "sqlite"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
            .message_ts(MessageTs::Stored)
            .prekey_batch_order(PrekeyBatchOrder::SortedOnce)
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        let dir = tempfile::tempdir()?;
        let url = dir.path().join("store.db").to_string_lossy().into_owned();
        let store = SqliteStore::new(&url).await?;
        Ok(Box::new(SqliteInstance {
            dir,
            store: Arc::new(store),
        }))
    }
}

#[async_trait]
impl Instance for SqliteInstance {
    fn store(&self) -> Arc<dyn Backend> {
        self.store.clone()
    }
    async fn reopen(&mut self) -> Result<(), SetupError> {
        self.store = Arc::new(SqliteStore::new(&self.url()).await?);
        Ok(())
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, SetupError> {
        Ok(Arc::new(
            SqliteStore::new_for_device(&self.url(), device_id).await?,
        ))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, SetupError> {
        Ok(Arc::new(SqliteStore::new(&self.url()).await?))
    }
}

/// Deviations of `SqliteStore` 0.7.0, each a known defect.
pub fn sqlite_expectations() -> Expectations {
    Expectations::none()
        .expect_failure(
            "signal::has_signal_state_matches_exactly",
            "SqliteStore 0.7.0 matches users with LIKE: '_' and '%' are wildcards and case is folded",
        )
        .expect_failure(
            "signal::prekey_ids_above_i32_max",
            "SqliteStore 0.7.0 stores prekey ids as i32: ids >= 2^31 turn negative, so get_max_prekey_id misses them",
        )
        .expect_failure(
            "protocol::device_list_timestamps_are_i64",
            "SqliteStore 0.7.0 stores DeviceListRecord.timestamp as i32: 1_700_000_000_000 reads back as -807049216",
        )
        .expect_failure(
            "app_sync::mutation_mac_batches_are_never_seen_half_written",
            "SqliteStore 0.7.0 commits put_mutation_macs every 100 rows (delete_mutation_macs every 500): another connection, or a crash, sees half a batch",
        )
}
