//! `bench-families`: the other pluggable parts side by side in one run.
//! Cache stores (set, get of a hit, of a miss, of an expired entry) and
//! runtimes (spawn-and-join, yield, the overshoot of a 1 ms sleep), each
//! with its ratio to the first column. With `REDIS_URL` set, the Redis
//! cache store is measured too.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wacore::runtime::Runtime;
use wacore::store::cache::CacheStore;
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_memory_cache::MemoryCacheStore;
use whatsapp_rust_redb_storage::{Durability, RedbCacheStore, RedbStore, StoreConfig};
use whatsapp_rust_redis_cache::RedisCacheStore;
use whatsapp_rust_smol_runtime::SmolRuntime;

use super::families_json;

/// Arguments of `bench-families`.
#[derive(clap::Args)]
pub struct Args {
    /// Fewer operations per figure (a smoke run).
    #[arg(long)]
    quick: bool,
    /// stdout is a JSON document (schema `whatsapp-rust-conformance/bench-families/v1`); the tables go to stderr.
    #[arg(long)]
    json: bool,
}

/// One figure: mean time per operation.
type Row = (&'static str, Vec<Duration>);

/// Runs `bench-families`.
pub fn run(args: Args) -> ExitCode {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; its figures say little. Use `cargo run --release -p whatsapp-rust-conformance-lab -- bench-families`."
        );
    }
    let n = if args.quick { 200 } else { 2_000 };
    let (cache_names, cache_rows) = match Executor::TokioMultiThread.block_on(caches(n)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench-families failed: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let (runtime_names, runtime_rows) = runtimes(n);
    let out = |text: String| {
        if args.json {
            eprintln!("{text}")
        } else {
            println!("{text}")
        }
    };
    out(table("cache store", &cache_names, &cache_rows));
    out(table("runtime", &runtime_names, &runtime_rows));
    if args.json {
        families_json(&cache_names, &cache_rows, &runtime_names, &runtime_rows);
    }
    ExitCode::SUCCESS
}

async fn caches(n: usize) -> anyhow::Result<(Vec<&'static str>, Vec<Row>)> {
    let dir = tempfile::tempdir()?;
    let durable = RedbStore::open(dir.path().join("durable.redb"))?;
    let relaxed = RedbStore::open_with(
        dir.path().join("relaxed.redb"),
        StoreConfig::default().with_durability(Durability::relaxed()),
    )?;
    let mut stores: Vec<(&'static str, Arc<dyn CacheStore>)> = vec![
        ("memory-cache", Arc::new(MemoryCacheStore::new())),
        ("redb-cache", Arc::new(RedbCacheStore::new(&durable))),
        (
            "redb-cache-relaxed",
            Arc::new(RedbCacheStore::new(&relaxed)),
        ),
    ];
    // A server's figures when one is named (`bash ci/servers.sh start`).
    if let Ok(url) = std::env::var("REDIS_URL") {
        let prefix = format!("bench-{}:", std::process::id());
        stores.push((
            "redis-cache",
            Arc::new(RedisCacheStore::open(&url, prefix)?),
        ));
    }
    let value = vec![0x42u8; 1024];
    let mut rows: Vec<Row> = ["set 1 KiB", "get (hit)", "get (miss)", "get (expired)"]
        .into_iter()
        .map(|w| (w, Vec::new()))
        .collect();
    let value = value.as_slice();
    for (_, store) in &stores {
        let key = |i: usize| format!("{i}@s.whatsapp.net");
        rows[0].1.push(
            time(n, |i| async move {
                store.set("bench", &key(i), value, None).await.map(drop)
            })
            .await?,
        );
        rows[1].1.push(
            time(
                n,
                |i| async move { store.get("bench", &key(i)).await.map(drop) },
            )
            .await?,
        );
        rows[2].1.push(
            time(n, |i| async move {
                store.get("bench", &format!("missing-{i}")).await.map(drop)
            })
            .await?,
        );
        for i in 0..n {
            store
                .set("expired", &key(i), value, Some(Duration::from_millis(1)))
                .await?;
        }
        std::thread::sleep(Duration::from_millis(5));
        rows[3].1.push(
            time(n, |i| async move {
                store.get("expired", &key(i)).await.map(drop)
            })
            .await?,
        );
    }
    for (name, store) in &stores {
        if *name == "redis-cache" {
            store.clear("bench").await?;
            store.clear("expired").await?;
        }
    }
    Ok((stores.iter().map(|(name, _)| *name).collect(), rows))
}

async fn time<F, Fut>(n: usize, op: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let start = Instant::now();
    for i in 0..n {
        op(i).await?;
    }
    Ok(start.elapsed() / n as u32)
}

fn runtimes(n: usize) -> (Vec<&'static str>, Vec<Row>) {
    let subjects: Vec<(&'static str, Arc<dyn Runtime>)> = vec![
        ("tokio", Arc::new(whatsapp_rust::TokioRuntime)),
        ("smol", Arc::new(SmolRuntime::new())),
        ("smol-single", Arc::new(SmolRuntime::single_threaded())),
    ];
    let mut rows: Vec<Row> = ["spawn + join", "yield", "sleep(1 ms) overshoot"]
        .into_iter()
        .map(|w| (w, Vec::new()))
        .collect();
    for (_, rt) in &subjects {
        // Measured from a task of the runtime itself (tokio's needs its context).
        let figures = Executor::TokioMultiThread.block_on(on_runtime(rt.clone(), n));
        for (row, figure) in rows.iter_mut().zip(figures) {
            row.1.push(figure);
        }
    }
    (subjects.iter().map(|(name, _)| *name).collect(), rows)
}

async fn on_runtime(rt: Arc<dyn Runtime>, n: usize) -> [Duration; 3] {
    let (tx, rx) = futures::channel::oneshot::channel();
    let inner = rt.clone();
    rt.spawn(Box::pin(async move {
        let start = Instant::now();
        for _ in 0..n {
            let (done, finished) = futures::channel::oneshot::channel();
            inner.spawn_detached(Box::pin(async move {
                let _ = done.send(());
            }));
            let _ = finished.await;
        }
        let spawn = start.elapsed() / n as u32;
        let start = Instant::now();
        for _ in 0..n {
            match inner.yield_now() {
                Some(y) => y.await,
                None => whatsapp_rust_conformance::yield_now().await,
            }
        }
        let yielding = start.elapsed() / n as u32;
        let sleeps = (n / 10).max(20);
        let start = Instant::now();
        for _ in 0..sleeps {
            inner.sleep(Duration::from_millis(1)).await;
        }
        let overshoot = (start.elapsed() / sleeps as u32).saturating_sub(Duration::from_millis(1));
        let _ = tx.send([spawn, yielding, overshoot]);
    }))
    .detach();
    rx.await.expect("the measuring task finished")
}

fn table(what: &str, names: &[&str], rows: &[Row]) -> String {
    let mut text = format!("\n{what:<24}");
    for name in names {
        text += &format!(" {name:>20}");
    }
    for (workload, figures) in rows {
        text += &format!("\n{workload:<24}");
        for (i, f) in figures.iter().enumerate() {
            let ratio = f.as_secs_f64() / figures[0].as_secs_f64().max(1e-12);
            let cell = if i == 0 {
                format!("{f:.1?}")
            } else {
                format!("{f:.1?} ({ratio:.2}x)")
            };
            text += &format!(" {cell:>20}");
        }
    }
    text + &format!("\n(mean per operation; ratio to {})", names[0])
}
