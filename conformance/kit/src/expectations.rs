//! Declared deviations: the checks a backend is known to fail, with reasons.

use std::collections::BTreeMap;
use std::fmt;

/// Failures a backend is known to have, each with its reason. A declared
/// failure is reported as a known deviation and does not fail the run; a
/// declared check that passes is reported as such (the declaration is stale).
/// A declaration naming no check of the suite is an error when the suite
/// runs ([`UnknownCheck`]), never a silent no-op.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    expected: BTreeMap<String, String>,
}

impl Expectations {
    /// No declared deviations.
    pub fn none() -> Self {
        Expectations::default()
    }

    /// Declares that check `name` (as in reports: `signal::identity_round_trip`)
    /// fails on this backend, and why.
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

    /// Fails if a declaration names none of `known` check names.
    pub fn validate<'a>(
        &self,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), UnknownCheck> {
        let known: Vec<&str> = known.into_iter().collect();
        let unknown: Vec<String> = self
            .expected
            .keys()
            .filter(|name| !known.contains(&name.as_str()))
            .cloned()
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(UnknownCheck { names: unknown })
        }
    }
}

/// [`Expectations`] named checks that do not exist (a typo, or a check that
/// was renamed): the declaration would silently do nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCheck {
    /// The names that match no check.
    pub names: Vec<String>,
}

impl fmt::Display for UnknownCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expectations name checks that do not exist: {} (names are `area::check`, as printed in reports)",
            self.names.join(", ")
        )
    }
}

impl std::error::Error for UnknownCheck {}
