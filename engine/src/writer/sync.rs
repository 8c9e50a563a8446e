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
//!
//! A caller wakes this thread when it stages the first request of a group
//! ([`EarlyWake`]), not when its leader hands the group over: waking a
//! sleeping thread on another CPU takes 5-25 us on this project's
//! machines, as long as a sixteen-request group's staging, apply and log
//! write, so the two now overlap (woken as the leader started, after the
//! requests were staged, the thread still woke late on a machine whose
//! wake-ups take ~25 us). Woken early, the thread spins for the group a
//! short while ([`GROUP_WAIT`]) before it sleeps again; with one CPU it
//! would spin on the callers', so there they do not wake it early.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How long the sync thread, woken for a group that is coming, spins for
/// it before it sleeps again: longer than a few dozen requests take to
/// stage, apply and write (a sixteen-request group 15-25 us, here); a
/// group that takes longer (a large batch) is waited for asleep. Yielding
/// instead of spinning lost the CPU to the checkpoint thread for a quarter
/// of a millisecond at a time.
const GROUP_WAIT: Duration = Duration::from_micros(50);

/// What a leader sends the sync thread.
enum ToSync {
    /// A group is being led: wake up, it follows.
    Coming,
    /// A committed group to sync.
    Group(Pending),
}

/// Wakes the sync thread for a group that is coming (the module's doc);
/// shared by the callers that stage requests. Inert with one CPU, and
/// once the thread is stopped (so it holds no sender that would keep the
/// thread waiting for messages).
#[derive(Clone, Default)]
pub(super) struct EarlyWake(Arc<Mutex<Option<mpsc::Sender<ToSync>>>>);

impl EarlyWake {
    /// Wakes the thread: a group follows with [`SyncThread::hand_over`],
    /// or, if it fails before it is committed, does not.
    pub(super) fn group_coming(&self) {
        if let Some(tx) = &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            let _ = tx.send(ToSync::Coming);
        }
    }

    /// Drops the shared sender, so that no caller's copy keeps the
    /// stopped thread waiting for messages: then it wakes nothing.
    fn stop(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// The handle on the sync thread, kept under the gate: groups are handed
/// over in the order they were staged in the overlay.
pub(super) struct SyncThread {
    tx: Option<mpsc::Sender<ToSync>>,
    /// The callers' way to wake the thread early.
    early: EarlyWake,
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
        let wake_early = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let early = EarlyWake(Arc::new(Mutex::new(wake_early.then(|| tx.clone()))));
        Ok(SyncThread {
            tx: Some(tx),
            early,
            thread: Some(thread),
            settled,
            handed: 0,
        })
    }

    /// The callers' way to wake the thread for a group that is coming.
    pub(super) fn early_wake(&self) -> EarlyWake {
        self.early.clone()
    }

    /// Hands a committed group over; if the thread is gone (it never exits
    /// before `finish`), the group's callers learn it.
    pub(super) fn hand_over(&mut self, pending: Pending, counters: &Counters) {
        let refused = match &self.tx {
            Some(tx) => match tx.send(ToSync::Group(pending)) {
                Ok(()) => {
                    self.handed += 1;
                    return;
                }
                Err(mpsc::SendError(ToSync::Group(pending))) => pending,
                // Not what was sent.
                Err(mpsc::SendError(ToSync::Coming)) => return,
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
        self.early.stop();
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
    fn run(self, rx: mpsc::Receiver<ToSync>) {
        while let Ok(first) = rx.recv() {
            // Every group handed over so far was appended before this sync
            // starts, so one sync covers them all.
            let mut batch = Vec::new();
            let coming = Self::take_queued(first, &rx, &mut batch);
            if batch.is_empty()
                && coming
                && let Some(pending) = Self::wait_for_group(&rx, GROUP_WAIT)
            {
                Self::take_queued(ToSync::Group(pending), &rx, &mut batch);
            }
            if batch.is_empty() {
                continue;
            }
            let groups = batch.len() as u64;
            self.settle(batch);
            self.settled.add(groups);
        }
    }

    /// Adds the group in `first` and in every message queued after it to
    /// `batch`; whether one of them said a group is coming.
    fn take_queued(first: ToSync, rx: &mpsc::Receiver<ToSync>, batch: &mut Vec<Pending>) -> bool {
        let mut coming = false;
        for message in std::iter::once(first).chain(rx.try_iter()) {
            match message {
                ToSync::Coming => coming = true,
                ToSync::Group(pending) => batch.push(pending),
            }
        }
        coming
    }

    /// Spins up to `patience` for the group a leader said is coming.
    fn wait_for_group(rx: &mpsc::Receiver<ToSync>, patience: Duration) -> Option<Pending> {
        let start = Instant::now();
        loop {
            match rx.try_recv() {
                Ok(ToSync::Group(pending)) => return Some(pending),
                Ok(ToSync::Coming) => {}
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) if start.elapsed() >= patience => return None,
                Err(TryRecvError::Empty) => std::hint::spin_loop(),
            }
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

#[cfg(test)]
mod tests {
    use super::super::Group;
    use super::*;

    fn group() -> ToSync {
        let (_group, answer) = Group::new(0);
        ToSync::Group(Pending {
            answer,
            logged: true,
        })
    }

    /// Runs `wait_for_group` on another thread; `None` if it has not
    /// returned within a second.
    fn wait_on_thread(rx: mpsc::Receiver<ToSync>, patience: Duration) -> Option<bool> {
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let got = SyncLoop::wait_for_group(&rx, patience).is_some();
            let _ = done.send(got);
        });
        finished.recv_timeout(Duration::from_secs(1)).ok()
    }

    #[test]
    fn a_group_that_comes_is_taken_past_other_wake_ups() {
        let (tx, rx) = mpsc::channel();
        tx.send(ToSync::Coming).unwrap();
        tx.send(group()).unwrap();
        assert_eq!(wait_on_thread(rx, Duration::from_secs(5)), Some(true));
    }

    #[test]
    fn a_group_that_does_not_come_is_waited_for_a_bounded_time() {
        let (tx, rx) = mpsc::channel();
        // The sender stays: only the patience ends the wait.
        assert_eq!(
            wait_on_thread(rx, Duration::from_millis(20)),
            Some(false),
            "the wait for a group that never comes did not end"
        );
        drop(tx);
    }

    #[test]
    fn an_early_wake_sends_until_the_thread_is_stopped() {
        let (tx, rx) = mpsc::channel();
        let early = EarlyWake(Arc::new(Mutex::new(Some(tx))));
        let callers = early.clone();
        callers.group_coming();
        assert!(matches!(rx.try_recv(), Ok(ToSync::Coming)));
        // `SyncThread::finish` stops it: no sender may outlive that, or the
        // thread would wait for messages forever and `finish` never return.
        early.stop();
        callers.group_coming();
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Disconnected)));
    }

    #[test]
    fn a_closed_queue_ends_the_wait() {
        let (tx, rx) = mpsc::channel::<ToSync>();
        drop(tx);
        assert_eq!(wait_on_thread(rx, Duration::from_secs(5)), Some(false));
    }
}
