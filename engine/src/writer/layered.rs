//! Checkpoints of the log modes, where commits go to the overlay
//! (`crate::overlay`): freeze the active layer under the gate, write it to
//! redb without the gate, then swap the readers' base and drop the frozen
//! layer under the gate again.
//!
//! The write runs on a checkpoint thread of its own, so neither the writer
//! thread nor the callers wait for it; it records the log position at the
//! freeze, where the records it does not cover start (the log is a ring,
//! `crate::log`). Only a checkpoint that must cover the whole log
//! (checkpoints fell behind, `Journal::overdue`, or the store closes) runs
//! on the writer thread: it writes the active layer with writers going on,
//! then what came meanwhile with the gate held, and the log restarts.

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use redb::{Database, ReadTransaction, ReadableDatabase};

use super::{Counters, Gate, GateState, Target, WriterLoop};
use crate::error::{Error, Result};
use crate::log::format::HEADER_LEN;
use crate::overlay::{Freeze, Layer, Overlay};
use crate::tables::{META, META_LOG_LSN, META_LOG_POS};

/// A frozen layer and what its checkpoint records.
struct Frozen {
    layer: Arc<Layer>,
    /// The LSN of the last record it holds.
    lsn: u64,
    /// Where the records after it start in the log.
    pos: u64,
    /// When it was frozen.
    at: Instant,
}

/// The checkpoint thread: writes frozen layers into redb, then swaps.
pub(super) struct Checkpointer {
    tx: Option<mpsc::Sender<Frozen>>,
    thread: Option<JoinHandle<()>>,
    busy: Arc<Busy>,
}

/// Whether a checkpoint is being written, for the writer thread to wait on.
#[derive(Default)]
struct Busy {
    writing: Mutex<bool>,
    done: Condvar,
}

impl Busy {
    fn set(&self, writing: bool) {
        *self.writing.lock().unwrap_or_else(|e| e.into_inner()) = writing;
        if !writing {
            self.done.notify_all();
        }
    }

    fn get(&self) -> bool {
        *self.writing.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait(&self) {
        let writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let _unused = self
            .done
            .wait_while(writing, |writing| *writing)
            .unwrap_or_else(|e| e.into_inner());
    }
}

impl Checkpointer {
    pub(super) fn spawn(
        target: Target,
        gate: Arc<Gate>,
        counters: Arc<Counters>,
    ) -> Result<Checkpointer> {
        let (tx, rx) = mpsc::channel::<Frozen>();
        let busy = Arc::new(Busy::default());
        let thread_busy = busy.clone();
        let thread = std::thread::Builder::new()
            .name("redb-storage-checkpoint".into())
            .spawn(move || {
                let Some(overlay) = target.overlay.as_deref() else {
                    return;
                };
                for frozen in rx {
                    let written = write_frozen(&target.db, &frozen);
                    settle(overlay, &mut gate.lock(), &counters, frozen, written);
                    thread_busy.set(false);
                }
            })
            .map_err(|e| Error::io("starting the checkpoint thread", e))?;
        Ok(Checkpointer {
            tx: Some(tx),
            thread: Some(thread),
            busy,
        })
    }

    fn start(&self, frozen: Frozen) {
        self.busy.set(true);
        let sent = self.tx.as_ref().map(|tx| tx.send(frozen));
        if !matches!(sent, Some(Ok(()))) {
            // Only after `Drop`; the frozen layer stays readable and the
            // log holds it.
            self.busy.set(false);
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("redb-storage checkpoint thread panicked");
        }
    }
}

impl WriterLoop {
    /// Checkpoints if one is due (or, with `force`, if any record awaits
    /// one): on the checkpoint thread, or here if it must cover the whole
    /// log (see the module docs).
    pub(super) fn checkpoint_overlay(&mut self, overlay: &Overlay, force: bool) {
        let gate = self.gate.clone();
        let whole = {
            let mut state = gate.lock();
            let Some(journal) = state.journal.as_mut() else {
                return;
            };
            let memory_full = overlay_full(overlay, journal.checkpoint_bytes());
            if !journal.checkpoint_due(force || memory_full) {
                return;
            }
            force || journal.overdue()
        };
        let Some(checkpointer) = &self.checkpointer else {
            return;
        };
        if checkpointer.busy.get() {
            if !whole {
                return;
            }
            checkpointer.busy.wait();
        }
        let mut state = gate.lock();
        let Some(frozen) = self.freeze(overlay, &mut state, false) else {
            return;
        };
        if !whole {
            drop(state);
            if let Some(checkpointer) = &self.checkpointer {
                checkpointer.start(frozen);
            }
            return;
        }
        drop(state);
        let written = write_frozen(&self.target.db, &frozen);
        let mut state = gate.lock();
        if !settle(overlay, &mut state, &self.counters, frozen, written) {
            return;
        }
        // With the gate held until the log restarts.
        if let Some(frozen) = self.freeze(overlay, &mut state, true) {
            let written = write_frozen(&self.target.db, &frozen);
            settle(overlay, &mut state, &self.counters, frozen, written);
        }
    }

    /// Checkpoint step 1 (under the gate). `restart`: the gate stays held
    /// until the checkpoint is settled, so it can restart the log (log
    /// invariant 4). `None` if there is nothing to write: then, if no
    /// record is staged behind what redb holds, a plain checkpoint covers
    /// the log.
    fn freeze(&self, overlay: &Overlay, state: &mut GateState, restart: bool) -> Option<Frozen> {
        // `Immediate` mode: every group handed to the sync thread is
        // published first (none is handed over while the gate is held;
        // `Overlay::freeze` absorbs the published groups), so the layer
        // frozen holds every record written and the position is
        // where the records it does not cover start.
        if let Some(sync) = &state.sync {
            sync.wait_idle();
        }
        let journal = state.journal.as_mut()?;
        match overlay.freeze() {
            Freeze::Frozen(layer, lsn) => {
                // The layer holds every record written (the writers are
                // held, and `Immediate` groups are all published), except
                // after a failed sync poisoned the log: then the position
                // is past unanswered records, which recovery drops.
                let pos = if restart && lsn == journal.last_lsn() {
                    HEADER_LEN
                } else {
                    journal.position()
                };
                Some(Frozen {
                    layer,
                    lsn,
                    pos,
                    at: Instant::now(),
                })
            }
            Freeze::Busy => None,
            Freeze::Empty(lsn) => {
                if lsn == journal.last_lsn() {
                    match journal.checkpoint(&self.target.db) {
                        Ok(true) => self.count(&self.counters.checkpoints, 1),
                        Ok(false) => {}
                        Err(e) => log::error!("redb-storage: a checkpoint failed: {e}"),
                    }
                }
                None
            }
        }
    }
}

/// Checkpoint step 3 (under the gate): readers move to the written commit
/// and the log learns what it covers. Returns whether it worked.
fn settle(
    overlay: &Overlay,
    state: &mut GateState,
    counters: &Counters,
    frozen: Frozen,
    written: Result<ReadTransaction>,
) -> bool {
    let Frozen { lsn, pos, at, .. } = frozen;
    let Some(journal) = state.journal.as_mut() else {
        return false;
    };
    match written {
        Ok(base) => {
            overlay.swap(base);
            journal.covered_up_to(lsn, pos, at);
            counters.add(&counters.checkpoints, 1);
            true
        }
        Err(e) => {
            // The frozen layer stays readable; the log still holds it.
            journal.poison();
            log::error!("redb-storage: a checkpoint failed: {e}");
            false
        }
    }
}

/// Whether the overlay's active layer holds `limit` bytes or more: its
/// memory is bounded like the log's size.
pub(super) fn overlay_full(overlay: &Overlay, limit: u64) -> bool {
    u64::try_from(overlay.active_bytes()).unwrap_or(u64::MAX) >= limit
}

/// Writes `frozen` and what it covers in one durable commit; returns a
/// snapshot of it for readers.
fn write_frozen(db: &Database, frozen: &Frozen) -> Result<ReadTransaction> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    frozen.layer.write_to(&txn)?;
    let mut meta = txn.open_table(META)?;
    meta.insert(META_LOG_LSN, frozen.lsn)?;
    meta.insert(META_LOG_POS, frozen.pos)?;
    drop(meta);
    txn.commit()?;
    Ok(db.begin_read()?)
}
