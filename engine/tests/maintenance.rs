//! Offline maintenance: compaction gives space back and keeps every row.

use wacore::store::traits::SignalStore;
use whatsapp_rust_redb_storage::RedbStore;

#[tokio::test]
async fn compaction_shrinks_a_file_after_deletes_and_keeps_every_live_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let store = RedbStore::open(&path).unwrap();
    let session = vec![0x5a; 4096];
    for i in 0..4000 {
        store
            .put_session(&format!("{i}@s.whatsapp.net"), &session)
            .await
            .unwrap();
    }
    // Closing checkpoints the sessions into the file. Without it, puts and
    // deletes could meet in the overlay before any checkpoint (the whole
    // run under `checkpoint_interval`): the deleted sessions never reach the
    // file and there is nothing to compact (seen in CI: 4.4 MB -> 3.3 MB).
    store.close().await.unwrap();
    let store = RedbStore::open(&path).unwrap();
    for i in 0..4000 {
        if i % 10 != 0 {
            store
                .delete_session(&format!("{i}@s.whatsapp.net"))
                .await
                .unwrap();
        }
    }
    store.close().await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let passes = RedbStore::open(&path).unwrap().compact().unwrap();
    let after = std::fs::metadata(&path).unwrap().len();
    assert!(passes >= 1, "nothing moved");
    assert!(after * 2 < before, "{before} -> {after} bytes");
    let store = RedbStore::open(&path).unwrap();
    for i in (0..4000).step_by(10) {
        let got = store
            .get_session(&format!("{i}@s.whatsapp.net"))
            .await
            .unwrap();
        assert_eq!(got.as_deref(), Some(&session[..]), "session {i}");
    }
    assert!(
        store
            .get_session("1@s.whatsapp.net")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn compaction_needs_the_only_handle() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("s.redb")).unwrap();
    let other = store.for_device(2);
    let err = store.compact().unwrap_err();
    assert!(err.to_string().contains("only handle"), "{err}");
    drop(other);
}

/// A backup taken while a writer goes on holds whole batches only, opens as
/// a store, and equals its source row for row once the writer has stopped.
#[tokio::test]
async fn an_online_backup_is_consistent_and_equals_its_source() {
    use wacore::appstate::processor::AppStateMutationMAC;
    use wacore::store::traits::AppSyncStore;

    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("live.redb")).unwrap();
    let batch = |step: u64| -> Vec<AppStateMutationMAC> {
        (0..100u64)
            .map(|row| AppStateMutationMAC {
                index_mac: [step.to_be_bytes(), row.to_be_bytes()].concat(),
                value_mac: vec![1; 32],
            })
            .collect()
    };
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for step in 0..200u64 {
                store
                    .put_mutation_macs("live", step, &batch(step))
                    .await
                    .unwrap();
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let copy_path = dir.path().join("copy.redb");
    store.backup(&copy_path).await.unwrap();
    assert!(
        store.backup(&copy_path).await.is_err(),
        "an existing target must be refused"
    );
    writer.await.unwrap();

    let copy = RedbStore::open(&copy_path).unwrap();
    let usage = copy.inventory().unwrap();
    let macs = usage
        .iter()
        .find(|u| u.table == "mutation_mac")
        .map_or(0, |u| u.rows);
    assert_eq!(macs % 100, 0, "a torn batch in the backup: {macs} rows");
    copy.close().await.unwrap();

    let later = dir.path().join("later.redb");
    store.backup(&later).await.unwrap();
    let later = RedbStore::open(&later).unwrap();
    assert_eq!(later.inventory().unwrap(), store.inventory().unwrap());
    assert!(
        later
            .inventory()
            .unwrap()
            .iter()
            .any(|u| u.table == "mutation_mac" && u.rows == 20_000)
    );
}
