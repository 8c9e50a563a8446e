//! Shared set-up for the cross-backend benchmarks: the backends under test,
//! each labelled with what a crash can lose, and a recorder that turns the
//! measured times into a side-by-side ratio table.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wacore::store::InMemoryBackend;
use wacore::store::traits::Backend;
use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};
use whatsapp_rust_sqlite_storage::SqliteStore;

/// One backend under test.
pub struct Subject {
    /// Short name: `redb`, `redb-relaxed`, `sqlite`, `memory`.
    pub name: &'static str,
    /// What a crash can lose with this configuration.
    pub durability: &'static str,
    /// The store.
    pub backend: Arc<dyn Backend>,
}

/// Opens every backend on fresh files under `dir`, each with its device row.
pub async fn subjects(dir: &Path) -> Vec<Subject> {
    let redb = RedbStore::open(dir.join("redb.redb")).expect("open redb");
    let relaxed = RedbStore::open_with(
        dir.join("redb-relaxed.redb"),
        StoreConfig::default().with_durability(Durability::relaxed()),
    )
    .expect("open redb relaxed");
    let sqlite = SqliteStore::new(dir.join("sqlite.db").to_str().expect("utf-8 path"))
        .await
        .expect("open sqlite");
    let subjects = vec![
        Subject {
            name: "redb",
            durability: "fsync before ack",
            backend: Arc::new(redb),
        },
        Subject {
            name: "redb-relaxed",
            durability: "crash may lose the last 1 s (flush every 1 s)",
            backend: Arc::new(relaxed),
        },
        Subject {
            name: "sqlite",
            durability: "WAL, synchronous=NORMAL: no fsync per commit, power loss may lose recent commits",
            backend: Arc::new(sqlite),
        },
        Subject {
            name: "memory",
            durability: "not persistent",
            backend: Arc::new(InMemoryBackend::new()),
        },
    ];
    for s in &subjects {
        s.backend.create().await.expect("create device row");
    }
    subjects
}

/// Accumulated (elapsed, operations) per (workload, backend).
#[derive(Default)]
pub struct Recorder {
    totals: Mutex<BTreeMap<(String, String), (Duration, u64)>>,
}

impl Recorder {
    /// Adds `ops` operations (rows, for batch workloads) done in `elapsed`.
    pub fn record(&self, workload: &str, backend: &str, elapsed: Duration, ops: u64) {
        let mut totals = self.totals.lock().expect("recorder lock");
        let entry = totals
            .entry((workload.to_owned(), backend.to_owned()))
            .or_default();
        entry.0 += elapsed;
        entry.1 += ops;
    }

    /// Operations per second of one (workload, backend), if measured.
    pub fn ops_per_sec(&self, workload: &str, backend: &str) -> Option<f64> {
        let totals = self.totals.lock().expect("recorder lock");
        let (elapsed, ops) = totals.get(&(workload.to_owned(), backend.to_owned()))?;
        Some(*ops as f64 / elapsed.as_secs_f64())
    }

    /// The ratio table: one row per workload, ops/s per backend, and the
    /// engine's ratio to SQLite and to memory.
    pub fn table(&self, workloads: &[&str], backends: &[&str]) -> String {
        let mut out = format!("{:<26}", "workload (ops/s or rows/s)");
        for b in backends {
            out += &format!("{b:>14}");
        }
        out += &format!(
            "{:>14}{:>16}{:>14}\n",
            "redb/sqlite", "relaxed/sqlite", "redb/memory"
        );
        for w in workloads {
            out += &format!("{w:<26}");
            for b in backends {
                match self.ops_per_sec(w, b) {
                    Some(v) => out += &format!("{v:>14.0}"),
                    None => out += &format!("{:>14}", "-"),
                }
            }
            let ratio = |a: &str, b: &str| match (self.ops_per_sec(w, a), self.ops_per_sec(w, b)) {
                (Some(x), Some(y)) => format!("{:.2}x", x / y),
                _ => "-".into(),
            };
            out += &format!(
                "{:>14}{:>16}{:>14}\n",
                ratio("redb", "sqlite"),
                ratio("redb-relaxed", "sqlite"),
                ratio("redb", "memory")
            );
        }
        out
    }
}
