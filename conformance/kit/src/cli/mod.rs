//! The command line over your store (feature `cli`): the same commands we
//! run on our own backends, on yours, in a few lines:
//!
//! ```no_run
//! use whatsapp_rust_conformance::{Expectations, cli, storage::SimpleFactory};
//!
//! fn main() -> std::process::ExitCode {
//!     cli::main(SimpleFactory::of("memory", wacore::store::InMemoryBackend::new), Expectations::none())
//! }
//! ```
//!
//! Runtimes and cache stores go beside stores in [`Targets`]
//! ([`RuntimeTarget`], [`CacheTarget`], [`run_targets`]); `check` then runs
//! the runtime and cache families too (`--family` picks).
//!
//! Commands: `check` (the suite), `checks` (what the suite holds, by check or
//! by trait method), `model` (random sequences against the model), `crash`
//! (SIGKILL a writer child, verify every reopen; persistent stores, see
//! [`Target::reopens_at`]) and `bench` (the client's storage paths). Every
//! command has `--help` (which does nothing else) and `--json` (one document
//! on stdout whose `schema` field names its format, `docs/CLI.md`); unknown
//! flags exit 2; the exit status is 1 when something failed.
//!
//! Several stores at once ([`run`] with several [`Target`]s) are chosen with
//! `--backend a,b` or `--backend all`; commands of your own can sit beside
//! these ones: each command's arguments and runner are public.

mod bench;
mod check;
mod checks;
mod crash;
mod families;
mod model;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use futures::future::BoxFuture;
use wacore::store::traits::Backend;

pub use bench::{BenchArgs, bench};
pub use check::{CheckArgs, check};
pub use checks::{ChecksArgs, checks};
pub use crash::{CrashArgs, CrashChildArgs, crash, crash_child};
#[cfg(feature = "net")]
pub use families::NetTarget;
pub use families::{CacheTarget, Family, RuntimeTarget};
pub use model::{ModelArgs, model};

use crate::storage::{Factory, SetupError};
use crate::{Executor, Expectations};

type OpenAt =
    dyn Fn(PathBuf) -> BoxFuture<'static, Result<Arc<dyn Backend>, SetupError>> + Send + Sync;

/// One store the commands can run on.
pub struct Target {
    factory: Box<dyn Factory>,
    expectations: Expectations,
    open_at: Option<Arc<OpenAt>>,
    executors: Vec<Executor>,
    default: bool,
}

impl Target {
    /// Your factory and its declared deviations. It runs on every executor
    /// compiled into the kit, and is selected when `--backend` is not given.
    pub fn new(factory: impl Factory + 'static, expectations: Expectations) -> Target {
        Target {
            factory: Box::new(factory),
            expectations,
            open_at: None,
            executors: Executor::ALL.to_vec(),
            default: true,
        }
    }

    /// How to open the store kept at a path (its data surviving a process
    /// kill): makes `crash` available. The writer child is this same program.
    pub fn reopens_at<F, Fut>(mut self, open_at: F) -> Target
    where
        F: Fn(PathBuf) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Arc<dyn Backend>, SetupError>> + Send + 'static,
    {
        self.open_at = Some(Arc::new(move |path| Box::pin(open_at(path))));
        self
    }

    /// The executors the store works on (one that calls tokio needs a tokio one).
    pub fn runs_on(mut self, executors: &[Executor]) -> Target {
        self.executors = executors.to_vec();
        self
    }

    /// Whether it is selected when `--backend` is not given (default: yes).
    pub fn by_default(mut self, yes: bool) -> Target {
        self.default = yes;
        self
    }

    /// Its name (the factory's), as `--backend` takes it.
    pub fn name(&self) -> &str {
        self.factory.name()
    }

    /// What its factory claims.
    pub fn capabilities(&self) -> crate::storage::Capabilities {
        self.factory.capabilities()
    }

    pub(crate) fn executor_for(&self, asked: Executor) -> Result<Executor, String> {
        if self.executors.contains(&asked) {
            Ok(asked)
        } else {
            let names: Vec<_> = self.executors.iter().map(|e| e.name()).collect();
            Err(format!(
                "{} runs on {}, not {}",
                self.name(),
                names.join(", "),
                asked.name()
            ))
        }
    }
}

/// The stores, runtimes and cache stores of one command line.
pub struct Targets {
    pub(crate) stores: Vec<Target>,
    pub(crate) runtimes: Vec<RuntimeTarget>,
    pub(crate) caches: Vec<CacheTarget>,
    #[cfg(feature = "net")]
    pub(crate) network: Vec<NetTarget>,
}

impl Targets {
    /// The stores, in report order (no runtime or cache store yet).
    pub fn new(targets: Vec<Target>) -> Targets {
        Targets {
            stores: targets,
            runtimes: Vec::new(),
            caches: Vec::new(),
            #[cfg(feature = "net")]
            network: Vec::new(),
        }
    }

    /// Adds transports and HTTP clients for the transport and http families.
    #[cfg(feature = "net")]
    pub fn with_network(mut self, targets: Vec<NetTarget>) -> Targets {
        self.network.extend(targets);
        self
    }

    /// Adds runtimes for the runtime family of `check`.
    pub fn with_runtimes(mut self, runtimes: Vec<RuntimeTarget>) -> Targets {
        self.runtimes.extend(runtimes);
        self
    }

    /// Adds cache stores for the cache family of `check`.
    pub fn with_caches(mut self, caches: Vec<CacheTarget>) -> Targets {
        self.caches.extend(caches);
        self
    }

    /// The families that have something to run on.
    pub fn families(&self) -> Vec<Family> {
        let mut out = Vec::new();
        if !self.stores.is_empty() {
            out.push(Family::Storage);
        }
        if !self.runtimes.is_empty() {
            out.push(Family::Runtime);
        }
        if !self.caches.is_empty() {
            out.push(Family::Cache);
        }
        #[cfg(feature = "net")]
        for family in [Family::Transport, Family::Http] {
            if self.network.iter().any(|t| t.family == family) {
                out.push(family);
            }
        }
        out
    }

    /// Every name `--backend` knows, across families.
    pub(crate) fn all_names(&self) -> Vec<&str> {
        let stores = self.stores.iter().map(Target::name);
        let runtimes = self.runtimes.iter().map(RuntimeTarget::name);
        let names = stores
            .chain(runtimes)
            .chain(self.caches.iter().map(CacheTarget::name));
        #[cfg(feature = "net")]
        let names = names.chain(self.network.iter().map(NetTarget::name));
        names.collect()
    }

    /// The stores `--backend` names (`a,b` or `all`; none: the defaults).
    pub fn select(&self, names: &[String]) -> Result<Vec<&Target>, String> {
        if names.is_empty() {
            return Ok(self.stores.iter().filter(|t| t.default).collect());
        }
        if names.iter().any(|n| n == "all") {
            return Ok(self.stores.iter().collect());
        }
        let mut out: Vec<&Target> = Vec::new();
        for name in names {
            match self.stores.iter().find(|t| t.name() == name) {
                Some(t) if !out.iter().any(|o| o.name() == t.name()) => out.push(t),
                Some(_) => {}
                None => {
                    let known: Vec<_> = self.stores.iter().map(Target::name).collect();
                    return Err(format!(
                        "unknown backend {name:?}: choose from {} or all",
                        known.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    }

    fn by_name(&self, name: &str) -> Option<&Target> {
        self.stores.iter().find(|t| t.name() == name)
    }
}

/// The commands this module runs.
#[derive(Subcommand)]
pub enum Command {
    /// Run the conformance checks.
    Check(CheckArgs),
    /// List the checks with the trait methods each calls, or the checks that
    /// cover one method.
    Checks(ChecksArgs),
    /// Run random operation sequences against a model of the contract.
    Model(ModelArgs),
    /// SIGKILL a writer child at random moments and verify every reopen.
    Crash(CrashArgs),
    /// The writer child of `crash` (started by `crash`, not by hand).
    #[command(hide = true)]
    CrashChild(CrashChildArgs),
    /// Measure the storage paths a real client drives.
    Bench(BenchArgs),
}

impl Command {
    /// Runs the command on `targets`.
    pub fn run(self, targets: &Targets) -> ExitCode {
        match self {
            Command::Check(args) => check(args, targets),
            Command::Checks(args) => checks(args),
            Command::Model(args) => model(args, targets),
            Command::Crash(args) => crash(args, targets),
            Command::CrashChild(args) => crash_child(args, targets),
            Command::Bench(args) => bench(args, targets),
        }
    }
}

/// Conformance checks, model runs, crash campaigns and benchmarks for a
/// whatsapp-rust storage backend.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Parses the process's arguments and runs the command on `targets`.
pub fn run(targets: Vec<Target>) -> ExitCode {
    run_targets(Targets::new(targets))
}

/// [`run`] over stores, runtimes and cache stores
/// ([`Targets::with_runtimes`], [`Targets::with_caches`]): `check` runs every
/// family that has something to check.
pub fn run_targets(targets: Targets) -> ExitCode {
    Cli::parse().command.run(&targets)
}

/// The whole command line over one store.
pub fn main(factory: impl Factory + 'static, expectations: Expectations) -> ExitCode {
    run(vec![Target::new(factory, expectations)])
}

/// Exit status 2 with `message` on stderr: a usage error found after parsing.
pub fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Exit status 0 when nothing failed, 1 otherwise.
pub fn status(failed: usize) -> ExitCode {
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints a JSON document on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value always serialises")
    );
}

/// The estimated time left after `done` of `total` items took `elapsed`.
pub fn time_left(elapsed: Duration, done: usize, total: usize) -> String {
    if done == 0 {
        return "estimating".into();
    }
    let left = elapsed.as_secs_f64() / done as f64 * total.saturating_sub(done) as f64;
    format!("~{left:.0} s left")
}

/// Parses `--runtime`.
fn executor(name: &str) -> Result<Executor, String> {
    Executor::from_name(name).ok_or_else(|| {
        let names: Vec<_> = Executor::ALL.iter().map(|e| e.name()).collect();
        format!("unknown runtime {name:?}: choose from {}", names.join(", "))
    })
}
