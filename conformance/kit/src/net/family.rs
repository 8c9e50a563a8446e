//! What the transport and http families share: a check over a subject, and
//! running checks (one, a suite, or as `cargo test` targets). Each body runs
//! on the subject's executor under a time limit kept by the kit's own timer.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use libtest_mimic::{Failed, Trial};

use crate::limit::{default_limit, within};
use crate::report::judge;
use crate::{
    CheckReport, CheckResult, Executor, Expectations, Outcome, Report, UnknownCheck, Verdict,
};

/// What a transport or an HTTP client claims.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// It goes through HTTP CONNECT and SOCKS5 proxies, with credentials.
    pub proxies: bool,
}

impl Capabilities {
    /// A subject that connects directly only.
    pub fn direct_only() -> Capabilities {
        Capabilities { proxies: false }
    }

    /// A subject that also goes through both kinds of proxy.
    pub fn with_proxies() -> Capabilities {
        Capabilities { proxies: true }
    }
}

/// What a network family checks: a transport or an HTTP client, with its
/// claims and the executor its checks run on.
pub trait Subject: Clone + Send + Sync + 'static {
    /// The family's area in reports (`Transport`, `Http`).
    const AREA: &'static str;
    /// Its name in reports.
    fn name(&self) -> &str;
    /// Whether it claims to go through proxies.
    fn claims_proxies(&self) -> bool;
    /// The executor its checks run on.
    fn executor(&self) -> Executor;
    /// Every check of its family, in report order.
    fn checks() -> Vec<Check<Self>>;
}

/// One check of a network family.
#[non_exhaustive]
pub struct Check<S> {
    /// Unique name, `family::rule`.
    pub name: &'static str,
    /// What a failure means.
    pub verdict: Verdict,
    /// The rule it enforces, and where it comes from.
    pub rule: &'static str,
    /// The check needs a subject that claims proxies.
    pub needs_proxies: bool,
    /// The body.
    pub run: fn(S) -> BoxFuture<'static, CheckResult>,
}

impl<S> Clone for Check<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Check<S> {}

impl<S> fmt::Debug for Check<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("verdict", &self.verdict)
            .finish()
    }
}

/// Runs one check on `subject` within [`default_limit`].
pub async fn run_check<S: Subject>(
    check: &Check<S>,
    subject: &S,
    expectations: &Expectations,
) -> CheckReport {
    run_check_within(check, subject, expectations, default_limit()).await
}

/// Runs one check on `subject`; a body that does not finish within `limit`
/// fails the check (its future is dropped). A check needing proxies on a
/// subject that does not claim them is reported unsupported.
pub async fn run_check_within<S: Subject>(
    check: &Check<S>,
    subject: &S,
    expectations: &Expectations,
    limit: Duration,
) -> CheckReport {
    let start = Instant::now();
    let outcome = if check.needs_proxies && !subject.claims_proxies() {
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
        area: S::AREA,
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
pub async fn run_suite<S: Subject>(
    subject: &S,
    expectations: &Expectations,
    mut progress: impl FnMut(usize, usize, &CheckReport),
) -> Result<Report, UnknownCheck> {
    let checks = S::checks();
    expectations.validate(checks.iter().map(|c| c.name))?;
    let mut report = Report::new(subject.name());
    for (i, check) in checks.iter().enumerate() {
        let result = run_check(check, subject, expectations).await;
        progress(i + 1, checks.len(), &result);
        report.checks.push(result);
    }
    Ok(report)
}

/// The family as a `cargo test` target (`harness = false`): one test per
/// check, each on the subject's executor; a check needing a capability the
/// subject does not claim is ignored. Exits with libtest's status.
pub fn test_main<S: Subject>(subject: S, expectations: Expectations) -> ! {
    crate::harness::run_trials(trials(subject, expectations, ""), false)
}

/// [`test_main`] over several subjects, the tests named `<subject>/<check>`.
pub fn test_main_each<S: Subject>(subjects: Vec<(S, Expectations)>) -> ! {
    let trials = subjects
        .into_iter()
        .flat_map(|(subject, expectations)| {
            let prefix = format!("{}/", subject.name());
            trials(subject, expectations, &prefix)
        })
        .collect();
    crate::harness::run_trials(trials, false)
}

fn trials<S: Subject>(subject: S, expectations: Expectations, prefix: &str) -> Vec<Trial> {
    let checks = S::checks();
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
            let unsupported = check.needs_proxies && !subject.claims_proxies();
            Trial::test(format!("{prefix}{}", check.name), move || {
                let report =
                    subject
                        .executor()
                        .block_on(run_check(&check, &*subject, &expectations));
                match report.outcome {
                    Outcome::Failed { message } => {
                        Err(Failed::from(format!("[{}] {message}", check.verdict)))
                    }
                    _ => Ok(()),
                }
            })
            .with_kind(S::AREA)
            .with_ignored_flag(unsupported)
        })
        .collect()
}

/// Declares a check of a network family: `fn $name() -> Check<$subject>`
/// (private, so one left out of its file's registry is dead code).
/// Arguments: the subject type, name, verdict, the rule and where it comes
/// from, optionally `needs_proxies: true`, the body over the subject.
macro_rules! net_check {
    ($subject:ty, $name:ident, $verdict:ident, $rule:literal, |$s:ident| $body:block) => {
        $crate::net::net_check!($subject, $name, $verdict, $rule, needs_proxies: false, |$s| $body);
    };
    ($subject:ty, $name:ident, $verdict:ident, $rule:literal, needs_proxies: $proxies:literal, |$s:ident| $body:block) => {
        fn $name() -> $crate::net::Check<$subject> {
            async fn body($s: $subject) -> $crate::CheckResult $body
            $crate::net::Check {
                name: "",
                verdict: $crate::Verdict::$verdict,
                rule: $rule,
                needs_proxies: $proxies,
                run: |s| Box::pin(body(s)),
            }
        }
    };
}
pub(crate) use net_check;

/// A file's checks, in report order, named `$family::check`.
macro_rules! net_register {
    ($family:literal, $subject:ty; $($name:ident),* $(,)?) => {
        /// This file's checks, in report order.
        pub(crate) fn checks() -> Vec<$crate::net::Check<$subject>> {
            vec![$(
                $crate::net::Check {
                    name: concat!($family, "::", stringify!($name)),
                    ..$name()
                }
            ),*]
        }
    };
}
pub(crate) use net_register;
