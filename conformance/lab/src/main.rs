//! `whatsapp-rust-conformance`: the conformance kit on the bundled backends
//! (our redb engine, `SqliteStore`, `InMemoryBackend`), and the lab's
//! campaigns (crash, faults) and benchmarks. `--help` on any command says
//! what it does; nothing runs with `--help`.
//!
//! Exit status: 0 when everything held, 1 when a check failed without a
//! declared deviation, 2 on bad usage. With `--json`, stdout is one JSON
//! document (schema in `docs/CLI.md`) and human output goes to stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// Conformance checks, crash and fault campaigns and benchmarks for
/// whatsapp-rust storage backends.
#[derive(Parser)]
#[command(name = "whatsapp-rust-conformance", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance checks on one or more bundled backends.
    Check(cli::check::Args),
    /// List the checks, with the trait methods each one calls; or the checks
    /// that cover one method (`--method put_mutation_macs`).
    Checks(cli::checks::Args),
    /// SIGKILL a writer child at random moments and verify every reopen.
    Crash(cli::crash::Args),
    /// The writer child of `crash` (started by `crash`, not by hand).
    #[command(hide = true)]
    CrashChild(cli::crash::ChildArgs),
    /// Inject an I/O error or a power cut at every write, sync and resize of a
    /// workload on the redb engine, on a simulated disk; verify each recovery.
    Faults(cli::faults::Args),
    /// Benchmark every workload on the bundled backends side by side.
    Bench(cli::bench::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Check(args) => cli::check::run(args),
        Command::Checks(args) => cli::checks::run(args),
        Command::Crash(args) => cli::crash::run(args),
        Command::CrashChild(args) => cli::crash::child(args),
        Command::Faults(args) => cli::faults::run(args),
        Command::Bench(args) => cli::bench::run(args),
    }
}
