//! The family's checks: each file of `checks/` lists its own; this joins them.

use super::check::Check;
use super::checks;
use super::methods::Method;

/// Every check of the storage family, in a stable order.
pub fn all_checks() -> Vec<Check> {
    [
        checks::signal::checks(),
        checks::app_sync::checks(),
        checks::protocol::checks(),
        checks::msg_secret::checks(),
        checks::device::checks(),
        checks::edge::checks(),
        checks::batches::checks(),
        checks::isolation::checks(),
        checks::races::checks(),
        checks::accounts::checks(),
        checks::executor::checks(),
    ]
    .concat()
}

/// The check with this name (`area::check`), if any.
pub fn find_check(name: &str) -> Option<Check> {
    all_checks().into_iter().find(|c| c.name == name)
}

/// The checks that call `method`.
pub fn checks_covering(method: Method) -> Vec<Check> {
    all_checks()
        .into_iter()
        .filter(|c| c.covers(method))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::storage::recording::methods_called;
    use crate::storage::{Needs, in_memory};
    use crate::{Executor, Expectations};

    /// Runs every check the in-memory reference can run and passes on a
    /// recorded store: the methods a check declares are exactly those it
    /// calls. (The lab holds every check to it on our engine, which runs
    /// and passes them all.)
    #[test]
    fn every_check_declares_exactly_the_methods_it_calls() {
        let mut wrong = Vec::new();
        let deviations = in_memory::expectations();
        for check in all_checks() {
            if !check.needs.met_by(in_memory::capabilities())
                || deviations.reason(check.name).is_some()
            {
                continue;
            }
            let called = Executor::DEFAULT.block_on(methods_called(&check, &in_memory::factory()));
            let declared: BTreeSet<Method> = check.methods.iter().copied().collect();
            if called != declared {
                let names: Vec<_> = called.iter().map(|m| m.name()).collect();
                wrong.push(format!("{} calls [{}]", check.name, names.join(", ")));
            }
        }
        assert!(
            wrong.is_empty(),
            "declared methods differ:\n{}",
            wrong.join("\n")
        );
    }

    /// Every method of the five traits is covered by at least one check.
    #[test]
    fn every_method_is_covered() {
        let uncovered: Vec<_> = Method::ALL
            .iter()
            .filter(|m| checks_covering(**m).is_empty())
            .collect();
        assert!(uncovered.is_empty(), "no check covers {uncovered:?}");
    }

    #[test]
    fn names_are_unique_and_capability_checks_exist() {
        let checks = all_checks();
        let names: BTreeSet<_> = checks.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), checks.len());
        assert!(checks.iter().any(|c| c.needs == Needs::Persistent));
        assert!(
            Expectations::none()
                .expect_failure("signal::no_such_check", "typo")
                .validate(checks.iter().map(|c| c.name))
                .is_err()
        );
    }
}
