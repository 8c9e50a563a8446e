//! The runtime and cache families on the lab's references, the no-blocking
//! storage check on real stores, and the client's own typed cache over the
//! redb cache store.

use std::sync::Arc;
use std::time::Duration;

use wacore::store::traits::Backend;
use whatsapp_rust_conformance::storage::{self, Layer, Layered, SimpleFactory, find_check};
use whatsapp_rust_conformance::{Executor, Expectations, Outcome, cache, runtime};
use whatsapp_rust_conformance_lab::families::{memory_cache_factory, redb_cache_factory};
use whatsapp_rust_redb_storage::{RedbCacheStore, RedbStore};

fn runtime_report(
    name: &str,
    rt: Arc<dyn wacore::runtime::Runtime>,
    caps: runtime::Capabilities,
    executor: Executor,
) -> whatsapp_rust_conformance::Report {
    let subject = runtime::RuntimeUnderTest::new(name, rt, caps);
    executor
        .block_on(runtime::run_suite(
            &subject,
            &Expectations::none(),
            |_, _, _| {},
        ))
        .expect("no expectations")
}

#[test]
fn both_smol_runtimes_and_tokio_pass_the_runtime_family() {
    use whatsapp_rust_smol_runtime::SmolRuntime;
    let multi = runtime::Capabilities::multi_threaded();
    let runs = [
        runtime_report("smol", Arc::new(SmolRuntime::new()), multi, Executor::Plain),
        runtime_report(
            "smol-single",
            Arc::new(SmolRuntime::single_threaded()),
            runtime::Capabilities::single_threaded(),
            Executor::Smol,
        ),
        runtime_report(
            "tokio",
            Arc::new(whatsapp_rust::TokioRuntime),
            multi,
            Executor::TokioMultiThread,
        ),
    ];
    for report in runs {
        assert!(report.is_ok(), "{:#?}", report.to_json());
        assert_eq!(report.passed(), runtime::all_checks().len());
    }
}

/// A finding, not a wish: whatsapp-rust 0.7.0's `TokioRuntime` says no
/// yield is needed (`yield_now() == None`) whatever the flavour, so on a
/// current-thread tokio runtime a loop that follows the contract starves
/// timers. If this starts passing, upstream fixed it.
#[test]
fn tokio_runtime_on_a_current_thread_runtime_starves_timers() {
    let report = runtime_report(
        "tokio-current",
        Arc::new(whatsapp_rust::TokioRuntime),
        runtime::Capabilities::multi_threaded(),
        Executor::TokioCurrentThread,
    );
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.outcome.fails_run())
        .map(|c| c.check)
        .collect();
    assert_eq!(
        failed,
        ["runtime::a_loop_that_yields_as_told_lets_a_timer_run"]
    );
}

#[test]
fn the_redb_and_memory_cache_stores_pass_the_cache_family() {
    for factory in [redb_cache_factory(), memory_cache_factory()] {
        let report = Executor::Plain
            .block_on(cache::run_suite(
                &factory,
                &Expectations::none(),
                |_, _, _| {},
            ))
            .expect("no expectations");
        assert!(report.is_ok(), "{:#?}", report.to_json());
        assert_eq!(report.passed(), cache::all_checks().len());
    }
}

/// What the client writes through `TypedCache` (serde_json values, JID
/// keys, its namespaces) reads back through a reopened redb cache store.
#[test]
fn the_clients_typed_cache_round_trips_through_a_reopened_redb_cache() {
    use whatsapp_rust::cache_store::TypedCache;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.redb");
    Executor::Plain.block_on(async {
        {
            let store = RedbStore::open(&path).unwrap();
            let cache: TypedCache<String, Vec<String>> = TypedCache::from_store(
                Arc::new(RedbCacheStore::new(&store)),
                "group",
                Some(Duration::from_secs(3600)),
            );
            cache
                .insert(
                    "120363021033254949@g.us".into(),
                    vec!["5511999990000@s.whatsapp.net".into()],
                )
                .await;
            store.close().await.unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        let cache: TypedCache<String, Vec<String>> =
            TypedCache::from_store(Arc::new(RedbCacheStore::new(&store)), "group", None);
        assert_eq!(
            cache.get("120363021033254949@g.us").await,
            Some(vec!["5511999990000@s.whatsapp.net".to_string()])
        );
        let other: TypedCache<String, Vec<String>> = TypedCache::from_store(
            Arc::new(RedbCacheStore::new(&store)),
            "device_registry",
            None,
        );
        assert_eq!(other.get("120363021033254949@g.us").await, None);
    });
}

/// An in-memory store with an fsync of a file after every call, inline on
/// the caller's thread: durable, and blocking. (Not our engine: its writes
/// yield to the executor between calls, which would spread the stalls
/// below the check's 20 ms resolution.)
struct FsyncsInline {
    store: wacore::store::InMemoryBackend,
    file: std::fs::File,
    _dir: tempfile::TempDir,
}

impl Layer for FsyncsInline {
    fn inner(&self) -> &dyn Backend {
        &self.store
    }
    fn after(&self, _method: storage::Method) {
        // Something to sync each time, as an engine writing its data has.
        use std::io::Write;
        (&self.file).write_all(b"x").expect("write");
        self.file.sync_all().expect("fsync");
    }
}

#[test]
fn the_no_blocking_check_fails_an_engine_that_fsyncs_inline() {
    let factory = SimpleFactory::new(
        "redb-fsyncs-inline",
        storage::Capabilities::none(),
        || async {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("journal");
            let store = wacore::store::InMemoryBackend::new();
            let file = std::fs::File::options()
                .create(true)
                .append(true)
                .open(&path)?;
            Ok(Arc::new(Layered(FsyncsInline {
                store,
                file,
                _dir: dir,
            })) as Arc<dyn Backend>)
        },
    );
    let check = find_check("executor::writes_leave_the_executor_thread_free").unwrap();
    let report = Executor::TokioCurrentThread.block_on(storage::run_check(
        &check,
        &factory,
        &Expectations::none(),
    ));
    match report.outcome {
        Outcome::Failed { message } => eprintln!("caught: {message}"),
        other => panic!("the inline fsync went unnoticed: {other:?}"),
    }
}
