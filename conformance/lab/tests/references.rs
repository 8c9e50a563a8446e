//! The suite as `#[test]`s, one per check, on the embedded default (redb) and
//! the two bundled references with their declared deviations. Run one with
//! `cargo test -p whatsapp-rust-conformance --test references redb::conformance::base_keys`.

mod redb {
    use whatsapp_rust_conformance::references::RedbFactory;
    whatsapp_rust_conformance::conformance_tests!(RedbFactory);
}

mod sqlite {
    use whatsapp_rust_conformance::references::{SqliteFactory, sqlite_expectations};
    whatsapp_rust_conformance::conformance_tests!(SqliteFactory, sqlite_expectations());
}

mod memory {
    use whatsapp_rust_conformance::references::{memory_expectations, memory_factory};
    whatsapp_rust_conformance::conformance_tests!(memory_factory(), memory_expectations());
}

/// The four known SqliteStore defects are reported as declared deviations of
/// defect checks, not as passes and not hidden.
#[test]
fn sqlite_defects_are_reported_as_known_defects() {
    use whatsapp_rust_conformance::references::{SqliteFactory, sqlite_expectations};
    use whatsapp_rust_conformance::{Outcome, Verdict, run_suite};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(run_suite(
        &SqliteFactory,
        &sqlite_expectations(),
        |_, _, _| {},
    ));
    assert!(report.is_ok(), "{:#?}", report.to_json());
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
