//! The runtime and cache families as `cargo test` targets (the storage
//! family's is `storage::test_main`): one test per check, named as in
//! reports, filtered like any test.
//!
//! ```toml
//! [[test]]
//! name = "cache_conformance"
//! harness = false
//! ```
//! ```no_run
//! // tests/cache_conformance.rs
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::{Expectations, cache};
//! # use whatsapp_rust_memory_cache::MemoryCacheStore as MyCache;
//!
//! fn main() {
//!     let factory = cache::SimpleFactory::new("mine", cache::Capabilities::default(), || async {
//!         Ok(Arc::new(MyCache::new()))
//!     });
//!     whatsapp_rust_conformance::cache::test_main(factory, Expectations::none());
//! }
//! ```

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::{CheckReport, Executor, Expectations, Outcome};

/// Runs `trials` as libtest does and exits with its status (101 on a
/// failure). `one_at_a_time`: unless `--test-threads` says otherwise, run
/// the trials one after another (runtime checks share one runtime and time
/// what it does).
pub(crate) fn run_trials(trials: Vec<Trial>, one_at_a_time: bool) -> ! {
    let mut args = Arguments::from_args();
    if one_at_a_time {
        args.test_threads.get_or_insert(1);
    }
    libtest_mimic::run(&args, trials).exit()
}

/// One trial per named check; `run` runs the check named so.
pub(crate) fn trials(
    names: Vec<(&'static str, &'static str)>,
    expectations: &Expectations,
    run: Arc<dyn Fn(&str) -> CheckReport + Send + Sync>,
) -> Vec<Trial> {
    if let Err(unknown) = expectations.validate(names.iter().map(|(name, _)| *name)) {
        return vec![Trial::test("expectations", move || {
            Err(unknown.to_string().into())
        })];
    }
    names
        .into_iter()
        .map(|(name, kind)| {
            let run = run.clone();
            Trial::test(name, move || match run(name).outcome {
                Outcome::Failed { message } => Err(Failed::from(message)),
                _ => Ok(()),
            })
            .with_kind(kind)
        })
        .collect()
}

/// Blocks on `future` on [`Executor::DEFAULT`].
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    Executor::DEFAULT.block_on(future)
}
