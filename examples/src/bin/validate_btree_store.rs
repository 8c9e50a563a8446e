//! Validate a third-party backend with the kit, from zero to a report:
//!
//! ```text
//! cargo run -p whatsapp-rust-storage-examples --bin validate_btree_store
//! ```
//! The store is `BTreeStore` (examples/src/btree_store.rs). It declares no
//! optional capability, so the kit checks that the trait defaults it relies
//! on behave as documented (pending inbound fails closed, group metadata is a
//! no-op) and reports the checks it cannot run.

use std::process::ExitCode;
use std::sync::Arc;

use whatsapp_rust_conformance::{Capabilities, Expectations, Outcome, SimpleFactory, run_suite};
use whatsapp_rust_storage_examples::btree_store::BTreeStore;

fn main() -> ExitCode {
    let factory = SimpleFactory::new("btree", Capabilities::none(), || async {
        Ok(Arc::new(BTreeStore::new()) as _)
    });
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let report = runtime.block_on(run_suite(&factory, &Expectations::none(), |i, n, r| {
        eprintln!("[{i:>2}/{n}] {:<58} {}", r.check, r.outcome.label());
    }));
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
