//! Factories for the embedded default (our redb engine) and the two bundled
//! references, with their declared deviations. Behind the `references`
//! feature: `SqliteStore` compiles SQLite (C), which third parties need not.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tempfile::TempDir;
use wacore::store::InMemoryBackend;
use wacore::store::traits::Backend;
use whatsapp_rust_redb_storage::RedbStore;
use whatsapp_rust_sqlite_storage::SqliteStore;

use crate::{Capabilities, Expectations, Factory, Instance, SimpleFactory};

/// The backends the CLI knows, in `--backend all` order.
pub const BACKENDS: &[&str] = &["redb", "sqlite", "memory"];

/// The factory and declared expectations of a named reference backend.
pub fn backend(name: &str) -> Option<(Box<dyn Factory>, Expectations)> {
    match name {
        "redb" => Some((Box::new(RedbFactory), Expectations::none())),
        "sqlite" => Some((Box::new(SqliteFactory), sqlite_expectations())),
        "memory" => Some((Box::new(memory_factory()), memory_expectations())),
        _ => None,
    }
}

/// The redb engine, default configuration (fsync before every ack).
pub struct RedbFactory;

struct RedbInstance {
    dir: TempDir,
    store: Option<RedbStore>,
}

impl RedbInstance {
    fn path(&self) -> PathBuf {
        self.dir.path().join("store.redb")
    }
    fn handle(&self) -> &RedbStore {
        self.store.as_ref().expect("store is open between reopens")
    }
}

#[async_trait]
impl Factory for RedbFactory {
    fn name(&self) -> &str {
        "redb"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let store = RedbStore::open(dir.path().join("store.redb")).map_err(|e| e.to_string())?;
        Ok(Box::new(RedbInstance {
            dir,
            store: Some(store),
        }))
    }
}

#[async_trait]
impl Instance for RedbInstance {
    fn store(&self) -> Arc<dyn Backend> {
        Arc::new(self.handle().clone())
    }
    async fn reopen(&mut self) -> Result<(), String> {
        if let Some(store) = self.store.take() {
            store.close().await.map_err(|e| e.to_string())?;
        }
        self.store = Some(RedbStore::open(self.path()).map_err(|e| e.to_string())?);
        Ok(())
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, String> {
        Ok(Arc::new(self.handle().for_device(device_id)))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, String> {
        let store = self.handle();
        Ok(Arc::new(store.for_device(store.device_id())))
    }
}

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
    }
    async fn open(&self) -> Result<Box<dyn Instance>, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let url = dir.path().join("store.db").to_string_lossy().into_owned();
        let store = SqliteStore::new(&url).await.map_err(|e| e.to_string())?;
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
    async fn reopen(&mut self) -> Result<(), String> {
        self.store = Arc::new(
            SqliteStore::new(&self.url())
                .await
                .map_err(|e| e.to_string())?,
        );
        Ok(())
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, String> {
        let store = SqliteStore::new_for_device(&self.url(), device_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(store))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, String> {
        Ok(Arc::new(
            SqliteStore::new(&self.url())
                .await
                .map_err(|e| e.to_string())?,
        ))
    }
}

/// `InMemoryBackend`: one account, not persistent, with the pending-inbound
/// buffer and group metadata.
pub fn memory_factory() -> SimpleFactory {
    SimpleFactory::new(
        "memory",
        Capabilities::none()
            .pending_inbound(true)
            .group_metadata(true),
        || async { Ok(Arc::new(InMemoryBackend::new()) as Arc<dyn Backend>) },
    )
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

/// Deviations of `InMemoryBackend` 0.7.0.
pub fn memory_expectations() -> Expectations {
    Expectations::none().expect_failure(
        "protocol::pn_mapping_after_a_remap",
        "InMemoryBackend 0.7.0 keeps one reverse entry per phone and deletes it when a LID of that phone is remapped, so the phone's other LIDs are no longer found (found by the model-based tests)",
    )
}

/// Opens the store of a crash-check child at `path` (`redb` or `sqlite`).
pub async fn open_at(backend: &str, path: &std::path::Path) -> Result<Arc<dyn Backend>, String> {
    match backend {
        "redb" => {
            Ok(Arc::new(RedbStore::open(path).map_err(|e| {
                format!("{e}: {:?}", std::error::Error::source(&e))
            })?))
        }
        "sqlite" => Ok(Arc::new(
            SqliteStore::new(&path.to_string_lossy())
                .await
                .map_err(|e| e.to_string())?,
        )),
        other => Err(format!("{other} is not a persistent reference backend")),
    }
}
