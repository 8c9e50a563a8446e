//! Writes the seed corpora of the fuzz targets in `fuzz/corpus/` (run on
//! demand; the seeds are committed):
//!
//! ```text
//! cargo test -p whatsapp-rust-conformance --test fuzz_seeds -- --ignored
//! ```
//!
//! - `open_file`: a small store (the small step kinds of the fault workload
//!   and a session), and that file cut at several lengths;
//! - `decode_record`: every value of every table of that store, each led by
//!   a byte that picks a record type;
//! - `model_ops_*`: seeded pseudo-random byte strings (libFuzzer's
//!   `arbitrary` input; any bytes make a sequence).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{ReadableDatabase, ReadableTable, TableHandle};
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::storage::crash::Rng;
use whatsapp_rust_conformance::storage::faults::{STEP_KINDS, run_step};
use whatsapp_rust_redb_storage::{RedbStore, record_types};

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
#[ignore = "writes fuzz/corpus; run on demand"]
async fn write_fuzz_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("seed.redb");
    let store = RedbStore::open(&path).unwrap();
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    // Steps 1, 5, 7, 8, 12, 15: the small kinds (device, signed prekey, sync
    // key, version, base key, tc token) keep the file small for libFuzzer.
    for step in 1..=STEP_KINDS.len() as u64 {
        if [1, 5, 7, 8, 12, 15].contains(&step) {
            run_step(&backend, step).await.unwrap();
        }
    }
    backend.put_session("u1@lid", b"session").await.unwrap();
    drop(backend);
    store.close().await.unwrap();
    let file = std::fs::read(&path).unwrap();

    let dir = corpus("open_file");
    std::fs::write(dir.join("store"), &file).unwrap();
    for cut in [0, 9, 256, 4096, 8192, 65536, file.len() / 2, file.len() - 1] {
        std::fs::write(
            dir.join(format!("store-cut-{cut}")),
            &file[..cut.min(file.len())],
        )
        .unwrap();
    }

    let dir = corpus("decode_record");
    let types = record_types().count();
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_read().unwrap();
    let mut n = 0usize;
    for handle in txn.list_tables().unwrap() {
        if handle.name() == "meta" {
            continue;
        }
        let table = txn
            .open_table(redb::TableDefinition::<&[u8], &[u8]>::new(handle.name()))
            .unwrap();
        // A few values per table, each tried as every record type.
        for entry in table.iter().unwrap().take(2) {
            let (_, value) = entry.unwrap();
            for pick in 0..types {
                let mut seed = vec![pick as u8];
                seed.extend_from_slice(value.value());
                std::fs::write(dir.join(format!("{}-{n}-{pick}", handle.name())), seed).unwrap();
            }
            n += 1;
        }
    }

    let mut rng = Rng::new(20261124);
    for target in ["model_ops_redb", "model_ops_memory"] {
        let dir = corpus(target);
        for i in 0..16 {
            let len = 16 + rng.below(512) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            std::fs::write(dir.join(format!("random-{i}")), bytes).unwrap();
        }
    }
}
