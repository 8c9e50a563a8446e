//! The redb cache store: what the kit's cache family cannot see from outside
//! one handle (reopen, the byte bound, accounts, the store's own data).

use std::time::Duration;

use wacore::store::cache::CacheStore;
use wacore::store::traits::SignalStore;
use whatsapp_rust_redb_storage::{RedbCacheStore, RedbStore};

#[tokio::test]
async fn entries_and_their_expiry_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.redb");
    {
        let store = RedbStore::open(&path).unwrap();
        let cache = RedbCacheStore::new(&store);
        cache
            .set("group", "120363@g.us", b"metadata", None)
            .await
            .unwrap();
        cache
            .set(
                "group",
                "short@g.us",
                b"v",
                Some(Duration::from_millis(300)),
            )
            .await
            .unwrap();
        cache
            .set(
                "device_registry",
                "1@s.whatsapp.net",
                b"devices",
                Some(Duration::from_secs(3600)),
            )
            .await
            .unwrap();
        store.close().await.unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    let store = RedbStore::open(&path).unwrap();
    let cache = RedbCacheStore::new(&store);
    assert_eq!(
        cache.get("group", "120363@g.us").await.unwrap(),
        Some(b"metadata".to_vec())
    );
    assert_eq!(
        cache
            .get("device_registry", "1@s.whatsapp.net")
            .await
            .unwrap(),
        Some(b"devices".to_vec())
    );
    assert_eq!(
        cache.get("group", "short@g.us").await.unwrap(),
        None,
        "expired across the reopen"
    );
    assert_eq!(cache.entry_count("group").await.unwrap(), 1);
}

#[tokio::test]
async fn the_byte_budget_evicts_the_oldest_written_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("c.redb")).unwrap();
    // Each entry: a 20-byte value plus a key of about 20 bytes.
    let cache = RedbCacheStore::new(&store).with_max_bytes(400);
    for i in 0..30 {
        cache
            .set("group", &format!("{i:04}@g.us"), &[i as u8; 20], None)
            .await
            .unwrap();
    }
    let mut kept = Vec::new();
    for i in 0..30 {
        if cache
            .get("group", &format!("{i:04}@g.us"))
            .await
            .unwrap()
            .is_some()
        {
            kept.push(i);
        }
    }
    assert!(!kept.is_empty() && kept.len() < 30, "kept {kept:?}");
    let first = kept[0];
    assert_eq!(
        kept,
        (first..30).collect::<Vec<_>>(),
        "the newest entries are kept, contiguously"
    );
    // Rewriting an old key makes it the newest.
    cache
        .set("group", &format!("{first:04}@g.us"), b"again", None)
        .await
        .unwrap();
    cache
        .set("group", "new@g.us", &[0; 20], None)
        .await
        .unwrap();
    assert!(
        cache
            .get("group", &format!("{first:04}@g.us"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        cache
            .get("group", &format!("{:04}@g.us", first + 1))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_entry_over_the_budget_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("c.redb")).unwrap();
    let cache = RedbCacheStore::new(&store).with_max_bytes(1000);
    cache.set("group", "kept@g.us", b"v", None).await.unwrap();
    let err = cache
        .set("group", "huge@g.us", &[0; 2000], None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
    assert_eq!(
        cache.get("group", "kept@g.us").await.unwrap(),
        Some(b"v".to_vec())
    );
}

#[tokio::test]
async fn accounts_have_their_own_caches_and_the_store_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("c.redb")).unwrap();
    store
        .put_session("a@s.whatsapp.net", b"session")
        .await
        .unwrap();
    let (one, two) = (
        RedbCacheStore::new(&store),
        RedbCacheStore::new(&store.for_device(2)),
    );
    one.set("group", "g@g.us", b"one", None).await.unwrap();
    two.set("group", "g@g.us", b"two", None).await.unwrap();
    two.clear("group").await.unwrap();
    assert_eq!(
        one.get("group", "g@g.us").await.unwrap(),
        Some(b"one".to_vec())
    );
    assert_eq!(two.get("group", "g@g.us").await.unwrap(), None);
    assert_eq!(
        store
            .get_session("a@s.whatsapp.net")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"session"[..])
    );
}
