//! The writer thread's checkpoint in `ProcessCrashSafe` mode, where commits
//! go to the overlay (`crate::overlay`): freeze the active layer under the
//! gate, write it to redb without the gate (writers go on), then swap the
//! readers' base and drop the frozen layer under the gate again.

use std::time::Instant;

use redb::{Database, ReadTransaction, ReadableDatabase};

use std::sync::Arc;

use super::{GateState, WriterLoop};
use crate::error::Result;
use crate::overlay::{Freeze, Layer, Overlay};
use crate::tables::{META, META_LOG_LSN};

/// A frozen layer, the LSN it covers, and when it was frozen.
type Frozen = (Arc<Layer>, u64, Instant);

impl WriterLoop {
    /// Checkpoints if one is due (or, with `force`, if any record awaits
    /// one): first the active layer with writers going on; then, if the log
    /// has outgrown its bound (or with `force`), what came meanwhile, with
    /// writers waiting, so the checkpoint covers the whole log and the log
    /// restarts (a short wait: only what arrived during the first write).
    pub(super) fn checkpoint_overlay(&mut self, overlay: &Overlay, force: bool) {
        // `Immediate` mode: publish every group handed to the sync thread
        // first, so the checkpoint can cover the whole log.
        if let Some(sync) = &self.sync {
            sync.wait_idle();
        }
        let gate = self.gate.clone();
        let mut state = gate.lock();
        let Some(journal) = state.journal.as_mut() else {
            return;
        };
        let memory_full = overlay_full(overlay, journal.checkpoint_bytes());
        if !journal.checkpoint_due(force || memory_full) {
            return;
        }
        let Some(frozen) = self.freeze(overlay, &mut state) else {
            return;
        };
        drop(state);
        let written = write_frozen(&self.target.db, &frozen.0, frozen.1);
        let mut state = gate.lock();
        if !self.settle(overlay, &mut state, frozen, written) {
            return;
        }
        let behind = state
            .journal
            .as_ref()
            .is_some_and(|journal| journal.overdue() || (force && journal.checkpoint_due(true)));
        if behind && let Some(frozen) = self.freeze(overlay, &mut state) {
            let written = write_frozen(&self.target.db, &frozen.0, frozen.1);
            self.settle(overlay, &mut state, frozen, written);
        }
    }

    /// Checkpoint step 1 (under the gate). `None` if there is nothing to
    /// write: then, if no record is staged behind what redb holds, a plain
    /// checkpoint covers the log.
    fn freeze(&self, overlay: &Overlay, state: &mut GateState) -> Option<Frozen> {
        let journal = state.journal.as_mut()?;
        match overlay.freeze() {
            Freeze::Frozen(frozen, lsn) => Some((frozen, lsn, Instant::now())),
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

    /// Checkpoint step 3 (under the gate): readers move to the written
    /// commit and the log learns what it covers. Returns whether it worked.
    fn settle(
        &self,
        overlay: &Overlay,
        state: &mut GateState,
        (frozen, lsn, frozen_at): Frozen,
        written: Result<ReadTransaction>,
    ) -> bool {
        drop(frozen);
        let Some(journal) = state.journal.as_mut() else {
            return false;
        };
        match written {
            Ok(base) => {
                overlay.swap(base);
                journal.covered_up_to(lsn, frozen_at);
                self.count(&self.counters.checkpoints, 1);
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
}

/// Whether the overlay's active layer holds `limit` bytes or more: its
/// memory is bounded like the log's size.
pub(super) fn overlay_full(overlay: &Overlay, limit: u64) -> bool {
    u64::try_from(overlay.active_bytes()).unwrap_or(u64::MAX) >= limit
}

/// Writes `frozen` and the LSN it covers in one durable commit; returns a
/// snapshot of it for readers.
fn write_frozen(db: &Database, frozen: &Layer, lsn: u64) -> Result<ReadTransaction> {
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    frozen.write_to(&txn)?;
    txn.open_table(META)?.insert(META_LOG_LSN, lsn)?;
    txn.commit()?;
    Ok(db.begin_read()?)
}
