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
