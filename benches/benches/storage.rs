//! Criterion microbenchmarks of the kit's workloads (every point read and
//! write, every batch) on the redb engine (durable and relaxed), SqliteStore
//! (default config) and InMemoryBackend, in one process. Ends with a
//! side-by-side ratio table. The client paths, concurrent writers and the
//! raw-redb baseline are in `cargo kit-bench` (the kit's own bench command).
//!
//! `cargo bench -p whatsapp-rust-storage-benches --bench storage [-- FILTER]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use whatsapp_rust_conformance::storage::bench::{Class, all_workloads, seed};
use whatsapp_rust_storage_benches::{Recorder, Subject, subjects};

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let subjects = rt.block_on(subjects(dir.path()));
    rt.block_on(async {
        for s in &subjects {
            seed(&s.backend).await.expect("seed");
        }
    });
    let recorder = Arc::new(Recorder::default());
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let counter = Arc::new(AtomicU64::new(0));

    let workloads: Vec<_> = all_workloads()
        .into_iter()
        .filter(|w| {
            matches!(
                w.class,
                Class::Read | Class::Write | Class::BatchWrite | Class::BatchRead
            )
        })
        .collect();
    for workload in &workloads {
        let mut group = c.benchmark_group(workload.name);
        group.throughput(Throughput::Elements(workload.ops_per_run));
        for Subject { name, backend, .. } in &subjects {
            let (recorder, counter, backend, workload) = (
                recorder.clone(),
                counter.clone(),
                backend.clone(),
                *workload,
            );
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (recorder, counter, backend) =
                        (recorder.clone(), counter.clone(), backend.clone());
                    async move {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let i = counter.fetch_add(1, Ordering::Relaxed);
                            workload.run(&backend, i).await.expect("workload");
                        }
                        let elapsed = start.elapsed();
                        recorder.record(workload.name, name, elapsed, iters * workload.ops_per_run);
                        elapsed
                    }
                })
            });
        }
        group.finish();
    }
    c.final_summary();

    let names: Vec<&str> = subjects.iter().map(|s| s.name).collect();
    println!("\nDurability of each backend:");
    for s in &subjects {
        println!("  {:<13} {}", s.name, s.durability);
    }
    println!("\nSide by side (mean over warm-up and samples, this run):");
    let measured: Vec<&str> = workloads.iter().map(|w| w.name).collect();
    println!("{}", recorder.table(&measured, &names));
}
