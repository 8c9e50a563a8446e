//! The writer thread's side of the commit log: appending a group's record
//! before its changes become visible, syncing
//! (`ProcessCrashSafe`'s periodic sync; `Immediate` mode's per-group syncs
//! run on the writer's sync thread, `crate::writer::sync`), and
//! checkpointing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redb::Database;

use super::format::{HEADER_LEN, RecordBuf};
use super::{CommitLog, LogSyncer};
use crate::error::{Error, Result};
use crate::tables::{META, META_LOG_LSN, META_LOG_POS};

/// Checkpoints are overdue once the records none covers reach this many
/// times `checkpoint_bytes`. A checkpoint starts at `checkpoint_bytes` and
/// covers what came before it started, so while each takes no longer than
/// the writers take to write another `checkpoint_bytes`, the uncovered
/// records stay under twice that; past four times, checkpoints fall behind.
const OVERDUE_FACTOR: u64 = 4;

/// The commit log as the writer thread drives it.
pub(crate) struct Journal {
    log: CommitLog,
    /// The LSN the last checkpoint recorded.
    checkpoint_lsn: u64,
    /// When the first record after the last checkpoint was appended.
    first_unchecked: Option<Instant>,
    checkpoint_bytes: u64,
    checkpoint_interval: Duration,
    /// An I/O error on the log: no more writes until the store is reopened
    /// (after a failed `fdatasync` the OS may have dropped the pages). Shared
    /// with the sync thread, which sets it too.
    poisoned: Arc<AtomicBool>,
    /// A record started a new checkpoint period since `wants_attention`
    /// last ran: the writer thread must learn the new deadline.
    news: bool,
    /// How urgent a checkpoint `wants_attention` last told the writer
    /// thread it was, since the last checkpoint: told once per level, not
    /// on every commit (each telling wakes that thread).
    told: Urgency,
}

/// How urgently the log needs a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Urgency {
    None,
    /// `checkpoint_bytes` reached: one can run beside the writers.
    Due,
    /// Checkpoints fall behind: the next must cover everything, with
    /// writers waiting ([`Journal::overdue`]).
    Overdue,
}

impl Journal {
    pub(crate) fn new(
        log: CommitLog,
        checkpoint_bytes: u64,
        checkpoint_interval: Duration,
    ) -> Journal {
        Journal {
            checkpoint_lsn: log.last_lsn(),
            log,
            first_unchecked: None,
            checkpoint_bytes,
            checkpoint_interval,
            poisoned: Arc::new(AtomicBool::new(false)),
            news: false,
            told: Urgency::None,
        }
    }

    /// What the sync thread needs: a handle that syncs the log, and the
    /// flag it sets when a sync fails.
    pub(crate) fn sync_side(&self) -> (LogSyncer, Arc<AtomicBool>) {
        (self.log.syncer(), self.poisoned.clone())
    }

    fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// Refuses further writes until the store is reopened.
    pub(crate) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }

    /// The log size at which a checkpoint is due.
    pub(crate) fn checkpoint_bytes(&self) -> u64 {
        self.checkpoint_bytes
    }

    /// The LSN of the last record written.
    pub(crate) fn last_lsn(&self) -> u64 {
        self.log.last_lsn()
    }

    /// Where the record after the last one goes (what a checkpoint of
    /// every record so far records as `meta.log_pos`).
    pub(crate) fn position(&self) -> u64 {
        self.log.position()
    }

    /// A sync of every record written so far that runs without the gate
    /// (writers go on appending): `ProcessCrashSafe`'s periodic sync.
    pub(crate) fn detached_sync(&self) -> Result<DetachedSync> {
        if self.is_poisoned() {
            return Err(Error::Poisoned);
        }
        Ok(DetachedSync {
            syncer: self.log.syncer(),
            poisoned: self.poisoned.clone(),
        })
    }

    /// Appends a group's changes (to the OS, not synced) before its
    /// transaction commits. Returns whether a record was written (an empty
    /// group writes none). On an error nothing of the group may survive:
    /// the record is erased if it can be, and the journal refuses further
    /// writes.
    pub(crate) fn record(&mut self, changes: &mut RecordBuf) -> Result<bool> {
        if self.is_poisoned() {
            return Err(Error::Poisoned);
        }
        if changes.is_empty() {
            return Ok(false);
        }
        if let Err(e) = self.log.append(changes) {
            // Not `erase_last`: that is the previous, acknowledged record.
            self.log.discard_unfinished();
            self.poison();
            return Err(e);
        }
        if self.first_unchecked.is_none() {
            self.first_unchecked = Some(Instant::now());
            self.news = true;
        }
        Ok(true)
    }

    /// Whether the writer thread should look at the journal: a record
    /// written on the fast path started a checkpoint period, or the log
    /// (or, `overlay_full`, the overlay) became due a checkpoint by size,
    /// or overdue, since it was last told.
    pub(crate) fn wants_attention(&mut self, overlay_full: bool) -> bool {
        let mut urgency = self.urgency_by_size();
        if overlay_full {
            urgency = urgency.max(Urgency::Due);
        }
        let tell = urgency > self.told;
        if tell {
            self.told = urgency;
        }
        std::mem::take(&mut self.news) || tell
    }

    /// When a checkpoint is due by time, if records await one.
    pub(crate) fn checkpoint_deadline(&self) -> Option<Instant> {
        self.first_unchecked.map(|t| t + self.checkpoint_interval)
    }

    /// Records await a checkpoint, and the log can still take one.
    fn awaits_checkpoint(&self) -> bool {
        self.log.last_lsn() != self.checkpoint_lsn && !self.is_poisoned()
    }

    /// Whether a checkpoint is due: the log is large or old enough, or
    /// `force` and any record awaits one.
    pub(crate) fn checkpoint_due(&self, force: bool) -> bool {
        if !self.awaits_checkpoint() {
            return false;
        }
        force
            || self.urgency_by_size() >= Urgency::Due
            || self
                .checkpoint_deadline()
                .is_some_and(|d| d <= Instant::now())
    }

    /// Whether checkpoints fall so far behind the writers (the records no
    /// checkpoint covers reach [`OVERDUE_FACTOR`] times `checkpoint_bytes`)
    /// that the next must cover everything, with writers waiting: the log's
    /// size and the overlay's memory stay bounded.
    pub(crate) fn overdue(&self) -> bool {
        self.urgency_by_size() == Urgency::Overdue
    }

    /// How urgent a checkpoint is by the bytes of records none covers.
    fn urgency_by_size(&self) -> Urgency {
        let uncovered = self.log.uncovered_bytes();
        if uncovered >= self.checkpoint_bytes.saturating_mul(OVERDUE_FACTOR) {
            Urgency::Overdue
        } else if uncovered >= self.checkpoint_bytes {
            Urgency::Due
        } else {
            Urgency::None
        }
    }

    /// A durable redb commit now holds every record up to `lsn` and records
    /// `pos` as where the records after it start (the overlay's
    /// checkpoint, frozen at `frozen_at`). `pos` is `HEADER_LEN` only for a
    /// checkpoint of every record with writers held: the log restarts.
    pub(crate) fn covered_up_to(&mut self, lsn: u64, pos: u64, frozen_at: Instant) {
        self.checkpoint_lsn = lsn;
        self.told = Urgency::None;
        if pos == HEADER_LEN && self.log.last_lsn() == lsn {
            self.log.restart();
        } else {
            self.log.covered_up_to(pos);
        }
        self.first_unchecked = (self.log.last_lsn() != lsn).then_some(frozen_at);
    }

    /// Checkpoints (returns whether it did; see `checkpoint_due`) when
    /// redb already holds every record's changes, with writers held: a
    /// durable redb commit recording the last LSN, then the log restarts at
    /// its beginning (log invariant 4).
    pub(crate) fn checkpoint(&mut self, db: &Database) -> Result<bool> {
        // Asked again: the sync thread may have poisoned the log meanwhile.
        if !self.awaits_checkpoint() {
            return Ok(false);
        }
        let lsn = self.log.last_lsn();
        let checkpoint = (|| -> Result<()> {
            let mut txn = db.begin_write()?;
            txn.set_durability(redb::Durability::Immediate)?;
            let mut meta = txn.open_table(META)?;
            meta.insert(META_LOG_LSN, lsn)?;
            meta.insert(META_LOG_POS, HEADER_LEN)?;
            drop(meta);
            txn.commit()?;
            Ok(())
        })();
        // The log still holds every record; but a database that cannot
        // commit durably will not take more: refuse writes until reopened.
        checkpoint.inspect_err(|_| self.poison())?;
        self.log.restart();
        self.checkpoint_lsn = lsn;
        self.first_unchecked = None;
        self.told = Urgency::None;
        Ok(true)
    }
}

/// A log sync taken out of the gate ([`Journal::detached_sync`]).
pub(crate) struct DetachedSync {
    syncer: LogSyncer,
    poisoned: Arc<AtomicBool>,
}

impl DetachedSync {
    /// Syncs; a failure poisons the journal (the OS may have dropped pages).
    pub(crate) fn run(self) -> Result<()> {
        self.syncer
            .sync()
            .inspect_err(|_| self.poisoned.store(true, Ordering::Release))
    }
}
