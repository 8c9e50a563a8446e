//! Shared set-up for the engine's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use tempfile::TempDir;
use whatsapp_rust_redb_storage::{RedbStore, StoreConfig};

/// A store on a fresh file in a temporary directory (removed on drop).
pub struct TestStore {
    pub store: RedbStore,
    pub dir: TempDir,
}

impl TestStore {
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("store.redb")
    }
}

pub fn fresh() -> TestStore {
    fresh_with(StoreConfig::default())
}

pub fn fresh_with(config: StoreConfig) -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RedbStore::open_with(dir.path().join("store.redb"), config).expect("open");
    TestStore { store, dir }
}
