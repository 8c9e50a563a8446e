//! The direct path (invariant 6 of the writer): requests committed on the
//! callers' threads, in `Relaxed` mode and in the modes with a commit log.
//!
//! `submit` stages a request here; its future yields once, then *leads*:
//! it takes every request staged so far (its own and those of every caller
//! polled in the meantime: the futures of a `join_all`, other tasks of the
//! executor) and applies them in one transaction on its own thread: in
//! `Relaxed` mode a redb transaction committed non-durably, over the log a
//! merge into the overlay after writing their log record to the OS (in
//! `Immediate` mode staged for the sync thread, which syncs the record,
//! publishes the changes and answers; while it syncs, the leader merges
//! the groups it published before into the active layer, work that was on
//! the sync thread's path to the answers, and makes the next group's first
//! chunks, warm in its cache). In `Relaxed` mode, if the gate is
//! taken (the writer thread is committing or flushing), it hands them to
//! the writer thread's queue instead of waiting; over the log the gate is
//! only held for moments (a commit, a checkpoint's freeze, which in
//! `Immediate` mode waits for the sync in flight) and it waits. A future
//! that finds its request already taken by another leader just awaits its
//! answer.
//!
//! So concurrent callers share a commit here as they do on the writer
//! thread (before, each committed alone: 16 writers were 16 commits), and a
//! lone caller still costs one yield and one commit, no thread hop (in
//! `Immediate` mode, the hop to the sync thread and back).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use super::sync::EarlyWake;
use super::{
    Counters, Gate, Held, Jobs, Message, Target, Ticket, answer, apply_group, finish_group,
};
use crate::config::Durability;
use crate::error::Error;

/// Requests staged for the next leader, and what it needs to commit them.
pub(super) struct Direct {
    target: Target,
    gate: Arc<Gate>,
    staged: Mutex<Jobs>,
    /// The writer thread's queue: for a busy gate, and to nudge it.
    writer: mpsc::Sender<Message>,
    counters: Arc<Counters>,
    durability: Durability,
    /// Wakes `Immediate` mode's sync thread as a group's first request is
    /// staged (inert in the other modes).
    early_wake: EarlyWake,
}

impl Direct {
    pub(super) fn new(
        target: Target,
        gate: Arc<Gate>,
        writer: mpsc::Sender<Message>,
        counters: Arc<Counters>,
        durability: Durability,
        early_wake: EarlyWake,
    ) -> Direct {
        Direct {
            target,
            gate,
            staged: Mutex::new(Vec::new()),
            writer,
            counters,
            durability,
            early_wake,
        }
    }

    /// Stages a request for the next leader; the first of a group wakes
    /// the sync thread, which then wakes while the group's other requests
    /// are staged and its leader applies and logs them.
    pub(super) fn stage(&self, job: Ticket) {
        let first = self.take_or_put(|staged| {
            staged.push(job);
            staged.len() == 1
        });
        if first {
            self.early_wake.group_coming();
        }
    }

    /// Commits every staged request on this thread if the gate is free,
    /// else hands them to the writer thread.
    pub(super) fn lead(&self) {
        // Over the overlay the gate is only ever held for moments (commits,
        // a checkpoint's freeze and swap), while the writer thread may be
        // busy for long writing a checkpoint: wait for the gate there.
        let gate = match &self.target.overlay {
            Some(_) => Some(self.gate.lock()),
            None => self.gate.try_lock(),
        };
        let Some(mut state) = gate else {
            return self.hand_staged_to_writer();
        };
        let jobs = self.take_or_put(std::mem::take);
        if jobs.is_empty() {
            return;
        }
        let was_unflushed = state.unflushed_since.is_some();
        let Some((jobs, outcome)) = apply_group(
            &self.target,
            &mut state,
            redb::Durability::None,
            jobs,
            &self.counters,
        ) else {
            return;
        };
        let held = finish_group(&mut state, self.durability, jobs, outcome, &self.counters);
        // Wake the writer thread so its flush and checkpoint deadlines
        // include this commit.
        let started_clock = !was_unflushed && state.unflushed_since.is_some();
        let log_wants = state.journal.as_mut().is_some_and(|journal| {
            let limit = journal.checkpoint_bytes();
            let overlay_full = self
                .target
                .overlay
                .as_deref()
                .is_some_and(|overlay| super::layered::overlay_full(overlay, limit));
            journal.wants_attention(overlay_full)
        });
        if started_clock || log_wants {
            let _ = self.writer.send(Message::Nudge);
        }
        drop(state);
        held.into_iter().for_each(Held::release);
        // While the sync thread syncs this group, merge the groups it
        // published before into the active layer (off its path to answers),
        // and make the next group's first chunks.
        if self.target.publish_after_sync
            && let Some(overlay) = &self.target.overlay
        {
            // What a reclaim replaced is freed here, off the lock.
            drop(overlay.absorb_published());
            self.warm_next_chunks();
        }
    }

    /// Warms the next group's first chunks
    /// ([`SpareIndex::warm_chunks`](crate::overlay::SpareIndex::warm_chunks))
    /// without holding the gate; a leader that comes meanwhile makes its
    /// own.
    fn warm_next_chunks(&self) {
        let Some(mut spare) = self.gate.lock().spare_index.take() else {
            return;
        };
        spare.warm_chunks();
        self.gate.lock().spare_index.get_or_insert(spare);
    }

    /// Queues every staged request on the writer thread.
    pub(super) fn hand_staged_to_writer(&self) {
        for job in self.take_or_put(std::mem::take) {
            if let Err(mpsc::SendError(Message::Job(job))) = self.writer.send(Message::Job(job)) {
                answer(vec![job], Err(Error::WriterStopped), &self.counters);
            }
        }
    }

    fn take_or_put<R>(&self, f: impl FnOnce(&mut Jobs) -> R) -> R {
        // Staging never panics while holding the lock; a poisoned one
        // still holds whole requests.
        f(&mut self.staged.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
