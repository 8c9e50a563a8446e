//! Running storage checks against a factory, with declared expectations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::check::{Check, Ctx};
use super::factory::Factory;
use super::registry::all_checks;
use super::watch::InFlight;
use super::wrapped::{FactoryRef, WrappedFactory};
use crate::limit::{default_limit, within};
use crate::report::judge;
use crate::{CheckReport, Expectations, Outcome, Report, UnknownCheck};

/// Runs one check on a fresh store from `factory`, then tears the store
/// down, each within [`default_limit`].
pub async fn run_check(
    check: &Check,
    factory: &dyn Factory,
    expectations: &Expectations,
) -> CheckReport {
    run_check_within(check, factory, expectations, default_limit()).await
}

/// [`run_check`] with a time limit of `limit` for the check and `limit` again
/// for the teardown. A check that runs out of time fails, naming the store
/// calls in flight; its future is dropped.
pub async fn run_check_within(
    check: &Check,
    factory: &dyn Factory,
    expectations: &Expectations,
    limit: Duration,
) -> CheckReport {
    let caps = factory.capabilities();
    let start = Instant::now();
    let outcome = if !check.needs.met_by(caps) {
        Outcome::Unsupported {
            needs: format!("{:?}", check.needs),
        }
    } else {
        judge(
            (check.name, check.verdict, check.rule),
            run_body(check, factory, limit).await,
            expectations,
        )
    };
    CheckReport {
        check: check.name,
        area: check.area,
        methods: check.methods.iter().map(|m| m.name()).collect(),
        verdict: check.verdict,
        rule: check.rule,
        backend: factory.name().to_owned(),
        outcome,
        elapsed: start.elapsed(),
    }
}

/// The body's result on a fresh store; a failed teardown fails the check.
async fn run_body(
    check: &Check,
    factory: &dyn Factory,
    limit: Duration,
) -> Result<Option<String>, String> {
    let in_flight = Arc::new(InFlight::default());
    let watching = in_flight.clone();
    let factory = WrappedFactory::new(FactoryRef(factory), move |store| watching.watch(store));
    let instance = match within(limit, factory.open()).await {
        Some(Ok(instance)) => instance,
        Some(Err(e)) => return Err(format!("the factory could not open a fresh store: {e}")),
        None => return Err(format!("opening a fresh store took over {limit:?}")),
    };
    let mut ctx = Ctx {
        instance,
        caps: factory.capabilities(),
    };
    // A panicking store or check is a failure of that check, not of the run.
    let run = std::panic::AssertUnwindSafe((check.run)(&mut ctx));
    let result = match within(limit, futures::FutureExt::catch_unwind(run)).await {
        Some(Ok(Ok(observed))) => Ok(observed),
        Some(Ok(Err(failure))) => Err(failure.0),
        Some(Err(_)) => Err("the check panicked".to_owned()),
        None => Err(format!(
            "timed out after {limit:?}; {} (CONFORMANCE_CHECK_TIMEOUT sets the limit in seconds)",
            in_flight.describe()
        )),
    };
    let teardown = match within(limit, ctx.instance.teardown()).await {
        Some(done) => done.map_err(|e| e.to_string()),
        None => Err(format!("it took over {limit:?}")),
    };
    match (teardown, result) {
        (Ok(()), result) => result,
        (Err(e), Ok(_)) => Err(format!("teardown failed: {e}")),
        (Err(e), Err(message)) => Err(format!("{message} (and teardown failed: {e})")),
    }
}

/// Runs every check whose name passes `select`, calling `progress` after
/// each. Fails before running anything if `expectations` name a check that
/// does not exist.
pub async fn run_checks(
    factory: &dyn Factory,
    expectations: &Expectations,
    select: impl Fn(&Check) -> bool,
    mut progress: impl FnMut(usize, usize, &CheckReport),
) -> Result<Report, UnknownCheck> {
    let checks = all_checks();
    expectations.validate(checks.iter().map(|c| c.name))?;
    let selected: Vec<_> = checks.iter().filter(|c| select(c)).collect();
    let mut report = Report::new(factory.name());
    for (i, check) in selected.iter().enumerate() {
        let result = run_check(check, factory, expectations).await;
        progress(i + 1, selected.len(), &result);
        report.checks.push(result);
    }
    Ok(report)
}

/// Runs the whole suite, calling `progress` after each check.
pub async fn run_suite(
    factory: &dyn Factory,
    expectations: &Expectations,
    progress: impl FnMut(usize, usize, &CheckReport),
) -> Result<Report, UnknownCheck> {
    run_checks(factory, expectations, |_| true, progress).await
}
