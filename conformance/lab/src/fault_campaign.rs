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

/// How the store under test acknowledges writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `Durability::Immediate` with its commit log on a second disk (the
    /// file-based default).
    Immediate,
    /// `Durability::ProcessCrashSafe` (log on a second disk), synced by the
    /// workload every [`FaultCampaign::flush_every`] steps.
    ProcessCrashSafe,
    /// `Durability::Relaxed`, flushed every [`FaultCampaign::flush_every`] steps.
    Relaxed,
    /// `Durability::Immediate` on one backend without a log
    /// (`RedbStore::open_on_backend`): a durable redb commit per group.
    ImmediateWithoutLog,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Immediate => "immediate",
            Mode::ProcessCrashSafe => "pcs",
            Mode::Relaxed => "relaxed",
            Mode::ImmediateWithoutLog => "immediate-no-log",
        }
    }

    fn has_log(self) -> bool {
        matches!(self, Mode::Immediate | Mode::ProcessCrashSafe)
    }

    /// Whether a write is durable once acknowledged.
    fn durable_on_ack(self) -> bool {
        matches!(self, Mode::Immediate | Mode::ImmediateWithoutLog)
    }
}

/// Which disk the fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskRole {
    /// The redb file.
    Database,
    /// The commit log.
    Log,
}

/// One family of faults, swept over every point of one operation kind of
/// one disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The operation fails once with an I/O error; reopened on the page
    /// cache's bytes of both disks (a process restart).
    IoError(Mode, DiskRole, OpKind),
    /// Power is cut during the operation; reopened on what survives on both
    /// disks ([`Tear`]). Only writes made durable must survive: every
    /// acknowledged one in the `durable_on_ack` modes, flushed ones otherwise.
    PowerLoss(Mode, DiskRole, OpKind, Tear),
}

impl Scenario {
    /// Every scenario the campaign runs by default (tears only apply to
    /// writes): I/O errors and power cuts at every operation of both disks
    /// in both log modes, the same on the single disk without a log, and
    /// power cuts in relaxed mode.
    pub fn all() -> Vec<Scenario> {
        let mut all = Vec::new();
        let mut sweep = |mode: Mode, disk: DiskRole, io_errors: bool| {
            for op in OpKind::ALL {
                if io_errors {
                    all.push(Scenario::IoError(mode, disk, op));
                }
                all.push(Scenario::PowerLoss(mode, disk, op, Tear::DropUnsynced));
            }
            all.push(Scenario::PowerLoss(
                mode,
                disk,
                OpKind::Write,
                Tear::LastWrite,
            ));
        };
        for mode in [Mode::Immediate, Mode::ProcessCrashSafe] {
            sweep(mode, DiskRole::Log, true);
            sweep(mode, DiskRole::Database, true);
        }
        sweep(Mode::ImmediateWithoutLog, DiskRole::Database, true);
        sweep(Mode::Relaxed, DiskRole::Database, false);
        all
    }

    fn parts(self) -> (Mode, DiskRole, OpKind) {
        match self {
            Scenario::IoError(mode, disk, op) | Scenario::PowerLoss(mode, disk, op, _) => {
                (mode, disk, op)
            }
        }
    }

    /// The store's mode.
    pub fn mode(self) -> Mode {
        self.parts().0
    }

    fn fault(self, nth: u64) -> Fault {
        match self {
            Scenario::IoError(_, _, op) => Fault::IoError { op, nth },
            Scenario::PowerLoss(_, _, op, _) => Fault::PowerLoss { op, nth },
        }
    }

    fn disk_after(self, disk: &SimulatedDisk) -> SimulatedDisk {
        match self {
            Scenario::IoError(..) => disk.after_crash(),
            Scenario::PowerLoss(_, _, _, tear) => disk.after_power_loss(tear),
        }
    }

    /// A label such as `pcs: log power-loss(write, torn)`.
    pub fn label(self) -> String {
        let (mode, disk, op) = self.parts();
        let disk = match disk {
            DiskRole::Database => "db",
            DiskRole::Log => "log",
        };
        let fault = match self {
            Scenario::IoError(..) => format!("io-error({})", op.name()),
            Scenario::PowerLoss(.., Tear::DropUnsynced) => format!("power-loss({})", op.name()),
            Scenario::PowerLoss(.., Tear::LastWrite) => format!("power-loss({}, torn)", op.name()),
        };
        format!("{}: {disk} {fault}", mode.name())
    }
}

/// The two disks of a run (the log's unused without a log).
#[derive(Clone)]
struct Disks {
    database: SimulatedDisk,
    log: SimulatedDisk,
}

impl Disks {
    fn new() -> Disks {
        Disks {
            database: SimulatedDisk::new(),
            log: SimulatedDisk::new(),
        }
    }

    fn get(&self, role: DiskRole) -> &SimulatedDisk {
        match role {
            DiskRole::Database => &self.database,
            DiskRole::Log => &self.log,
        }
    }

    fn fired(&self) -> Option<Fault> {
        self.database.fired().or(self.log.fired())
    }

    /// What a restarted process (or machine) finds on both disks.
    fn after(&self, scenario: Scenario) -> Disks {
        Disks {
            database: scenario.disk_after(&self.database),
            log: scenario.disk_after(&self.log),
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
    /// Points past the end of a shorter run (see [`PointOutcome::not_reached`]).
    pub not_reached: u64,
    /// Failures, each naming its fault point.
    pub failures: Vec<String>,
}

/// The outcome of a campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignReport {
    /// Operations the fault-free workload makes, per mode and disk.
    pub counts: Vec<(Mode, DiskRole, OpCounts)>,
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

    /// Points past the end of a shorter run, over all scenarios
    /// ([`PointOutcome::not_reached`]).
    pub fn not_reached(&self) -> u64 {
        self.scenarios.iter().map(|s| s.not_reached).sum()
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
        let mut out = String::from("fault-free run:\n");
        for (mode, disk, counts) in &self.counts {
            out += &format!("  {} {disk:?}: {counts:?}\n", mode.name());
        }
        out += &format!(
            "{:<40} {:>7} {:>7} {:>11} {:>16} {:>11} {:>9}\n",
            "scenario",
            "points",
            "fired",
            "during open",
            "in-flight kept",
            "not reached",
            "failures"
        );
        for s in &self.scenarios {
            out += &format!(
                "{:<40} {:>7} {:>7} {:>11} {:>16} {:>11} {:>9}\n",
                s.scenario.label(),
                s.points,
                s.fired,
                s.during_open,
                s.in_flight_kept,
                s.not_reached,
                s.failures.len()
            );
        }
        out
    }

    /// True when every fault point fired and nothing failed.
    pub fn is_ok(&self) -> bool {
        self.scenarios
            .iter()
            .all(|s| s.failures.is_empty() && s.fired + s.not_reached == s.points)
    }
}

/// A sweep of faults over the workload. Build with [`FaultCampaign::new`].
#[derive(Debug, Clone)]
pub struct FaultCampaign {
    /// Workload steps per run (18 step kinds; 36 writes each kind twice,
    /// the second time into a file that already holds data).
    pub steps: u64,
    /// Relaxed and process-crash-safe scenarios flush after every this
    /// many steps.
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

    fn config(&self, mode: Mode) -> StoreConfig {
        // No timer flush or checkpoint inside a run: only the workload's
        // flushes count, and checkpoints come from the log's size (small,
        // so the sweep crosses several).
        let never = Duration::from_secs(3600);
        let durability = match mode {
            Mode::Immediate | Mode::ImmediateWithoutLog => Durability::Immediate,
            Mode::ProcessCrashSafe => Durability::ProcessCrashSafe {
                sync_interval: never,
            },
            Mode::Relaxed => Durability::Relaxed {
                flush_interval: never,
            },
        };
        StoreConfig::default()
            .with_durability(durability)
            .with_checkpoints(16 << 10, never)
    }

    /// Counts the operations of a fault-free run, per disk.
    pub async fn dry_run(&self, mode: Mode) -> Result<(OpCounts, OpCounts), Failure> {
        let disks = Disks::new();
        let outcome = self.run_workload(&disks, mode).await?;
        if outcome.errored {
            return Err(Failure("the fault-free workload failed".into()));
        }
        let after = Disks {
            database: disks.database.after_crash(),
            log: disks.log.after_crash(),
        };
        let kept = self.recover_and_verify(&after, mode, &outcome).await?;
        if kept != self.steps {
            return Err(Failure(format!(
                "the fault-free workload kept {kept} of {} steps",
                self.steps
            )));
        }
        Ok((disks.database.counts(), disks.log.counts()))
    }

    /// Runs every scenario; `progress(scenario, done, points)` is called as
    /// points complete (every 50 and at the end).
    pub async fn run(
        &self,
        mut progress: impl FnMut(Scenario, u64, u64),
    ) -> Result<CampaignReport, Failure> {
        let start = Instant::now();
        let mut report = CampaignReport::default();
        for mode in [
            Mode::Immediate,
            Mode::ProcessCrashSafe,
            Mode::Relaxed,
            Mode::ImmediateWithoutLog,
        ] {
            let (database, log) = self.dry_run(mode).await?;
            report.counts.push((mode, DiskRole::Database, database));
            if mode.has_log() {
                report.counts.push((mode, DiskRole::Log, log));
            }
        }
        for &scenario in &self.scenarios {
            let (mode, role, op) = scenario.parts();
            let total = report
                .counts
                .iter()
                .find(|(m, r, _)| *m == mode && *r == role)
                .map_or(0, |(_, _, counts)| counts.of(op));
            let mut sweep = ScenarioReport {
                scenario,
                points: 0,
                fired: 0,
                during_open: 0,
                in_flight_kept: 0,
                not_reached: 0,
                failures: Vec::new(),
            };
            for nth in (1..=total).step_by(self.stride.max(1) as usize) {
                sweep.points += 1;
                match self.run_point(scenario, nth).await {
                    Ok(point) => {
                        sweep.fired += point.fired as u64;
                        sweep.during_open += point.during_open as u64;
                        sweep.in_flight_kept += point.in_flight_kept as u64;
                        sweep.not_reached += point.not_reached as u64;
                        if !point.fired && !point.not_reached {
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
        let disks = Disks::new();
        let (mode, role, _) = scenario.parts();
        disks.get(role).arm(scenario.fault(nth));
        let outcome = self.run_workload(&disks, mode).await?;
        let Some(fault) = outcome.fired_before_drop.or(disks.fired()) else {
            let made = disks.get(role).counts().of(scenario.parts().2);
            return Ok(PointOutcome {
                not_reached: timing_varies(mode, role) && made < nth,
                ..PointOutcome::default()
            });
        };
        // In the log modes the writer thread also writes the database on
        // its own, after answering (checkpoints): a fault there has no call
        // to fail, and must instead lose nothing (checked below: every
        // acknowledged step is then required).
        let background = mode.has_log() && role == DiskRole::Database;
        if outcome.fired_before_drop.is_some() && !outcome.errored && !background {
            return Err(Failure(format!(
                "{fault:?} fired while calls were running, but every call returned Ok"
            )));
        }
        // A process-crash-safe store keeps every acknowledged write through
        // a process restart (the OS cache survives an I/O error's restart).
        let mut outcome = outcome;
        let process_restart = matches!(scenario, Scenario::IoError(..));
        if mode == Mode::ProcessCrashSafe && process_restart {
            outcome.durable = outcome.durable.max(outcome.acknowledged);
        }
        let kept = self
            .recover_and_verify(&disks.after(scenario), mode, &outcome)
            .await?;
        Ok(PointOutcome {
            fired: true,
            not_reached: false,
            during_open: outcome.open_failed,
            in_flight_kept: outcome.errored && kept == outcome.attempted && kept > 0,
        })
    }

    /// Opens a store in `mode` on `disks` and runs the workload until a
    /// call fails.
    async fn run_workload(&self, disks: &Disks, mode: Mode) -> Result<WorkloadOutcome, Failure> {
        let mut outcome = WorkloadOutcome::default();
        let store = match open(disks, mode, self.config(mode)) {
            Ok(store) => store,
            Err(_) => {
                outcome.errored = true;
                outcome.open_failed = true;
                outcome.fired_before_drop = disks.fired();
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
            if mode.durable_on_ack() {
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
        outcome.acknowledged = if outcome.errored {
            outcome.attempted - 1
        } else {
            outcome.attempted
        };
        outcome.fired_before_drop = disks.fired();
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
        disks: &Disks,
        mode: Mode,
        outcome: &WorkloadOutcome,
    ) -> Result<u64, Failure> {
        let store = open(disks, mode, StoreConfig::default()).map_err(|e| {
            let bytes = disks.database.current_bytes();
            Failure(format!(
                "reopening after the fault failed: {} (database disk of {} bytes, first 16: {:02x?})",
                error_chain(&e),
                bytes.len(),
                &bytes[..16.min(bytes.len())]
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

/// Whether a run's operation count on `role`'s disk depends on timing, so
/// a fault point past a shorter run's end is "not reached", not failed: in
/// the log modes the database disk is written by checkpoints, which a
/// checkpoint thread writes while the workload goes on (what each one holds
/// depends on when it starts), and the log's writes follow them too (the
/// log is a ring: a record goes to space a checkpoint has freed, after a
/// jump, or the file grows if none is free yet); in process-crash-safe mode
/// the log's syncs run on a timer too.
fn timing_varies(mode: Mode, _role: DiskRole) -> bool {
    matches!(mode, Mode::ProcessCrashSafe | Mode::Immediate)
}

/// What one fault point produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PointOutcome {
    /// The fault fired.
    pub fired: bool,
    /// It did not fire because this run made fewer operations of its kind
    /// than the dry run, on a disk whose operation count depends on timing
    /// (`timing_varies`).
    pub not_reached: bool,
    /// It fired while the store was being opened.
    pub during_open: bool,
    /// The call that failed had its step kept whole (allowed: the error may
    /// come after the commit point).
    pub in_flight_kept: bool,
}

/// Opens the store of a run: with the log on its disk in the log modes
/// (and when reopening after any mode: recovery reads a log if present).
fn open(
    disks: &Disks,
    mode: Mode,
    config: StoreConfig,
) -> Result<RedbStore, wacore::store::error::StoreError> {
    if mode.has_log() {
        RedbStore::open_on_backends(disks.database.clone(), disks.log.clone(), config)
    } else {
        RedbStore::open_on_backend(disks.database.clone(), config)
    }
}

#[derive(Debug, Default)]
struct WorkloadOutcome {
    attempted: u64,
    /// Steps acknowledged (returned Ok).
    acknowledged: u64,
    durable: u64,
    errored: bool,
    open_failed: bool,
    fired_before_drop: Option<Fault>,
}
