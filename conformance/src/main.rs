//! `whatsapp-rust-conformance`: run the conformance suite on the bundled backends.
//!
//! ```text
//! whatsapp-rust-conformance check [--backend redb|sqlite|memory|all] [--json] [--filter TEXT]
//! ```
//! Without `--backend` it checks the embedded default, the redb engine.
//! Progress goes to stderr; the matrix (or JSON with `--json`) to stdout; the
//! last line is `N passed, M failed`. Exit status 1 when any check fails
//! without a declared deviation, 2 on bad usage.

use std::io::Write;
use std::process::ExitCode;

use whatsapp_rust_conformance::references::{BACKENDS, backend};
use whatsapp_rust_conformance::{Outcome, Report, all_checks, run_check};

const USAGE: &str = "usage: whatsapp-rust-conformance check [--backend redb|sqlite|memory|all] [--json] [--filter TEXT]";

struct Options {
    backends: Vec<String>,
    json: bool,
    filter: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some("check") => {}
        Some("-h" | "--help") | None => return Err(USAGE.into()),
        Some(other) => return Err(format!("unknown command {other:?}\n{USAGE}")),
    }
    let mut options = Options {
        backends: vec!["redb".into()],
        json: false,
        filter: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" | "-b" => {
                let value = args.next().ok_or("--backend needs a value")?;
                options.backends = match value.as_str() {
                    "all" => BACKENDS.iter().map(|s| s.to_string()).collect(),
                    name if BACKENDS.contains(&name) => vec![name.to_owned()],
                    other => {
                        return Err(format!(
                            "unknown backend {other:?}: choose from {} or all",
                            BACKENDS.join(", ")
                        ));
                    }
                };
            }
            "--json" => options.json = true,
            "--filter" => {
                options.filter = Some(args.next().ok_or("--filter needs a value")?.clone())
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let checks: Vec<_> = all_checks()
        .into_iter()
        .filter(|c| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| c.name.contains(f.as_str()))
        })
        .collect();
    let mut reports = Vec::new();
    for name in &options.backends {
        let (factory, expectations) = backend(name).expect("validated backend name");
        let mut report = Report {
            backend: name.clone(),
            checks: Vec::new(),
        };
        for (i, check) in checks.iter().enumerate() {
            let r = runtime.block_on(run_check(check, factory.as_ref(), &expectations));
            eprintln!(
                "[{name} {:>2}/{}] {:<58} {:<11} {:>6} ms",
                i + 1,
                checks.len(),
                r.check,
                r.outcome.label(),
                r.elapsed.as_millis()
            );
            let _ = std::io::stderr().flush();
            report.checks.push(r);
        }
        reports.push(report);
    }

    if options.json {
        let json: Vec<_> = reports.iter().map(Report::to_json).collect();
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        print_matrix(&reports);
        print_details(&reports);
    }
    let passed: usize = reports.iter().map(Report::passed).sum();
    let failed: usize = reports.iter().map(Report::failed).sum();
    let known: usize = reports.iter().map(Report::known).sum();
    let unsupported: usize = reports.iter().map(Report::unsupported).sum();
    println!("{known} known deviations, {unsupported} not run for lack of a capability");
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
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
            match &c.outcome {
                Outcome::Failed { message } => {
                    println!(
                        "FAIL  [{}] {} ({}): {message}",
                        r.backend, c.check, c.verdict
                    )
                }
                Outcome::KnownDeviation { reason, message } => {
                    println!(
                        "known [{}] {}: {reason}\n      saw: {message}",
                        r.backend, c.check
                    )
                }
                Outcome::UnexpectedPass { reason } => println!(
                    "stale [{}] {}: declared failing ({reason}) but passed",
                    r.backend, c.check
                ),
                Outcome::Passed { observed: Some(o) } => {
                    println!("seen  [{}] {}: {o}", r.backend, c.check)
                }
                Outcome::Unsupported { needs } => {
                    println!("n/a   [{}] {}: needs {needs}", r.backend, c.check)
                }
                Outcome::Passed { observed: None } => {}
            }
        }
    }
}
