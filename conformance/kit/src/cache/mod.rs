//! The cache family: checks of `wacore::store::cache::CacheStore`, over any
//! `Arc<dyn CacheStore>`.
//!
//! The rules come from the trait's docs and from how whatsapp-rust uses a
//! cache store: `TypedCache` keys entries by JID (`@`, `:`, `.`), writes
//! serde_json values under the namespaces `group`, `device_registry`,
//! `lid_pn_by_lid` and `lid_pn_by_pn` with the TTL of its cache config,
//! treats an error as a miss, and passes no capacity (a store bounds itself).
//!
//! ```no_run
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::Expectations;
//! use whatsapp_rust_conformance::cache::{Capabilities, SimpleFactory, run_suite};
//! # fn my_cache() -> Arc<dyn wacore::store::cache::CacheStore> { unimplemented!() }
//!
//! let factory = SimpleFactory::new("mine", Capabilities::default(), || async { Ok(my_cache()) });
//! let report = futures::executor::block_on(run_suite(&factory, &Expectations::none(), |_, _, _| {}))
//!     .expect("the declared deviations name real checks");
//! assert!(report.is_ok(), "{:#?}", report.to_json());
//! ```
//!
//! Every check gets a fresh store from the [`Factory`]; expiry checks wait on
//! the kit's own timer thread, so they run on any executor.

mod checks;
mod factory;
mod layer;
mod runner;

#[cfg(test)]
mod flaws;

pub use checks::{CLIENT_NAMESPACES, all_checks};
pub use factory::{Capabilities, EntryCount, Factory, IntoCacheStore, SimpleFactory};
pub use layer::{CacheLayer, LayeredCache};
pub use runner::{run_check, run_check_within, run_suite, test_main};

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use wacore::store::cache::CacheStore;

use crate::{CheckResult, Verdict};

/// What a check body gets: a fresh store and what it claims.
pub struct Ctx {
    /// The store under test.
    pub store: Arc<dyn CacheStore>,
    /// Its declared capabilities.
    pub caps: Capabilities,
}

/// A check body.
pub type CheckFn = for<'a> fn(&'a Ctx) -> BoxFuture<'a, CheckResult>;

/// One check of the cache family.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Check {
    /// Unique name, `cache::rule` (the same in reports, in
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
