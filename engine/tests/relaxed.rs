//! The relaxed mode's direct path: a caller that finds the write gate free
//! commits its own request (no thread hop); the flush timer still covers it.
//! (Failing and panicking direct requests: `writer.rs` unit tests.)

use std::time::Duration;

use wacore::store::traits::SignalStore;
use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};

fn relaxed(path: &std::path::Path, flush_interval: Duration) -> RedbStore {
    RedbStore::open_with(
        path,
        StoreConfig::default().with_durability(Durability::Relaxed { flush_interval }),
    )
    .unwrap()
}

#[tokio::test]
async fn a_direct_write_is_visible_at_once_and_flushed_by_the_timer() {
    let dir = tempfile::tempdir().unwrap();
    let store = relaxed(&dir.path().join("r.redb"), Duration::from_millis(50));
    store.put_session("a@lid", b"1").await.unwrap();
    assert_eq!(
        store.get_session("a@lid").await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    let stats = store.writer_stats();
    assert_eq!((stats.requests_committed, stats.commits), (1, 1));
    // Nothing else happens: only the timer can flush the direct commit.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.writer_stats().flushes == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the direct commit was never flushed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_relaxed_writers_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.redb");
    let store = relaxed(&path, Duration::from_secs(1));
    let tasks: Vec<_> = (0..64)
        .map(|t| {
            let s = store.clone();
            tokio::spawn(async move {
                for i in 0..50 {
                    s.put_session(&format!("{t}-{i}@lid"), b"v").await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let stats = store.writer_stats();
    assert_eq!(stats.requests_committed, 64 * 50);
    store.close().await.unwrap();
    let reopened = RedbStore::open(&path).unwrap();
    for t in 0..64 {
        for i in 0..50 {
            assert!(
                reopened
                    .get_session(&format!("{t}-{i}@lid"))
                    .await
                    .unwrap()
                    .is_some()
            );
        }
    }
}

/// The loss bound under steady load: while eight writers keep the store
/// committing, the flush timer still fires every `flush_interval`, not only
/// once the writes stop (a mutant that restarted the clock at each group
/// commit survived every other test). The writers stop once they have seen
/// three flushes; a slow disk only makes that take longer, up to 20 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_writes_are_flushed_every_interval_not_only_when_they_stop() {
    let dir = tempfile::tempdir().unwrap();
    let store = relaxed(&dir.path().join("r.redb"), Duration::from_millis(40));
    let start = std::time::Instant::now();
    let give_up = Duration::from_secs(20);
    let writers = (0..8).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut i = 0u32;
            while store.writer_stats().flushes < 3 {
                if start.elapsed() > give_up {
                    return false;
                }
                store
                    .put_session(&format!("{w}-{i}@lid"), b"s")
                    .await
                    .unwrap();
                i += 1;
            }
            true
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        assert!(
            writer.await.unwrap(),
            "fewer than 3 flushes in {give_up:?} of steady writes with a 40 ms interval ({} in all)",
            store.writer_stats().flushes
        );
    }
}

/// `flush` makes relaxed writes durable now, not at the next tick.
#[tokio::test]
async fn flush_flushes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = relaxed(&dir.path().join("r.redb"), Duration::from_secs(3600));
    store.put_session("a@lid", b"1").await.unwrap();
    assert_eq!(
        store.writer_stats().flushes,
        0,
        "the hour-long timer has not fired"
    );
    store.flush().await.unwrap();
    assert_eq!(store.writer_stats().flushes, 1);
}

/// `close` reports the failure of its final flush (dropping a store cannot).
#[tokio::test]
async fn close_reports_a_failed_final_flush() {
    use whatsapp_rust_redb_simdisk::{Fault, OpKind, SimulatedDisk};
    let disk = SimulatedDisk::new();
    let config = StoreConfig::default().with_durability(Durability::Relaxed {
        flush_interval: Duration::from_secs(3600),
    });
    let store = RedbStore::open_on_backend(disk.clone(), config).unwrap();
    store.put_session("a@lid", b"1").await.unwrap();
    disk.arm(Fault::IoError {
        op: OpKind::Sync,
        nth: disk.counts().syncs + 1,
    });
    assert!(
        store.close().await.is_err(),
        "the final flush's sync failed"
    );
}
