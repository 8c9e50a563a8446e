//! Running checks against a factory, declared expectations, and the report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::check::{Check, Ctx, Verdict};
use crate::harness::Factory;
use crate::registry::all_checks;

/// Failures a backend is known to have, each with its reason. A declared
/// failure is reported as a known deviation and does not fail the run; a
/// declared check that passes is reported as such (the declaration is stale).
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    expected: BTreeMap<String, String>,
}

impl Expectations {
    /// No declared deviations.
    pub fn none() -> Self {
        Expectations::default()
    }

    /// Declares that check `name` fails on this backend, and why.
    pub fn expect_failure(mut self, name: &str, reason: &str) -> Self {
        self.expected.insert(name.to_owned(), reason.to_owned());
        self
    }

    /// The reason declared for `name`, if any.
    pub fn reason(&self, name: &str) -> Option<&str> {
        self.expected.get(name).map(String::as_str)
    }

    /// Every declared (check, reason).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.expected.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// How one check ended on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It held. For implementation-defined checks, `observed` says what the backend does.
    Passed {
        /// What an implementation-defined check saw.
        observed: Option<String>,
    },
    /// It failed and no deviation was declared: the run fails.
    Failed {
        /// What went wrong.
        message: String,
    },
    /// It failed as declared.
    KnownDeviation {
        /// What went wrong.
        message: String,
        /// Why it is declared.
        reason: String,
    },
    /// A failure was declared but the check passed.
    UnexpectedPass {
        /// The stale declaration's reason.
        reason: String,
    },
    /// The backend does not claim the capability the check needs.
    Unsupported {
        /// Which capability.
        needs: String,
    },
}

impl Outcome {
    /// Short label for tables.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Passed { observed: None } => "pass",
            Outcome::Passed { observed: Some(_) } => "observed",
            Outcome::Failed { .. } => "FAIL",
            Outcome::KnownDeviation { .. } => "known",
            Outcome::UnexpectedPass { .. } => "unexp-pass",
            Outcome::Unsupported { .. } => "unsupported",
        }
    }

    /// Whether this outcome fails the run.
    pub fn fails_run(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

/// One check's result on one backend.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Check name.
    pub check: &'static str,
    /// Trait area.
    pub area: &'static str,
    /// Verdict class.
    pub verdict: Verdict,
    /// The rule it enforces.
    pub rule: &'static str,
    /// The backend's name.
    pub backend: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Wall time.
    pub elapsed: Duration,
}

/// Every check's result on one backend.
#[derive(Debug, Clone)]
pub struct Report {
    /// Backend name.
    pub backend: String,
    /// One entry per check, in suite order.
    pub checks: Vec<CheckReport>,
}

impl Report {
    /// Checks that passed (including observed implementation-defined behaviour).
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Passed { .. } | Outcome::UnexpectedPass { .. }))
    }

    /// Checks that fail the run.
    pub fn failed(&self) -> usize {
        self.count(Outcome::fails_run)
    }

    /// Declared deviations that occurred.
    pub fn known(&self) -> usize {
        self.count(|o| matches!(o, Outcome::KnownDeviation { .. }))
    }

    /// Checks not run for lack of a capability.
    pub fn unsupported(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unsupported { .. }))
    }

    /// Whether any contract check (or defect check) failed undeclared.
    pub fn is_ok(&self) -> bool {
        self.failed() == 0
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.checks.iter().filter(|c| f(&c.outcome)).count()
    }

    /// The report as JSON (stable field names, for tools).
    pub fn to_json(&self) -> serde_json::Value {
        let checks: Vec<_> = self
            .checks
            .iter()
            .map(|c| {
                let (message, reason, observed) = match &c.outcome {
                    Outcome::Passed { observed } => (None, None, observed.clone()),
                    Outcome::Failed { message } => (Some(message.clone()), None, None),
                    Outcome::KnownDeviation { message, reason } => {
                        (Some(message.clone()), Some(reason.clone()), None)
                    }
                    Outcome::UnexpectedPass { reason } => (None, Some(reason.clone()), None),
                    Outcome::Unsupported { needs } => (None, Some(needs.clone()), None),
                };
                serde_json::json!({
                    "check": c.check,
                    "area": c.area,
                    "verdict": c.verdict.to_string(),
                    "rule": c.rule,
                    "outcome": c.outcome.label(),
                    "message": message,
                    "reason": reason,
                    "observed": observed,
                    "millis": c.elapsed.as_millis() as u64,
                })
            })
            .collect();
        serde_json::json!({
            "backend": self.backend,
            "passed": self.passed(),
            "failed": self.failed(),
            "known_deviations": self.known(),
            "unsupported": self.unsupported(),
            "checks": checks,
        })
    }
}

/// Runs one check on a fresh store from `factory`.
pub async fn run_check(
    check: &Check,
    factory: &dyn Factory,
    expectations: &Expectations,
) -> CheckReport {
    let caps = factory.capabilities();
    let start = Instant::now();
    let outcome = if !check.needs.met_by(caps) {
        Outcome::Unsupported {
            needs: format!("{:?}", check.needs),
        }
    } else {
        let result = match factory.open().await {
            Err(e) => Err(format!("the factory could not open a fresh store: {e}")),
            Ok(instance) => {
                let ctx = Ctx { instance, caps };
                // A panicking store or check is a failure of that check, not of the run.
                let run = std::panic::AssertUnwindSafe((check.run)(ctx));
                match futures::FutureExt::catch_unwind(run).await {
                    Ok(Ok(observed)) => Ok(observed),
                    Ok(Err(failure)) => Err(failure.0),
                    Err(_) => Err("the check panicked".to_owned()),
                }
            }
        };
        match (result, expectations.reason(check.name)) {
            (Ok(observed), None) => Outcome::Passed { observed },
            (Ok(_), Some(reason)) => Outcome::UnexpectedPass {
                reason: reason.to_owned(),
            },
            (Err(message), None) => Outcome::Failed {
                message: match check.verdict {
                    Verdict::Defect => {
                        format!("{message} (defect; the trait says: {})", check.rule)
                    }
                    _ => message,
                },
            },
            (Err(message), Some(reason)) => Outcome::KnownDeviation {
                message,
                reason: reason.to_owned(),
            },
        }
    };
    CheckReport {
        check: check.name,
        area: check.area,
        verdict: check.verdict,
        rule: check.rule,
        backend: factory.name().to_owned(),
        outcome,
        elapsed: start.elapsed(),
    }
}

/// Runs the whole suite, calling `progress` after each check.
pub async fn run_suite(
    factory: &dyn Factory,
    expectations: &Expectations,
    mut progress: impl FnMut(usize, usize, &CheckReport),
) -> Report {
    let checks = all_checks();
    let mut reports = Vec::with_capacity(checks.len());
    for (i, check) in checks.iter().enumerate() {
        let report = run_check(check, factory, expectations).await;
        progress(i + 1, checks.len(), &report);
        reports.push(report);
    }
    Report {
        backend: factory.name().to_owned(),
        checks: reports,
    }
}

/// The executor a suite runs on. Checks use no runtime-specific API, so a
/// runtime-agnostic backend passes on all three; a backend that needs tokio
/// (like `SqliteStore`, which calls `spawn_blocking`) runs on the tokio ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Executor {
    /// tokio, multi-thread scheduler with two workers (the default).
    TokioMultiThread,
    /// tokio, current-thread scheduler.
    TokioCurrentThread,
    /// smol's `block_on` on the calling thread.
    Smol,
}

impl Executor {
    /// Every executor, in a stable order.
    pub const ALL: [Executor; 3] = [
        Executor::TokioMultiThread,
        Executor::TokioCurrentThread,
        Executor::Smol,
    ];

    /// The name used by the CLI (`tokio`, `tokio-current`, `smol`).
    pub fn name(self) -> &'static str {
        match self {
            Executor::TokioMultiThread => "tokio",
            Executor::TokioCurrentThread => "tokio-current",
            Executor::Smol => "smol",
        }
    }

    /// The executor named `name`.
    pub fn from_name(name: &str) -> Option<Executor> {
        Executor::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Runs `future` to completion on this executor.
    pub fn block_on<F: std::future::Future>(self, future: F) -> F::Output {
        match self {
            Executor::TokioMultiThread => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime")
                .block_on(future),
            Executor::TokioCurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime")
                .block_on(future),
            Executor::Smol => smol::block_on(future),
        }
    }
}

/// For the `conformance_tests!` macro: runs the named check on a fresh
/// runtime and panics with the failure, so `cargo test` names it.
#[doc(hidden)]
pub fn __run_as_test(name: &str, factory: &dyn Factory, expectations: &Expectations) {
    let check =
        crate::registry::find_check(name).unwrap_or_else(|| panic!("no check named {name}"));
    let report = Executor::TokioMultiThread.block_on(run_check(&check, factory, expectations));
    match report.outcome {
        Outcome::Failed { message } => panic!("{name} [{}]: {message}", check.verdict),
        Outcome::Unsupported { needs } => {
            eprintln!("{name}: not run, the backend does not declare {needs}")
        }
        Outcome::KnownDeviation { reason, .. } => eprintln!("{name}: known deviation: {reason}"),
        Outcome::UnexpectedPass { reason } => {
            eprintln!("{name}: passed although declared failing ({reason})")
        }
        Outcome::Passed { observed: Some(o) } => eprintln!("{name}: {o}"),
        Outcome::Passed { observed: None } => {}
    }
}
