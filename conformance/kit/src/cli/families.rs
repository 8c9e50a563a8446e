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
    /// `wacore::net::TransportFactory` (feature `net`).
    #[cfg(feature = "net")]
    Transport,
    /// `wacore::net::HttpClient` (feature `net`).
    #[cfg(feature = "net")]
    Http,
}

impl Family {
    /// Every family compiled in, in report order.
    pub const ALL: &'static [Family] = &[
        Family::Storage,
        Family::Runtime,
        Family::Cache,
        #[cfg(feature = "net")]
        Family::Transport,
        #[cfg(feature = "net")]
        Family::Http,
    ];

    /// Its name on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Family::Storage => "storage",
            Family::Runtime => "runtime",
            Family::Cache => "cache",
            #[cfg(feature = "net")]
            Family::Transport => "transport",
            #[cfg(feature = "net")]
            Family::Http => "http",
        }
    }

    /// The family named `name`.
    pub fn from_name(name: &str) -> Result<Family, String> {
        Family::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Family::ALL.iter().map(|f| f.name()).collect();
                format!("unknown family {name:?}: choose from {}", names.join(", "))
            })
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

/// Runs one check, by name, within a time limit.
#[cfg(feature = "net")]
type RunCheck = dyn Fn(&str, std::time::Duration) -> crate::CheckReport + Send + Sync;

/// A transport or HTTP client `check` can run its family on (feature `net`):
/// the subject with its declared deviations, behind one object so the
/// command line treats both families alike.
#[cfg(feature = "net")]
pub struct NetTarget {
    pub(crate) family: Family,
    name: String,
    pub(crate) default: bool,
    pub(crate) checks: Vec<&'static str>,
    run: Box<RunCheck>,
    pub(crate) expectations: Expectations,
}

#[cfg(feature = "net")]
impl NetTarget {
    /// A transport and its declared deviations; selected by default.
    pub fn transport(
        subject: crate::transport::TransportUnderTest,
        expectations: Expectations,
    ) -> NetTarget {
        NetTarget::of(Family::Transport, subject, expectations)
    }

    /// An HTTP client and its declared deviations; selected by default.
    pub fn http(subject: crate::http::HttpUnderTest, expectations: Expectations) -> NetTarget {
        NetTarget::of(Family::Http, subject, expectations)
    }

    fn of<S: crate::net::Subject>(
        family: Family,
        subject: S,
        expectations: Expectations,
    ) -> NetTarget {
        let checks = S::checks().iter().map(|c| c.name).collect();
        let run_with = expectations.clone();
        let name = subject.name().to_owned();
        NetTarget {
            family,
            name,
            default: true,
            checks,
            expectations,
            run: Box::new(move |check, limit| {
                let check = S::checks()
                    .into_iter()
                    .find(|c| c.name == check)
                    .expect("a check of this family");
                subject.executor().block_on(crate::net::run_check_within(
                    &check, &subject, &run_with, limit,
                ))
            }),
        }
    }

    /// Whether `check` selects it without `--backend`.
    pub fn by_default(mut self, yes: bool) -> NetTarget {
        self.default = yes;
        self
    }

    /// Its name on the command line.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the check named `check` on it within `limit`.
    pub(crate) fn run(&self, check: &str, limit: std::time::Duration) -> crate::CheckReport {
        (self.run)(check, limit)
    }
}
