//! A conformance kit for whatsapp-rust storage backends.
//!
//! Hand the kit a [`Factory`] that makes fresh, empty stores of your
//! `wacore::store::traits::Backend`, with the [`Capabilities`] it claims, and
//! it checks every method of the five store traits against the documented
//! contract. Each check has a [`Verdict`]:
//!
//! - **contract**: a rule the trait documents; a failure fails the run;
//! - **implementation-defined**: behaviour the trait leaves open; the kit
//!   reports what your store does;
//! - **defect**: a known class of bug (integer truncation, wildcard matching,
//!   torn batches); a failure fails the run, quoting the trait doc.
//!
//! Known deviations of a backend are declared with [`Expectations`] and
//! reported as such, never silently skipped. A capability the store does not
//! claim is checked for its documented fallback (fail-closed errors, no-op
//! defaults) or reported as unsupported, never as a pass.
//!
//! Two ways in:
//!
//! ```ignore
//! // 1. one #[test] per check, in your crate's tests/:
//! whatsapp_rust_conformance::conformance_tests!(my_factory());
//!
//! // 2. a structured report:
//! let report = whatsapp_rust_conformance::run_suite(&my_factory(), &Expectations::none(), |_, _, _| {}).await;
//! assert!(report.is_ok());
//! ```
//!
//! See `docs/VALIDATE-YOUR-BACKEND.md`.

#![warn(missing_docs)]

pub mod bench;
mod check;
mod checks;
pub mod crash;
#[cfg(feature = "references")]
pub mod fault_campaign;
pub mod faults;
mod harness;
mod macros;
pub mod model;
pub mod recording;
mod registry;
mod runner;

#[cfg(feature = "references")]
pub mod references;

pub use check::{Check, CheckFn, CheckResult, Ctx, Failure, Needs, Observed, Verdict};
pub use harness::{Capabilities, Factory, Instance, SimpleFactory};
pub use registry::{all_checks, find_check};
pub use runner::{
    __run_as_test, CheckReport, Executor, Expectations, Outcome, Report, run_check, run_suite,
};

/// Yields once to the executor running the caller, whichever it is (tokio,
/// smol, ...): the gap in which concurrent futures interleave. Checks use it
/// to let a joined writer make progress; test backends can use it to widen a
/// race window.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}
