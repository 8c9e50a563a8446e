//! Crash checks for persistent backends: a writer runs in a child process, is
//! killed with SIGKILL at a random moment, and the store is reopened and
//! verified.
//!
//! The child runs [`child_workload`]: numbered steps, each one
//! `put_mutation_macs` of [`STEP_ROWS`] rows (one batch, which must be
//! all-or-nothing) and one `put_session`, printing `ack N` on stdout after
//! both returned. After the kill the parent opens the store and
//! [`verify`] checks that:
//! 1. every acknowledged step is complete (no acknowledged write lost);
//! 2. the step in flight is either complete or absent in each of its calls
//!    (no torn batch);
//! 3. no later step exists.
//!
//! A backend author needs two things: a way to start the child (any command
//! whose process calls [`child_workload`] on the store at a given path and
//! exits only when killed), and a way to open the store at that path in the
//! parent. [`Campaign::run`] does the rest.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::Backend;

use crate::Failure;

/// Rows in each step's `put_mutation_macs` batch (SqliteStore commits every 100).
pub const STEP_ROWS: u64 = 500;

const COLLECTION: &str = "crash";

fn step_mac(step: u64, row: u64) -> AppStateMutationMAC {
    AppStateMutationMAC {
        index_mac: step_index(step, row).to_vec(),
        value_mac: step.to_be_bytes().to_vec(),
    }
}

fn step_index(step: u64, row: u64) -> [u8; 32] {
    let mut index = [0u8; 32];
    index[..8].copy_from_slice(&step.to_be_bytes());
    index[8..16].copy_from_slice(&row.to_be_bytes());
    index
}

/// The child's loop: runs steps 1, 2, ... forever, printing `ack N` to `out`
/// after step N's writes are acknowledged. Returns only on a store error.
pub async fn child_workload(store: Arc<dyn Backend>, mut out: impl Write) -> Result<(), Failure> {
    writeln!(out, "ready")
        .and_then(|()| out.flush())
        .map_err(|e| Failure(e.to_string()))?;
    for step in 1u64.. {
        let macs: Vec<_> = (0..STEP_ROWS).map(|row| step_mac(step, row)).collect();
        store.put_mutation_macs(COLLECTION, step, &macs).await?;
        store
            .put_session(&format!("crash-step-{step}@lid"), &step.to_be_bytes())
            .await?;
        writeln!(out, "ack {step}")
            .and_then(|()| out.flush())
            .map_err(|e| Failure(e.to_string()))?;
    }
    Ok(())
}

/// What a store promises about a SIGKILL of its writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// Nothing acknowledged is lost, and nothing is torn.
    ProcessCrashSafe,
    /// The most recent acknowledged steps may be lost, as whole steps:
    /// what survives is a prefix, and nothing is torn.
    WholePrefix,
}

impl Guarantee {
    /// The guarantee a store's capabilities claim.
    pub fn claimed_by(capabilities: &super::Capabilities) -> Guarantee {
        if capabilities.process_crash_safe {
            Guarantee::ProcessCrashSafe
        } else {
            Guarantee::WholePrefix
        }
    }
}

/// What [`verify`] found after one kill.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The last step the child acknowledged before it died.
    pub acknowledged: u64,
    /// Whether the step after the last surviving one left its batch behind.
    pub in_flight_batch_landed: bool,
    /// Acknowledged steps that did not survive ([`Guarantee::WholePrefix`]
    /// only; always 0 under [`Guarantee::ProcessCrashSafe`]).
    pub lost: u64,
}

/// Checks the store after a kill, given the last acknowledged step and the
/// store's guarantee.
pub async fn verify(
    store: &Arc<dyn Backend>,
    acknowledged: u64,
    guarantee: Guarantee,
) -> Result<Recovery, Failure> {
    let present = |step: u64| {
        let store = store.clone();
        async move {
            let keys: Vec<[u8; 32]> = (0..STEP_ROWS).map(|row| step_index(step, row)).collect();
            let macs = store.get_mutation_macs(COLLECTION, &keys).await?;
            let session = store.get_session(&format!("crash-step-{step}@lid")).await?;
            Ok::<_, Failure>((macs.len() as u64, session.is_some()))
        }
    };
    // The last whole step: every acknowledged one, or (WholePrefix) the
    // end of the prefix that survived.
    let mut survived = 0;
    for step in 1..=acknowledged {
        let (rows, session) = present(step).await?;
        if rows == STEP_ROWS && session {
            survived = step;
            continue;
        }
        if guarantee == Guarantee::ProcessCrashSafe {
            return Err(Failure(format!(
                "acknowledged step {step} of {acknowledged} lost: {rows} of {STEP_ROWS} batch rows, session {}",
                if session { "present" } else { "missing" }
            )));
        }
        break;
    }
    let next = survived + 1;
    let (rows, _) = present(next).await?;
    if rows != 0 && rows != STEP_ROWS {
        return Err(Failure(format!(
            "torn batch: step {next} (the first not whole after the kill) left {rows} of {STEP_ROWS} rows"
        )));
    }
    let (later_rows, later_session) = present(next + 1).await?;
    if later_rows != 0 || later_session {
        return Err(Failure(format!(
            "step {} exists although step {next} is not whole: a gap in what survived",
            next + 1,
        )));
    }
    if next > acknowledged + 1 {
        return Err(Failure(format!(
            "step {next} exists although step {} was never acknowledged",
            acknowledged + 1
        )));
    }
    Ok(Recovery {
        acknowledged,
        in_flight_batch_landed: rows == STEP_ROWS,
        lost: acknowledged - survived,
    })
}

/// A small, seedable PRNG (xorshift64*), so a failing kill schedule replays.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value in `[0, bound)`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

/// Summary of a campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignReport {
    /// Kills performed.
    pub kills: u64,
    /// Acknowledged steps verified, summed over kills.
    pub acknowledged_steps: u64,
    /// Kills where the step in flight had landed whole.
    pub in_flight_landed: u64,
    /// Acknowledged steps lost, summed over kills (only a
    /// [`Guarantee::WholePrefix`] store may lose any).
    pub lost_steps: u64,
    /// Failures, each with the seed and kill number that produced it.
    pub failures: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
}

/// A series of kills of a child writer.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// How many times to start and kill the child.
    pub kills: u64,
    /// Seed of the kill schedule.
    pub seed: u64,
    /// Longest wait after the child is ready before the kill.
    pub max_delay: Duration,
    /// Where each kill's store lives (a fresh directory per kill below it).
    pub work_dir: PathBuf,
    /// What the store promises (from its capabilities:
    /// [`Guarantee::claimed_by`]).
    pub guarantee: Guarantee,
}

impl Campaign {
    /// Runs the campaign. `child(path)` returns the command that runs
    /// [`child_workload`] on a store at `path`; `open(path)` opens that store
    /// in this process (after the child is dead); `progress` is called after
    /// each kill.
    pub async fn run<O, F>(
        &self,
        child: impl Fn(&Path) -> Command,
        open: O,
        mut progress: impl FnMut(u64, &Result<Recovery, Failure>),
    ) -> CampaignReport
    where
        O: Fn(PathBuf) -> F,
        F: std::future::Future<Output = Result<Arc<dyn Backend>, super::SetupError>>,
    {
        let start = Instant::now();
        let mut rng = Rng::new(self.seed);
        let mut report = CampaignReport::default();
        for kill in 1..=self.kills {
            let dir = self.work_dir.join(format!("kill-{kill}"));
            let _ = std::fs::remove_dir_all(&dir);
            let result = match std::fs::create_dir_all(&dir) {
                Err(e) => Err(Failure(format!("creating {}: {e}", dir.display()))),
                Ok(()) => {
                    let path = dir.join("store");
                    let delay =
                        Duration::from_micros(rng.below(self.max_delay.as_micros() as u64 + 1));
                    match kill_after(child(&path), delay) {
                        Err(e) => Err(e),
                        Ok(acknowledged) => match open(path).await {
                            Err(e) => Err(Failure(format!("reopening after the kill failed: {e}"))),
                            Ok(store) => verify(&store, acknowledged, self.guarantee).await,
                        },
                    }
                }
            };
            progress(kill, &result);
            report.kills += 1;
            match &result {
                Ok(r) => {
                    report.acknowledged_steps += r.acknowledged;
                    report.in_flight_landed += r.in_flight_batch_landed as u64;
                    report.lost_steps += r.lost;
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Err(f) => report.failures.push(format!(
                    "seed {} kill {kill}: {f} (store kept in {})",
                    self.seed,
                    dir.display()
                )),
            }
        }
        report.elapsed = start.elapsed();
        report
    }
}

/// Starts `command`, waits for `ready`, sleeps `delay`, SIGKILLs the child,
/// and returns the last step it acknowledged.
fn kill_after(mut command: Command, delay: Duration) -> Result<u64, Failure> {
    let mut child: Child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Failure(format!("starting the child: {e}")))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Lines other than `ready` / `ack N` (a test harness's own output) are ignored.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line == "ready" => break,
            Ok(_) => continue,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure(format!("the child did not report ready: {e}")));
            }
        }
    }
    std::thread::sleep(delay);
    // std's kill() is SIGKILL on Unix: no destructor, no flush, no goodbye.
    child
        .kill()
        .map_err(|e| Failure(format!("killing the child: {e}")))?;
    let status = child
        .wait()
        .map_err(|e| Failure(format!("reaping the child: {e}")))?;
    let _ = reader.join();
    let mut acknowledged = 0;
    for line in rx.try_iter() {
        if let Some(n) = line.strip_prefix("ack ") {
            acknowledged = n
                .parse()
                .map_err(|_| Failure(format!("bad ack line {line:?} (child exit {status})")))?;
        }
    }
    Ok(acknowledged)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn write_step(store: &Arc<dyn Backend>, step: u64, rows: u64, session: bool) {
        let macs: Vec<_> = (0..rows).map(|row| step_mac(step, row)).collect();
        store
            .put_mutation_macs(COLLECTION, step, &macs)
            .await
            .unwrap();
        if session {
            store
                .put_session(&format!("crash-step-{step}@lid"), &step.to_be_bytes())
                .await
                .unwrap();
        }
    }

    fn store() -> Arc<dyn Backend> {
        Arc::new(wacore::store::InMemoryBackend::new())
    }

    #[test]
    fn each_verdict_holds_a_store_to_its_claim() {
        crate::Executor::DEFAULT.block_on(async {
            // Steps 1 and 2 survived, 3 was acknowledged but lost.
            let s = store();
            write_step(&s, 1, STEP_ROWS, true).await;
            write_step(&s, 2, STEP_ROWS, true).await;
            let strict = verify(&s, 3, Guarantee::ProcessCrashSafe).await;
            assert!(strict.unwrap_err().0.contains("step 3 of 3 lost"));
            let prefix = verify(&s, 3, Guarantee::WholePrefix).await.unwrap();
            assert_eq!(prefix.lost, 1);
            assert_eq!(
                verify(&s, 2, Guarantee::ProcessCrashSafe)
                    .await
                    .unwrap()
                    .lost,
                0
            );

            // A torn batch fails both.
            write_step(&s, 3, 100, false).await;
            for guarantee in [Guarantee::ProcessCrashSafe, Guarantee::WholePrefix] {
                let err = verify(&s, 2, guarantee).await.unwrap_err();
                assert!(err.0.contains("torn batch"), "{err:?}");
            }

            // A gap (step 2 lost, step 3 kept) fails the prefix verdict too.
            let s = store();
            write_step(&s, 1, STEP_ROWS, true).await;
            write_step(&s, 3, STEP_ROWS, true).await;
            let err = verify(&s, 3, Guarantee::WholePrefix).await.unwrap_err();
            assert!(err.0.contains("gap"), "{err:?}");
        });
    }
}
