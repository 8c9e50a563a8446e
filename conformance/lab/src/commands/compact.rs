//! `compact`: offline compaction of a redb store file, with its size before
//! and after.

use std::path::PathBuf;
use std::process::ExitCode;

use whatsapp_rust_redb_storage::RedbStore;

/// Arguments of `compact`.
#[derive(clap::Args)]
pub struct Args {
    /// The store file (no bot may have it open).
    path: PathBuf,
    /// Print one JSON document on stdout (schema `whatsapp-rust-conformance/compact/v1`).
    #[arg(long)]
    json: bool,
}

/// Runs `compact`.
pub fn run(args: Args) -> ExitCode {
    let size = |p: &PathBuf| std::fs::metadata(p).map(|m| m.len());
    let before = match size(&args.path) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {}: {e}", args.path.display());
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let passes = match RedbStore::open(&args.path).and_then(RedbStore::compact) {
        Ok(passes) => passes,
        Err(e) => {
            eprintln!("error: {}", whatsapp_rust_conformance::error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let after = size(&args.path).unwrap_or(0);
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        whatsapp_rust_conformance::cli::print_json(&serde_json::json!({
            "schema": "whatsapp-rust-conformance/compact/v1",
            "path": args.path, "bytes_before": before, "bytes_after": after,
            "passes": passes, "seconds": seconds,
        }));
    } else {
        println!(
            "{}: {:.1} MB -> {:.1} MB ({passes} passes, {seconds:.1} s)",
            args.path.display(),
            before as f64 / 1e6,
            after as f64 / 1e6
        );
    }
    ExitCode::SUCCESS
}
