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

use crate::RedbStore;

/// Fresh engines in the default configuration (fsync before every ack),
/// each in a temporary directory removed at teardown.
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
            .message_ts(MessageTs::Stored)
            .prekey_batch_order(PrekeyBatchOrder::RequestOrderOnce)
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        let dir = tempfile::tempdir()?;
        let store = RedbStore::open(dir.path().join("store.redb"))?;
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
    async fn reopen(&mut self) -> Result<(), SetupError> {
        if let Some(store) = self.store.take() {
            store.close().await?;
        }
        self.store = Some(RedbStore::open(self.path())?);
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
        let RedbInstance { dir, store } = *self;
        if let Some(store) = store {
            store.close().await?;
        }
        drop(dir);
        Ok(())
    }
}
