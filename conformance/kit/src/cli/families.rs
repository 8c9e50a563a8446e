//! The families `check` runs, and the runtimes and cache stores it runs
//! them on (beside the storage [`Target`](super::Target)s).

use std::fmt;

use crate::runtime::RuntimeUnderTest;
use crate::{Executor, Expectations, cache};

/// A family of checks: one per pluggable trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// `wacore::store::traits::Backend`.
    Storage,
    /// `wacore::runtime::Runtime`.
    Runtime,
    /// `wacore::store::cache::CacheStore`.
    Cache,
}

impl Family {
    /// Every family, in report order.
    pub const ALL: [Family; 3] = [Family::Storage, Family::Runtime, Family::Cache];

    /// Its name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Family::Storage => "storage",
            Family::Runtime => "runtime",
            Family::Cache => "cache",
        }
    }

    /// The family named `name`.
    pub fn from_name(name: &str) -> Result<Family, String> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| format!("unknown family {name:?}: choose from storage, runtime, cache"))
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A runtime `check` can run the runtime family on.
pub struct RuntimeTarget {
    pub(crate) subject: RuntimeUnderTest,
    pub(crate) expectations: Expectations,
    pub(crate) executors: Vec<Executor>,
    pub(crate) default: bool,
}

impl RuntimeTarget {
    /// Your runtime and its declared deviations; selected when `--backend`
    /// is not given, runs on every executor compiled in.
    pub fn new(subject: RuntimeUnderTest, expectations: Expectations) -> RuntimeTarget {
        RuntimeTarget {
            subject,
            expectations,
            executors: Executor::ALL.to_vec(),
            default: true,
        }
    }

    /// The executors the kit may drive it from (a runtime that spawns with
    /// `tokio::spawn` needs a tokio one).
    pub fn runs_on(mut self, executors: &[Executor]) -> RuntimeTarget {
        self.executors = executors.to_vec();
        self
    }

    /// Whether it is selected when `--backend` is not given (default: yes).
    pub fn by_default(mut self, yes: bool) -> RuntimeTarget {
        self.default = yes;
        self
    }

    /// Its name, as `--backend` takes it.
    pub fn name(&self) -> &str {
        self.subject.name()
    }
}

/// A cache store `check` can run the cache family on.
pub struct CacheTarget {
    pub(crate) factory: Box<dyn cache::Factory>,
    pub(crate) expectations: Expectations,
    pub(crate) default: bool,
}

impl CacheTarget {
    /// Your factory of fresh cache stores and its declared deviations;
    /// selected when `--backend` is not given.
    pub fn new(factory: impl cache::Factory + 'static, expectations: Expectations) -> CacheTarget {
        CacheTarget {
            factory: Box::new(factory),
            expectations,
            default: true,
        }
    }

    /// Whether it is selected when `--backend` is not given (default: yes).
    pub fn by_default(mut self, yes: bool) -> CacheTarget {
        self.default = yes;
        self
    }

    /// Its name, as `--backend` takes it.
    pub fn name(&self) -> &str {
        self.factory.name()
    }
}

/// Picks from `items` by `--backend` names (none: the defaults; `all`:
/// every one); names no family knows are reported by the caller.
pub(crate) fn pick<'a, T>(
    items: &'a [T],
    names: &[String],
    name: impl Fn(&T) -> &str,
    default: impl Fn(&T) -> bool,
) -> Vec<&'a T> {
    if names.is_empty() {
        return items.iter().filter(|t| default(t)).collect();
    }
    if names.iter().any(|n| n == "all") {
        return items.iter().collect();
    }
    items
        .iter()
        .filter(|t| names.iter().any(|n| n == name(t)))
        .collect()
}
