//! `model`: random operation sequences on the chosen stores against the
//! model of the contract; a failure is shrunk and printed as Rust.

use std::process::ExitCode;
use std::time::Instant;

use super::{Targets, executor, print_json, status, usage_error};
use crate::Executor;
use crate::storage::model::ModelRun;

/// The `model` JSON document's schema (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/model/v1";

/// Arguments of `model`.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Stores to run, comma-separated, or `all` (default: the default ones).
    #[arg(long, short, value_delimiter = ',')]
    backend: Vec<String>,
    /// Random sequences per store.
    #[arg(long, env = "CONFORMANCE_MODEL_CASES", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..))]
    cases: u32,
    /// Longest sequence.
    #[arg(long, env = "CONFORMANCE_MODEL_LEN", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    len: u64,
    /// Seed of the generator (default: the clock; printed, so a run replays).
    #[arg(long, env = "CONFORMANCE_MODEL_SEED")]
    seed: Option<u64>,
    /// The executor the sequences run on.
    #[arg(long, default_value = Executor::DEFAULT.name())]
    runtime: String,
    /// Print one JSON document on stdout; progress goes to stderr.
    #[arg(long)]
    json: bool,
}

/// Runs `model` on the chosen `targets`.
pub fn model(args: ModelArgs, targets: &Targets) -> ExitCode {
    let chosen = match targets.select(&args.backend) {
        Ok(chosen) => chosen,
        Err(e) => return usage_error(e),
    };
    let asked = match executor(&args.runtime) {
        Ok(e) => e,
        Err(e) => return usage_error(e),
    };
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let run = ModelRun {
        cases: args.cases,
        max_len: args.len as usize,
        seed: args.seed.unwrap_or(clock),
    };
    let mut results = Vec::new();
    for target in chosen {
        let executor = match target.executor_for(asked) {
            Ok(e) => e,
            Err(e) => return usage_error(e),
        };
        eprintln!(
            "[{}] {} sequences of up to {} operations, seed {} ...",
            target.name(),
            run.cases,
            run.max_len,
            run.seed
        );
        let started = Instant::now();
        let outcome = run.run(target.factory.as_ref(), executor);
        eprintln!(
            "[{}] {} in {:.1} s",
            target.name(),
            if outcome.is_ok() {
                "matches the model"
            } else {
                "DIVERGES"
            },
            started.elapsed().as_secs_f64()
        );
        results.push((target.name().to_owned(), outcome));
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    let passed = results.len() - failed;
    if args.json {
        let rows: Vec<_> = results
            .iter()
            .map(|(name, r)| {
                serde_json::json!({ "backend": name, "ok": r.is_ok(), "failure": r.as_ref().err() })
            })
            .collect();
        print_json(&serde_json::json!({
            "schema": SCHEMA,
            "seed": run.seed,
            "cases": run.cases,
            "max_len": run.max_len,
            "results": rows,
            "passed": passed,
            "failed": failed,
        }));
    } else {
        for (name, r) in &results {
            if let Err(failure) = r {
                println!("FAIL [{name}] {failure}");
            }
        }
        println!("{passed} passed, {failed} failed");
    }
    status(failed)
}
