// The ceiling of `Immediate` mode's design on this machine, without the
// engine (docs/BENCHMARKS.md, "where a 16-writer round's time goes"): a
// caller thread writes one round's record (n records of 1,100 bytes, zeros
// up to the end of the last page, as the engine's log does) into a 256 MiB
// file first filled with zeros, hands it to a sync thread over a channel
// (`fdatasync`), and waits for its answer over another. Rounds of n = 1 and
// n = 16 in alternating windows; prints microseconds per round and writes
// per second. No allocator, no overlay, no futures: what is left of
// `concurrent_writers_16 / concurrent_writers_1` once the engine costs
// nothing per write.
//
// Usage (writes and leaves <dir>/ceiling.log, 256 MiB):
//   rustc -O -o /tmp/ceiling benches/experiments/ceiling.rs
//   /tmp/ceiling <dir on the disk to measure> [seconds per window, default 1]
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::mpsc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = &args[1];
    let secs: f64 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(1.0);
    let path = format!("{dir}/ceiling.log");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let cap: u64 = 256 << 20;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(cap >> 20) {
        f.write_all(&zeros).unwrap();
    }
    f.sync_all().unwrap();
    let f = std::sync::Arc::new(f);
    let (to_sync, sync_rx) = mpsc::channel::<()>();
    let (to_caller, caller_rx) = mpsc::channel::<()>();
    let fs = f.clone();
    std::thread::spawn(move || {
        while sync_rx.recv().is_ok() {
            fs.sync_data().unwrap();
            to_caller.send(()).unwrap();
        }
    });
    let mut pos = 0u64;
    let mut buf = Vec::new();
    for pair in 0..6 {
        for &n in if pair % 2 == 0 {
            &[1usize, 16][..]
        } else {
            &[16usize, 1][..]
        } {
            let start = Instant::now();
            let mut rounds = 0u64;
            while start.elapsed().as_secs_f64() < secs {
                let len = n * 1100;
                let end = pos + len as u64;
                let padded = (end.next_multiple_of(4096) - pos) as usize;
                buf.clear();
                buf.resize(len, 0x5D);
                buf.resize(padded, 0);
                if pos + padded as u64 > cap {
                    pos = 0;
                    continue;
                }
                f.write_at(&buf, pos).unwrap();
                pos = end;
                to_sync.send(()).unwrap();
                caller_rx.recv().unwrap();
                rounds += 1;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
            print!(
                "n={n:2}: {us:6.1} us/round {:7.0} writes/s   ",
                n as f64 * 1e6 / us
            );
        }
        println!();
    }
}
