//! `faults`: the fault-injection sweep on the redb engine, with progress on
//! stderr and a summary table on stdout.

use std::process::ExitCode;

use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::cli::{print_json, time_left};
use whatsapp_rust_conformance_lab::fault_campaign::FaultCampaign;

/// The `faults` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/faults/v1";

/// Arguments of `faults`.
#[derive(clap::Args)]
pub struct Args {
    /// Workload steps per run (36: every step kind twice).
    #[arg(long, env = "CONFORMANCE_FAULT_STEPS", default_value_t = 36,
          value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Relaxed scenarios flush after this many steps.
    #[arg(long, env = "CONFORMANCE_FAULT_FLUSH_EVERY", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..))]
    flush_every: u64,
    /// Inject at every N-th fault point only (1: every point).
    #[arg(long, env = "CONFORMANCE_FAULT_STRIDE", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    stride: u64,
    /// Print one JSON document on stdout; progress goes to stderr.
    #[arg(long)]
    json: bool,
}

/// Runs `faults`; exit 0 when every fault point fired and recovered.
pub fn run(args: Args) -> ExitCode {
    let mut campaign = FaultCampaign::new();
    campaign.steps = args.steps;
    campaign.flush_every = args.flush_every;
    campaign.stride = args.stride;
    eprintln!(
        "fault sweep on the redb engine: {} steps per run, relaxed flush every {}, every {} fault point(s)",
        campaign.steps, campaign.flush_every, campaign.stride
    );
    let started = std::time::Instant::now();
    let result = Executor::TokioMultiThread.block_on(campaign.run(|scenario, done, total| {
        eprintln!(
            "[{}] {done}/{total} ({} in this scenario)",
            scenario.label(),
            time_left(started.elapsed(), done as usize, total as usize)
        )
    }));
    let report = match result {
        Ok(r) => r,
        Err(f) => {
            eprintln!("FAIL the fault-free workload: {f}");
            return ExitCode::FAILURE;
        }
    };
    let failures = report.failures();
    let points: u64 = report.scenarios.iter().map(|s| s.points).sum();
    let summary = format!(
        "{} faults injected at {points} fault points ({} not reached) in {:.1} s",
        report.faults_injected(),
        report.not_reached(),
        report.elapsed.as_secs_f64()
    );
    // One failure per failing point: an error, or a fault that never fired
    // in a run that reached it (`PointOutcome::not_reached`).
    let failed = failures.len() as u64;
    let passed = points.saturating_sub(failed);
    if args.json {
        print_json(&serde_json::json!({
            "schema": SCHEMA,
            "steps": campaign.steps,
            "points": points,
            "faults_injected": report.faults_injected(),
            "not_reached": report.not_reached(),
            "seconds": report.elapsed.as_secs_f64(),
            "failures": failures,
            "passed": passed,
            "failed": failed,
        }));
        eprint!("{}", report.table());
        eprintln!("{summary}\n{passed} passed, {failed} failed");
    } else {
        print!("{}", report.table());
        for f in &failures {
            println!("FAIL {f}");
        }
        println!("{summary}");
        println!("{passed} passed, {failed} failed");
    }
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
