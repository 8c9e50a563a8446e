//! `bench`: every workload on the redb engine (each durability mode),
//! SqliteStore (default config), InMemoryBackend and raw redb, side by side
//! in one process, beside the machine's `fdatasync` rate; then the ratios
//! the engine's targets name, file size, open time of a 100 MB store, open
//! time after a crash with a full commit log, and resident memory. Prints a
//! ratio table, writes an SVG chart.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::builder::PossibleValuesParser;
use wacore::store::InMemoryBackend;
use wacore::store::traits::{Backend, SignalStore};
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::storage::bench::{
    Budget, Measurement, Subject, all_workloads, measure, seed, to_json,
};
use whatsapp_rust_conformance::storage::faults::{STEP_KINDS, run_step};
use whatsapp_rust_conformance_lab::raw_redb::RawRedb;
use whatsapp_rust_conformance_lab::report;
use whatsapp_rust_postgres_storage::{PostgresConfig, PostgresStore};
use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};
use whatsapp_rust_sqlite_storage::SqliteStore;

use super::bench_pairs::{PairedRatio, sixteen_writers_over_one};

/// Every store `bench` knows, in table order.
const BACKENDS: [&str; 7] = [
    "redb",
    "redb-pcs",
    "redb-relaxed",
    "sqlite",
    "memory",
    "redb-raw",
    "postgres",
];

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct Args {
    /// About 0.25 s per figure: the whole run in under two minutes (default about 2.5 s).
    #[arg(long)]
    quick: bool,
    /// stdout is a JSON document (schema `whatsapp-rust-conformance/bench/v1`);
    /// the table goes to stderr.
    #[arg(long)]
    json: bool,
    /// Only workloads whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Stores to measure, comma-separated, or `all`. `postgres` needs
    /// `POSTGRES_URL` (`bash ci/servers.sh start`); `all` includes it when set.
    #[arg(long, short, value_delimiter = ',', default_value = "all",
          value_parser = PossibleValuesParser::new(["redb", "redb-pcs", "redb-relaxed", "sqlite", "memory", "redb-raw", "postgres", "all"]))]
    backend: Vec<String>,
    /// Where to write the SVG chart.
    #[arg(long, default_value = "bench-results.svg")]
    chart: PathBuf,
    /// Skip file size, 100 MB open time and resident memory.
    #[arg(long)]
    no_extras: bool,
}

const DURABLE: &str = "fsync before ack (commit log fdatasync, group commit)";
const PROCESS_CRASH_SAFE: &str =
    "ack once the commit log is in the OS cache: SIGKILL loses nothing, power loss <= 100 ms";
const RELAXED: &str = "crash may lose the last 1 s (flush every 1 s)";
const SQLITE: &str =
    "WAL, synchronous=NORMAL: no fsync per commit, power loss may lose recent commits";
const MEMORY: &str = "not persistent";
const POSTGRES: &str = "committed on the server (synchronous_commit=on: WAL fsync per commit)";

/// Runs `bench`.
pub fn run(args: Args) -> ExitCode {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; its figures say little. Use `cargo kit-bench` (a release build)."
        );
    }
    let (quick, json, extras, chart) = (args.quick, args.json, !args.no_extras, args.chart);
    let filter = args.filter;
    let backends: Vec<String> = if args.backend.iter().any(|b| b == "all") {
        let with_postgres = std::env::var_os("POSTGRES_URL").is_some();
        BACKENDS
            .iter()
            .filter(|b| with_postgres || **b != "postgres")
            .map(|s| s.to_string())
            .collect()
    } else {
        args.backend
    };
    let budget = if quick {
        Budget::quick()
    } else {
        Budget::full()
    };
    match Executor::TokioMultiThread.block_on(bench(budget, filter.as_deref(), &backends, extras)) {
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
        Ok((results, extra_lines)) => {
            let table = report::table(&results);
            let machine = machine();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&to_json(&results))
                        .expect("a JSON value always serialises")
                );
                eprintln!("\n{table}");
            } else {
                println!("\n{table}");
            }
            let mut text = String::new();
            for line in &extra_lines {
                text.push_str(line);
                text.push('\n');
            }
            if json {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            let title = format!(
                "whatsapp-rust storage backends, {} run, {machine}",
                if quick { "quick" } else { "full" }
            );
            match std::fs::write(&chart, report::svg(&results, &title)) {
                Ok(()) => eprintln!("chart written to {}", chart.display()),
                Err(e) => eprintln!("could not write the chart to {}: {e}", chart.display()),
            }
            ExitCode::SUCCESS
        }
    }
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs, {model}")
}

async fn open_subjects(dir: &Path) -> Result<Vec<Subject>, String> {
    let err = |e: wacore::store::error::StoreError| e.to_string();
    let redb = RedbStore::open(dir.join("redb.redb")).map_err(err)?;
    let relaxed = RedbStore::open_with(
        dir.join("relaxed.redb"),
        StoreConfig::default().with_durability(Durability::relaxed()),
    )
    .map_err(err)?;
    let pcs = RedbStore::open_with(
        dir.join("pcs.redb"),
        StoreConfig::default().with_durability(Durability::process_crash_safe()),
    )
    .map_err(err)?;
    let sqlite = SqliteStore::new(&dir.join("sqlite.db").to_string_lossy())
        .await
        .map_err(|e| e.to_string())?;
    let mut subjects = vec![
        Subject::new("redb", DURABLE, Arc::new(redb)),
        Subject::new("redb-pcs", PROCESS_CRASH_SAFE, Arc::new(pcs)),
        Subject::new("redb-relaxed", RELAXED, Arc::new(relaxed)),
        Subject::new("sqlite", SQLITE, Arc::new(sqlite)),
        Subject::new("memory", MEMORY, Arc::new(InMemoryBackend::new())),
    ];
    if let Ok(url) = std::env::var("POSTGRES_URL") {
        // A schema of this run's own (left in the database afterwards);
        // 64 connections for the 64-writer workloads.
        let config = PostgresConfig::new(url)
            .schema(format!("bench_{}", std::process::id()))
            .pool_size(64);
        let store = PostgresStore::connect(config)
            .await
            .map_err(|e| format!("postgres: {e}"))?;
        subjects.push(Subject::new("postgres", POSTGRES, Arc::new(store)));
    }
    Ok(subjects)
}

async fn bench(
    budget: Budget,
    filter: Option<&str>,
    backends: &[String],
    extras: bool,
) -> Result<(Vec<Measurement>, Vec<String>), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    if backends.iter().any(|b| b == "postgres") && std::env::var_os("POSTGRES_URL").is_none() {
        return Err("--backend postgres needs POSTGRES_URL (bash ci/servers.sh start)".into());
    }
    let subjects: Vec<Subject> = open_subjects(dir.path())
        .await?
        .into_iter()
        .filter(|s| backends.contains(&s.name))
        .collect();
    for s in &subjects {
        seed(&s.store)
            .await
            .map_err(|e| format!("seeding {}: {e}", s.name))?;
    }
    let raws = if backends.iter().any(|b| b == "redb-raw") {
        vec![
            RawRedb::create(&dir.path().join("raw.redb"), true)?,
            RawRedb::create(&dir.path().join("raw-nosync.redb"), false)?,
        ]
    } else {
        Vec::new()
    };
    let workloads: Vec<_> = all_workloads()
        .into_iter()
        .filter(|w| filter.is_none_or(|f| w.name.contains(f)))
        .collect();
    let started = Instant::now();
    let mut results = Vec::new();
    let baseline_before = fdatasync_rate(dir.path(), budget.measure)?;
    eprintln!("fdatasync baseline: {baseline_before:.0} appends+fdatasync per second");
    let mut counters = vec![0u64; subjects.len() + raws.len()];
    for (n, workload) in workloads.iter().enumerate() {
        let mut line = format!(
            "[{:>3}s {:>2}/{}] {:<24}",
            started.elapsed().as_secs(),
            n + 1,
            workloads.len(),
            workload.name
        );
        for (subject, counter) in subjects.iter().zip(counters.iter_mut()) {
            let m = measure(subject, workload, budget, counter)
                .await
                .map_err(|e| format!("{} on {}: {e}", workload.name, subject.name))?;
            line += &format!(" {}={:.0}", subject.name, m.ops_per_sec);
            results.push(m);
        }
        for (raw, counter) in raws.iter().zip(counters[subjects.len()..].iter_mut()) {
            if let Some(m) = raw.measure(workload, budget, counter).await {
                let m = m.map_err(|e| format!("{} on raw redb: {e}", workload.name))?;
                line += &format!(" {}={:.0}", report::column(&m), m.ops_per_sec);
                results.push(m);
            }
        }
        eprintln!("{line}");
    }
    let paired = match subjects.iter().position(|s| s.name == "redb") {
        Some(i)
            if ["concurrent_writers_1", "concurrent_writers_16"]
                .iter()
                .all(|name| workloads.iter().any(|w| w.name == *name)) =>
        {
            eprintln!(
                "concurrent_writers_16 / concurrent_writers_1 on redb, in alternating pairs ..."
            );
            sixteen_writers_over_one(&subjects[i], budget, &mut counters[i]).await
        }
        _ => None,
    };
    drop(subjects);
    let baseline_after = fdatasync_rate(dir.path(), budget.measure)?;
    let mut lines = vec![String::new()];
    lines.extend(target_ratios(
        &results,
        baseline_before,
        baseline_after,
        paired.as_ref(),
    ));
    if extras {
        lines.push(String::new());
        lines.extend(file_sizes(dir.path()).await?);
        lines.extend(open_time(dir.path(), 100).await?);
        lines.extend(super::recovery_time::open_after_crash(dir.path(), 64).await?);
    }
    Ok((results, lines))
}

/// Appends of 1 KiB, each followed by `fdatasync`, per second, for `for_how_long`
/// on a file in `dir` (grown as it goes, like a log's first pass): the
/// machine's limit for one durable acknowledgement at a time.
fn fdatasync_rate(dir: &Path, for_how_long: Duration) -> Result<f64, String> {
    use std::io::Write;
    let path = dir.join("fdatasync-baseline");
    let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    let record = [0x5a_u8; 1024];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < for_how_long || n < 10 {
        file.write_all(&record).map_err(|e| e.to_string())?;
        file.sync_data().map_err(|e| e.to_string())?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    Ok(rate)
}

/// The ratios the engine's durability targets name (docs/BENCHMARKS.md).
fn target_ratios(
    results: &[Measurement],
    before: f64,
    after: f64,
    paired: Option<&PairedRatio>,
) -> Vec<String> {
    let figure = |w: &str, col: &str| report::figure(results, w, col);
    let mut lines = vec![format!(
        "fdatasync baseline (append 1 KiB + fdatasync, one at a time): {before:.0}/s before the workloads, {after:.0}/s after"
    )];
    let baseline = (before + after) / 2.0;
    for w in [
        "put_session",
        "put_identity",
        "store_prekey",
        "put_sender_key",
        "set_sync_key",
    ] {
        if let Some(redb) = figure(w, "redb") {
            lines.push(format!(
                "one-task durable {w}: redb {redb:.0}/s = {:.0}% of the fdatasync baseline",
                100.0 * redb / baseline
            ));
        }
    }
    if let (Some(one), Some(sixteen)) = (
        figure("concurrent_writers_1", "redb"),
        figure("concurrent_writers_16", "redb"),
    ) {
        lines.push(format!(
            "16 concurrent durable writers / one: redb {sixteen:.0} / {one:.0} = {:.1}x",
            sixteen / one
        ));
    }
    if let Some(p) = paired {
        lines.push(format!(
            "16 concurrent durable writers / one, {} alternating pairs of windows: redb {:.1}x (pairs {:.1}x to {:.1}x)",
            p.pairs, p.pooled, p.lowest, p.highest
        ));
    }
    for col in ["redb", "redb-pcs", "redb-relaxed"] {
        let ratios: Vec<String> = ["receive_message", "app_state_sync"]
            .iter()
            .filter_map(|w| {
                Some(format!(
                    "{w} {:.2}x",
                    report::ratio(results, w, col, "sqlite")?
                ))
            })
            .collect();
        if !ratios.is_empty() {
            lines.push(format!("{col} / sqlite: {}", ratios.join(", ")));
        }
    }
    lines
}

/// Size on disk of a file and its SQLite companions (`-wal`, `-shm`).
fn disk_size(path: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(PathBuf::from(p)).ok()
        })
        .map(|m| m.len())
        .sum()
}

/// File size after the standard workload: the fault workload's 36 steps
/// (every table, each kind twice), on fresh files.
async fn file_sizes(dir: &Path) -> Result<Vec<String>, String> {
    eprintln!("file size after the standard workload ...");
    let err = |e: wacore::store::error::StoreError| e.to_string();
    let steps = 2 * STEP_KINDS.len() as u64;
    let redb_path = dir.join("standard.redb");
    let sqlite_path = dir.join("standard.db");
    let redb = RedbStore::open(&redb_path).map_err(err)?;
    let sqlite = SqliteStore::new(&sqlite_path.to_string_lossy())
        .await
        .map_err(|e| e.to_string())?;
    for store in [
        Arc::new(redb.clone()) as Arc<dyn Backend>,
        Arc::new(sqlite) as Arc<dyn Backend>,
    ] {
        for step in 1..=steps {
            run_step(&store, step).await.map_err(|f| f.0)?;
        }
    }
    redb.close().await.map_err(err)?;
    let (r, s) = (disk_size(&redb_path), disk_size(&sqlite_path));
    Ok(vec![format!(
        "file size after the standard workload ({steps} steps, every table): redb {:.2} MB, sqlite {:.2} MB (db + wal + shm), redb/sqlite {:.2}x",
        r as f64 / 1e6,
        s as f64 / 1e6,
        r as f64 / s as f64
    )])
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Writes `rows` 1 KiB sessions `fill0@lid`, `fill1@lid`, ... in batches of
/// 5,000 (the bench's large stores; `memory` builds its store with it too).
pub(crate) async fn fill_sessions(store: &Arc<dyn Backend>, rows: u64) -> Result<(), String> {
    let value = Bytes::from(vec![0x77; 1024]);
    for chunk in 0..rows.div_ceil(5_000) {
        let batch: Vec<(Arc<str>, Bytes)> = (chunk * 5_000..((chunk + 1) * 5_000).min(rows))
            .map(|i| (Arc::from(format!("fill{i}@lid")), value.clone()))
            .collect();
        store
            .put_sessions_batch(&batch)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Fills a store to about `mb` MB of 1 KiB sessions, closes it, then times
/// opening it again plus one read, and the resident-memory growth over
/// the open and 10,000 random reads.
async fn open_time(dir: &Path, mb: u64) -> Result<Vec<String>, String> {
    let err = |e: wacore::store::error::StoreError| e.to_string();
    let rows = mb * 1000 * 1000 / 1100;
    let fill = |store: Arc<dyn Backend>| async move { fill_sessions(&store, rows).await };
    let reads = |store: Arc<dyn Backend>| async move {
        let mut rng = whatsapp_rust_conformance::storage::crash::Rng::new(0x9E37_79B9);
        for _ in 0..10_000 {
            store
                .get_session(&format!("fill{}@lid", rng.below(rows)))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    };
    let mut lines = Vec::new();

    eprintln!("filling a {mb} MB redb store ...");
    let redb_path = dir.join("big.redb");
    let store = RedbStore::open(&redb_path).map_err(err)?;
    fill(Arc::new(store.clone())).await?;
    store.close().await.map_err(err)?;
    let before = rss_bytes();
    let start = Instant::now();
    let store = RedbStore::open(&redb_path).map_err(err)?;
    store.get_session("fill1@lid").await.map_err(err)?;
    let redb_open = start.elapsed();
    reads(Arc::new(store.clone())).await?;
    let redb_rss = rss_bytes().zip(before).map(|(a, b)| a.saturating_sub(b));
    let redb_size = disk_size(&redb_path);
    drop(store);
    let start = Instant::now();
    let passes = RedbStore::open(&redb_path)
        .and_then(RedbStore::compact)
        .map_err(err)?;
    let compact_time = start.elapsed();
    let compacted = disk_size(&redb_path);

    eprintln!("filling a {mb} MB sqlite store ...");
    let sqlite_path = dir.join("big.db");
    let sqlite = SqliteStore::new(&sqlite_path.to_string_lossy())
        .await
        .map_err(|e| e.to_string())?;
    fill(Arc::new(sqlite)).await?;
    let before = rss_bytes();
    let start = Instant::now();
    let sqlite = SqliteStore::new(&sqlite_path.to_string_lossy())
        .await
        .map_err(|e| e.to_string())?;
    sqlite
        .get_session("fill1@lid")
        .await
        .map_err(|e| e.to_string())?;
    let sqlite_open = start.elapsed();
    reads(Arc::new(sqlite)).await?;
    let sqlite_rss = rss_bytes().zip(before).map(|(a, b)| a.saturating_sub(b));
    let sqlite_size = disk_size(&sqlite_path);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mb_of = |b: Option<u64>| b.map_or("n/a".into(), |b| format!("{:.1} MB", b as f64 / 1e6));
    lines.push(format!(
        "open a {mb} MB store + first read: redb {:.1} ms ({:.0} MB file), sqlite {:.1} ms ({:.0} MB)",
        ms(redb_open),
        redb_size as f64 / 1e6,
        ms(sqlite_open),
        sqlite_size as f64 / 1e6
    ));
    lines.push(format!(
        "compact the {mb} MB redb store offline: {:.0} MB -> {:.0} MB in {:.1} s ({passes} passes); compacted redb / sqlite {:.2}x",
        redb_size as f64 / 1e6,
        compacted as f64 / 1e6,
        compact_time.as_secs_f64(),
        compacted as f64 / sqlite_size as f64
    ));
    lines.push(format!(
        "resident memory growth over that open + 10,000 random reads: redb {}, sqlite {} (process RSS; approximate)",
        mb_of(redb_rss),
        mb_of(sqlite_rss)
    ));
    Ok(lines)
}
