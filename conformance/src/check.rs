//! One check: its metadata, its context, and how it reports.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use wacore::store::error::StoreError;
use wacore::store::traits::Backend;

use crate::harness::{Capabilities, Instance};

/// What a failing check means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A rule the trait documents. A failure fails the run.
    Contract,
    /// Behaviour the trait leaves open: the kit reports what the backend does.
    ImplementationDefined,
    /// A known class of bug (truncation, wildcard matching, torn batches). A
    /// failure fails the run, quoting the trait documentation it breaks.
    Defect,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Contract => "contract",
            Verdict::ImplementationDefined => "implementation-defined",
            Verdict::Defect => "defect",
        })
    }
}

/// The capability a check needs; `None` = every backend runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Needs {
    /// Runs on every backend.
    Nothing,
    /// Needs [`Capabilities::persistent`].
    Persistent,
    /// Needs [`Capabilities::multi_account`].
    MultiAccount,
    /// Needs [`Capabilities::second_handle`].
    SecondHandle,
}

impl Needs {
    pub(crate) fn met_by(self, caps: Capabilities) -> bool {
        match self {
            Needs::Nothing => true,
            Needs::Persistent => caps.persistent,
            Needs::MultiAccount => caps.multi_account,
            Needs::SecondHandle => caps.second_handle,
        }
    }
}

/// Why a check did not pass.
#[derive(Debug, Clone)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure(format!("a store call failed: {}", error_chain(&e)))
    }
}

/// `error: source: source ...`, so a message names the backend's own error.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// What a passing check saw; implementation-defined checks describe the
/// backend's behaviour here.
pub type Observed = Option<String>;

/// The result of one check body.
pub type CheckResult = Result<Observed, Failure>;

/// What a check body gets: the fresh store and what it claims.
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
pub type CheckFn = fn(Ctx) -> BoxFuture<'static, CheckResult>;

/// One entry of the suite.
#[derive(Clone, Copy)]
pub struct Check {
    /// Unique name, `trait_area::what` style (used in reports and test names).
    pub name: &'static str,
    /// The trait it exercises (`SignalStore`, ...) or `Backend` for cross-cutting checks.
    pub area: &'static str,
    /// What a failure means.
    pub verdict: Verdict,
    /// The capability it needs.
    pub needs: Needs,
    /// The trait documentation the check enforces (quoted in failures).
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

/// Fails the check with a message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::Failure(format!($($fmt)+)));
        }
    };
}

/// Fails the check unless `left == right`, showing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($fmt:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err($crate::Failure(format!(
                "{}: got {:?}, expected {:?}",
                format!($($fmt)+),
                left,
                right
            )));
        }
    }};
}
