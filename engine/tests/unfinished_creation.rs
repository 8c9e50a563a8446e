//! Opening a file whose creation never finished (engine/src/store.rs,
//! `is_unfinished_creation`). Regression: a fault during a store's very first open (before redb
//! wrote its magic number) left a store redb refused forever as "not a
//! redb database", although it never held data. Found by the lab's fault sweep
//! (io-error(write) #1 and #2, power-loss(write) #2, ...).

use std::sync::Arc;

use wacore::store::traits::{Backend, SignalStore};
use whatsapp_rust_redb_simdisk::{Fault, OpKind, SimulatedDisk};
use whatsapp_rust_redb_storage::{Error, RedbStore, StoreConfig};

/// The bytes a creation that failed at its `nth` write leaves behind.
fn unfinished(nth: u64) -> Vec<u8> {
    let disk = SimulatedDisk::new();
    disk.arm(Fault::IoError {
        op: OpKind::Write,
        nth,
    });
    assert!(RedbStore::open_on_backend(disk.clone(), StoreConfig::default()).is_err());
    let bytes = disk.current_bytes();
    assert!(
        bytes.len() >= 256 && bytes[..9].iter().all(|b| *b == 0),
        "no magic yet"
    );
    bytes
}

#[tokio::test]
async fn an_unfinished_backend_is_created_again() {
    for nth in [1, 2] {
        let disk = SimulatedDisk::from_bytes(unfinished(nth));
        let store = RedbStore::open_on_backend(disk, StoreConfig::default())
            .expect("an unfinished creation is redone");
        let backend: Arc<dyn Backend> = Arc::new(store);
        backend.put_session("a@lid", b"s").await.unwrap();
        assert_eq!(
            backend.get_session("a@lid").await.unwrap().as_deref(),
            Some(&b"s"[..])
        );
    }
}

#[tokio::test]
async fn an_unfinished_file_is_set_aside_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let bytes = unfinished(2);
    std::fs::write(&path, &bytes).unwrap();
    let store = RedbStore::open(&path).expect("an unfinished creation is redone");
    store.put_session("a@lid", b"s").await.unwrap();
    store.close().await.unwrap();
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("store.redb.unfinished-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(dir.path().join(&aside[0])).unwrap(), bytes);
    assert!(
        RedbStore::open(&path)
            .unwrap()
            .get_session("a@lid")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_store_with_data_and_a_zeroed_magic_is_refused_not_reset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = RedbStore::open(&path).unwrap();
    store.put_session("a@lid", b"s").await.unwrap();
    store.close().await.unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..9].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let err = RedbStore::open(&path).expect_err("a damaged file is refused");
    assert!(
        matches!(Error::from_store_error(&err), Some(Error::Corrupt { .. })),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "left untouched");
    // Nothing set aside: only the store and its commit log.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["store.redb", "store.redb-log"]);
}
