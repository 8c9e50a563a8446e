//! `check`: the kit's storage checks on the bundled backends, a check x
//! backend matrix, what each implementation-defined check observed.

use std::process::ExitCode;
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use whatsapp_rust_conformance::storage::{Method, all_checks, run_check};
use whatsapp_rust_conformance::{Executor, Outcome, Report};
use whatsapp_rust_conformance_lab::references::Reference;

use super::{print_json, status, time_left, usage_error};

/// The `check` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/check/v1";

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// Backends to check, comma-separated, or `all`.
    #[arg(long, short, value_delimiter = ',', default_value = "redb",
          value_parser = PossibleValuesParser::new(["redb", "sqlite", "memory", "all"]))]
    backend: Vec<String>,
    /// The executor the checks run on (sqlite needs a tokio one).
    #[arg(long, default_value = "tokio",
          value_parser = PossibleValuesParser::new(Executor::ALL.iter().map(|e| e.name())))]
    runtime: String,
    /// Only checks whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Only checks that call this trait method (e.g. `put_mutation_macs`).
    #[arg(long)]
    method: Option<String>,
    /// Print one JSON document on stdout; human output goes to stderr.
    #[arg(long)]
    json: bool,
}

/// Runs `check`.
pub fn run(args: Args) -> ExitCode {
    let backends = expand(&args.backend);
    let executor = Executor::from_name(&args.runtime).expect("clap checked the runtime name");
    if !matches!(
        executor,
        Executor::TokioMultiThread | Executor::TokioCurrentThread
    ) && backends.iter().any(|b| b.needs_tokio())
    {
        return usage_error(
            "SqliteStore needs a tokio runtime (spawn_blocking): use --runtime tokio or tokio-current",
        );
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
    let started = Instant::now();
    let total = checks.len() * backends.len();
    let mut reports = Vec::new();
    for backend in &backends {
        let (factory, expectations) = (backend.factory(), backend.expectations());
        let known = all_checks();
        if let Err(e) = expectations.validate(known.iter().map(|c| c.name)) {
            return usage_error(e);
        }
        let mut report = Report::new(backend.name());
        for check in &checks {
            let r = executor.block_on(run_check(check, factory.as_ref(), &expectations));
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

fn expand(names: &[String]) -> Vec<Reference> {
    let mut out = Vec::new();
    for name in names {
        let add: Vec<Reference> = match name.as_str() {
            "all" => Reference::ALL.to_vec(),
            name => Reference::from_name(name).into_iter().collect(),
        };
        for r in add {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
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
