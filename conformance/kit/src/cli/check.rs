//! `check`: the storage checks on the chosen stores, a check x store
//! matrix, what each implementation-defined check observed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{Targets, executor, print_json, status, time_left, usage_error};
use crate::storage::{Method, all_checks, default_limit, run_check_within};
use crate::{Executor, Outcome, Report};

/// The `check` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/check/v1";

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Stores to check, comma-separated, or `all` (default: the default ones).
    #[arg(long, short, value_delimiter = ',')]
    backend: Vec<String>,
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

/// Runs `check` on the chosen `targets`.
pub fn check(args: CheckArgs, targets: &Targets) -> ExitCode {
    let backends = match targets.select(&args.backend) {
        Ok(b) => b,
        Err(e) => return usage_error(e),
    };
    let executor = match executor(&args.runtime) {
        Ok(e) => e,
        Err(e) => return usage_error(e),
    };
    if let Some(Err(e)) = backends
        .iter()
        .map(|b| b.executor_for(executor))
        .find(Result::is_err)
    {
        return usage_error(e);
    }
    let method = match args.method.as_deref().map(str::parse::<Method>).transpose() {
        Ok(m) => m,
        Err(e) => return usage_error(e),
    };
    let checks: Vec<_> = all_checks()
        .into_iter()
        .filter(|c| {
            args.filter
                .as_ref()
                .is_none_or(|f| c.name.contains(f.as_str()))
        })
        .filter(|c| method.is_none_or(|m| c.covers(m)))
        .collect();
    if checks.is_empty() {
        return usage_error("no check matches --filter/--method");
    }
    let limit = args.timeout.unwrap_or_else(default_limit);
    let started = Instant::now();
    let total = checks.len() * backends.len();
    let mut reports = Vec::new();
    for backend in &backends {
        let (factory, expectations) = (&backend.factory, &backend.expectations);
        let known = all_checks();
        if let Err(e) = expectations.validate(known.iter().map(|c| c.name)) {
            return usage_error(e);
        }
        let mut report = Report::new(backend.name());
        for check in &checks {
            let r = executor.block_on(run_check_within(
                check,
                factory.as_ref(),
                expectations,
                limit,
            ));
            let done = reports.len() * checks.len() + report.checks.len() + 1;
            eprintln!(
                "[{} {done:>3}/{total}, {}] {:<58} {:<11} {:>6} ms",
                backend.name(),
                time_left(started.elapsed(), done, total),
                r.check,
                r.outcome.label(),
                r.elapsed.as_millis()
            );
            report.checks.push(r);
        }
        reports.push(report);
    }
    let passed: usize = reports.iter().map(Report::passed).sum();
    let failed: usize = reports.iter().map(Report::failed).sum();
    let known: usize = reports.iter().map(Report::known).sum();
    let unsupported: usize = reports.iter().map(Report::unsupported).sum();
    if args.json {
        print_json(&serde_json::json!({
            "schema": SCHEMA,
            "runtime": executor.name(),
            "passed": passed,
            "failed": failed,
            "known_deviations": known,
            "unsupported": unsupported,
            "reports": reports.iter().map(Report::to_json).collect::<Vec<_>>(),
        }));
        eprintln!("{passed} passed, {failed} failed");
    } else {
        print_matrix(&reports);
        print_details(&reports);
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
