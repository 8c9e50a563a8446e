//! The suite as a `cargo test` target: one test per check, named as in
//! reports, filtered like any test (`cargo test -- signal::`), with checks the
//! store cannot run shown as ignored.
//!
//! ```toml
//! [[test]]
//! name = "conformance"
//! harness = false
//! ```
//! ```no_run
//! // tests/conformance.rs
//! use whatsapp_rust_conformance::{Expectations, storage::in_memory};
//!
//! fn main() {
//!     whatsapp_rust_conformance::storage::test_main(in_memory::factory(), Expectations::none());
//! }
//! ```

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

use super::factory::Factory;
use super::registry::all_checks;
use super::runner::run_check;
use crate::{Executor, Expectations, Outcome};

/// Runs the suite as tests on `factory`, with `expectations`, and exits the
/// process with libtest's status (101 when a check fails). Each check runs on
/// a fresh [`Executor::DEFAULT`] runtime. Arguments are libtest's: a filter,
/// `--exact`, `--list`, `--ignored`, `--test-threads N`, ...
pub fn test_main(factory: impl Factory + 'static, expectations: Expectations) -> ! {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials(Arc::new(factory), Arc::new(expectations), "")).exit()
}

/// [`test_main`] over several stores at once: each test is named
/// `<factory name>/<check>` (`redb/signal::identity_round_trip`).
pub fn test_main_each(stores: Vec<(Box<dyn Factory>, Expectations)>) -> ! {
    let args = Arguments::from_args();
    let trials = stores
        .into_iter()
        .flat_map(|(factory, expectations)| {
            let prefix = format!("{}/", factory.name());
            trials(Arc::from(factory), Arc::new(expectations), &prefix)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

fn trials(factory: Arc<dyn Factory>, expectations: Arc<Expectations>, prefix: &str) -> Vec<Trial> {
    let checks = all_checks();
    if let Err(unknown) = expectations.validate(checks.iter().map(|c| c.name)) {
        return vec![Trial::test(format!("{prefix}expectations"), move || {
            Err(unknown.to_string().into())
        })];
    }
    let caps = factory.capabilities();
    checks
        .into_iter()
        .map(|check| {
            let (factory, expectations) = (factory.clone(), expectations.clone());
            Trial::test(format!("{prefix}{}", check.name), move || {
                let report =
                    Executor::DEFAULT.block_on(run_check(&check, &*factory, &expectations));
                match report.outcome {
                    Outcome::Failed { message } => {
                        Err(Failed::from(format!("[{}] {message}", check.verdict)))
                    }
                    _ => Ok(()),
                }
            })
            .with_kind(check.area)
            .with_ignored_flag(!check.needs.met_by(caps))
        })
        .collect()
}
