//! `Immediate` mode's sync thread: the commit log's `fdatasync`s run here,
//! while the writer thread applies and commits the next groups.
//!
//! The writer thread, for each group, appends its record (not synced),
//! stages its changes in the overlay (`crate::overlay`: only the writer's
//! next groups read them) and hands the group here. This thread takes
//! every group handed over so far, syncs the log once for all of them, then
//! *publishes* their changes (readers see them) and answers the callers. A group that finds no
//! request queued behind it and this thread idle is settled the same way
//! on the writer thread instead: a lone writer's acknowledgement then
//! costs no extra thread hop.
//!
//! Invariants:
//! 1. Readers read only published changes (`RedbStore::read`): a reader
//!    never sees a write whose record is not yet synced (a crash could
//!    still take it back).
//! 2. A caller is answered only after its record is synced and its changes
//!    are published, so it reads its own writes.
//! 3. Groups are answered in commit order; a group with no record (it
//!    changed nothing) still waits for the syncs of the groups before it,
//!    whose state it may have read.
//! 4. After a failed sync every later group fails too (the journal's
//!    poison flag, set here, also stops new records): the OS may have
//!    dropped the unsynced pages, so nothing after the last good sync is
//!    known to be on disk. What is published stays at the last good sync.
//! 5. Before a sync, if the writer thread is not idle, the sync thread
//!    waits (at most `WAIT_FOR_BUSY_WRITER`) for the group it is applying
//!    or about to apply, one group at most, so that group joins this sync
//!    instead of waiting for one of its own. When callers arrive together,
//!    the first of them usually wakes the writer thread alone and the rest
//!    form the next group a moment later: one sync for both, not two in a
//!    row. A lone writer does not wait: the writer thread is idle by the
//!    time its group is here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Counters, Jobs, answer};
use crate::error::{Error, Result};
use crate::log::LogSyncer;
use crate::overlay::Overlay;

/// A committed group waiting for its sync (its changes are staged in the
/// overlay, in the same order).
pub(super) struct Pending {
    pub(super) jobs: Jobs,
    /// Whether the group wrote a log record.
    pub(super) logged: bool,
}

/// The writer thread's handle on the sync thread.
pub(super) struct SyncThread {
    tx: Option<mpsc::Sender<Pending>>,
    thread: Option<JoinHandle<()>>,
    settler: Arc<Settler>,
    /// Groups handed over (counted here) and settled (by the thread).
    progress: Arc<Progress>,
    handed: u64,
}

/// What the writer thread and the sync thread wait on each other for.
#[derive(Default)]
struct Progress {
    state: Mutex<ProgressState>,
    changed: Condvar,
}

#[derive(Default)]
struct ProgressState {
    /// Groups the sync thread has settled.
    settled: u64,
    /// Groups the writer thread has started applying, and finished (handed
    /// over, or failed).
    started: u64,
    finished: u64,
    /// The writer thread is waiting for requests.
    writer_idle: bool,
}

impl Progress {
    fn lock(&self) -> std::sync::MutexGuard<'_, ProgressState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long the sync thread waits for the group the writer thread is
/// applying (invariant 5); a group takes tens of microseconds.
const WAIT_FOR_BUSY_WRITER: Duration = Duration::from_millis(2);

impl SyncThread {
    pub(super) fn spawn(
        log: LogSyncer,
        poisoned: Arc<AtomicBool>,
        overlay: Arc<Overlay>,
        counters: Arc<Counters>,
    ) -> Result<SyncThread> {
        let (tx, rx) = mpsc::channel();
        let progress = Arc::new(Progress::default());
        let settler = Arc::new(Settler {
            log,
            poisoned,
            overlay,
            counters,
        });
        let sync_loop = SyncLoop {
            settler: settler.clone(),
            progress: progress.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("redb-storage-sync".into())
            .spawn(move || sync_loop.run(rx))
            .map_err(|e| Error::io("starting the sync thread", e))?;
        Ok(SyncThread {
            tx: Some(tx),
            thread: Some(thread),
            settler,
            progress,
            handed: 0,
        })
    }

    /// Settles a committed group: right here if `alone` (no request is
    /// queued behind it) and the sync thread is idle, else on that thread.
    pub(super) fn settle(&mut self, pending: Pending, alone: bool, counters: &Counters) {
        if alone && self.progress.lock().settled == self.handed {
            self.settler.settle(vec![pending]);
        } else {
            self.hand_over(pending, counters);
        }
    }

    /// Hands a committed group over; if the thread is gone (it never exits
    /// before `finish`), the group's callers learn it.
    fn hand_over(&mut self, pending: Pending, counters: &Counters) {
        let Some(tx) = &self.tx else {
            return answer(pending.jobs, Err(Error::WriterStopped), counters);
        };
        match tx.send(pending) {
            Ok(()) => self.handed += 1,
            Err(mpsc::SendError(pending)) => {
                answer(pending.jobs, Err(Error::WriterStopped), counters)
            }
        }
    }

    /// Waits until every group handed over is settled: a checkpoint then
    /// finds every group published (and the log can restart after it).
    pub(super) fn wait_idle(&self) {
        let mut state = self.progress.lock();
        while state.settled < self.handed && self.thread.is_some() {
            state = self
                .progress
                .changed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The writer thread starts applying a group (invariant 5).
    pub(super) fn group_started(&self) {
        self.progress.lock().started += 1;
    }

    /// The writer thread is done with the group it started.
    pub(super) fn group_finished(&self) {
        self.progress.lock().finished += 1;
        self.progress.changed.notify_all();
    }

    /// The writer thread waits for requests (`true`) or has one (`false`).
    pub(super) fn writer_idle(&self, idle: bool) {
        self.progress.lock().writer_idle = idle;
        if idle {
            self.progress.changed.notify_all();
        }
    }

    /// Answers every group handed over, then stops the thread.
    pub(super) fn finish(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("redb-storage sync thread panicked");
        }
    }
}

impl Drop for SyncThread {
    fn drop(&mut self) {
        self.finish();
    }
}

struct SyncLoop {
    settler: Arc<Settler>,
    progress: Arc<Progress>,
}

/// Syncs, publishes and answers, on either thread.
struct Settler {
    log: LogSyncer,
    poisoned: Arc<AtomicBool>,
    overlay: Arc<Overlay>,
    counters: Arc<Counters>,
}

impl SyncLoop {
    fn run(self, rx: mpsc::Receiver<Pending>) {
        while let Ok(first) = rx.recv() {
            // Every group handed over so far was appended before this sync
            // starts, so one sync covers them all.
            let mut batch = vec![first];
            self.wait_for_busy_writer();
            batch.extend(rx.try_iter());
            let groups = batch.len() as u64;
            self.settler.settle(batch);
            self.progress.lock().settled += groups;
            self.progress.changed.notify_all();
        }
    }

    /// Invariant 5.
    fn wait_for_busy_writer(&self) {
        let state = self.progress.lock();
        let until = state.started.max(state.finished + 1);
        let _ = self
            .progress
            .changed
            .wait_timeout_while(state, WAIT_FOR_BUSY_WRITER, |s| {
                !s.writer_idle && s.finished < until
            });
    }
}

impl Settler {
    /// Syncs once for `batch` (invariant 4 on failure), publishes its
    /// changes and answers its callers in order.
    fn settle(&self, batch: Vec<Pending>) {
        let synced = if self.poisoned.load(Ordering::Acquire) {
            Err(Error::Poisoned)
        } else if batch.iter().any(|p| p.logged) {
            let outcome = self.log.sync();
            match &outcome {
                Ok(()) => self.counters.add(&self.counters.log_syncs, 1),
                Err(_) => self.poisoned.store(true, Ordering::Release),
            }
            outcome
        } else {
            Ok(())
        };
        if synced.is_ok() {
            self.overlay.publish(batch.len());
        }
        for pending in batch {
            answer(pending.jobs, synced.clone(), &self.counters);
        }
    }
}
