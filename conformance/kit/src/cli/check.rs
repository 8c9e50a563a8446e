//! `check`: every family's checks on the chosen stores, runtimes and cache
//! stores; a check x target matrix per family, what each
//! implementation-defined check observed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::families::pick;
use super::{
    CacheTarget, Family, RuntimeTarget, Targets, executor, print_json, status, time_left,
    usage_error,
};
use crate::storage::{Method, all_checks, default_limit, run_check_within};
use crate::{Executor, Outcome, Report};

/// The `check` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/check/v1";

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// What to check, comma-separated names of stores, runtimes and cache
    /// stores, or `all` (default: the default ones of each family).
    #[arg(long, short, value_delimiter = ',')]
    backend: Vec<String>,
    /// Families to run, comma-separated: storage, runtime, cache (default:
    /// every family that has something to check).
    #[arg(long, value_delimiter = ',')]
    family: Vec<String>,
    /// The executor the checks run on (default: tokio when compiled in).
    #[arg(long, default_value = Executor::DEFAULT.name())]
    runtime: String,
    /// Only checks whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Only checks that call this trait method (e.g. `put_mutation_macs`).
    #[arg(long)]
    method: Option<String>,
    /// Time limit of each check, in seconds (default: CONFORMANCE_CHECK_TIMEOUT, else 120).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    timeout: Option<Duration>,
    /// Print one JSON document on stdout; human output goes to stderr.
    #[arg(long)]
    json: bool,
}

fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// Runs `check` on the chosen `targets`: every family that has targets
/// (or those `--family` names), each on its chosen targets.
pub fn check(args: CheckArgs, targets: &Targets) -> ExitCode {
    let families = if args.family.is_empty() {
        targets.families()
    } else {
        match args.family.iter().map(|f| Family::from_name(f)).collect() {
            Ok(f) => f,
            Err(e) => return usage_error(e),
        }
    };
    let known = targets.all_names();
    if let Some(unknown) = args
        .backend
        .iter()
        .find(|n| *n != "all" && !known.contains(&n.as_str()))
    {
        return usage_error(format!(
            "unknown backend {unknown:?}: choose from {} or all",
            known.join(", ")
        ));
    }
    let executor = match executor(&args.runtime) {
        Ok(e) => e,
        Err(e) => return usage_error(e),
    };
    let method = match args.method.as_deref().map(str::parse::<Method>).transpose() {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let plan = match Plan::new(&args, targets, &families, executor, method) {
        Ok(plan) => plan,
        Err(e) => return usage_error(e),
    };
    if plan.total() == 0 {
        return usage_error("no check matches --family/--backend/--filter/--method");
    }
    let limit = args.timeout.unwrap_or_else(default_limit);
    let mut progress = Progress::new(plan.total());
    let runs = plan.run(executor, limit, &mut progress);
    report(&runs, executor, args.json)
}

/// What `check` will run: per family, the chosen targets and checks.
struct Plan<'t> {
    stores: Vec<&'t super::Target>,
    storage_checks: Vec<crate::storage::Check>,
    runtimes: Vec<&'t RuntimeTarget>,
    runtime_checks: Vec<crate::runtime::Check>,
    caches: Vec<&'t CacheTarget>,
    cache_checks: Vec<crate::cache::Check>,
    /// Transports and HTTP clients, each with the names of its checks to run.
    #[cfg(feature = "net")]
    network: Vec<(&'t super::NetTarget, Vec<&'static str>)>,
}

impl<'t> Plan<'t> {
    fn new(
        args: &CheckArgs,
        targets: &'t Targets,
        families: &[Family],
        executor: Executor,
        method: Option<Method>,
    ) -> Result<Plan<'t>, String> {
        let named = |name: &str| {
            args.filter
                .as_ref()
                .is_none_or(|f| name.contains(f.as_str()))
        };
        // --method names a storage trait method: the other families call none.
        let other_families = method.is_none();
        let mut plan = Plan {
            stores: Vec::new(),
            storage_checks: Vec::new(),
            runtimes: Vec::new(),
            runtime_checks: Vec::new(),
            caches: Vec::new(),
            cache_checks: Vec::new(),
            #[cfg(feature = "net")]
            network: Vec::new(),
        };
        if families.contains(&Family::Storage) {
            plan.stores = pick(&targets.stores, &args.backend, |t| t.name(), |t| t.default);
            for store in &plan.stores {
                store.executor_for(executor)?;
                let all = all_checks();
                store
                    .expectations
                    .validate(all.iter().map(|c| c.name))
                    .map_err(|e| e.to_string())?;
            }
            plan.storage_checks = all_checks()
                .into_iter()
                .filter(|c| named(c.name) && method.is_none_or(|m| c.covers(m)))
                .collect();
        }
        if families.contains(&Family::Runtime) && other_families {
            plan.runtimes = pick(
                &targets.runtimes,
                &args.backend,
                |t| t.name(),
                |t| t.default,
            );
            for rt in &plan.runtimes {
                if !rt.executors.contains(&executor) {
                    return Err(format!(
                        "{} runs on other executors than {}",
                        rt.name(),
                        executor.name()
                    ));
                }
                let all = crate::runtime::all_checks();
                rt.expectations
                    .validate(all.iter().map(|c| c.name))
                    .map_err(|e| e.to_string())?;
            }
            plan.runtime_checks = crate::runtime::all_checks()
                .into_iter()
                .filter(|c| named(c.name))
                .collect();
        }
        if families.contains(&Family::Cache) && other_families {
            plan.caches = pick(&targets.caches, &args.backend, |t| t.name(), |t| t.default);
            for cache in &plan.caches {
                let all = crate::cache::all_checks();
                cache
                    .expectations
                    .validate(all.iter().map(|c| c.name))
                    .map_err(|e| e.to_string())?;
            }
            plan.cache_checks = crate::cache::all_checks()
                .into_iter()
                .filter(|c| named(c.name))
                .collect();
        }
        #[cfg(feature = "net")]
        for family in [Family::Transport, Family::Http] {
            if !families.contains(&family) || !other_families {
                continue;
            }
            let of_family: Vec<_> = targets
                .network
                .iter()
                .filter(|t| t.family == family)
                .collect();
            for target in pick(&of_family, &args.backend, |t| t.name(), |t| t.default) {
                target
                    .expectations
                    .validate(target.checks.iter().copied())
                    .map_err(|e| e.to_string())?;
                let checks = target.checks.iter().copied().filter(|n| named(n)).collect();
                plan.network.push((*target, checks));
            }
        }
        Ok(plan)
    }

    fn total(&self) -> usize {
        let total = self.stores.len() * self.storage_checks.len()
            + self.runtimes.len() * self.runtime_checks.len()
            + self.caches.len() * self.cache_checks.len();
        #[cfg(feature = "net")]
        let total = total
            + self
                .network
                .iter()
                .map(|(_, checks)| checks.len())
                .sum::<usize>();
        total
    }

    fn run(
        &self,
        executor: Executor,
        limit: Duration,
        progress: &mut Progress,
    ) -> Vec<(Family, Vec<Report>)> {
        let mut runs = Vec::new();
        let mut storage = Vec::new();
        for store in &self.stores {
            let mut report = Report::new(store.name());
            for check in &self.storage_checks {
                let factory = store.factory.as_ref();
                let r =
                    executor.block_on(run_check_within(check, factory, &store.expectations, limit));
                progress.tick(&report.backend, &r);
                report.checks.push(r);
            }
            storage.push(report);
        }
        runs.push((Family::Storage, storage));
        let mut runtimes = Vec::new();
        for rt in &self.runtimes {
            let mut report = Report::new(rt.name());
            for check in &self.runtime_checks {
                let run =
                    crate::runtime::run_check_within(check, &rt.subject, &rt.expectations, limit);
                let r = executor.block_on(run);
                progress.tick(&report.backend, &r);
                report.checks.push(r);
            }
            runtimes.push(report);
        }
        runs.push((Family::Runtime, runtimes));
        let mut caches = Vec::new();
        for cache in &self.caches {
            let mut report = Report::new(cache.name());
            for check in &self.cache_checks {
                let run = crate::cache::run_check_within(
                    check,
                    cache.factory.as_ref(),
                    &cache.expectations,
                    limit,
                );
                let r = executor.block_on(run);
                progress.tick(&report.backend, &r);
                report.checks.push(r);
            }
            caches.push(report);
        }
        runs.push((Family::Cache, caches));
        #[cfg(feature = "net")]
        for family in [Family::Transport, Family::Http] {
            let mut reports = Vec::new();
            for (target, checks) in self.network.iter().filter(|(t, _)| t.family == family) {
                // Each runs on its own executor (a tokio-bound transport needs tokio).
                let mut report = Report::new(target.name());
                for check in checks {
                    let r = target.run(check, limit);
                    progress.tick(&report.backend, &r);
                    report.checks.push(r);
                }
                reports.push(report);
            }
            runs.push((family, reports));
        }
        runs.retain(|(_, reports)| !reports.is_empty());
        runs
    }
}

/// One progress line per check on stderr, with the time left.
struct Progress {
    started: Instant,
    done: usize,
    total: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            started: Instant::now(),
            done: 0,
            total,
        }
    }

    fn tick(&mut self, backend: &str, r: &crate::CheckReport) {
        self.done += 1;
        eprintln!(
            "[{backend} {:>3}/{}, {}] {:<58} {:<11} {:>6} ms",
            self.done,
            self.total,
            time_left(self.started.elapsed(), self.done, self.total),
            r.check,
            r.outcome.label(),
            r.elapsed.as_millis()
        );
    }
}

/// Prints the matrices (or the JSON document) and returns the exit status.
fn report(runs: &[(Family, Vec<Report>)], executor: Executor, json: bool) -> ExitCode {
    let all = || runs.iter().flat_map(|(_, reports)| reports.iter());
    let passed: usize = all().map(Report::passed).sum();
    let failed: usize = all().map(Report::failed).sum();
    let known: usize = all().map(Report::known).sum();
    let unsupported: usize = all().map(Report::unsupported).sum();
    if json {
        let reports: Vec<_> = runs
            .iter()
            .flat_map(|(family, reports)| {
                reports.iter().map(move |r| {
                    let mut doc = r.to_json();
                    doc["family"] = serde_json::json!(family.name());
                    doc
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "schema": SCHEMA,
            "runtime": executor.name(),
            "families": runs.iter().map(|(f, _)| f.name()).collect::<Vec<_>>(),
            "passed": passed,
            "failed": failed,
            "known_deviations": known,
            "unsupported": unsupported,
            "reports": reports,
        }));
        eprintln!("{passed} passed, {failed} failed");
    } else {
        for (family, reports) in runs {
            println!("\n== {family} ==");
            print_matrix(reports);
            print_details(reports);
        }
        println!("{known} known deviations, {unsupported} not run for lack of a capability");
        println!("{passed} passed, {failed} failed");
    }
    status(failed)
}

fn print_matrix(reports: &[Report]) {
    let Some(first) = reports.first() else { return };
    print!("\n{:<58} {:<24}", "check", "verdict");
    for r in reports {
        print!(" {:>11}", r.backend);
    }
    println!();
    for (i, c) in first.checks.iter().enumerate() {
        print!("{:<58} {:<24}", c.check, c.verdict.to_string());
        for r in reports {
            print!(" {:>11}", r.checks[i].outcome.label());
        }
        println!();
    }
    println!();
}

fn print_details(reports: &[Report]) {
    for r in reports {
        for c in &r.checks {
            let (backend, check) = (&r.backend, c.check);
            match &c.outcome {
                Outcome::Failed { message } => {
                    println!("FAIL  [{backend}] {check} ({}): {message}", c.verdict)
                }
                Outcome::KnownDeviation { reason, message } => {
                    println!("known [{backend}] {check}: {reason}\n      saw: {message}")
                }
                Outcome::UnexpectedPass { reason } => {
                    println!("stale [{backend}] {check}: declared failing ({reason}) but passed")
                }
                Outcome::Passed { observed: Some(o) } => println!("seen  [{backend}] {check}: {o}"),
                Outcome::Unsupported { needs } => {
                    println!("n/a   [{backend}] {check}: needs {needs}")
                }
                _ => {}
            }
        }
    }
}
