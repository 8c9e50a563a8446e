//! Inputs the fuzzers found (`fuzz/regressions/<target>/`), replayed on every
//! test run. Each one once crashed the process; now it must give an error or
//! a working store, never a panic.

use std::path::{Path, PathBuf};

use wacore::store::traits::{AppSyncStore, DeviceStore, ProtocolStore, SignalStore};
use whatsapp_rust_redb_storage::{Error, RedbStore};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// The `open_file` fuzz target's body, on a real file.
#[tokio::test]
async fn damaged_files_the_fuzzer_found_give_errors_not_panics() {
    let files = inputs("open_file");
    assert!(!files.is_empty());
    for input in files {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        std::fs::copy(&input, &path).unwrap();
        match RedbStore::open(&path) {
            // Any typed error is fine (Corrupt, ForeignDatabase, ...).
            Err(e) => assert!(
                Error::from_store_error(&e).is_some(),
                "{}: {e:?}",
                input.display()
            ),
            Ok(store) => {
                let _ = store.load().await;
                let _ = store.get_session("u1@lid").await;
                let _ = store.get_version("regular").await;
                let _ = store.get_all_lid_mappings().await;
                let _ = store.put_session("u1@lid", b"after").await;
                let _ = store.check_integrity();
            }
        }
    }
}
