//! Running runtime checks: each body is a task spawned on the runtime under
//! test, awaited here under a time limit kept by the kit's own timer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;

use super::{Check, RuntimeUnderTest, all_checks};
use crate::limit::{default_limit, within};
use crate::report::judge;
use crate::{CheckReport, Expectations, Report, UnknownCheck};

/// Runs one check on `subject` within [`default_limit`].
pub async fn run_check(
    check: &Check,
    subject: &RuntimeUnderTest,
    expectations: &Expectations,
) -> CheckReport {
    run_check_within(check, subject, expectations, default_limit()).await
}

/// Runs one check on `subject`: its body is spawned on the runtime, and a
/// body that does not finish within `limit` fails the check (its task is then
/// aborted through its handle).
pub async fn run_check_within(
    check: &Check,
    subject: &RuntimeUnderTest,
    expectations: &Expectations,
    limit: Duration,
) -> CheckReport {
    let start = Instant::now();
    let result = run_body(check, subject, limit).await;
    CheckReport {
        check: check.name,
        area: "Runtime",
        methods: Vec::new(),
        verdict: check.verdict,
        rule: check.rule,
        backend: subject.name().to_owned(),
        outcome: judge(
            (check.name, check.verdict, check.rule),
            result,
            expectations,
        ),
        elapsed: start.elapsed(),
    }
}

async fn run_body(
    check: &Check,
    subject: &RuntimeUnderTest,
    limit: Duration,
) -> Result<Option<String>, String> {
    let runtime = subject.runtime();
    let body = (check.run)(runtime.clone(), subject.capabilities());
    let (report, reported) = futures::channel::oneshot::channel();
    let task = runtime.spawn(Box::pin(async move {
        // A panicking check (or runtime call inside it) fails that check only.
        let _ = report.send(AssertUnwindSafe(body).catch_unwind().await);
    }));
    let outcome = within(limit, reported).await;
    let finished = outcome.is_some();
    let result = match outcome {
        Some(Ok(Ok(result))) => result.map_err(|failure| failure.0),
        Some(Ok(Err(_))) => Err("the check panicked".to_owned()),
        Some(Err(_)) => Err("the runtime dropped the check's task before it finished".to_owned()),
        None => Err(format!(
            "timed out after {limit:?}: the check's task never finished \
             (CONFORMANCE_CHECK_TIMEOUT sets the limit in seconds)"
        )),
    };
    if finished {
        // Done: nothing to cancel (aborting finished tasks has its own check).
        task.detach();
    } else if std::panic::catch_unwind(AssertUnwindSafe(|| drop(task))).is_err() {
        return Err(format!(
            "{} (and dropping its task's handle panicked)",
            result.err().unwrap_or_default()
        ));
    }
    result
}

/// Runs every check of the family on `subject`, calling `progress` after
/// each. Fails before running anything if `expectations` name a check that
/// does not exist.
pub async fn run_suite(
    subject: &RuntimeUnderTest,
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

/// The runtime family as a `cargo test` target (`harness = false`): one
/// test per check, run from [`Executor::DEFAULT`](crate::Executor::DEFAULT),
/// one at a time unless `--test-threads` says otherwise (the checks share
/// the runtime and time it); exits with libtest's status.
pub fn test_main(subject: RuntimeUnderTest, expectations: Expectations) -> ! {
    let names = all_checks().iter().map(|c| (c.name, "Runtime")).collect();
    let expectations = Arc::new(expectations);
    let run_with = expectations.clone();
    let run = Arc::new(move |name: &str| {
        let check = all_checks()
            .into_iter()
            .find(|c| c.name == name)
            .expect("a listed check");
        crate::harness::block_on(run_check(&check, &subject, &run_with))
    });
    crate::harness::run_trials(crate::harness::trials(names, &expectations, run), true)
}
