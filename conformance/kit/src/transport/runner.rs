//! Running transport checks: each body runs on the subject's executor under
//! a time limit kept by the kit's own timer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use libtest_mimic::{Failed, Trial};

use super::{Check, TransportUnderTest, all_checks};
use crate::limit::{default_limit, within};
use crate::report::judge;
use crate::{CheckReport, Expectations, Outcome, Report, UnknownCheck};

/// Runs one check on `subject` within [`default_limit`].
pub async fn run_check(
    check: &Check,
    subject: &TransportUnderTest,
    expectations: &Expectations,
) -> CheckReport {
    run_check_within(check, subject, expectations, default_limit()).await
}

/// Runs one check on `subject`; a body that does not finish within `limit`
/// fails the check (its future is dropped). A check needing proxies on a
/// transport that does not claim them is reported unsupported.
pub async fn run_check_within(
    check: &Check,
    subject: &TransportUnderTest,
    expectations: &Expectations,
    limit: Duration,
) -> CheckReport {
    let start = Instant::now();
    let outcome = if check.needs_proxies && !subject.capabilities().proxies {
        Outcome::Unsupported {
            needs: "proxies".to_owned(),
        }
    } else {
        let body = AssertUnwindSafe((check.run)(subject.clone())).catch_unwind();
        let result = match within(limit, body).await {
            Some(Ok(result)) => result.map_err(|failure| failure.0),
            Some(Err(_)) => Err("the check panicked".to_owned()),
            None => Err(format!(
                "timed out after {limit:?} (CONFORMANCE_CHECK_TIMEOUT sets the limit in seconds)"
            )),
        };
        judge(
            (check.name, check.verdict, check.rule),
            result,
            expectations,
        )
    };
    CheckReport {
        check: check.name,
        area: "Transport",
        methods: Vec::new(),
        verdict: check.verdict,
        rule: check.rule,
        backend: subject.name().to_owned(),
        outcome,
        elapsed: start.elapsed(),
    }
}

/// Runs every check of the family on `subject`, calling `progress` after
/// each. Fails before running anything if `expectations` name a check that
/// does not exist.
pub async fn run_suite(
    subject: &TransportUnderTest,
    expectations: &Expectations,
    mut progress: impl FnMut(usize, usize, &CheckReport),
) -> Result<Report, UnknownCheck> {
    let checks = all_checks();
    expectations.validate(checks.iter().map(|c| c.name))?;
    let mut report = Report::new(subject.name());
    for (i, check) in checks.iter().enumerate() {
        let result = run_check(check, subject, expectations).await;
        progress(i + 1, checks.len(), &result);
        report.checks.push(result);
    }
    Ok(report)
}

/// The transport family as a `cargo test` target (`harness = false`): one
/// test per check, each on the subject's executor; exits with libtest's status.
/// A check needing a capability the subject does not claim is ignored.
pub fn test_main(subject: TransportUnderTest, expectations: Expectations) -> ! {
    crate::harness::run_trials(trials(subject, expectations, ""), false)
}

/// [`test_main`] over several transports, the tests named `<transport>/<check>`.
pub fn test_main_each(subjects: Vec<(TransportUnderTest, Expectations)>) -> ! {
    let trials = subjects
        .into_iter()
        .flat_map(|(subject, expectations)| {
            let prefix = format!("{}/", subject.name());
            trials(subject, expectations, &prefix)
        })
        .collect();
    crate::harness::run_trials(trials, false)
}

fn trials(subject: TransportUnderTest, expectations: Expectations, prefix: &str) -> Vec<Trial> {
    let checks = all_checks();
    if let Err(unknown) = expectations.validate(checks.iter().map(|c| c.name)) {
        return vec![Trial::test(format!("{prefix}expectations"), move || {
            Err(unknown.to_string().into())
        })];
    }
    let (subject, expectations) = (Arc::new(subject), Arc::new(expectations));
    checks
        .into_iter()
        .map(|check| {
            let (subject, expectations) = (subject.clone(), expectations.clone());
            let unsupported = check.needs_proxies && !subject.capabilities().proxies;
            Trial::test(format!("{prefix}{}", check.name), move || {
                let report =
                    subject
                        .executor()
                        .block_on(run_check(&check, &subject, &expectations));
                match report.outcome {
                    Outcome::Failed { message } => {
                        Err(Failed::from(format!("[{}] {message}", check.verdict)))
                    }
                    _ => Ok(()),
                }
            })
            .with_kind("Transport")
            .with_ignored_flag(unsupported)
        })
        .collect()
}
