//! `Immediate` mode's sync thread: a reader never sees a write whose log
//! record is not yet synced, a writer reads its own write once answered, a
//! failed sync fails the write and leaves it invisible, writers that
//! arrive together share syncs, and a group slower to write than the sync
//! thread waits for it is still synced.
//!
//! The log is on a backend whose `sync_data` can be held (a slow disk) or
//! made to fail, and whose writes can be slowed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use redb::StorageBackend;
use redb::backends::InMemoryBackend;
use wacore::store::traits::SignalStore;
use whatsapp_rust_redb_storage::{RedbStore, StoreConfig};

/// A log disk in memory whose syncs can be held or failed.
#[derive(Debug, Clone, Default)]
struct HeldDisk {
    inner: Arc<InMemoryBackend>,
    control: Arc<Control>,
}

#[derive(Debug, Default)]
struct Control {
    held: Mutex<bool>,
    released: Condvar,
    fail: AtomicBool,
    syncs: AtomicU64,
    /// Milliseconds each write takes.
    write_ms: AtomicU64,
}

impl HeldDisk {
    fn hold(&self, held: bool) {
        *self.control.held.lock().unwrap_or_else(|e| e.into_inner()) = held;
        self.control.released.notify_all();
    }

    /// Holds syncs until the guard drops (also when an assertion fails, so
    /// a failing test does not hang in the store's close).
    fn held(&self) -> Release {
        self.hold(true);
        Release(self.clone())
    }
}

struct Release(HeldDisk);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.hold(false);
    }
}

impl StorageBackend for HeldDisk {
    fn len(&self) -> std::io::Result<u64> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> std::io::Result<()> {
        let mut held = self.control.held.lock().unwrap();
        while *held {
            held = self.control.released.wait(held).unwrap();
        }
        drop(held);
        self.control.syncs.fetch_add(1, Ordering::SeqCst);
        if self.control.fail.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("injected sync failure"));
        }
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        std::thread::sleep(Duration::from_millis(
            self.control.write_ms.load(Ordering::SeqCst),
        ));
        self.inner.write(offset, data)
    }
}

fn open(log: &HeldDisk) -> RedbStore {
    RedbStore::open_on_backends(InMemoryBackend::new(), log.clone(), StoreConfig::default())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_invisible_until_its_record_is_synced_and_visible_once_answered() {
    let log = HeldDisk::default();
    let store = open(&log);
    store.put_session("before@lid", b"1").await.unwrap();

    let held = log.held();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { store.put_session("held@lid", b"2").await })
    };
    // The group is committed in redb by now; its sync is held.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !writer.is_finished(),
        "answered before its record was synced"
    );
    assert!(
        store.get_session("held@lid").await.unwrap().is_none(),
        "a reader saw a write whose log record is not synced"
    );
    assert!(store.get_session("before@lid").await.unwrap().is_some());

    drop(held);
    writer.await.unwrap().unwrap();
    assert_eq!(
        store.get_session("held@lid").await.unwrap().as_deref(),
        Some(&b"2"[..]),
        "the writer does not read its own write once answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_fails_the_write_and_readers_never_see_it() {
    let log = HeldDisk::default();
    let store = open(&log);
    store.put_session("kept@lid", b"1").await.unwrap();

    log.control.fail.store(true, Ordering::SeqCst);
    let failed = store.put_session("lost@lid", b"2").await;
    assert!(failed.is_err(), "a write whose sync failed was answered Ok");
    assert!(store.get_session("lost@lid").await.unwrap().is_none());
    assert!(store.get_session("kept@lid").await.unwrap().is_some());
    // Poisoned: no later write is acknowledged either.
    log.control.fail.store(false, Ordering::SeqCst);
    assert!(store.put_session("after@lid", b"3").await.is_err());
    assert!(store.get_session("after@lid").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_queued_behind_a_sync_share_the_next_one() {
    let log = HeldDisk::default();
    let store = open(&log);
    store.put_session("warm@lid", b"0").await.unwrap();
    let syncs_before = log.control.syncs.load(Ordering::SeqCst);

    let held = log.held();
    let first = {
        let store = store.clone();
        tokio::spawn(async move { store.put_session("first@lid", b"1").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // 32 writers arrive while the first one's sync is held.
    let rest: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.put_session(&format!("{i}@lid"), b"x").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(held);
    first.await.unwrap().unwrap();
    for writer in rest {
        writer.await.unwrap().unwrap();
    }
    let syncs = log.control.syncs.load(Ordering::SeqCst) - syncs_before;
    assert!(
        syncs <= 3,
        "33 writes took {syncs} syncs: the queued writers did not share one"
    );
    for i in [0, 31] {
        assert!(
            store
                .get_session(&format!("{i}@lid"))
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_slower_to_write_than_the_sync_thread_waits_is_still_synced() {
    // A leader wakes the sync thread when it starts a group; the thread
    // waits a few dozen microseconds for it, then sleeps until it comes.
    let log = HeldDisk::default();
    let store = open(&log);
    store.put_session("warm@lid", b"0").await.unwrap();
    let syncs_before = log.control.syncs.load(Ordering::SeqCst);

    log.control.write_ms.store(20, Ordering::SeqCst);
    for i in 0..3 {
        let key = format!("slow{i}@lid");
        let write = store.put_session(&key, b"1");
        tokio::time::timeout(Duration::from_secs(10), write)
            .await
            .expect("a write whose record was slow to write was never answered")
            .expect("a write whose record was slow to write failed");
    }
    log.control.write_ms.store(0, Ordering::SeqCst);
    let syncs = log.control.syncs.load(Ordering::SeqCst) - syncs_before;
    assert!(syncs >= 3, "3 slow writes answered after {syncs} syncs");
    for i in 0..3 {
        assert!(
            store
                .get_session(&format!("slow{i}@lid"))
                .await
                .unwrap()
                .is_some()
        );
    }
}
