//! The overlay of the log modes (`Immediate`, `ProcessCrashSafe`):
//! committed changes kept in memory in front of redb until a checkpoint
//! writes them there.
//!
//! In those modes a write group costs a log append (and in `Immediate`
//! mode its share of an `fdatasync`) and a merge into this overlay; no redb
//! transaction runs on the write path. Readers read the overlay first, then
//! the redb snapshot it sits on (`crate::view`). A checkpoint moves the
//! overlay into redb in the background (`crate::writer`, on its checkpoint
//! thread):
//!
//! 1. *freeze*: the active layer becomes the frozen one (new writes go to a
//!    fresh active layer), noting the last LSN it holds;
//! 2. *apply*: the frozen layer is written to redb in one durable
//!    transaction that also records that LSN (writers go on meanwhile);
//! 3. *swap*: readers move to a snapshot of that commit and the frozen
//!    layer is dropped, both in one step under the lock.
//!
//! Invariants:
//! 1. The layers and the base snapshot together always hold every
//!    committed change: a change leaves a layer only in the step that
//!    installs a base holding it.
//! 2. A change is in a layer only after its log record is written (the
//!    writer merges after `Journal::record`), so a reader never sees a
//!    write the log lacks.
//! 3. Newer layers win: pending (a transaction's own) over unsynced over
//!    active over frozen over the base.
//! 4. In `Immediate` mode a group's changes join `active` only after its
//!    record is synced (the sync thread publishes them, in commit order):
//!    readers never see a write a crash can take back, while the writer's
//!    next groups read it from the unsynced layers. A checkpoint writes
//!    only `active`, so it never makes durable what the log does not yet
//!    hold durably.

use std::collections::btree_map;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use redb::{ReadTransaction, TableHandle, WriteTransaction};

use crate::error::Result;
use crate::tables::{self, DATA_TABLES, Table};

/// Which table a change is in: the index of a data table in
/// [`DATA_TABLES`], or [`META_TABLE`].
pub(crate) type TableId = usize;

/// The id of the `meta` table (keys are names, values u64 big-endian).
pub(crate) const META_TABLE: TableId = DATA_TABLES.len();

/// The id of a data table.
pub(crate) fn table_id(table: Table) -> TableId {
    let name = table.name();
    DATA_TABLES
        .iter()
        .position(|t| t.name() == name)
        .unwrap_or_else(|| unreachable!("{name} is not in DATA_TABLES"))
}

/// A value in a layer: `None` is a deletion that hides older layers.
pub(crate) type Change = Option<Box<[u8]>>;

/// Changes by table and key, the newest per key.
#[derive(Clone)]
pub(crate) struct Layer {
    tables: Vec<BTreeMap<Box<[u8]>, Change>>,
    /// Roughly the memory its changes take (keys, values, map entries).
    bytes: usize,
}

impl Default for Layer {
    fn default() -> Self {
        Layer {
            tables: (0..=META_TABLE).map(|_| BTreeMap::new()).collect(),
            bytes: 0,
        }
    }
}

impl Layer {
    /// Records a change (replacing an earlier one of the same key).
    pub(crate) fn put(&mut self, table: TableId, key: &[u8], value: Option<&[u8]>) {
        // A replaced change is still counted: an upper bound, reset when
        // the layer is frozen.
        self.bytes += key.len() + value.map_or(0, <[u8]>::len) + ENTRY_OVERHEAD;
        self.tables[table].insert(key.into(), value.map(Into::into));
    }

    /// The change of `key`, if this layer has one (`Some(None)`: deleted).
    pub(crate) fn get(&self, table: TableId, key: &[u8]) -> Option<Option<&[u8]>> {
        self.tables[table].get(key).map(|v| v.as_deref())
    }

    /// The changes of `table` within `bounds`, in key order.
    pub(crate) fn range<'a>(
        &'a self,
        table: TableId,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> btree_map::Range<'a, Box<[u8]>, Change> {
        self.tables[table].range::<[u8], _>(bounds)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tables.iter().all(BTreeMap::is_empty)
    }

    /// Moves `newer`'s changes into this layer; they win.
    fn absorb(&mut self, newer: Layer) {
        self.bytes += newer.bytes;
        for (mine, mut theirs) in self.tables.iter_mut().zip(newer.tables) {
            if mine.is_empty() {
                *mine = theirs;
            } else if theirs.len().saturating_mul(BULK_MERGE_RATIO) >= mine.len() {
                // Rebuilds the map from both, sorted: O(n + m), cheaper per
                // change than inserting a large group one by one.
                mine.append(&mut theirs);
            } else {
                mine.extend(theirs);
            }
        }
    }

    /// Writes every change into `txn`.
    pub(crate) fn write_to(&self, txn: &WriteTransaction) -> Result<()> {
        for (id, changes) in self.tables.iter().enumerate() {
            if changes.is_empty() {
                continue;
            }
            if id == META_TABLE {
                write_meta(txn, changes)?;
                continue;
            }
            let mut table = txn.open_table(DATA_TABLES[id])?;
            for (key, value) in changes {
                match value {
                    Some(v) => table.insert(&**key, &**v)?,
                    None => table.remove(&**key)?,
                };
            }
        }
        Ok(())
    }
}

fn write_meta(txn: &WriteTransaction, changes: &BTreeMap<Box<[u8]>, Change>) -> Result<()> {
    let mut meta = txn.open_table(tables::META)?;
    for (key, value) in changes {
        // Only `Tx::set_meta` writes here: UTF-8 names, 8-byte values.
        let key = std::str::from_utf8(key).unwrap_or_default();
        match value.as_deref().and_then(|v| <[u8; 8]>::try_from(v).ok()) {
            Some(v) => meta.insert(key, u64::from_be_bytes(v))?,
            None => meta.remove(key)?,
        };
    }
    Ok(())
}

/// The overlay's layers and the redb snapshot under them.
pub(crate) struct Layers {
    /// The snapshot of the last checkpoint: holds everything older than
    /// the layers.
    pub(crate) base: Arc<ReadTransaction>,
    /// Being written to redb by a checkpoint.
    pub(crate) frozen: Option<Arc<Layer>>,
    /// Where commits go. Shared only with a pinned copy (`pin`): the next
    /// commit then copies it.
    pub(crate) active: Arc<Layer>,
    /// The LSN of the last record whose changes are in `active` (or in
    /// `frozen`, or the base): what a checkpoint of them covers.
    pub(crate) active_lsn: u64,
    /// `Immediate` mode: groups whose records are written but not yet
    /// synced, oldest first, with their LSN (`None`: no record). Only the
    /// writer's transactions read them; the sync thread publishes them
    /// into `active` in order (invariant 4).
    pub(crate) unsynced: VecDeque<(Option<u64>, Layer)>,
}

impl Layers {
    /// The layers to read, newest first: readers read the active and the
    /// frozen layer; a write transaction (`unsynced`) reads the unsynced
    /// groups before them too (a group reads the groups applied before it).
    pub(crate) fn newest_first(&self, unsynced: bool) -> impl Iterator<Item = &Layer> {
        let staged = if unsynced { self.unsynced.len() } else { 0 };
        self.unsynced
            .iter()
            .rev()
            .take(staged)
            .map(|(_, layer)| layer)
            .chain(std::iter::once(&*self.active))
            .chain(self.frozen.as_deref())
    }
}

/// What `Overlay::freeze` found.
pub(crate) enum Freeze {
    /// The active layer, now frozen, and the LSN it covers.
    Frozen(Arc<Layer>, u64),
    /// Nothing in memory that redb lacks, up to this LSN.
    Empty(u64),
    /// A frozen layer is still being written (or its write failed).
    Busy,
}

/// A group at least 1/8 the size of the layer it joins is merged by
/// rebuilding the map (`absorb`).
const BULK_MERGE_RATIO: usize = 8;

/// What a map entry and its two boxes cost beyond the bytes they hold,
/// roughly (allocator headers, the map's node share).
const ENTRY_OVERHEAD: usize = 64;

impl Layers {
    fn absorb(&mut self, changes: Layer, lsn: Option<u64>) {
        if !changes.is_empty() {
            Arc::make_mut(&mut self.active).absorb(changes);
        }
        if let Some(lsn) = lsn {
            self.active_lsn = lsn;
        }
    }
}

/// A redb snapshot and the layers over it, oldest first: what a reader saw
/// at one moment, kept.
pub(crate) struct Pinned {
    pub(crate) base: Arc<ReadTransaction>,
    pub(crate) layers: Vec<Arc<Layer>>,
}

/// The overlay: layers behind a lock that readers share and that a commit
/// or a checkpoint's swap takes for a moment.
pub(crate) struct Overlay {
    layers: RwLock<Layers>,
}

impl Overlay {
    /// An overlay over `base`, whose checkpoint covers `lsn`.
    pub(crate) fn new(base: ReadTransaction, lsn: u64) -> Overlay {
        Overlay {
            layers: RwLock::new(Layers {
                base: Arc::new(base),
                frozen: None,
                active: Arc::default(),
                active_lsn: lsn,
                unsynced: VecDeque::new(),
            }),
        }
    }

    /// A consistent view for one read (or one write group's reads).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Layers> {
        // Nothing panics while the lock is written: a poisoned lock still
        // holds whole layers.
        self.layers.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Layers> {
        self.layers.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a group's changes visible (after its log record `lsn` is
    /// written; `None`: it wrote none).
    pub(crate) fn commit(&self, changes: Layer, lsn: Option<u64>) {
        if changes.is_empty() && lsn.is_none() {
            return;
        }
        self.write().absorb(changes, lsn);
    }

    /// `Immediate` mode: keeps a group's changes for the writer's next
    /// groups until its record is synced (`publish`).
    pub(crate) fn stage(&self, changes: Layer, lsn: Option<u64>) {
        self.write().unsynced.push_back((lsn, changes));
    }

    /// `Immediate` mode: the oldest `groups` staged groups are synced:
    /// readers see them now.
    pub(crate) fn publish(&self, groups: usize) {
        let mut layers = self.write();
        for _ in 0..groups {
            match layers.unsynced.pop_front() {
                Some((lsn, changes)) => layers.absorb(changes, lsn),
                None => break,
            }
        }
    }

    /// Roughly the memory the active layer takes: a checkpoint is due once
    /// it reaches `checkpoint_bytes`, like the log.
    pub(crate) fn active_bytes(&self) -> usize {
        self.read().active.bytes
    }

    /// Checkpoint step 1: the active layer becomes the frozen one.
    pub(crate) fn freeze(&self) -> Freeze {
        let mut layers = self.write();
        if layers.frozen.is_some() {
            return Freeze::Busy;
        }
        if layers.active.is_empty() {
            return Freeze::Empty(layers.active_lsn);
        }
        let frozen = std::mem::take(&mut layers.active);
        layers.frozen = Some(frozen.clone());
        Freeze::Frozen(frozen, layers.active_lsn)
    }

    /// Everything a reader sees now, kept for a long read (a backup) without
    /// holding the lock: the base and the layers, oldest first.
    pub(crate) fn pin(&self) -> Pinned {
        let layers = self.read();
        let mut pinned: Vec<Arc<Layer>> = layers.frozen.iter().cloned().collect();
        pinned.push(layers.active.clone());
        Pinned {
            base: layers.base.clone(),
            layers: pinned,
        }
    }

    /// Checkpoint step 3: readers move to `base`, a snapshot of the commit
    /// holding the frozen layer, which is dropped (invariant 1).
    pub(crate) fn swap(&self, base: ReadTransaction) {
        let mut layers = self.write();
        layers.base = Arc::new(base);
        layers.frozen = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_changes_win_and_deletions_hide() {
        let mut older = Layer::default();
        older.put(0, b"a", Some(b"1"));
        older.put(0, b"b", Some(b"1"));
        let mut newer = Layer::default();
        newer.put(0, b"a", Some(b"2"));
        newer.put(0, b"b", None);
        older.absorb(newer);
        assert_eq!(older.get(0, b"a"), Some(Some(&b"2"[..])));
        assert_eq!(older.get(0, b"b"), Some(None));
        assert_eq!(older.get(1, b"a"), None, "tables are apart");
    }
}
