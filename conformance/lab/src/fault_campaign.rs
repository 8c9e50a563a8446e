//! Fault injection for the redb engine: the kit's
//! [`faults`](whatsapp_rust_conformance::storage::faults)
//! workload on a [`SimulatedDisk`], with a fault at every write, sync and
//! resize the workload makes, one run per fault point.
//!
//! For each fault point a fresh disk is armed, a store is opened on it and
//! the workload runs until a call fails. Then:
//! 1. the failing call returned an error: no panic (a panic fails the run),
//!    no hang (each call has a time limit), no fault swallowed;
//! 2. the handles are dropped (this must not hang either);
//! 3. a new store opens on the disk a restarted process (I/O error) or
//!    machine (power cut) finds;
//! 4. it holds a prefix of the workload with every durable step
//!    ([`verify_prefix`]): no acknowledged write lost, no batch partly there;
//! 5. `check_integrity` passes.
//!
//! The fault points are counted by a dry run of the same workload; each
//! scenario reports how many of them fired, and a point that did not fire is
//! a failure (the workload is deterministic, so it means the count is wrong).

use std::sync::Arc;
use std::time::{Duration, Instant};

use wacore::store::traits::Backend;
use whatsapp_rust_redb_simdisk::{Fault, OpCounts, OpKind, SimulatedDisk, Tear};
use whatsapp_rust_redb_storage::{Durability, RedbStore, StoreConfig};

use whatsapp_rust_conformance::storage::faults::{run_step, verify_prefix};
use whatsapp_rust_conformance::{Failure, error_chain};

/// One family of faults, swept over every point of one operation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Fsync-before-ack store; the operation fails once with an I/O error;
    /// reopened on the page cache's bytes (a process restart).
    IoError(OpKind),
    /// Fsync-before-ack store; power is cut during the operation; reopened
    /// on what survives ([`Tear`]).
    PowerLoss(OpKind, Tear),
    /// Relaxed store flushed every [`FaultCampaign::flush_every`] steps;
    /// power is cut during the operation, unsynced writes dropped. Only
    /// flushed steps must survive.
    RelaxedPowerLoss(OpKind),
}

impl Scenario {
    /// Every scenario the campaign runs by default (tears only apply to writes).
    pub fn all() -> Vec<Scenario> {
        let mut all = Vec::new();
        for op in OpKind::ALL {
            all.push(Scenario::IoError(op));
        }
        for op in OpKind::ALL {
            all.push(Scenario::PowerLoss(op, Tear::DropUnsynced));
        }
        all.push(Scenario::PowerLoss(OpKind::Write, Tear::LastWrite));
        for op in OpKind::ALL {
            all.push(Scenario::RelaxedPowerLoss(op));
        }
        all
    }

    fn op(self) -> OpKind {
        match self {
            Scenario::IoError(op) | Scenario::PowerLoss(op, _) | Scenario::RelaxedPowerLoss(op) => {
                op
            }
        }
    }

    fn relaxed(self) -> bool {
        matches!(self, Scenario::RelaxedPowerLoss(_))
    }

    fn fault(self, nth: u64) -> Fault {
        match self {
            Scenario::IoError(op) => Fault::IoError { op, nth },
            Scenario::PowerLoss(op, _) | Scenario::RelaxedPowerLoss(op) => {
                Fault::PowerLoss { op, nth }
            }
        }
    }

    fn disk_after(self, disk: &SimulatedDisk) -> SimulatedDisk {
        match self {
            Scenario::IoError(_) => disk.after_crash(),
            Scenario::PowerLoss(_, tear) => disk.after_power_loss(tear),
            Scenario::RelaxedPowerLoss(_) => disk.after_power_loss(Tear::DropUnsynced),
        }
    }

    /// A label such as `power-loss(write, torn)`.
    pub fn label(self) -> String {
        match self {
            Scenario::IoError(op) => format!("io-error({})", op.name()),
            Scenario::PowerLoss(op, Tear::DropUnsynced) => format!("power-loss({})", op.name()),
            Scenario::PowerLoss(op, Tear::LastWrite) => format!("power-loss({}, torn)", op.name()),
            Scenario::RelaxedPowerLoss(op) => format!("relaxed-power-loss({})", op.name()),
        }
    }
}

/// The outcome of one scenario's sweep.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// The scenario.
    pub scenario: Scenario,
    /// Fault points in the workload (operations of the scenario's kind).
    pub points: u64,
    /// Points where the fault fired.
    pub fired: u64,
    /// Points where the fault hit while the store was being opened.
    pub during_open: u64,
    /// Points where the step in flight survived the fault whole.
    pub in_flight_kept: u64,
    /// Failures, each naming its fault point.
    pub failures: Vec<String>,
}

/// The outcome of a campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignReport {
    /// Operations the fault-free workload makes, fsync-before-ack.
    pub immediate_counts: OpCounts,
    /// The same, relaxed.
    pub relaxed_counts: OpCounts,
    /// One report per scenario.
    pub scenarios: Vec<ScenarioReport>,
    /// Wall time.
    pub elapsed: Duration,
}

impl CampaignReport {
    /// Faults injected (fired) over all scenarios.
    pub fn faults_injected(&self) -> u64 {
        self.scenarios.iter().map(|s| s.fired).sum()
    }

    /// Every failure of every scenario.
    pub fn failures(&self) -> Vec<String> {
        self.scenarios
            .iter()
            .flat_map(|s| s.failures.iter().cloned())
            .collect()
    }

    /// The summary: the fault-free run's operation counts, then one row per
    /// scenario (points, fired, during open, in-flight kept, failures).
    pub fn table(&self) -> String {
        let mut out = format!(
            "fault-free run: {:?} fsync-before-ack, {:?} relaxed\n",
            self.immediate_counts, self.relaxed_counts
        );
        out += &format!(
            "{:<28} {:>7} {:>7} {:>11} {:>16} {:>9}\n",
            "scenario", "points", "fired", "during open", "in-flight kept", "failures"
        );
        for s in &self.scenarios {
            out += &format!(
                "{:<28} {:>7} {:>7} {:>11} {:>16} {:>9}\n",
                s.scenario.label(),
                s.points,
                s.fired,
                s.during_open,
                s.in_flight_kept,
                s.failures.len()
            );
        }
        out
    }

    /// True when every fault point fired and nothing failed.
    pub fn is_ok(&self) -> bool {
        self.scenarios
            .iter()
            .all(|s| s.failures.is_empty() && s.fired == s.points)
    }
}

/// A sweep of faults over the workload. Build with [`FaultCampaign::new`].
#[derive(Debug, Clone)]
pub struct FaultCampaign {
    /// Workload steps per run (18 step kinds; 36 writes each kind twice,
    /// the second time into a file that already holds data).
    pub steps: u64,
    /// Relaxed scenarios flush after every this many steps.
    pub flush_every: u64,
    /// A call that takes longer than this counts as a hang.
    pub call_timeout: Duration,
    /// Scenarios to run.
    pub scenarios: Vec<Scenario>,
    /// Only every `stride`-th fault point (1 = every point). CI can thin a
    /// sweep; the documented runs use 1.
    pub stride: u64,
}

impl FaultCampaign {
    /// Every scenario, every point, 36 steps, relaxed flush every 4 steps.
    pub fn new() -> FaultCampaign {
        FaultCampaign {
            steps: 36,
            flush_every: 4,
            call_timeout: Duration::from_secs(30),
            scenarios: Scenario::all(),
            stride: 1,
        }
    }

    fn config(&self, relaxed: bool) -> StoreConfig {
        let config = StoreConfig::default();
        if relaxed {
            // No timer flush inside a run: only the workload's flushes count.
            config.with_durability(Durability::Relaxed {
                flush_interval: Duration::from_secs(3600),
            })
        } else {
            config
        }
    }

    /// Counts the operations of a fault-free run.
    pub async fn dry_run(&self, relaxed: bool) -> Result<OpCounts, Failure> {
        let disk = SimulatedDisk::new();
        let outcome = self.run_workload(&disk, relaxed).await?;
        if outcome.errored {
            return Err(Failure("the fault-free workload failed".into()));
        }
        let kept = self
            .recover_and_verify(&disk.after_crash(), &outcome)
            .await?;
        if kept != self.steps {
            return Err(Failure(format!(
                "the fault-free workload kept {kept} of {} steps",
                self.steps
            )));
        }
        Ok(disk.counts())
    }

    /// Runs every scenario; `progress(scenario, done, points)` is called as
    /// points complete (every 50 and at the end).
    pub async fn run(
        &self,
        mut progress: impl FnMut(Scenario, u64, u64),
    ) -> Result<CampaignReport, Failure> {
        let start = Instant::now();
        let mut report = CampaignReport {
            immediate_counts: self.dry_run(false).await?,
            relaxed_counts: self.dry_run(true).await?,
            ..CampaignReport::default()
        };
        for &scenario in &self.scenarios {
            let counts = if scenario.relaxed() {
                report.relaxed_counts
            } else {
                report.immediate_counts
            };
            let total = counts.of(scenario.op());
            let mut sweep = ScenarioReport {
                scenario,
                points: 0,
                fired: 0,
                during_open: 0,
                in_flight_kept: 0,
                failures: Vec::new(),
            };
            for nth in (1..=total).step_by(self.stride.max(1) as usize) {
                sweep.points += 1;
                match self.run_point(scenario, nth).await {
                    Ok(point) => {
                        sweep.fired += point.fired as u64;
                        sweep.during_open += point.during_open as u64;
                        sweep.in_flight_kept += point.in_flight_kept as u64;
                        if !point.fired {
                            sweep.failures.push(format!(
                                "{} #{nth}: the fault never fired",
                                scenario.label()
                            ));
                        }
                    }
                    Err(f) => sweep
                        .failures
                        .push(format!("{} #{nth}: {}", scenario.label(), f.0)),
                }
                if sweep.points.is_multiple_of(50) || nth + self.stride.max(1) > total {
                    progress(scenario, sweep.points, total.div_ceil(self.stride.max(1)));
                }
            }
            report.scenarios.push(sweep);
        }
        report.elapsed = start.elapsed();
        Ok(report)
    }

    /// One run with the fault at `nth`.
    pub async fn run_point(&self, scenario: Scenario, nth: u64) -> Result<PointOutcome, Failure> {
        let disk = SimulatedDisk::new();
        disk.arm(scenario.fault(nth));
        let outcome = self.run_workload(&disk, scenario.relaxed()).await?;
        let Some(fault) = outcome.fired_before_drop.or(disk.fired()) else {
            return Ok(PointOutcome::default());
        };
        if outcome.fired_before_drop.is_some() && !outcome.errored {
            return Err(Failure(format!(
                "{fault:?} fired while calls were running, but every call returned Ok"
            )));
        }
        let kept = self
            .recover_and_verify(&scenario.disk_after(&disk), &outcome)
            .await?;
        Ok(PointOutcome {
            fired: true,
            during_open: outcome.open_failed,
            in_flight_kept: outcome.errored && kept == outcome.attempted && kept > 0,
        })
    }

    /// Opens a store on `disk` and runs the workload until a call fails.
    async fn run_workload(
        &self,
        disk: &SimulatedDisk,
        relaxed: bool,
    ) -> Result<WorkloadOutcome, Failure> {
        let mut outcome = WorkloadOutcome::default();
        let store = match RedbStore::open_on_backend(disk.clone(), self.config(relaxed)) {
            Ok(store) => store,
            Err(_) => {
                outcome.errored = true;
                outcome.open_failed = true;
                outcome.fired_before_drop = disk.fired();
                return Ok(outcome);
            }
        };
        let backend: Arc<dyn Backend> = Arc::new(store.clone());
        for step in 1..=self.steps {
            outcome.attempted = step;
            let result = self
                .timed(format!("step {step}"), run_step(&backend, step))
                .await?;
            if result.is_err() {
                outcome.errored = true;
                break;
            }
            if !relaxed {
                outcome.durable = step;
            } else if step % self.flush_every == 0 {
                if self.timed("flush".into(), store.flush()).await?.is_err() {
                    outcome.errored = true;
                    break;
                }
                outcome.durable = step;
            }
        }
        if !outcome.errored {
            match self.timed("the final flush".into(), store.flush()).await? {
                Ok(()) => outcome.durable = outcome.attempted,
                Err(_) => outcome.errored = true,
            }
        }
        outcome.fired_before_drop = disk.fired();
        drop(backend);
        // The last handle's drop joins the writer thread: it must not hang
        // on a failed disk either.
        let dropped = tokio::task::spawn_blocking(move || drop(store));
        match tokio::time::timeout(self.call_timeout, dropped).await {
            Err(_) => return Err(Failure("dropping the store hung".into())),
            Ok(Err(e)) => return Err(Failure(format!("dropping the store panicked: {e}"))),
            Ok(Ok(())) => {}
        }
        Ok(outcome)
    }

    /// Reopens on `disk`, checks the prefix and the file's integrity; returns
    /// the number of steps kept.
    async fn recover_and_verify(
        &self,
        disk: &SimulatedDisk,
        outcome: &WorkloadOutcome,
    ) -> Result<u64, Failure> {
        let store =
            RedbStore::open_on_backend(disk.clone(), StoreConfig::default()).map_err(|e| {
                Failure(format!(
                    "reopening after the fault failed: {} (disk of {} bytes, first 16: {:02x?})",
                    error_chain(&e),
                    disk.current_bytes().len(),
                    &disk.current_bytes()[..16.min(disk.current_bytes().len())]
                ))
            })?;
        let backend: Arc<dyn Backend> = Arc::new(store.clone());
        let kept = verify_prefix(&backend, outcome.durable, outcome.attempted)
            .await
            .map_err(|f| {
                Failure(format!(
                    "after recovery ({} durable, {} attempted): {}",
                    outcome.durable, outcome.attempted, f.0
                ))
            })?;
        drop(backend);
        let checked = tokio::task::spawn_blocking(move || store.check_integrity())
            .await
            .map_err(|e| Failure(format!("check_integrity panicked: {e}")))?;
        match checked {
            Ok(true) => Ok(kept),
            Ok(false) => Err(Failure("check_integrity found damage it repaired".into())),
            Err(e) => Err(Failure(format!("check_integrity failed: {e}"))),
        }
    }

    async fn timed<T>(
        &self,
        what: String,
        call: impl std::future::Future<Output = T>,
    ) -> Result<T, Failure> {
        tokio::time::timeout(self.call_timeout, call)
            .await
            .map_err(|_| Failure(format!("{what} hung for {:?}", self.call_timeout)))
    }
}

impl Default for FaultCampaign {
    fn default() -> Self {
        FaultCampaign::new()
    }
}

/// What one fault point produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointOutcome {
    /// The fault fired.
    pub fired: bool,
    /// It fired while the store was being opened.
    pub during_open: bool,
    /// The call that failed had its step kept whole (allowed: the error may
    /// come after the commit point).
    pub in_flight_kept: bool,
}

#[derive(Debug, Default)]
struct WorkloadOutcome {
    attempted: u64,
    durable: u64,
    errored: bool,
    open_failed: bool,
    fired_before_drop: Option<Fault>,
}
