//! The lab's runtimes and cache stores for the runtime and cache families:
//! our smol runtime (multi- and single-threaded) and whatsapp-rust's
//! `TokioRuntime`; the engine's persistent `RedbCacheStore` and the small
//! in-process `MemoryCacheStore`.

use std::sync::Arc;

use tempfile::TempDir;
use wacore::store::cache::CacheStore;
use whatsapp_rust_conformance::cache::{
    CacheLayer, Capabilities, EntryCount, LayeredCache, SimpleFactory,
};
use whatsapp_rust_conformance::cli::{CacheTarget, RuntimeTarget};
use whatsapp_rust_conformance::runtime::{self, RuntimeUnderTest};
use whatsapp_rust_conformance::storage::SetupError;
use whatsapp_rust_conformance::{Executor, Expectations};
use whatsapp_rust_memory_cache::MemoryCacheStore;
use whatsapp_rust_redb_storage::{RedbCacheStore, RedbStore};
use whatsapp_rust_redis_cache::RedisCacheStore;
use whatsapp_rust_smol_runtime::SmolRuntime;

/// The runtimes: `smol` and `smol-single` (the defaults), `tokio`.
pub fn runtimes() -> Vec<RuntimeTarget> {
    vec![
        RuntimeTarget::new(
            RuntimeUnderTest::new(
                "smol",
                Arc::new(SmolRuntime::new()),
                runtime::Capabilities::multi_threaded(),
            ),
            Expectations::none(),
        ),
        RuntimeTarget::new(
            RuntimeUnderTest::new(
                "smol-single",
                Arc::new(SmolRuntime::single_threaded()),
                runtime::Capabilities::single_threaded(),
            ),
            Expectations::none(),
        ),
        // `tokio::spawn` inside: it needs a tokio executor, and a multi-thread
        // one: on a current-thread runtime its `yield_now() == None` starves
        // timers (tests/families.rs shows it).
        RuntimeTarget::new(
            RuntimeUnderTest::new(
                "tokio",
                Arc::new(whatsapp_rust::TokioRuntime),
                runtime::Capabilities::multi_threaded(),
            ),
            Expectations::none(),
        )
        .runs_on(&[Executor::TokioMultiThread])
        .by_default(false),
    ]
}

/// The cache stores: `redb-cache` (the default) and `memory-cache`; and
/// `redis-cache` when `REDIS_URL` names a server (`bash ci/servers.sh start`).
pub fn caches() -> Vec<CacheTarget> {
    let mut caches = vec![
        CacheTarget::new(redb_cache_factory(), Expectations::none()),
        CacheTarget::new(memory_cache_factory(), Expectations::none()).by_default(false),
    ];
    if let Ok(url) = std::env::var("REDIS_URL") {
        caches.push(
            CacheTarget::new(redis_cache_factory(url), Expectations::none()).by_default(false),
        );
    }
    caches
}

/// Fresh `RedisCacheStore`s on the server at `url`, each under a prefix of
/// its own (`conformance-<pid>-<n>:`).
pub fn redis_cache_factory(url: String) -> SimpleFactory {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let caps = Capabilities::default().with_entry_count(EntryCount::Exact);
    SimpleFactory::new("redis-cache", caps, move || {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let store = RedisCacheStore::open(&url, format!("conformance-{}-{n}:", std::process::id()));
        async move {
            Ok(Arc::new(
                store.map_err(|e| SetupError::failed(format!("{e:#}")))?,
            ))
        }
    })
}

/// Fresh `RedbCacheStore`s, each in a store of its own temporary file.
pub fn redb_cache_factory() -> SimpleFactory {
    let caps = Capabilities::default().with_entry_count(EntryCount::Exact);
    SimpleFactory::new("redb-cache", caps, || async {
        let dir = tempfile::tempdir()?;
        let store = RedbStore::open(dir.path().join("cache.redb"))?;
        let cache = RedbCacheStore::new(&store);
        Ok::<_, SetupError>(Arc::new(LayeredCache(InTempDir { cache, _dir: dir })))
    })
}

/// Fresh `MemoryCacheStore`s.
pub fn memory_cache_factory() -> SimpleFactory {
    let caps = Capabilities::default().with_entry_count(EntryCount::Exact);
    SimpleFactory::new("memory-cache", caps, || async {
        Ok(Arc::new(MemoryCacheStore::new()))
    })
}

/// A cache store that keeps its temporary directory alive.
struct InTempDir {
    cache: RedbCacheStore,
    _dir: TempDir,
}

impl CacheLayer for InTempDir {
    fn inner(&self) -> &dyn CacheStore {
        &self.cache
    }
}
