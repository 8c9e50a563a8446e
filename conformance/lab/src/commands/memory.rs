//! `memory`: resident memory and steady throughput of our engine for
//! several page-cache sizes, on a bot-sized store, each size in a fresh
//! process so one size's pages never count for another.
//!
//! The store: the bench's seed, sessions filling it to `--store-mb`, then
//! the bench's `history_sync` chunks. Each child opens a copy with one cache
//! size, runs `--history` more history-sync chunks, then `--seconds` of
//! steady traffic (the bench's `receive_message`, and a read of a random
//! filled session, alternately), then as long of random reads only, and
//! reports its resident memory (`VmRSS`, and the peak `VmHWM`) and the rates.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wacore::store::traits::Backend;
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::storage::bench::{all_workloads, seed};
use whatsapp_rust_conformance::storage::crash::Rng;
use whatsapp_rust_redb_storage::{RedbStore, StoreConfig};

/// The `memory` JSON document's schema.
pub const SCHEMA: &str = "whatsapp-rust-conformance/memory/v1";

/// Arguments of `memory`.
#[derive(clap::Args)]
pub struct Args {
    /// Page-cache sizes to measure, in MiB, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [4u64, 16, 64, 256])]
    cache_mib: Vec<u64>,
    /// Size the store is filled to with 1 KiB sessions before the run.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    store_mb: u64,
    /// History-sync chunks each child writes before the steady traffic.
    #[arg(long, default_value_t = 20)]
    history: u64,
    /// Seconds of steady traffic per cache size.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    seconds: u64,
    /// Print one JSON document on stdout; progress goes to stderr.
    #[arg(long)]
    json: bool,
}

/// Arguments of the hidden `memory-child`.
#[derive(clap::Args)]
pub struct ChildArgs {
    #[arg(long)]
    path: PathBuf,
    #[arg(long)]
    cache_mib: u64,
    #[arg(long)]
    rows: u64,
    #[arg(long)]
    history: u64,
    #[arg(long)]
    seconds: u64,
}

/// What one child saw.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sample {
    cache_mib: u64,
    rss_after_open: u64,
    rss_end: u64,
    peak_rss: u64,
    history_chunks_per_sec: f64,
    steady_ops_per_sec: f64,
    random_reads_per_sec: f64,
}

/// `VmRSS` and `VmHWM` of this process, in bytes.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs `memory`.
pub fn run(args: Args) -> ExitCode {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; use `cargo run --release -p whatsapp-rust-conformance-lab -- memory`."
        );
    }
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: a temporary directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let template = dir.path().join("template.redb");
    let rows = args.store_mb * 1000 * 1000 / 1100;
    eprintln!("building a {} MB store ...", args.store_mb);
    if let Err(e) = Executor::TokioMultiThread.block_on(build(&template, rows)) {
        eprintln!("error: building the store: {e}");
        return ExitCode::FAILURE;
    }
    let file_mb = std::fs::metadata(&template).map_or(0.0, |m| m.len() as f64 / 1e6);
    let mut samples = Vec::new();
    for &cache_mib in &args.cache_mib {
        let copy = dir.path().join(format!("cache-{cache_mib}.redb"));
        if let Err(e) = std::fs::copy(&template, &copy) {
            eprintln!("error: copying the store: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("cache {cache_mib} MiB: {} s of traffic ...", args.seconds);
        match child(&copy, cache_mib, rows, &args) {
            Ok(sample) => samples.push(sample),
            Err(e) => {
                eprintln!("error: cache {cache_mib} MiB: {e}");
                return ExitCode::FAILURE;
            }
        }
        let _ = std::fs::remove_file(&copy);
    }
    if args.json {
        whatsapp_rust_conformance::cli::print_json(&serde_json::json!({
            "schema": SCHEMA,
            "store_file_mb": file_mb,
            "history_chunks": args.history,
            "seconds": args.seconds,
            "samples": samples,
        }));
    } else {
        let mb = |b: u64| b as f64 / 1e6;
        println!(
            "store file {file_mb:.0} MB; {} history chunks then {} s of steady traffic per size",
            args.history, args.seconds
        );
        println!(
            "{:>10} {:>14} {:>10} {:>10} {:>16} {:>14} {:>16}",
            "cache MiB",
            "RSS open MB",
            "RSS end MB",
            "peak MB",
            "history chunk/s",
            "steady ops/s",
            "random reads/s"
        );
        for s in &samples {
            println!(
                "{:>10} {:>14.1} {:>10.1} {:>10.1} {:>16.1} {:>14.0} {:>16.0}",
                s.cache_mib,
                mb(s.rss_after_open),
                mb(s.rss_end),
                mb(s.peak_rss),
                s.history_chunks_per_sec,
                s.steady_ops_per_sec,
                s.random_reads_per_sec
            );
        }
    }
    ExitCode::SUCCESS
}

fn child(path: &Path, cache_mib: u64, rows: u64, args: &Args) -> Result<Sample, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("memory-child")
        .arg("--path")
        .arg(path)
        .args(["--cache-mib", &cache_mib.to_string()])
        .args(["--rows", &rows.to_string()])
        .args(["--history", &args.history.to_string()])
        .args(["--seconds", &args.seconds.to_string()])
        .output()
        .map_err(|e| format!("starting the child: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).map_err(|e| format!("the child's report {line:?}: {e}"))
}

/// The bench's seed, then `rows` 1 KiB sessions.
async fn build(path: &Path, rows: u64) -> Result<(), String> {
    let store = RedbStore::open(path).map_err(|e| e.to_string())?;
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    seed(&backend).await.map_err(|e| e.to_string())?;
    super::bench::fill_sessions(&backend, rows).await?;
    store.close().await.map_err(|e| e.to_string())
}

/// The child: measures one cache size and prints its [`Sample`] as JSON.
pub fn child_main(args: ChildArgs) -> ExitCode {
    match Executor::TokioMultiThread.block_on(measure(args)) {
        Ok(sample) => {
            println!(
                "{}",
                serde_json::to_string(&sample).expect("a sample serializes")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn measure(args: ChildArgs) -> Result<Sample, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let config = StoreConfig::default().with_cache_size((args.cache_mib << 20) as usize);
    let store = RedbStore::open_with(&args.path, config).map_err(|e| err(&e))?;
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    backend
        .get_session("fill0@lid")
        .await
        .map_err(|e| err(&e))?;
    let (rss_after_open, _) = rss();
    let workloads = all_workloads();
    let find = |name: &str| {
        workloads
            .iter()
            .find(|w| w.name == name)
            .ok_or_else(|| format!("the bench has no {name} workload"))
    };
    let (history, receive) = (find("history_sync")?, find("receive_message")?);
    let started = Instant::now();
    for i in 0..args.history {
        history.run(&backend, i).await.map_err(|e| err(&e))?;
    }
    let history_secs = started.elapsed().as_secs_f64().max(1e-9);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    // A random filled session, from the kit's seedable generator.
    let mut rng = Rng::new(0x9E37_79B9);
    let mut random_session = || format!("fill{}@lid", rng.below(args.rows));
    let mut ops = 0u64;
    while Instant::now() < deadline {
        receive.run(&backend, ops).await.map_err(|e| err(&e))?;
        backend
            .get_session(&random_session())
            .await
            .map_err(|e| err(&e))?;
        ops += 2;
    }
    let steady_secs = started.elapsed().as_secs_f64().max(1e-9);
    // Reads only, over the whole store: where a cache miss is not hidden
    // behind the fsync of a write.
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut reads = 0u64;
    while Instant::now() < deadline {
        for _ in 0..100 {
            backend
                .get_session(&random_session())
                .await
                .map_err(|e| err(&e))?;
        }
        reads += 100;
    }
    let read_secs = started.elapsed().as_secs_f64().max(1e-9);
    let (rss_end, peak_rss) = rss();
    store.close().await.map_err(|e| err(&e))?;
    Ok(Sample {
        cache_mib: args.cache_mib,
        rss_after_open,
        rss_end,
        peak_rss,
        history_chunks_per_sec: args.history as f64 / history_secs,
        steady_ops_per_sec: ops as f64 / steady_secs,
        random_reads_per_sec: reads as f64 / read_secs,
    })
}
