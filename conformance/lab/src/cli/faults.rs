//! `faults`: the fault-injection sweep on the redb engine, with progress on
//! stderr and a summary table on stdout.

use std::process::ExitCode;

use whatsapp_rust_conformance::fault_campaign::FaultCampaign;

use super::{number, runtime};

const USAGE: &str =
    "usage: whatsapp-rust-conformance faults [--steps N] [--flush-every N] [--stride N]
  --steps        workload steps per run (default 36: every step kind twice)
  --flush-every  relaxed scenarios flush after this many steps (default 4)
  --stride       inject at every N-th fault point only (default 1: every point)";

/// Runs the command; exit 0 when every fault point fired and recovered.
pub fn run(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let parsed = (|| -> Result<FaultCampaign, String> {
        let mut campaign = FaultCampaign::new();
        campaign.steps = number(args, "--steps", "CONFORMANCE_FAULT_STEPS", campaign.steps)?;
        campaign.flush_every = number(
            args,
            "--flush-every",
            "CONFORMANCE_FAULT_FLUSH_EVERY",
            campaign.flush_every,
        )?;
        campaign.stride = number(args, "--stride", "CONFORMANCE_FAULT_STRIDE", 1)?;
        if campaign.steps == 0 || campaign.flush_every == 0 || campaign.stride == 0 {
            return Err("--steps, --flush-every and --stride must be at least 1".into());
        }
        Ok(campaign)
    })();
    let campaign = match parsed {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "fault sweep on the redb engine: {} steps per run, relaxed flush every {}, every {} fault point(s)",
        campaign.steps, campaign.flush_every, campaign.stride
    );
    let result = runtime().block_on(
        campaign.run(|scenario, done, total| eprintln!("[{}] {done}/{total}", scenario.label())),
    );
    let report = match result {
        Ok(r) => r,
        Err(f) => {
            println!("FAIL the fault-free workload: {f}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.table());
    let failures = report.failures();
    for f in &failures {
        println!("FAIL {f}");
    }
    let points: u64 = report.scenarios.iter().map(|s| s.points).sum();
    println!(
        "{} faults injected at {points} fault points in {:.1} s",
        report.faults_injected(),
        report.elapsed.as_secs_f64()
    );
    let failed = failures.len() as u64 + points.saturating_sub(report.faults_injected());
    println!("{} passed, {failed} failed", points.saturating_sub(failed));
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
