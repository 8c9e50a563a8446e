//! Process-crash-safe mode commits into an in-memory overlay that the
//! writer thread checkpoints into redb in the background. With checkpoints
//! forced every few kilobytes: writers running concurrently with those
//! checkpoints read their own writes, a backup taken meanwhile holds every
//! write acknowledged before it, and a reopened store holds every write.

use std::sync::Arc;
use std::time::Duration;

use wacore::store::traits::SignalStore;
use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};

const WRITERS: u32 = 8;
const WRITES: u32 = 250;

fn value(writer: u32, i: u32) -> Vec<u8> {
    let mut v = vec![writer as u8; 200];
    v[..4].copy_from_slice(&i.to_be_bytes());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_background_checkpoints_backups_and_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pcs.redb");
    let config = StoreConfig::default()
        .with_durability(Durability::process_crash_safe())
        .with_checkpoints(16 << 10, Duration::from_secs(3600));
    let store = RedbStore::open_with(&path, config).unwrap();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..WRITES {
                    let address = format!("{w}-{}@lid", i % 100);
                    store.put_session(&address, &value(w, i)).await.unwrap();
                    let read = store.get_session(&address).await.unwrap();
                    assert_eq!(read.as_deref(), Some(&value(w, i)[..]), "{address} at {i}");
                    if i % 7 == 0 {
                        store
                            .delete_session(&format!("{w}-gone@lid"))
                            .await
                            .unwrap();
                    } else {
                        store
                            .put_session(&format!("{w}-gone@lid"), b"x")
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    // A backup while the writers and checkpoints run.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let marker = "backup-marker@lid";
    store
        .put_session(marker, b"before the backup")
        .await
        .unwrap();
    let backup = dir.path().join("backup.redb");
    store.backup(&backup).await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let stats = store.writer_stats();
    assert!(stats.checkpoints >= 3, "checkpoints did not run: {stats:?}");

    let check = |store: Arc<RedbStore>| async move {
        for w in 0..WRITERS {
            for slot in 0..100 {
                let last = (0..WRITES).rev().find(|i| i % 100 == slot).unwrap();
                let got = store.get_session(&format!("{w}-{slot}@lid")).await.unwrap();
                assert_eq!(got.as_deref(), Some(&value(w, last)[..]), "{w}-{slot}");
            }
            // The last write of each writer's churned key was a put.
            let churned = store.get_session(&format!("{w}-gone@lid")).await.unwrap();
            assert_eq!(churned.as_deref(), Some(&b"x"[..]));
        }
    };
    check(Arc::new(store.clone())).await;
    store.close().await.unwrap();
    let reopened = RedbStore::open(&path).unwrap();
    check(Arc::new(reopened.clone())).await;
    assert!(reopened.get_session(marker).await.unwrap().is_some());

    let copy = RedbStore::open(&backup).unwrap();
    assert_eq!(
        copy.get_session(marker).await.unwrap().as_deref(),
        Some(&b"before the backup"[..]),
        "the backup lacks a write acknowledged before it"
    );
}
