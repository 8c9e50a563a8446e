//! What a check's failure means, and how a check fails.

use std::fmt;

use wacore::store::error::StoreError;

/// What a failing check means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure(format!("a cache call failed: {e:#}"))
    }
}

/// `error: source: source ...`, so a message names the backend's own error.
pub fn error_chain(error: &dyn std::error::Error) -> String {
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
