//! `crash`: a writer child SIGKILLed at seeded random moments, every reopen
//! verified ([`crate::storage::crash`] does the work). The child is this same
//! program, run as `crash-child`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::{Target, Targets, print_json, status, usage_error};
use crate::Executor;
use crate::storage::crash::{Campaign, CampaignReport, Guarantee, STEP_ROWS, child_workload};

/// The `crash` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/crash/v1";

/// Arguments of `crash`.
#[derive(clap::Args)]
pub struct CrashArgs {
    /// Persistent stores to crash, comma-separated, or `all` (default: the
    /// default ones that are persistent).
    #[arg(long, short, value_delimiter = ',')]
    backend: Vec<String>,
    /// How many times to kill the writer, per store.
    #[arg(long, env = "CONFORMANCE_CRASH_KILLS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    kills: u64,
    /// Seed of the kill moments (default: the clock; printed, so a run replays).
    #[arg(long, env = "CONFORMANCE_CRASH_SEED")]
    seed: Option<u64>,
    /// Kill within this many milliseconds of the child's start.
    #[arg(long, env = "CONFORMANCE_CRASH_MAX_DELAY_MS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_delay_ms: u64,
    /// Print one JSON document on stdout; progress goes to stderr.
    #[arg(long)]
    json: bool,
}

/// Arguments of the hidden `crash-child`.
#[derive(clap::Args)]
pub struct CrashChildArgs {
    #[arg(long)]
    backend: String,
    #[arg(long)]
    path: PathBuf,
}

/// The writer child: runs the crash workload on the store at `--path` until
/// killed.
pub fn crash_child(args: CrashChildArgs, targets: &Targets) -> ExitCode {
    let Some(open_at) = targets
        .by_name(&args.backend)
        .and_then(|t| t.open_at.clone())
    else {
        return usage_error(format!("{} cannot be reopened at a path", args.backend));
    };
    let result = Executor::DEFAULT.block_on(async {
        let store = open_at(args.path).await?;
        child_workload(store, std::io::stdout()).await
    });
    eprintln!("crash-child stopped: {result:?}");
    ExitCode::FAILURE
}

/// Runs `crash` on the chosen persistent `targets`.
pub fn crash(args: CrashArgs, targets: &Targets) -> ExitCode {
    let chosen = match targets.select(&args.backend) {
        Ok(chosen) => chosen,
        Err(e) => return usage_error(e),
    };
    let persistent: Vec<&Target> = chosen.into_iter().filter(|t| t.open_at.is_some()).collect();
    if persistent.is_empty() {
        return usage_error(
            "no chosen store can be reopened at a path (Target::reopens_at), so none can be crashed",
        );
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot find this program's path to start the writer child: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let campaign = Campaign {
        kills: args.kills,
        seed: args.seed.unwrap_or(clock),
        max_delay: Duration::from_millis(args.max_delay_ms),
        work_dir: std::env::temp_dir().join(format!("conformance-crash-{}", std::process::id())),
        // Set per store from its capabilities (run_campaign).
        guarantee: Guarantee::ProcessCrashSafe,
    };
    let mut runs = Vec::new();
    for target in persistent {
        let report = run_campaign(&campaign, target, &exe);
        runs.push((target.name().to_owned(), report));
    }
    if runs.iter().all(|(_, r)| r.failures.is_empty()) {
        let _ = std::fs::remove_dir_all(&campaign.work_dir);
    }
    report_runs(&runs, campaign.seed, args.json)
}

fn run_campaign(campaign: &Campaign, target: &Target, exe: &std::path::Path) -> CampaignReport {
    let open_at = target
        .open_at
        .clone()
        .expect("only persistent targets are crashed");
    let name = target.name().to_owned();
    let campaign = Campaign {
        guarantee: Guarantee::claimed_by(&target.capabilities()),
        ..campaign.clone()
    };
    eprintln!(
        "crash campaign: {name}, {} kills, seed {}, kill within {:?} of start, verdict {}",
        campaign.kills,
        campaign.seed,
        campaign.max_delay,
        match campaign.guarantee {
            Guarantee::ProcessCrashSafe => "process-crash-safe (nothing acknowledged may be lost)",
            Guarantee::WholePrefix =>
                "whole prefix (the last acknowledged steps may be lost, whole)",
        }
    );
    Executor::DEFAULT.block_on(campaign.run(
        |path| {
            let mut child = std::process::Command::new(exe);
            child
                .args(["crash-child", "--backend", &name, "--path"])
                .arg(path);
            child
        },
        |path| open_at(path),
        |kill, result| match result {
            Ok(r) => eprintln!(
                "[{name} kill {kill}/{}] ok: {} steps acknowledged, {} lost, in-flight batch {}",
                campaign.kills,
                r.acknowledged,
                r.lost,
                if r.in_flight_batch_landed {
                    "landed whole"
                } else {
                    "absent"
                }
            ),
            Err(f) => eprintln!("[{name} kill {kill}/{}] FAIL: {f}", campaign.kills),
        },
    ))
}

fn report_runs(runs: &[(String, CampaignReport)], seed: u64, json: bool) -> ExitCode {
    let failed: usize = runs.iter().map(|(_, r)| r.failures.len()).sum();
    let kills: u64 = runs.iter().map(|(_, r)| r.kills).sum();
    let passed = (kills as usize).saturating_sub(failed);
    let summary = |name: &str, r: &CampaignReport| {
        format!(
            "{name}: {} kills in {:.1} s, {} acknowledged steps ({STEP_ROWS} rows each), {} lost, {} in-flight batches landed whole, seed {seed}",
            r.kills,
            r.elapsed.as_secs_f64(),
            r.acknowledged_steps,
            r.lost_steps,
            r.in_flight_landed,
        )
    };
    if json {
        let stores: Vec<_> = runs
            .iter()
            .map(|(name, r)| {
                serde_json::json!({
                    "backend": name,
                    "kills": r.kills,
                    "acknowledged_steps": r.acknowledged_steps,
                    "lost_steps": r.lost_steps,
                    "in_flight_landed": r.in_flight_landed,
                    "seconds": r.elapsed.as_secs_f64(),
                    "failures": r.failures,
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "schema": SCHEMA,
            "seed": seed,
            "stores": stores,
            "passed": passed,
            "failed": failed,
        }));
        for (name, r) in runs {
            eprintln!("{}", summary(name, r));
        }
        eprintln!("{passed} passed, {failed} failed");
    } else {
        for (name, r) in runs {
            for f in &r.failures {
                println!("FAIL [{name}] {f}");
            }
            println!("{}", summary(name, r));
        }
        println!("{passed} passed, {failed} failed");
    }
    status(failed)
}
