//! Benchmarks generic over any `Backend`: the storage paths a real client
//! drives, measured on your store beside ours.
//!
//! ```no_run
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::storage::bench::{Subject, all_workloads, run_benchmarks, Budget};
//! # async fn demo() {
//! let my_store = Arc::new(wacore::store::InMemoryBackend::new());
//! let subjects = vec![Subject::new("mystore", "not persistent", my_store)];
//! let results = run_benchmarks(&subjects, &all_workloads(), Budget::quick(), |_| {}).await;
//! for m in &results {
//!     println!("{} {}: {:.0} ops/s", m.workload, m.backend, m.ops_per_sec);
//! }
//! # }
//! ```
//!
//! Each workload is a plain async function over `Arc<dyn Backend>`
//! ([`Workload::run`]); criterion benches can call the same functions
//! (`benches/` does). The loop here is simple: warm up, then run until the
//! time budget is spent, and count operations (rows for batches).

mod workloads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wacore::store::traits::Backend;

pub use workloads::{Class, SEEDED, Workload, all_workloads, seed};

use crate::Failure;

/// One store under test, labelled with what a crash can lose.
#[derive(Clone)]
pub struct Subject {
    /// Short name (`redb`, `redb-relaxed`, `sqlite`, `memory`, or yours).
    pub name: String,
    /// Durability label: `fsync before ack`, or what a crash may lose.
    pub durability: String,
    /// The store.
    pub store: Arc<dyn Backend>,
}

impl Subject {
    /// A subject.
    pub fn new(name: &str, durability: &str, store: Arc<dyn Backend>) -> Subject {
        Subject {
            name: name.to_owned(),
            durability: durability.to_owned(),
            store,
        }
    }
}

/// How long each (workload, store) pair is measured.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Untimed runs first.
    pub warmup: Duration,
    /// Timed runs until this much time has passed...
    pub measure: Duration,
    /// ...and at least this many runs.
    pub min_runs: u64,
}

impl Budget {
    /// About 0.25 s per pair: the whole matrix in under two minutes.
    pub fn quick() -> Budget {
        Budget {
            warmup: Duration::from_millis(40),
            measure: Duration::from_millis(200),
            min_runs: 2,
        }
    }

    /// About 2.5 s per pair.
    pub fn full() -> Budget {
        Budget {
            warmup: Duration::from_millis(500),
            measure: Duration::from_secs(2),
            min_runs: 5,
        }
    }
}

/// One figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Workload name.
    pub workload: String,
    /// Store name.
    pub backend: String,
    /// Durability label of the store.
    pub durability: String,
    /// Operations per second (rows for batches, events for client paths).
    pub ops_per_sec: f64,
    /// Timed runs.
    pub runs: u64,
    /// Time of the timed runs.
    pub elapsed: Duration,
}

impl Measurement {
    /// The figure of `runs` runs of `workload` that took `elapsed`.
    pub fn new(
        workload: &Workload,
        backend: &str,
        durability: &str,
        runs: u64,
        elapsed: Duration,
    ) -> Measurement {
        Measurement {
            workload: workload.name.to_owned(),
            backend: backend.to_owned(),
            durability: durability.to_owned(),
            ops_per_sec: (runs * workload.ops_per_run) as f64 / elapsed.as_secs_f64(),
            runs,
            elapsed,
        }
    }
}

/// The measuring loop every store goes through: untimed runs for
/// `budget.warmup`, then timed runs until `budget.measure` has passed and at
/// least `budget.min_runs` were made. `once(i)` makes run number `i`, taken
/// from `counter`. Returns the timed runs and their time.
pub async fn time_runs<E, F, Fut>(
    budget: Budget,
    counter: &mut u64,
    mut once: F,
) -> Result<(u64, Duration), E>
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
{
    let warm_until = Instant::now() + budget.warmup;
    while Instant::now() < warm_until {
        once(*counter).await?;
        *counter += 1;
    }
    let start = Instant::now();
    let mut runs = 0;
    while runs < budget.min_runs || start.elapsed() < budget.measure {
        once(*counter).await?;
        *counter += 1;
        runs += 1;
    }
    Ok((runs, start.elapsed()))
}

/// Measures `workload` on `subject`; `counter` numbers runs across calls so
/// write workloads keep moving through their key space.
pub async fn measure(
    subject: &Subject,
    workload: &Workload,
    budget: Budget,
    counter: &mut u64,
) -> Result<Measurement, Failure> {
    let (runs, elapsed) = time_runs(budget, counter, |i| workload.run(&subject.store, i)).await?;
    Ok(Measurement::new(
        workload,
        &subject.name,
        &subject.durability,
        runs,
        elapsed,
    ))
}

/// The schema of [`to_json`]'s document (see `docs/CLI.md`).
pub const SCHEMA: &str = "whatsapp-rust-conformance/bench/v1";

/// `{"schema": SCHEMA, "results": [{"workload", "backend", "durability", "ops_per_sec"}, ...]}`
pub fn to_json(results: &[Measurement]) -> serde_json::Value {
    let rows: Vec<_> = results
        .iter()
        .map(|m| {
            serde_json::json!({
                "workload": m.workload,
                "backend": m.backend,
                "durability": m.durability,
                "ops_per_sec": (m.ops_per_sec * 10.0).round() / 10.0,
            })
        })
        .collect();
    serde_json::json!({ "schema": SCHEMA, "results": rows })
}

/// Seeds every subject, then measures every workload on every subject,
/// interleaved (workload by workload) so background noise hits all stores
/// alike. `progress` gets each figure as it is made. A workload that fails on
/// a store is reported as an error figure-less line through `progress` and
/// skipped.
pub async fn run_benchmarks(
    subjects: &[Subject],
    workloads: &[Workload],
    budget: Budget,
    mut progress: impl FnMut(Result<&Measurement, String>),
) -> Vec<Measurement> {
    let mut results = Vec::new();
    let mut ready = Vec::new();
    for subject in subjects {
        match seed(&subject.store).await {
            Ok(()) => ready.push(subject),
            Err(e) => progress(Err(format!("{}: seeding failed: {e}", subject.name))),
        }
    }
    let mut counters = vec![0u64; ready.len()];
    for workload in workloads {
        for (subject, counter) in ready.iter().zip(counters.iter_mut()) {
            match measure(subject, workload, budget, counter).await {
                Ok(m) => {
                    progress(Ok(&m));
                    results.push(m);
                }
                Err(e) => progress(Err(format!("{} on {}: {e}", workload.name, subject.name))),
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_its_schema_and_labels_every_figure() {
        let workload = &all_workloads()[0];
        let m = Measurement::new(
            workload,
            "mine",
            "fsync before ack",
            10,
            Duration::from_secs(1),
        );
        let doc = to_json(&[m]);
        assert_eq!(doc["schema"], SCHEMA);
        assert_eq!(doc["results"][0]["backend"], "mine");
        assert_eq!(doc["results"][0]["durability"], "fsync before ack");
        assert!(doc["results"][0]["ops_per_sec"].as_f64().unwrap() > 0.0);
    }
}
