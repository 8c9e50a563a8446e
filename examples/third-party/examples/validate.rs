//! Validate a third-party backend with the kit, from zero to a report:
//!
//! ```text
//! cd examples/third-party && cargo run --example validate
//! ```
//! The store is this crate's `BTreeStore`. It declares no
//! optional capability, so the kit checks that the trait defaults it relies
//! on behave as documented (pending inbound fails closed, group metadata is a
//! no-op) and reports the checks it cannot run.

use std::process::ExitCode;
use std::sync::Arc;

use btree_store::BTreeStore;
use whatsapp_rust_conformance::storage::{Capabilities, SimpleFactory, run_suite};
use whatsapp_rust_conformance::{Executor, Expectations, Outcome};

fn main() -> ExitCode {
    let factory = SimpleFactory::new("btree", Capabilities::none(), || async {
        Ok(Arc::new(BTreeStore::new()) as _)
    });
    let expectations = Expectations::none();
    let suite = run_suite(&factory, &expectations, |i, n, r| {
        eprintln!("[{i:>2}/{n}] {:<58} {}", r.check, r.outcome.label());
    });
    let report = match Executor::DEFAULT.block_on(suite) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    for c in &report.checks {
        match &c.outcome {
            Outcome::Failed { message } => println!("FAIL {} ({}): {message}", c.check, c.verdict),
            Outcome::Passed { observed: Some(o) } => println!("seen {}: {o}", c.check),
            Outcome::Unsupported { needs } => println!("n/a  {}: needs {needs}", c.check),
            _ => {}
        }
    }
    println!("{} passed, {} failed", report.passed(), report.failed());
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
