//! `whatsapp-rust-conformance`: the kit's command line
//! (`whatsapp_rust_conformance::cli`) over the bundled backends (our redb
//! engine, the default; `SqliteStore`; `InMemoryBackend`), plus the lab's
//! fault campaign and its side-by-side benchmark with raw redb. `--help` on
//! any command says what it does; nothing runs with `--help`.
//!
//! Exit status: 0 when everything held, 1 when something failed, 2 on bad
//! usage. With `--json`, stdout is one JSON document (schemas in
//! `docs/CLI.md`) and human output goes to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use std::sync::Arc;

use wacore::store::traits::Backend;
use whatsapp_rust_conformance::cli::{self, Target, Targets};
use whatsapp_rust_conformance::{Executor, Expectations};
use whatsapp_rust_conformance_lab::families;
use whatsapp_rust_conformance_lab::references::Reference;
use whatsapp_rust_postgres_storage::conformance::PostgresFactory;

mod commands;

/// Conformance checks, model runs, crash and fault campaigns and benchmarks
/// for whatsapp-rust storage backends: our redb engine, SqliteStore and
/// InMemoryBackend.
#[derive(Parser)]
#[command(name = "whatsapp-rust-conformance", version)]
struct Lab {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance checks of every family (defaults: the redb store,
    /// the smol runtimes, the redb cache store).
    Check(cli::CheckArgs),
    /// List the checks with the trait methods each calls, or the checks that
    /// cover one method (`--method put_mutation_macs`).
    Checks(cli::ChecksArgs),
    /// Run random operation sequences against a model of the contract.
    Model(cli::ModelArgs),
    /// SIGKILL a writer child at random moments and verify every reopen.
    Crash(cli::CrashArgs),
    /// The writer child of `crash` (started by `crash`, not by hand).
    #[command(hide = true)]
    CrashChild(cli::CrashChildArgs),
    /// Inject an I/O error or a power cut at every write, sync and resize of a
    /// workload on the redb engine (database and commit log, every durability
    /// mode), on simulated disks; verify each recovery.
    Faults(commands::faults::Args),
    /// Benchmark every workload on the bundled backends and raw redb side by
    /// side; ratio table, SVG chart, file size, open time, memory.
    Bench(commands::bench::Args),
    /// Benchmark the cache stores and the runtimes side by side (cache
    /// get/set/expiry; spawn, yield and sleep, tokio against smol).
    BenchFamilies(commands::bench_families::Args),
    /// Benchmark our transport and HTTP client beside whatsapp-rust's
    /// (frames/s and round trips over loopback TLS WebSocket; download
    /// throughput and peak memory).
    BenchNetwork(commands::bench_network::Args),
    /// Compact a redb store file offline (no bot may have it open); prints
    /// its size before and after.
    Compact(commands::compact::Args),
    /// Copy a redb store file (no bot may have it open) to a new file,
    /// verified row for row.
    Backup(commands::backup::BackupArgs),
    /// Put a backup in place of a store file, verified row for row.
    Restore(commands::backup::RestoreArgs),
    /// The accounts of a redb store file, its rows and bytes per table and
    /// account, or (`--rows`) the rows themselves decoded as JSON lines.
    Inspect(commands::inspect::Args),
    /// Write every row of a redb store file (or of one account) as a
    /// portable, versioned stream of JSON lines.
    Export(commands::transfer::ExportArgs),
    /// Write the rows of an export stream into a redb file or a PostgreSQL
    /// schema, then read every row back.
    Import(commands::transfer::ImportArgs),
    /// Copy every account of a SqliteStore database into a redb file or a
    /// PostgreSQL schema, then read every row back through both stores.
    Migrate(commands::transfer::MigrateArgs),
    /// Resident memory and steady throughput of the redb store for several
    /// page-cache sizes, each in a fresh process, on a bot-sized store.
    Memory(commands::memory::Args),
    /// One cache size of `memory` (started by `memory`, not by hand).
    #[command(hide = true)]
    MemoryChild(commands::memory::ChildArgs),
}

/// The bundled stores, runtimes and cache stores; by default redb, smol
/// (both variants) and redb-cache. With `POSTGRES_URL` set (`bash
/// ci/servers.sh start`), also `postgres`: a fresh schema per store in that
/// database, and for crash campaigns a schema per kill.
fn targets() -> Targets {
    let tokio = [Executor::TokioMultiThread, Executor::TokioCurrentThread];
    let mut stores: Vec<Target> = Reference::ALL
        .into_iter()
        .map(|r| {
            let target =
                Target::new(r.factory(), r.expectations()).by_default(r == Reference::Redb);
            let target = if r.needs_tokio() {
                target.runs_on(&tokio)
            } else {
                target
            };
            if r.is_persistent() {
                target.reopens_at(move |path| async move { r.open_at(&path).await })
            } else {
                target
            }
        })
        .collect();
    if let Ok(url) = std::env::var("POSTGRES_URL") {
        let opener = Arc::new(PostgresFactory::new(url.clone()));
        stores.push(
            Target::new(Box::new(PostgresFactory::new(url)), Expectations::none())
                .by_default(false)
                .reopens_at(move |path| {
                    let opener = opener.clone();
                    async move {
                        let store = opener.open_at(&path).await?;
                        Ok(Arc::new(store) as Arc<dyn Backend>)
                    }
                }),
        );
    }
    Targets::new(stores)
        .with_runtimes(families::runtimes())
        .with_caches(families::caches())
        .with_network(whatsapp_rust_conformance_lab::network::net_targets())
}

fn main() -> ExitCode {
    let targets = targets();
    match Lab::parse().command {
        Command::Check(args) => cli::check(args, &targets),
        Command::Checks(args) => cli::checks(args),
        Command::Model(args) => cli::model(args, &targets),
        Command::Crash(args) => cli::crash(args, &targets),
        Command::CrashChild(args) => cli::crash_child(args, &targets),
        Command::Faults(args) => commands::faults::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::BenchFamilies(args) => commands::bench_families::run(args),
        Command::BenchNetwork(args) => commands::bench_network::run(args),
        Command::Compact(args) => commands::compact::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Backup(args) => commands::backup::backup(args),
        Command::Restore(args) => commands::backup::restore(args),
        Command::Export(args) => commands::transfer::export(args),
        Command::Import(args) => commands::transfer::import(args),
        Command::Migrate(args) => commands::transfer::migrate(args),
        Command::Memory(args) => commands::memory::run(args),
        Command::MemoryChild(args) => commands::memory::child_main(args),
    }
}
