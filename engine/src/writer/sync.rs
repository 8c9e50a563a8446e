//! `Immediate` mode's sync thread: the commit log's `fdatasync`s run here,
//! while the writer thread applies and commits the next groups.
//!
//! The writer thread, for each group, appends its record (not synced),
//! commits the redb transaction non-durably, opens a read snapshot of that
//! commit and hands the group here. This thread takes every group handed
//! over so far, syncs the log once for all of them, then *publishes* the
//! newest group's snapshot and answers the callers.
//!
//! Invariants:
//! 1. Readers read the published snapshot (`RedbStore::read`), never
//!    redb's newest commit: a reader never sees a write whose record is not
//!    yet synced (a crash could still take it back).
//! 2. A caller is answered only after its record is synced and a snapshot
//!    holding its write is published, so it reads its own writes.
//! 3. Groups are answered in commit order; a group with no record (it
//!    changed nothing) still waits for the syncs of the groups before it,
//!    whose state it may have read.
//! 4. After a failed sync every later group fails too (the journal's
//!    poison flag, set here, also stops new records): the OS may have
//!    dropped the unsynced pages, so nothing after the last good sync is
//!    known to be on disk. The published snapshot stays at the last good
//!    sync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use redb::ReadTransaction;

use super::{Counters, Job};
use crate::error::{Error, Result};
use crate::log::LogSyncer;

/// The snapshot readers use in `Immediate` mode (invariant 1).
pub(crate) struct Published(Mutex<Arc<ReadTransaction>>);

impl Published {
    pub(crate) fn new(snapshot: ReadTransaction) -> Published {
        Published(Mutex::new(Arc::new(snapshot)))
    }

    /// The newest published snapshot.
    pub(crate) fn get(&self) -> Arc<ReadTransaction> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, snapshot: Arc<ReadTransaction>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = snapshot;
    }
}

/// A committed group waiting for its sync.
pub(super) struct Pending {
    pub(super) jobs: Vec<Box<dyn Job>>,
    /// Whether the group wrote a log record.
    pub(super) logged: bool,
    /// A read snapshot of the group's commit (or why none could be opened).
    pub(super) snapshot: Result<ReadTransaction>,
}

/// The writer thread's handle on the sync thread.
pub(super) struct SyncThread {
    tx: Option<mpsc::Sender<Pending>>,
    thread: Option<JoinHandle<()>>,
    /// Groups handed over (counted here) and settled (by the thread).
    progress: Arc<Progress>,
    handed: u64,
}

/// How many groups the sync thread has settled, to wait for it.
#[derive(Default)]
struct Progress {
    settled: Mutex<u64>,
    changed: Condvar,
}

impl SyncThread {
    pub(super) fn spawn(
        log: LogSyncer,
        poisoned: Arc<AtomicBool>,
        published: Arc<Published>,
        counters: Arc<Counters>,
    ) -> Result<SyncThread> {
        let (tx, rx) = mpsc::channel();
        let progress = Arc::new(Progress::default());
        let sync_loop = SyncLoop {
            log,
            poisoned,
            published,
            counters,
            progress: progress.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("redb-storage-sync".into())
            .spawn(move || sync_loop.run(rx))
            .map_err(|e| Error::io("starting the sync thread", e))?;
        Ok(SyncThread {
            tx: Some(tx),
            thread: Some(thread),
            progress,
            handed: 0,
        })
    }

    /// Hands a committed group over; if the thread is gone (it never exits
    /// before `finish`), the group's callers learn it.
    pub(super) fn hand_over(&mut self, pending: Pending, counters: &Counters) {
        let Some(tx) = &self.tx else {
            return fail(pending.jobs, Error::WriterStopped, counters);
        };
        match tx.send(pending) {
            Ok(()) => self.handed += 1,
            Err(mpsc::SendError(pending)) => fail(pending.jobs, Error::WriterStopped, counters),
        }
    }

    /// Waits until every group handed over is settled: a checkpoint then
    /// makes durable only what the log already holds durably, and the
    /// snapshots the sync thread held are gone (so redb frees the same pages
    /// from run to run: the fault sweep counts each write).
    pub(super) fn wait_idle(&self) {
        let mut settled = self
            .progress
            .settled
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while *settled < self.handed && self.thread.is_some() {
            settled = self
                .progress
                .changed
                .wait(settled)
                .unwrap_or_else(|e| e.into_inner());
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

fn fail(jobs: Vec<Box<dyn Job>>, error: Error, counters: &Counters) {
    counters.add(&counters.requests_failed, jobs.len());
    for job in jobs {
        job.complete(Err(error.clone()));
    }
}

struct SyncLoop {
    log: LogSyncer,
    poisoned: Arc<AtomicBool>,
    published: Arc<Published>,
    counters: Arc<Counters>,
    progress: Arc<Progress>,
}

impl SyncLoop {
    fn run(self, rx: mpsc::Receiver<Pending>) {
        while let Ok(first) = rx.recv() {
            // Every group handed over so far was appended before this sync
            // starts, so one sync covers them all.
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            let groups = batch.len() as u64;
            self.settle(batch);
            *self
                .progress
                .settled
                .lock()
                .unwrap_or_else(|e| e.into_inner()) += groups;
            self.progress.changed.notify_all();
        }
    }

    /// Syncs once for `batch` (invariant 4 on failure), publishes its
    /// newest snapshot and answers its callers in order.
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
        let mut newest = None;
        let mut answers = Vec::with_capacity(batch.len());
        for pending in batch {
            let outcome = match (&synced, pending.snapshot) {
                (Err(e), _) => Err(e.clone()),
                (Ok(()), Err(e)) => Err(e),
                (Ok(()), Ok(snapshot)) => {
                    newest = Some(snapshot);
                    Ok(())
                }
            };
            answers.push((pending.jobs, outcome));
        }
        if let Some(snapshot) = newest {
            self.published.set(Arc::new(snapshot));
        }
        for (jobs, outcome) in answers {
            let counter = match outcome {
                Ok(()) => &self.counters.requests_committed,
                Err(_) => &self.counters.requests_failed,
            };
            self.counters.add(counter, jobs.len());
            for job in jobs {
                job.complete(outcome.clone());
            }
        }
    }
}
