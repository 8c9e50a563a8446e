//! `whatsapp-rust-conformance`: run the conformance suite on the bundled backends.
//!
//! ```text
//! whatsapp-rust-conformance check [--backend redb|sqlite|memory|all] [--runtime tokio|tokio-current|smol] [--json] [--filter TEXT]
//! whatsapp-rust-conformance crash [--backend redb|sqlite] [--kills N] [--seed S] [--max-delay-ms M]
//! whatsapp-rust-conformance faults [--steps N] [--flush-every N] [--stride N]
//! whatsapp-rust-conformance bench [--quick] [--json] [--filter TEXT] [--chart PATH] [--no-extras]
//! ```
//! `bench` measures the storage paths of a real client on every bundled
//! backend and raw redb, prints a ratio table and writes an SVG chart.
//! `faults` sweeps an I/O error or a power cut over every write, sync and
//! resize of a workload on the redb engine (see the `fault_campaign` module).
//! `crash` starts this binary as a writer child (`crash-child`), SIGKILLs it at
//! seeded random moments and verifies the reopened store (see the `crash`
//! module). `--kills` and `--seed` default to `CONFORMANCE_CRASH_KILLS` (20)
//! and `CONFORMANCE_CRASH_SEED` (the clock).
//! Without `--backend` it checks the embedded default, the redb engine.
//! Progress goes to stderr; the matrix (or JSON with `--json`) to stdout; the
//! last line is `N passed, M failed`. Exit status 1 when any check fails
//! without a declared deviation, 2 on bad usage.

use std::io::Write;
use std::process::ExitCode;

mod cli;

use cli::{flag, number, runtime};

use whatsapp_rust_conformance::references::{BACKENDS, backend};
use whatsapp_rust_conformance::{Executor, Outcome, Report, all_checks, run_check};

const USAGE: &str = "usage: whatsapp-rust-conformance check [--backend redb|sqlite|memory|all] [--runtime tokio|tokio-current|smol] [--json] [--filter TEXT]
       whatsapp-rust-conformance crash [--backend redb|sqlite] [--kills N] [--seed S] [--max-delay-ms M]
       whatsapp-rust-conformance faults [--steps N] [--flush-every N] [--stride N]
       whatsapp-rust-conformance bench [--quick] [--json] [--filter TEXT] [--chart PATH] [--no-extras]";

struct Options {
    backends: Vec<String>,
    executor: Executor,
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
        executor: Executor::TokioMultiThread,
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
            "--runtime" => {
                let value = args.next().ok_or("--runtime needs a value")?;
                options.executor = Executor::from_name(value).ok_or_else(|| {
                    format!("unknown runtime {value:?}: choose tokio, tokio-current or smol")
                })?;
            }
            "--json" => options.json = true,
            "--filter" => {
                options.filter = Some(args.next().ok_or("--filter needs a value")?.clone())
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    if options.executor == Executor::Smol && options.backends.iter().any(|b| b == "sqlite") {
        return Err("SqliteStore needs a tokio runtime (spawn_blocking); run it with --runtime tokio or tokio-current".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("crash") => return crash(&args[1..]),
        Some("crash-child") => return crash_child(&args[1..]),
        Some("faults") => return cli::faults::run(&args[1..]),
        Some("bench") => return cli::bench::run(&args[1..]),
        _ => {}
    }
    let options = match parse(&args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
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
            let r = options
                .executor
                .block_on(run_check(check, factory.as_ref(), &expectations));
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

/// The writer child: runs the crash workload until killed.
fn crash_child(args: &[String]) -> ExitCode {
    let (Some(backend), Some(path)) = (flag(args, "--backend"), flag(args, "--path")) else {
        eprintln!("usage: crash-child --backend redb|sqlite --path PATH");
        return ExitCode::from(2);
    };
    let result = runtime().block_on(async {
        let store =
            whatsapp_rust_conformance::references::open_at(backend, std::path::Path::new(path))
                .await
                .map_err(whatsapp_rust_conformance::Failure)?;
        whatsapp_rust_conformance::crash::child_workload(store, std::io::stdout()).await
    });
    eprintln!("crash-child stopped: {result:?}");
    ExitCode::FAILURE
}

fn crash(args: &[String]) -> ExitCode {
    use whatsapp_rust_conformance::crash::Campaign;
    let parsed = (|| -> Result<(String, Campaign), String> {
        let backend = flag(args, "--backend").unwrap_or("redb").to_owned();
        if !["redb", "sqlite"].contains(&backend.as_str()) {
            return Err(format!(
                "crash needs a persistent backend: redb or sqlite, not {backend:?}"
            ));
        }
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1);
        let campaign = Campaign {
            kills: number(args, "--kills", "CONFORMANCE_CRASH_KILLS", 20)?,
            seed: number(args, "--seed", "CONFORMANCE_CRASH_SEED", clock)?,
            max_delay: std::time::Duration::from_millis(number(
                args,
                "--max-delay-ms",
                "CONFORMANCE_CRASH_MAX_DELAY_MS",
                300,
            )?),
            work_dir: std::env::temp_dir()
                .join(format!("conformance-crash-{}", std::process::id())),
        };
        Ok((backend, campaign))
    })();
    let (backend, campaign) = match parsed {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let exe = std::env::current_exe().expect("own path");
    eprintln!(
        "crash campaign: backend {backend}, {} kills, seed {}, kill within {:?} of start",
        campaign.kills, campaign.seed, campaign.max_delay
    );
    let report = runtime().block_on(campaign.run(
        |path| {
            let mut c = std::process::Command::new(&exe);
            c.args(["crash-child", "--backend", &backend, "--path"])
                .arg(path);
            c
        },
        |path| {
            let backend = backend.clone();
            async move { whatsapp_rust_conformance::references::open_at(&backend, &path).await }
        },
        |kill, result| match result {
            Ok(r) => eprintln!(
                "[kill {kill}/{}] ok: {} steps acknowledged, in-flight batch {}",
                campaign.kills,
                r.acknowledged,
                if r.in_flight_batch_landed {
                    "landed whole"
                } else {
                    "absent"
                }
            ),
            Err(f) => eprintln!("[kill {kill}/{}] FAIL: {f}", campaign.kills),
        },
    ));
    if report.failures.is_empty() {
        let _ = std::fs::remove_dir_all(&campaign.work_dir);
    }
    for f in &report.failures {
        println!("FAIL {f}");
    }
    println!(
        "{backend}: {} kills in {:.1} s, {} acknowledged steps verified ({} rows each), {} in-flight batches landed whole, seed {}",
        report.kills,
        report.elapsed.as_secs_f64(),
        report.acknowledged_steps,
        whatsapp_rust_conformance::crash::STEP_ROWS,
        report.in_flight_landed,
        campaign.seed
    );
    let failed = report.failures.len() as u64;
    println!("{} passed, {failed} failed", report.kills - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
