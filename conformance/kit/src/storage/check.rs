//! One storage check: what it needs, what it calls, and its body.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use wacore::store::traits::Backend;

use super::factory::{Capabilities, Instance};
use super::methods::Method;
use crate::{CheckResult, Verdict};

/// The capability a check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Needs {
    /// Runs on every backend.
    Nothing,
    /// Needs [`Capabilities::persistent`].
    Persistent,
    /// Needs [`Capabilities::multi_account`].
    MultiAccount,
    /// Needs [`Capabilities::second_handle`].
    SecondHandle,
    /// Needs [`Capabilities::pending_inbound`] (without it the trait's
    /// fail-closed defaults are checked elsewhere).
    PendingInbound,
}

impl Needs {
    /// Whether a store claiming `caps` can run a check that needs this.
    pub fn met_by(self, caps: Capabilities) -> bool {
        match self {
            Needs::Nothing => true,
            Needs::Persistent => caps.persistent,
            Needs::MultiAccount => caps.multi_account,
            Needs::SecondHandle => caps.second_handle,
            Needs::PendingInbound => caps.pending_inbound,
        }
    }
}

/// What a check body gets: the fresh store and what it claims. The runner
/// keeps it, so it can tear the store down after the body returns.
pub struct Ctx {
    /// The fresh store under test.
    pub instance: Box<dyn Instance>,
    /// Its declared capabilities.
    pub caps: Capabilities,
}

impl Ctx {
    /// The store (account 1).
    pub fn store(&self) -> Arc<dyn Backend> {
        self.instance.store()
    }
}

/// A check body.
pub type CheckFn = for<'a> fn(&'a mut Ctx) -> BoxFuture<'a, CheckResult>;

/// One check of the storage family.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Check {
    /// Unique name, `area::check` (`signal::identity_round_trip`): the same
    /// in reports, in [`Expectations`](crate::Expectations) and as the test name.
    pub name: &'static str,
    /// The trait it exercises (`SignalStore`, ...) or `Backend` for cross-cutting checks.
    pub area: &'static str,
    /// The trait methods it calls; a kit test holds each list to the calls
    /// the check really makes.
    pub methods: &'static [Method],
    /// What a failure means.
    pub verdict: Verdict,
    /// The capability it needs.
    pub needs: Needs,
    /// The trait documentation the check enforces (quoted in failures).
    pub rule: &'static str,
    /// The body.
    pub run: CheckFn,
}

impl Check {
    /// Whether the check calls `method`.
    pub fn covers(&self, method: Method) -> bool {
        self.methods.contains(&method)
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("verdict", &self.verdict)
            .finish()
    }
}
