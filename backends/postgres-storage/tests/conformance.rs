//! The kit's whole storage suite and its model on a real PostgreSQL server,
//! driven from tokio and from smol.

mod common;

use common::PgServer;
use whatsapp_rust_conformance::storage::model::ModelRun;
use whatsapp_rust_conformance::storage::run_suite;
use whatsapp_rust_conformance::{Executor, Expectations};
use whatsapp_rust_postgres_storage::conformance::PostgresFactory;

fn suite_passes_on(executor: Executor) {
    let Some(server) = PgServer::start() else {
        return;
    };
    let factory = PostgresFactory::new(server.url());
    let report = executor
        .block_on(run_suite(&factory, &Expectations::none(), |i, n, r| {
            eprintln!(
                "[{} {i}/{n}] {} {} {} ms",
                executor.name(),
                r.check,
                r.outcome.label(),
                r.elapsed.as_millis()
            )
        }))
        .expect("no expectations");
    let failures: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.outcome.fails_run())
        .map(|c| format!("{}: {:?}", c.check, c.outcome))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{}: {} passed, {} known, {} not run",
        executor.name(),
        report.passed(),
        report.known(),
        report.unsupported()
    );
}

#[test]
fn postgres_passes_every_storage_check_on_tokio() {
    suite_passes_on(Executor::TokioMultiThread);
}

#[test]
fn postgres_passes_every_storage_check_on_smol() {
    suite_passes_on(Executor::Smol);
}

#[test]
fn postgres_agrees_with_the_model() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let factory = PostgresFactory::new(server.url());
    ModelRun::from_env()
        .run(&factory, Executor::DEFAULT)
        .unwrap_or_else(|e| panic!("{e}"));
}
