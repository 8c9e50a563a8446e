//! The whole suite on every executor: tokio multi-thread, tokio
//! current-thread and smol for the runtime-agnostic stores (the redb engine,
//! InMemoryBackend); both tokio flavours for SqliteStore, which needs tokio.

use whatsapp_rust_conformance::references::{backend, memory_expectations, memory_factory};
use whatsapp_rust_conformance::{Executor, run_suite};

fn run(name: &str, executor: Executor) {
    let (factory, expectations) = backend(name).unwrap();
    let report = executor.block_on(run_suite(factory.as_ref(), &expectations, |_, _, _| {}));
    assert!(
        report.is_ok(),
        "{name} on {}: {:#?}",
        executor.name(),
        report.to_json()
    );
}

#[test]
fn redb_passes_on_every_executor() {
    for executor in Executor::ALL {
        run("redb", executor);
    }
}

#[test]
fn memory_passes_on_every_executor() {
    for executor in Executor::ALL {
        let report = executor.block_on(run_suite(
            &memory_factory(),
            &memory_expectations(),
            |_, _, _| {},
        ));
        assert!(
            report.is_ok(),
            "memory on {}: {:#?}",
            executor.name(),
            report.to_json()
        );
    }
}

#[test]
fn sqlite_passes_on_both_tokio_flavours() {
    for executor in [Executor::TokioMultiThread, Executor::TokioCurrentThread] {
        run("sqlite", executor);
    }
}
