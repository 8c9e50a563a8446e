//! How checks ended: one [`CheckReport`] per check, one [`Report`] per backend.
//! Shared by every family of checks.

use std::time::Duration;

use crate::{Expectations, Verdict};

/// How one check ended on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct CheckReport {
    /// Check name (`area::check`), the same in `Expectations` and test names.
    pub check: &'static str,
    /// The trait it exercises.
    pub area: &'static str,
    /// The trait methods it calls.
    pub methods: Vec<&'static str>,
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
#[non_exhaustive]
pub struct Report {
    /// Backend name.
    pub backend: String,
    /// One entry per check, in suite order.
    pub checks: Vec<CheckReport>,
}

impl Report {
    /// An empty report for `backend`.
    pub fn new(backend: impl Into<String>) -> Report {
        Report {
            backend: backend.into(),
            checks: Vec::new(),
        }
    }

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
        let checks: Vec<_> = self.checks.iter().map(check_json).collect();
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

fn check_json(c: &CheckReport) -> serde_json::Value {
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
        "methods": c.methods,
        "verdict": c.verdict.to_string(),
        "rule": c.rule,
        "outcome": c.outcome.label(),
        "message": message,
        "reason": reason,
        "observed": observed,
        "millis": c.elapsed.as_millis() as u64,
    })
}

/// The outcome of a check (`name`, `verdict`, `rule`) whose body returned
/// `result`, given the declared deviations. Shared by every family.
pub(crate) fn judge(
    (name, verdict, rule): (&str, Verdict, &str),
    result: Result<Option<String>, String>,
    expectations: &Expectations,
) -> Outcome {
    match (result, expectations.reason(name)) {
        (Ok(observed), None) => Outcome::Passed { observed },
        (Ok(_), Some(reason)) => Outcome::UnexpectedPass {
            reason: reason.to_owned(),
        },
        (Err(message), None) => Outcome::Failed {
            message: match verdict {
                Verdict::Defect => format!("{message} (defect; the trait says: {rule})"),
                _ => message,
            },
        },
        (Err(message), Some(reason)) => Outcome::KnownDeviation {
            message,
            reason: reason.to_owned(),
        },
    }
}
