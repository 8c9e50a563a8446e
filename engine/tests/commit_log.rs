//! The commit log through real files: what a crash leaves (the store file at
//! its last checkpoint, the log holding everything since) opens with every
//! acknowledged write, in both log modes; a clean close leaves nothing to
//! replay; a log of a newer format or a foreign file at the log's path is
//! refused, untouched; process-crash-safe mode needs a log.

use std::path::Path;
use std::time::Duration;

use wacore::store::traits::{AppSyncStore, SignalStore};
use whatsapp_rust_redb_storage::{Durability, Error, RedbStore, StoreConfig, commit_log_path};

/// Copies the store and its log while the store is open: a crash image.
fn crash_copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    std::fs::copy(commit_log_path(from), commit_log_path(to)).unwrap();
}

fn no_checkpoints(durability: Durability) -> StoreConfig {
    StoreConfig::default()
        .with_durability(durability)
        .with_checkpoints(u64::MAX, Duration::from_secs(3600))
}

#[tokio::test]
async fn a_crash_image_reopens_with_every_acknowledged_write_in_both_log_modes() {
    for durability in [Durability::Immediate, Durability::process_crash_safe()] {
        let dir = tempfile::tempdir().unwrap();
        let (live, copy) = (dir.path().join("live.redb"), dir.path().join("copy.redb"));
        let store = RedbStore::open_with(&live, no_checkpoints(durability)).unwrap();
        for i in 0..300u32 {
            store
                .put_session(&format!("{i}@lid"), &i.to_be_bytes())
                .await
                .unwrap();
        }
        store.delete_session("7@lid").await.unwrap();
        store
            .set_version("regular", Default::default())
            .await
            .unwrap();
        let stats = store.writer_stats();
        assert_eq!(stats.checkpoints, 0, "{durability:?}: {stats:?}");
        crash_copy(&live, &copy);
        drop(store);

        let recovered = RedbStore::open(&copy).unwrap();
        for i in [0u32, 150, 299] {
            let got = recovered.get_session(&format!("{i}@lid")).await.unwrap();
            assert_eq!(
                got.as_deref(),
                Some(&i.to_be_bytes()[..]),
                "{durability:?} {i}"
            );
        }
        assert!(recovered.get_session("7@lid").await.unwrap().is_none());
        recovered.close().await.unwrap();
        // The replay was checkpointed: the same files reopen with it.
        let again = RedbStore::open(&copy).unwrap();
        assert!(again.get_session("299@lid").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn without_the_log_a_crash_image_has_only_the_last_checkpoint() {
    // The control: the redb file alone lacks the writes since the last
    // checkpoint, so the test above proves the replay.
    let dir = tempfile::tempdir().unwrap();
    let (live, copy) = (dir.path().join("live.redb"), dir.path().join("copy.redb"));
    let store = RedbStore::open_with(&live, no_checkpoints(Durability::Immediate)).unwrap();
    store.put_session("a@lid", b"x").await.unwrap();
    std::fs::copy(&live, &copy).unwrap();
    drop(store);
    let alone = RedbStore::open(&copy).unwrap();
    assert!(alone.get_session("a@lid").await.unwrap().is_none());
}

#[tokio::test]
async fn a_newer_or_foreign_log_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let store = RedbStore::open(&path).unwrap();
    store.put_session("a@lid", b"x").await.unwrap();
    store.close().await.unwrap();

    let mut log = std::fs::read(commit_log_path(&path)).unwrap();
    log[8] = 9; // format version 9
    std::fs::write(commit_log_path(&path), &log).unwrap();
    let err = RedbStore::open(&path).expect_err("a newer log is refused");
    let engine = Error::from_store_error(&err).unwrap();
    assert!(
        matches!(engine, Error::NewerLogFormat { found: 9, .. }),
        "{engine}"
    );
    assert!(engine.to_string().contains("upgrade"), "{engine}");
    assert_eq!(
        std::fs::read(commit_log_path(&path)).unwrap(),
        log,
        "left untouched"
    );

    let foreign = b"SQLite format 3\0 and so on".to_vec();
    std::fs::write(commit_log_path(&path), &foreign).unwrap();
    let err = RedbStore::open(&path).expect_err("a foreign file is refused");
    assert!(matches!(
        Error::from_store_error(&err),
        Some(Error::ForeignLog { .. })
    ));
    assert_eq!(std::fs::read(commit_log_path(&path)).unwrap(), foreign);
}

#[tokio::test]
async fn process_crash_safe_mode_needs_a_log() {
    let err = RedbStore::open_on_backend(
        redb::backends::InMemoryBackend::new(),
        StoreConfig::default().with_durability(Durability::process_crash_safe()),
    )
    .expect_err("no log to write");
    match err {
        wacore::store::error::StoreError::Validation(why) => {
            assert!(why.contains("commit log"), "{why}")
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_backup_put_in_place_of_the_store_ignores_the_log_left_beside_it() {
    // Restore: the backup replaces the file, the old log stays. Its records
    // (writes made after the backup) must not be replayed into the backup.
    let dir = tempfile::tempdir().unwrap();
    let (path, backup) = (dir.path().join("s.redb"), dir.path().join("b.redb"));
    let store = RedbStore::open_with(&path, no_checkpoints(Durability::Immediate)).unwrap();
    store.put_session("a@lid", b"before").await.unwrap();
    store.backup(&backup).await.unwrap();
    store.put_session("a@lid", b"after").await.unwrap();
    // A crash: the log holds "after", the file is at its last checkpoint.
    let image = dir.path().join("image.redb");
    crash_copy(&path, &image);
    drop(store);
    std::fs::copy(&backup, &image).unwrap();

    let restored = RedbStore::open(&image).unwrap();
    assert_eq!(
        restored.get_session("a@lid").await.unwrap().as_deref(),
        Some(&b"before"[..])
    );
    let set_aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("image.redb-log.stale-")
        })
        .count();
    assert_eq!(set_aside, 1, "the old log is kept aside, not deleted");
}
