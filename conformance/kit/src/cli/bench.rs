//! `bench`: the kit's workloads on the chosen stores, side by side.

use std::process::ExitCode;
use std::time::Instant;

use super::{Targets, print_json, status, time_left, usage_error};
use crate::Executor;
use crate::storage::Instance;
use crate::storage::bench::{Budget, Subject, all_workloads, run_benchmarks, to_json};

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// Stores to measure, comma-separated, or `all` (default: the default ones).
    #[arg(long, short, value_delimiter = ',')]
    backend: Vec<String>,
    /// About 0.25 s per figure instead of about 2.5 s.
    #[arg(long)]
    quick: bool,
    /// Only workloads whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// What a crash can lose, to label the figures (default: "unknown").
    #[arg(long, default_value = "unknown")]
    durability: String,
    /// Print one JSON document on stdout (schema `whatsapp-rust-conformance/bench/v1`).
    #[arg(long)]
    json: bool,
}

/// Runs `bench` on the chosen `targets` (fresh stores from their factories).
pub fn bench(args: BenchArgs, targets: &Targets) -> ExitCode {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; its figures say little. Build with --release.");
    }
    let chosen = match targets.select(&args.backend) {
        Ok(chosen) => chosen,
        Err(e) => return usage_error(e),
    };
    let workloads: Vec<_> = all_workloads()
        .into_iter()
        .filter(|w| {
            args.filter
                .as_ref()
                .is_none_or(|f| w.name.contains(f.as_str()))
        })
        .collect();
    if workloads.is_empty() {
        return usage_error("no workload matches --filter");
    }
    let budget = if args.quick {
        Budget::quick()
    } else {
        Budget::full()
    };
    let started = Instant::now();
    let total = workloads.len() * chosen.len();
    let outcome = Executor::DEFAULT.block_on(async {
        // The instances stay open while their stores are measured.
        let mut instances: Vec<Box<dyn Instance>> = Vec::new();
        let mut subjects = Vec::new();
        for target in &chosen {
            let instance = target.factory.open().await.map_err(|e| e.to_string())?;
            subjects.push(Subject::new(
                target.name(),
                &args.durability,
                instance.store(),
            ));
            instances.push(instance);
        }
        let mut errors = Vec::new();
        let mut done = 0;
        let results = run_benchmarks(&subjects, &workloads, budget, |m| {
            done += 1;
            match m {
                Ok(m) => eprintln!(
                    "[{done}/{total}, {}] {:<28} {:<12} {:>12.0} ops/s",
                    time_left(started.elapsed(), done, total),
                    m.workload,
                    m.backend,
                    m.ops_per_sec
                ),
                Err(e) => {
                    eprintln!("FAIL {e}");
                    errors.push(e);
                }
            }
        })
        .await;
        for instance in instances {
            instance.teardown().await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>((results, errors))
    });
    let (results, errors) = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        print_json(&to_json(&results));
    } else {
        for m in &results {
            println!(
                "{:<28} {:<12} {:>12.0} ops/s  ({})",
                m.workload, m.backend, m.ops_per_sec, m.durability
            );
        }
    }
    status(errors.len())
}
