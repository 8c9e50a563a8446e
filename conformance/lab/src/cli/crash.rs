//! `crash`: a writer child SIGKILLed at seeded random moments, every reopen
//! verified (the kit's [`crash`](whatsapp_rust_conformance::storage::crash)
//! module does the work).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use whatsapp_rust_conformance::storage::crash::{Campaign, STEP_ROWS, child_workload};
use whatsapp_rust_conformance_lab::references::Reference;

use super::{print_json, runtime, status};

/// The `crash` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/crash/v1";

/// Arguments of `crash`.
#[derive(clap::Args)]
pub struct Args {
    /// The persistent backend to crash.
    #[arg(long, short, default_value = "redb",
          value_parser = PossibleValuesParser::new(["redb", "sqlite"]))]
    backend: String,
    /// How many times to kill the writer.
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
pub struct ChildArgs {
    #[arg(long, value_parser = PossibleValuesParser::new(["redb", "sqlite"]))]
    backend: String,
    #[arg(long)]
    path: PathBuf,
}

/// The writer child: runs the crash workload until killed.
pub fn child(args: ChildArgs) -> ExitCode {
    let backend = Reference::from_name(&args.backend).expect("clap checked the name");
    let result = runtime().block_on(async {
        let store = backend.open_at(&args.path).await?;
        child_workload(store, std::io::stdout()).await
    });
    eprintln!("crash-child stopped: {result:?}");
    ExitCode::FAILURE
}

/// Runs `crash`.
pub fn run(args: Args) -> ExitCode {
    let backend = Reference::from_name(&args.backend).expect("clap checked the name");
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1);
    let campaign = Campaign {
        kills: args.kills,
        seed: args.seed.unwrap_or(clock),
        max_delay: Duration::from_millis(args.max_delay_ms),
        work_dir: std::env::temp_dir().join(format!("conformance-crash-{}", std::process::id())),
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot find this program's path to start the writer child: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "crash campaign: backend {}, {} kills, seed {}, kill within {:?} of start",
        backend.name(),
        campaign.kills,
        campaign.seed,
        campaign.max_delay
    );
    let report = runtime().block_on(campaign.run(
        |path| {
            let mut c = std::process::Command::new(&exe);
            c.args(["crash-child", "--backend", backend.name(), "--path"])
                .arg(path);
            c
        },
        |path| async move { backend.open_at(&path).await },
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
    let failed = report.failures.len();
    let passed = (report.kills as usize).saturating_sub(failed);
    let summary = format!(
        "{}: {} kills in {:.1} s, {} acknowledged steps verified ({STEP_ROWS} rows each), {} in-flight batches landed whole, seed {}",
        backend.name(),
        report.kills,
        report.elapsed.as_secs_f64(),
        report.acknowledged_steps,
        report.in_flight_landed,
        campaign.seed
    );
    if args.json {
        print_json(&serde_json::json!({
            "schema": SCHEMA,
            "backend": backend.name(),
            "seed": campaign.seed,
            "kills": report.kills,
            "acknowledged_steps": report.acknowledged_steps,
            "in_flight_landed": report.in_flight_landed,
            "seconds": report.elapsed.as_secs_f64(),
            "failures": report.failures,
            "passed": passed,
            "failed": failed,
        }));
        eprintln!("{summary}\n{passed} passed, {failed} failed");
    } else {
        for f in &report.failures {
            println!("FAIL {f}");
        }
        println!("{summary}");
        println!("{passed} passed, {failed} failed");
    }
    status(failed)
}
