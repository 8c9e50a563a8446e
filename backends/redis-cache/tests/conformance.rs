//! The kit's cache family on a real Redis server, a server restart in the
//! middle of a workload, and two stores (two bot instances) sharing it.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::RedisServer;
use wacore::store::cache::CacheStore;
use whatsapp_rust_conformance::cache::{
    Capabilities, EntryCount, SimpleFactory, all_checks, run_suite,
};
use whatsapp_rust_conformance::{Executor, Expectations};
use whatsapp_rust_redis_cache::RedisCacheStore;

/// Fresh stores: each under a prefix of its own on one server.
fn factory(url: String) -> SimpleFactory {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let caps = Capabilities::default().with_entry_count(EntryCount::Exact);
    SimpleFactory::new("redis", caps, move || {
        let prefix = format!(
            "check-{}-{}:",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let store = RedisCacheStore::open(&url, prefix);
        async move {
            Ok(Arc::new(store.map_err(|e| {
                whatsapp_rust_conformance::storage::SetupError::failed(e.to_string())
            })?))
        }
    })
}

#[test]
fn redis_passes_the_cache_family_on_tokio_and_on_smol() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    for executor in [Executor::TokioMultiThread, Executor::Smol] {
        let report = executor
            .block_on(run_suite(
                &factory(server.url()),
                &Expectations::none(),
                |_, _, r| {
                    eprintln!(
                        "[{}] {} {} ms",
                        executor.name(),
                        r.check,
                        r.elapsed.as_millis()
                    )
                },
            ))
            .expect("no expectations");
        assert!(
            report.is_ok(),
            "{}: {:#?}",
            executor.name(),
            report.to_json()
        );
        assert_eq!(report.passed(), all_checks().len());
    }
}

#[test]
fn a_server_restart_gives_errors_then_the_store_reconnects() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    let store = RedisCacheStore::open(&server.url(), "restart:").unwrap();
    Executor::TokioCurrentThread.block_on(async {
        store.set("group", "g@g.us", b"before", None).await.unwrap();
        drop(server);
        let down = store.get("group", "g@g.us").await;
        assert!(
            down.is_err(),
            "a call while the server is down is an error: {down:?}"
        );
        let _server = RedisServer::start_on(port).expect("the same binary starts again");
        // Persistence is off: the restarted server is empty; the store works again.
        let mut back = store.get("group", "g@g.us").await;
        for _ in 0..50 {
            if back.is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            back = store.get("group", "g@g.us").await;
        }
        assert_eq!(back.expect("the store reconnected"), None);
        store.set("group", "g@g.us", b"after", None).await.unwrap();
        assert_eq!(
            store.get("group", "g@g.us").await.unwrap(),
            Some(b"after".to_vec())
        );
    });
}

#[test]
fn two_instances_with_one_prefix_share_entries_and_other_prefixes_do_not() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (one, two) = (
        RedisCacheStore::open(&server.url(), "fleet:").unwrap(),
        RedisCacheStore::open(&server.url(), "fleet:").unwrap(),
    );
    let other = RedisCacheStore::open(&server.url(), "other-fleet:").unwrap();
    Executor::Smol.block_on(async {
        one.set(
            "device_registry",
            "5511999990000@s.whatsapp.net",
            b"devices",
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            two.get("device_registry", "5511999990000@s.whatsapp.net")
                .await
                .unwrap(),
            Some(b"devices".to_vec())
        );
        assert_eq!(
            other
                .get("device_registry", "5511999990000@s.whatsapp.net")
                .await
                .unwrap(),
            None
        );
        other.clear("device_registry").await.unwrap();
        assert_eq!(two.entry_count("device_registry").await.unwrap(), 1);
    });
}

/// `clear` and `entry_count` walk a namespace of many keys page by page
/// (SCAN, never KEYS) and touch no other namespace.
#[test]
fn clear_and_count_walk_a_large_namespace_and_nothing_else() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = RedisCacheStore::open(&server.url(), "big:").unwrap();
    Executor::TokioMultiThread.block_on(async {
        let writes = (0..5_000).map(|i| {
            let store = &store;
            async move { store.set("group", &format!("{i}@g.us"), b"v", None).await }
        });
        for result in futures::future::join_all(writes).await {
            result.unwrap();
        }
        for i in 0..300 {
            store
                .set("groups", &format!("{i}@g.us"), b"v", None)
                .await
                .unwrap();
        }
        assert_eq!(store.entry_count("group").await.unwrap(), 5_000);
        store.clear("group").await.unwrap();
        assert_eq!(store.entry_count("group").await.unwrap(), 0);
        assert_eq!(store.entry_count("groups").await.unwrap(), 300);
    });
}
