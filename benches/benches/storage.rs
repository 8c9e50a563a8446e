//! First cross-backend benchmark: the redb engine (durable and relaxed) beside
//! SqliteStore (default config) and InMemoryBackend, in one process.
//!
//! Workloads (1 KiB values, one task): put_session, get_session,
//! put_sessions_batch(100), put_mutation_macs(500). Ends with a ratio table.
//!
//! `cargo bench -p whatsapp-rust-storage-benches --bench storage`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use wacore::appstate::processor::AppStateMutationMAC;
use whatsapp_rust_storage_benches::{Recorder, Subject, subjects};

const VALUE: usize = 1024;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let subjects = rt.block_on(subjects(dir.path()));
    let recorder = Arc::new(Recorder::default());
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    let value = Bytes::from(vec![0x5A; VALUE]);
    let counter = Arc::new(AtomicU64::new(0));

    // Reads need data: 1,000 sessions per backend.
    rt.block_on(async {
        let rows: Vec<(Arc<str>, Bytes)> = (0..1000)
            .map(|i| (Arc::from(format!("read{i}@lid")), value.clone()))
            .collect();
        for s in &subjects {
            s.backend.put_sessions_batch(&rows).await.expect("seed");
        }
    });

    type Op = fn(Arc<dyn wacore::store::traits::Backend>, u64, Bytes) -> BoxFut;
    type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
    let workloads: [(&str, u64, Op); 4] = [
        ("put_session", 1, |b, i, v| {
            Box::pin(async move {
                b.put_session(&format!("w{}@lid", i % 5000), &v)
                    .await
                    .unwrap()
            })
        }),
        ("get_session", 1, |b, i, _| {
            Box::pin(async move {
                let got = b
                    .get_session(&format!("read{}@lid", i % 1000))
                    .await
                    .unwrap();
                assert!(got.is_some());
            })
        }),
        ("put_sessions_batch_100", 100, |b, i, v| {
            Box::pin(async move {
                let rows: Vec<(Arc<str>, Bytes)> = (0..100)
                    .map(|j| {
                        (
                            Arc::from(format!("b{}@lid", (i * 100 + j) % 20_000)),
                            v.clone(),
                        )
                    })
                    .collect();
                b.put_sessions_batch(&rows).await.unwrap()
            })
        }),
        ("put_mutation_macs_500", 500, |b, i, _| {
            Box::pin(async move {
                let macs: Vec<AppStateMutationMAC> = (0..500u64)
                    .map(|j| {
                        let mut index = [0u8; 32];
                        index[..8].copy_from_slice(&(i * 500 + j).to_be_bytes());
                        AppStateMutationMAC {
                            index_mac: index.to_vec(),
                            value_mac: vec![7; 32],
                        }
                    })
                    .collect();
                b.put_mutation_macs("regular", i, &macs).await.unwrap()
            })
        }),
    ];

    for (workload, rows_per_op, op) in workloads {
        let mut group = c.benchmark_group(workload);
        group.throughput(Throughput::Elements(rows_per_op));
        for Subject { name, backend, .. } in &subjects {
            let (recorder, counter, value, backend) = (
                recorder.clone(),
                counter.clone(),
                value.clone(),
                backend.clone(),
            );
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (recorder, counter, value, backend) = (
                        recorder.clone(),
                        counter.clone(),
                        value.clone(),
                        backend.clone(),
                    );
                    async move {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let i = counter.fetch_add(1, Ordering::Relaxed);
                            op(backend.clone(), i, value.clone()).await;
                        }
                        let elapsed = start.elapsed();
                        recorder.record(workload, name, elapsed, iters * rows_per_op);
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
    println!(
        "{}",
        recorder.table(
            &[
                "put_session",
                "get_session",
                "put_sessions_batch_100",
                "put_mutation_macs_500"
            ],
            &names
        )
    );
}
