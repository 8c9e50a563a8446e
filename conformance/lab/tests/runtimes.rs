//! The whole suite on every executor: tokio multi-thread, tokio
//! current-thread, smol and a plain `futures` executor for the
//! runtime-agnostic stores (the redb engine, InMemoryBackend); both tokio
//! flavours for SqliteStore, which needs tokio. Also: SqliteStore's four
//! known defects are reported as declared deviations of defect checks.

use whatsapp_rust_conformance::storage::run_suite;
use whatsapp_rust_conformance::{Executor, Outcome, Report, Verdict};
use whatsapp_rust_conformance_lab::references::Reference;

fn run(reference: Reference, executor: Executor) -> Report {
    let (factory, expectations) = (reference.factory(), reference.expectations());
    let report = executor
        .block_on(run_suite(factory.as_ref(), &expectations, |_, _, _| {}))
        .expect("the declared deviations name real checks");
    assert!(
        report.is_ok(),
        "{} on {}: {:#?}",
        reference.name(),
        executor.name(),
        report.to_json()
    );
    report
}

#[test]
fn redb_passes_on_every_executor() {
    for &executor in Executor::ALL {
        run(Reference::Redb, executor);
    }
}

#[test]
fn memory_passes_on_every_executor() {
    for &executor in Executor::ALL {
        run(Reference::Memory, executor);
    }
}

#[test]
fn sqlite_passes_on_both_tokio_flavours_with_its_defects_declared() {
    for executor in [Executor::TokioMultiThread, Executor::TokioCurrentThread] {
        let report = run(Reference::Sqlite, executor);
        let known: Vec<_> = report
            .checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::KnownDeviation { .. }))
            .map(|c| (c.check, c.verdict))
            .collect();
        assert_eq!(known.len(), 4, "{known:?}");
        assert!(
            known.iter().all(|(_, v)| *v == Verdict::Defect),
            "{known:?}"
        );
    }
}
