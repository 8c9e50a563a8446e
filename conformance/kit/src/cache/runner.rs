//! Running cache checks against a factory, with declared expectations.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;

use super::{Check, Ctx, Factory, all_checks};
use crate::limit::{default_limit, within};
use crate::report::judge;
use crate::{CheckReport, Expectations, Report, UnknownCheck};

/// Runs one check on a fresh store from `factory` within [`default_limit`].
pub async fn run_check(
    check: &Check,
    factory: &dyn Factory,
    expectations: &Expectations,
) -> CheckReport {
    run_check_within(check, factory, expectations, default_limit()).await
}

/// [`run_check`] with a time limit of `limit`; a panic in the store or the
/// check fails that check.
pub async fn run_check_within(
    check: &Check,
    factory: &dyn Factory,
    expectations: &Expectations,
    limit: Duration,
) -> CheckReport {
    let start = Instant::now();
    let result = run_body(check, factory, limit).await;
    CheckReport {
        check: check.name,
        area: "CacheStore",
        methods: Vec::new(),
        verdict: check.verdict,
        rule: check.rule,
        backend: factory.name().to_owned(),
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
    factory: &dyn Factory,
    limit: Duration,
) -> Result<Option<String>, String> {
    let store = match within(limit, factory.open()).await {
        Some(Ok(store)) => store,
        Some(Err(e)) => return Err(format!("the factory could not open a fresh store: {e}")),
        None => return Err(format!("opening a fresh store took over {limit:?}")),
    };
    let ctx = Ctx {
        store,
        caps: factory.capabilities(),
    };
    let run = AssertUnwindSafe((check.run)(&ctx)).catch_unwind();
    match within(limit, run).await {
        Some(Ok(result)) => result.map_err(|failure| failure.0),
        Some(Err(_)) => {
            Err("the check panicked (a cache store must return errors, not panic)".into())
        }
        None => Err(format!(
            "timed out after {limit:?} (CONFORMANCE_CHECK_TIMEOUT sets the limit in seconds)"
        )),
    }
}

/// Runs every check of the family on fresh stores from `factory`, calling
/// `progress` after each. Fails before running anything if `expectations`
/// name a check that does not exist.
pub async fn run_suite(
    factory: &dyn Factory,
    expectations: &Expectations,
    mut progress: impl FnMut(usize, usize, &CheckReport),
) -> Result<Report, UnknownCheck> {
    let checks = all_checks();
    expectations.validate(checks.iter().map(|c| c.name))?;
    let mut report = Report::new(factory.name());
    for (i, check) in checks.iter().enumerate() {
        let result = run_check(check, factory, expectations).await;
        progress(i + 1, checks.len(), &result);
        report.checks.push(result);
    }
    Ok(report)
}

/// The cache family as a `cargo test` target (`harness = false`): one test
/// per check, each on a fresh store from `factory`, run from
/// [`Executor::DEFAULT`](crate::Executor::DEFAULT); exits with libtest's status.
pub fn test_main(factory: impl Factory + 'static, expectations: Expectations) -> ! {
    let names = all_checks()
        .iter()
        .map(|c| (c.name, "CacheStore"))
        .collect();
    let expectations = Arc::new(expectations);
    let run_with = expectations.clone();
    let run = Arc::new(move |name: &str| {
        let check = all_checks()
            .into_iter()
            .find(|c| c.name == name)
            .expect("a listed check");
        crate::harness::block_on(run_check(&check, &factory, &run_with))
    });
    crate::harness::run_trials(crate::harness::trials(names, &expectations, run), false)
}
