//! A conformance kit for whatsapp-rust's pluggable parts.
//!
//! Each pluggable trait has a family of checks: [`storage`]
//! (`wacore::store::traits::Backend`), [`runtime`] (`wacore::runtime::Runtime`),
//! [`cache`] (`wacore::store::cache::CacheStore`), and with feature `net`
//! `transport` (`wacore::net::TransportFactory`) and `http`
//! (`wacore::net::HttpClient`), which run their own loopback servers. Families share the
//! verdicts, the report types and the executors here. Every check has a
//! [`Verdict`]:
//!
//! - **contract**: a rule the trait documents; a failure fails the run;
//! - **implementation-defined**: behaviour the trait leaves open; the kit
//!   reports what your implementation does;
//! - **defect**: a known class of bug (integer truncation, wildcard matching,
//!   torn batches); a failure fails the run, quoting the trait doc.
//!
//! Known deviations are declared with [`Expectations`] and reported as such,
//! never silently skipped; a declaration naming no check is an error. A
//! capability an implementation does not claim is checked for its documented
//! fallback or reported as unsupported, never as a pass.
//!
//! The kit depends on wacore and small runtime-neutral crates. Executors are
//! features: `tokio` (tokio's two schedulers) and `smol`; without them checks
//! run on `futures`' executor ([`Executor::Plain`]).
//!
//! See `docs/VALIDATE-YOUR-BACKEND.md` and `docs/FAMILIES.md`.

#![warn(missing_docs)]

mod executor;
mod expectations;
mod harness;
mod limit;
mod report;
mod verdict;

pub mod cache;
#[cfg(feature = "net")]
pub mod http;
#[cfg(feature = "net")]
pub mod net;
pub mod runtime;
#[cfg(feature = "stack")]
pub mod stack;
pub mod storage;
#[cfg(feature = "net")]
pub mod transport;

#[cfg(feature = "cli")]
pub mod cli;

pub use executor::Executor;
pub use expectations::{Expectations, UnknownCheck};
pub use limit::default_limit;
pub use report::{CheckReport, Outcome, Report};
pub use verdict::{CheckResult, Failure, Observed, Verdict, error_chain};

/// `docs/VALIDATE-YOUR-BACKEND.md`: its snippets run as this crate's doc tests (with feature `cli`, as in the workspace).
#[cfg(all(doctest, feature = "cli"))]
#[doc = include_str!("../../../docs/VALIDATE-YOUR-BACKEND.md")]
pub struct ValidateYourBackend;

/// `docs/NETWORK.md`: its snippets compile as this crate's doc tests.
#[cfg(all(doctest, feature = "net"))]
#[doc = include_str!("../../../docs/NETWORK.md")]
pub struct Network;

/// `docs/FAMILIES.md`: its snippets compile as this crate's doc tests.
#[cfg(all(doctest, feature = "cli"))]
#[doc = include_str!("../../../docs/FAMILIES.md")]
pub struct Families;

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
