//! `Immediate` mode's sync thread: the commit log's `fdatasync`s run here,
//! while callers (the direct path, `super::direct`) apply and log the next
//! groups.
//!
//! A caller leading a group appends its record (not synced), stages its
//! changes in the overlay (`crate::overlay`: only the next groups' writes
//! read them) and hands the group here, both under the gate, so groups
//! arrive in commit order. This thread takes every group handed over so
//! far, syncs the log once for all of them, then *publishes* their changes
//! (readers see them) and answers the callers: each group through the one
//! outcome its requests share (`request::Group`), so this thread touches
//! no request's memory, and each task once for the whole batch. Groups led
//! while a sync runs wait for the next one: concurrent writers share syncs
//! (group commit) with no timer and no wait for stragglers.
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
//! 5. No `fdatasync` runs on a caller's thread: every group, even a lone
//!    writer's, is synced here (a lone write costs the same two thread
//!    hops as through the writer thread: there and back).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::{Counters, GroupTicket, Wakers, answer_group};
use crate::error::{Error, Result};
use crate::log::LogSyncer;
use crate::overlay::Overlay;

/// A committed group waiting for its sync (its changes are staged in the
/// overlay, in the same order).
pub(super) struct Pending {
    /// Answers the group's requests.
    pub(super) answer: GroupTicket,
    /// Whether the group wrote a log record.
    pub(super) logged: bool,
}

/// The handle on the sync thread, kept under the gate: groups are handed
/// over in the order they were staged in the overlay.
pub(super) struct SyncThread {
    tx: Option<mpsc::Sender<Pending>>,
    thread: Option<JoinHandle<()>>,
    /// Groups settled by the thread, for `wait_idle`.
    settled: Arc<Settled>,
    /// Groups handed over.
    handed: u64,
}

/// How many groups the sync thread has settled, and a condition to wait
/// for more.
#[derive(Default)]
struct Settled {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Settled {
    fn add(&self, groups: u64) {
        *self.count.lock().unwrap_or_else(|e| e.into_inner()) += groups;
        self.changed.notify_all();
    }
}

impl SyncThread {
    pub(super) fn spawn(
        log: LogSyncer,
        poisoned: Arc<AtomicBool>,
        overlay: Arc<Overlay>,
        counters: Arc<Counters>,
    ) -> Result<SyncThread> {
        let (tx, rx) = mpsc::channel();
        let settled = Arc::new(Settled::default());
        let sync_loop = SyncLoop {
            log,
            poisoned,
            overlay,
            counters,
            settled: settled.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("redb-storage-sync".into())
            .spawn(move || sync_loop.run(rx))
            .map_err(|e| Error::io("starting the sync thread", e))?;
        Ok(SyncThread {
            tx: Some(tx),
            thread: Some(thread),
            settled,
            handed: 0,
        })
    }

    /// Hands a committed group over; if the thread is gone (it never exits
    /// before `finish`), the group's callers learn it.
    pub(super) fn hand_over(&mut self, pending: Pending, counters: &Counters) {
        let refused = match &self.tx {
            Some(tx) => match tx.send(pending) {
                Ok(()) => {
                    self.handed += 1;
                    return;
                }
                Err(mpsc::SendError(pending)) => pending,
            },
            None => pending,
        };
        let mut wakers = Wakers::default();
        answer_group(
            refused.answer,
            Err(Error::WriterStopped),
            counters,
            &mut wakers,
        );
        wakers.wake_all();
    }

    /// Waits until every group handed over is settled: a checkpoint (with
    /// the gate held, so no group is handed over meanwhile) then finds
    /// every group published, and the log can restart after it.
    pub(super) fn wait_idle(&self) {
        let mut settled = self.settled.count.lock().unwrap_or_else(|e| e.into_inner());
        while *settled < self.handed && self.thread.is_some() {
            settled = self
                .settled
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

/// The sync thread: syncs, publishes and answers.
struct SyncLoop {
    log: LogSyncer,
    poisoned: Arc<AtomicBool>,
    overlay: Arc<Overlay>,
    counters: Arc<Counters>,
    settled: Arc<Settled>,
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
            self.settled.add(groups);
        }
    }

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
        // Every group's answer first, then the wakes: a task awaiting
        // requests of several groups is woken once.
        let mut wakers = Wakers::default();
        for pending in batch {
            answer_group(pending.answer, synced.clone(), &self.counters, &mut wakers);
        }
        wakers.wake_all();
    }
}
