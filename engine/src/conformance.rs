//! The kit's storage factory for this engine (feature `conformance`): fresh
//! stores in temporary directories, with every capability the kit knows,
//! so `whatsapp-rust-conformance` runs its whole storage suite on the
//! engine. The engine's own tests run it (`tests/conformance.rs`), and so
//! does our lab's CLI.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tempfile::TempDir;
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::storage::{
    Capabilities, Factory, Instance, MessageTs, PrekeyBatchOrder, SetupError,
};

use crate::{Durability, RedbStore, StoreConfig};

/// Fresh engines in the default configuration (fsync before every ack),
/// each in a temporary directory removed at teardown.
pub struct RedbFactory;

/// Fresh engines in another durability mode, named for reports: what the
/// lab's `redb-pcs` (process-crash-safe) and `redb-relaxed` targets run.
pub struct RedbModeFactory {
    name: &'static str,
    config: StoreConfig,
}

impl RedbModeFactory {
    /// Stores with `durability` (otherwise the default configuration),
    /// reported as `name`.
    pub fn new(name: &'static str, durability: Durability) -> RedbModeFactory {
        RedbModeFactory {
            name,
            config: StoreConfig::default().with_durability(durability),
        }
    }

    /// Stores opened with `config`, reported as `name`.
    pub fn with_config(name: &'static str, config: StoreConfig) -> RedbModeFactory {
        RedbModeFactory { name, config }
    }

    /// The configuration its stores open with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }
}

struct RedbInstance {
    dir: TempDir,
    store: Option<RedbStore>,
    config: StoreConfig,
}

/// What a store in `config` claims: everything, and process-crash safety
/// unless it is relaxed (which acknowledges before the OS has the data).
fn capabilities(config: &StoreConfig) -> Capabilities {
    Capabilities::all()
        .message_ts(MessageTs::Stored)
        .prekey_batch_order(PrekeyBatchOrder::RequestOrderOnce)
        .process_crash_safe(config.durability.logs())
}

async fn open_instance(config: &StoreConfig) -> Result<Box<dyn Instance>, SetupError> {
    let dir = tempfile::tempdir()?;
    let store = RedbStore::open_with(dir.path().join("store.redb"), config.clone())?;
    Ok(Box::new(RedbInstance {
        dir,
        store: Some(store),
        config: config.clone(),
    }))
}

#[async_trait]
impl Factory for RedbModeFactory {
    fn name(&self) -> &str {
        self.name
    }
    fn capabilities(&self) -> Capabilities {
        capabilities(&self.config)
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        open_instance(&self.config).await
    }
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
        capabilities(&StoreConfig::default())
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        open_instance(&StoreConfig::default()).await
    }
}

#[async_trait]
impl Instance for RedbInstance {
    fn store(&self) -> Arc<dyn Backend> {
        Arc::new(self.handle().clone())
    }
    async fn reopen(&mut self) -> Result<(), SetupError> {
        if let Some(store) = self.store.take() {
            store.close().await?;
        }
        self.store = Some(RedbStore::open_with(self.path(), self.config.clone())?);
        Ok(())
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, SetupError> {
        Ok(Arc::new(self.handle().for_device(device_id)))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, SetupError> {
        let store = self.handle();
        Ok(Arc::new(store.for_device(store.device_id())))
    }
    /// Flushes and closes the file before its directory is removed.
    async fn teardown(self: Box<Self>) -> Result<(), SetupError> {
        let RedbInstance { dir, store, .. } = *self;
        if let Some(store) = store {
            store.close().await?;
        }
        drop(dir);
        Ok(())
    }
}
