//! The writer thread's checkpoint in `ProcessCrashSafe` mode, where commits
//! go to the overlay (`crate::overlay`): freeze the active layer under the
//! gate, write it to redb without the gate (writers go on), then swap the
//! readers' base and drop the frozen layer under the gate again.

use std::time::Instant;

use redb::{Database, ReadTransaction, ReadableDatabase};

use super::WriterLoop;
use crate::error::Result;
use crate::overlay::{Freeze, Layer, Overlay};
use crate::tables::{META, META_LOG_LSN};

impl WriterLoop {
    /// Checkpoints if one is due (or, with `force`, if any record awaits one).
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
        let (frozen, lsn) = match overlay.freeze() {
            Freeze::Frozen(frozen, lsn) => (frozen, lsn),
            Freeze::Busy => return,
            // Nothing in memory that redb lacks: if no record is staged
            // behind that, a plain checkpoint covers the log.
            Freeze::Empty(lsn) => {
                if lsn == journal.last_lsn() {
                    match journal.checkpoint(&self.target.db) {
                        Ok(true) => self.count(&self.counters.checkpoints, 1),
                        Ok(false) => {}
                        Err(e) => log::error!("redb-storage: a checkpoint failed: {e}"),
                    }
                }
                return;
            }
        };
        let frozen_at = Instant::now();
        // Writers go on meanwhile, unless the log has outgrown its bound:
        // then they wait, so this checkpoint covers all of it and the log
        // restarts.
        let held = if journal.overdue() {
            Some(state)
        } else {
            drop(state);
            None
        };
        let written = write_frozen(&self.target.db, &frozen, lsn);
        drop(frozen);
        let mut state = held.unwrap_or_else(|| gate.lock());
        let Some(journal) = state.journal.as_mut() else {
            return;
        };
        match written {
            Ok(base) => {
                overlay.swap(base);
                journal.covered_up_to(lsn, frozen_at);
                self.count(&self.counters.checkpoints, 1);
            }
            Err(e) => {
                // The frozen layer stays readable; the log still holds it.
                journal.poison();
                log::error!("redb-storage: a checkpoint failed: {e}");
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
