//! The lab's own commands, beside the kit's: the fault campaign on a
//! simulated disk and the side-by-side benchmark with raw redb. Both run on
//! `Executor::TokioMultiThread` (two workers, like the machines we test on;
//! SqliteStore needs tokio).

pub mod backup;
pub mod bench;
pub mod bench_families;
pub mod bench_network;
mod bench_pairs;
pub mod compact;
pub mod faults;
pub mod inspect;
pub mod memory;
mod recovery_time;
pub mod transfer;

/// The JSON document of `bench-families` on stdout.
pub(crate) fn families_json(
    cache_names: &[&str],
    cache_rows: &[(&str, Vec<std::time::Duration>)],
    runtime_names: &[&str],
    runtime_rows: &[(&str, Vec<std::time::Duration>)],
) {
    let rows = |names: &[&str], rows: &[(&str, Vec<std::time::Duration>)]| {
        rows.iter()
            .map(|(workload, figures)| {
                let by: serde_json::Map<_, _> = names
                    .iter()
                    .zip(figures)
                    .map(|(n, f)| (n.to_string(), serde_json::json!(f.as_nanos() as u64)))
                    .collect();
                serde_json::json!({ "workload": workload, "nanos_per_op": by })
            })
            .collect::<Vec<_>>()
    };
    whatsapp_rust_conformance::cli::print_json(&serde_json::json!({
        "schema": "whatsapp-rust-conformance/bench-families/v1",
        "cache": rows(cache_names, cache_rows),
        "runtime": rows(runtime_names, runtime_rows),
    }));
}
