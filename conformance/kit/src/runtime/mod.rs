//! The runtime family: checks of `wacore::runtime::Runtime` and its
//! `AbortHandle`, over any `Arc<dyn Runtime>`.
//!
//! The rules come from wacore's `runtime.rs` (trait docs and its own tests)
//! and from how the client uses a runtime: it drops `AbortHandle`s to cancel
//! tasks parked on sockets and timers, races `sleep` against futures in
//! `runtime::timeout`, runs SQLite and file I/O through `spawn_blocking`,
//! and yields every `yield_frequency()` items of its read loop.
//!
//! ```no_run
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::Expectations;
//! use whatsapp_rust_conformance::runtime::{Capabilities, RuntimeUnderTest, run_suite};
//! # fn my_runtime() -> Arc<dyn wacore::runtime::Runtime> { unimplemented!() }
//!
//! let subject = RuntimeUnderTest::new("mine", my_runtime(), Capabilities::multi_threaded());
//! let report = futures::executor::block_on(run_suite(&subject, &Expectations::none(), |_, _, _| {}))
//!     .expect("the declared deviations name real checks");
//! assert!(report.is_ok(), "{:#?}", report.to_json());
//! ```
//!
//! Each check's body runs as a task spawned on the runtime under test (so a
//! single-threaded runtime runs it on its one thread), and every wait inside
//! it is bounded by a timer thread of the kit's, not by the runtime's own
//! `sleep`, so a broken timer fails the check instead of hanging it.
//! [`RuntimeLayer`] builds wrappers (the kit's own tests wrap a passing
//! runtime in deliberately broken ones).

mod checks;
pub(crate) mod layer;
mod runner;

#[cfg(test)]
mod flaws;

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use wacore::runtime::Runtime;

pub use checks::all_checks;
pub use layer::{LayeredRuntime, RuntimeLayer};
pub use runner::{run_check, run_check_within, run_suite, test_main};

use crate::{CheckResult, Verdict};

/// What a runtime claims about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Every task runs on one thread: the runtime must then return 1 from
    /// `yield_frequency` and `Some` from `yield_now` (wacore's trait docs).
    pub single_threaded: bool,
}

impl Capabilities {
    /// A runtime whose tasks run on several threads.
    pub fn multi_threaded() -> Capabilities {
        Capabilities {
            single_threaded: false,
        }
    }

    /// A runtime whose tasks all run on one thread.
    pub fn single_threaded() -> Capabilities {
        Capabilities {
            single_threaded: true,
        }
    }
}

/// A runtime to check: its name in reports, the runtime, what it claims.
#[derive(Clone)]
pub struct RuntimeUnderTest {
    name: String,
    runtime: Arc<dyn Runtime>,
    caps: Capabilities,
}

impl RuntimeUnderTest {
    /// `runtime`, reported as `name`, claiming `caps`.
    pub fn new(name: impl Into<String>, runtime: Arc<dyn Runtime>, caps: Capabilities) -> Self {
        RuntimeUnderTest {
            name: name.into(),
            runtime,
            caps,
        }
    }

    /// Its name in reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The runtime.
    pub fn runtime(&self) -> Arc<dyn Runtime> {
        self.runtime.clone()
    }

    /// What it claims.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }
}

impl fmt::Debug for RuntimeUnderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeUnderTest")
            .field("name", &self.name)
            .field("caps", &self.caps)
            .finish()
    }
}

/// A check body: the runtime and its claims in, a verdict out. It runs as a
/// task spawned on that runtime.
pub type CheckFn = fn(Arc<dyn Runtime>, Capabilities) -> BoxFuture<'static, CheckResult>;

/// One check of the runtime family.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Check {
    /// Unique name, `runtime::rule` (the same in reports, in
    /// [`Expectations`](crate::Expectations) and as the test name).
    pub name: &'static str,
    /// What a failure means.
    pub verdict: Verdict,
    /// The rule it enforces, and where it comes from.
    pub rule: &'static str,
    /// The body.
    pub run: CheckFn,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("verdict", &self.verdict)
            .finish()
    }
}
