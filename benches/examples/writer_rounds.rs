//! Rounds of 1 and of 16 durable `put_session`s on one task, in
//! alternating windows, on a default (`Immediate`) engine store: the
//! engine's side of `concurrent_writers_16 / concurrent_writers_1`
//! (docs/BENCHMARKS.md) without the kit's harness around it, for A/B runs
//! of engine builds. Prints microseconds per round and the ratio
//! 16 x (one writer's round) / (sixteen writers' round) per pair of
//! windows, then pooled.
//!
//! On tmpfs (`/dev/shm`), where `fdatasync` costs nothing, a round's time
//! is the engine's CPU on the round's path.
//!
//! ```text
//! cargo run --release -p whatsapp-rust-storage-benches --example writer_rounds -- \
//!     <dir> [pairs, default 6] [writers: 1, 16 or both (default)]
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wacore::store::traits::SignalStore;
use whatsapp_rust_redb_storage::RedbStore;

/// How long each window runs; the first pair is a warm-up, not reported.
const WINDOW: Duration = Duration::from_millis(700);
const KEYS: u64 = 5_000;
const SESSION_BYTES: usize = 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: writer_rounds <dir> [pairs, default 6] [writers: 1, 16 or both]";
    let (Some(dir), pairs, only) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let pairs: u32 = match pairs.map(|p| p.parse()) {
        None => 6,
        Some(Ok(p)) if p > 0 => p,
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let sizes: &[u64] = match only.map(String::as_str) {
        None | Some("both") => &[1, 16],
        Some("1") => &[1],
        Some("16") => &[16],
        Some(_) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(PathBuf::from(dir), pairs, sizes) {
        eprintln!("writer_rounds: {e}");
        std::process::exit(1);
    }
}

fn run(dir: PathBuf, pairs: u32, sizes: &[u64]) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir_in(dir)?;
    let store = Arc::new(RedbStore::open(dir.path().join("rounds.redb"))?);
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let keys: Vec<String> = (0..KEYS)
        .map(|k| format!("user{k}@s.whatsapp.net"))
        .collect();
    let value = vec![0x5D_u8; SESSION_BYTES];
    let mut next = 0_u64;
    let mut pooled = [0.0_f64; 2];
    runtime.block_on(async {
        for pair in 0..=pairs {
            let mut round_us = [0.0_f64; 2];
            let order: Vec<u64> = if pair % 2 == 0 {
                sizes.to_vec()
            } else {
                sizes.iter().rev().copied().collect()
            };
            for writers in order {
                let start = Instant::now();
                let mut rounds = 0_u32;
                while start.elapsed() < WINDOW {
                    let writes = (0..writers).map(|w| {
                        let key = &keys[((next * writers + w) % KEYS) as usize];
                        store.put_session(key, &value)
                    });
                    for written in futures::future::join_all(writes).await {
                        written?;
                    }
                    next += 1;
                    rounds += 1;
                }
                round_us[usize::from(writers == 16)] =
                    start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
            }
            if pair == 0 {
                continue;
            }
            let [one, sixteen] = round_us;
            pooled[0] += one;
            pooled[1] += sixteen;
            println!(
                "pair {pair}: 1 writer {one:6.1} us/round, 16 writers {sixteen:6.1} us/round{}",
                ratio(one, sixteen)
            );
        }
        let n = f64::from(pairs);
        println!(
            "mean: 1 writer {:6.1} us/round, 16 writers {:6.1} us/round{}",
            pooled[0] / n,
            pooled[1] / n,
            ratio(pooled[0], pooled[1])
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// `, ratio 16 x one / sixteen`, when both were measured.
fn ratio(one: f64, sixteen: f64) -> String {
    if one > 0.0 && sixteen > 0.0 {
        format!(", ratio {:.2}x", 16.0 * one / sixteen)
    } else {
        String::new()
    }
}
