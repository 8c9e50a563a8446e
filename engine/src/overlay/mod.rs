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
//! 3. Newer layers win: pending (a transaction's own) over staged over
//!    active over frozen over the base.
//! 4. In `Immediate` mode a group's changes are staged apart until its
//!    record is synced: readers never see a write a crash can take back,
//!    while the writer's next groups read it from the staged layers. The
//!    sync thread then *publishes* the synced groups (readers read them
//!    from then on: one counter moves, so their callers are answered
//!    without waiting for a merge); the next leader (or a freeze, or a
//!    pin) *absorbs* them into `active`, in commit order. A checkpoint
//!    writes only `active` (a freeze absorbs the published groups first),
//!    so it never makes durable what the log does not yet hold durably.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use foldhash::fast::RandomState;
use redb::{ReadTransaction, TableHandle};

use crate::tables::{DATA_TABLES, Table};

mod base;
mod entry;
mod layer;
mod pending;

pub(crate) use base::{Base, BaseTable};
pub(crate) use layer::Layer;
pub(crate) use pending::{Pending, SpareIndex};

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

/// The hash of every index in the overlay (a transaction's and each
/// layer's), so a key is hashed once for all the layers it is looked up
/// in. foldhash (hashbrown's default), randomly seeded once per process:
/// keys come from the network, so a fixed hash would let crafted keys
/// collide. SipHash (std's) was a fifth of a batch write's instructions.
static HASHER: LazyLock<RandomState> = LazyLock::new(RandomState::default);

fn hash(table: TableId, key: &[u8]) -> u64 {
    HASHER.hash_one((table, key))
}

/// A key to look up in the overlay, hashed once.
#[derive(Clone, Copy)]
pub(crate) struct Probe<'k> {
    table: TableId,
    key: &'k [u8],
    hash: u64,
}

impl<'k> Probe<'k> {
    pub(crate) fn new(table: TableId, key: &'k [u8]) -> Probe<'k> {
        Probe {
            table,
            key,
            hash: hash(table, key),
        }
    }

    pub(crate) fn key(&self) -> &'k [u8] {
        self.key
    }
}

/// The overlay's layers and the redb snapshot under them.
pub(crate) struct Layers {
    /// The snapshot of the last checkpoint: holds everything older than
    /// the layers.
    pub(crate) base: Arc<Base>,
    /// Being written to redb by a checkpoint.
    pub(crate) frozen: Option<Arc<Layer>>,
    /// Where commits go. Shared only with a pinned copy (`pin`): the next
    /// commit then copies it.
    pub(crate) active: Arc<Layer>,
    /// The LSN of the last record whose changes are in `active` (or in
    /// `frozen`, or the base): what a checkpoint of them covers.
    pub(crate) active_lsn: u64,
    /// `Immediate` mode: groups whose records are written, oldest first,
    /// with their LSN (`None`: no record), not yet absorbed into `active`.
    /// The first [`published`](Self::published) are synced; the others
    /// only the writer's transactions read (invariant 4).
    pub(crate) staged: VecDeque<(Option<u64>, Layer)>,
    /// How many of the oldest `staged` groups are synced and so visible
    /// to readers.
    pub(crate) published: usize,
}

impl Layers {
    /// The layers to read, newest first: readers read the published
    /// groups, the active and the frozen layer; a write transaction
    /// (`writer`) reads the unsynced groups before them too (a group reads
    /// the groups applied before it).
    pub(crate) fn newest_first(&self, writer: bool) -> impl Iterator<Item = &Layer> {
        let visible = if writer {
            self.staged.len()
        } else {
            self.published
        };
        self.staged
            .iter()
            .take(visible)
            .rev()
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

impl Layers {
    /// Moves `changes` into `active`; returns what a reclaim there
    /// replaced (`Layer::absorb`), to drop after the lock.
    fn absorb(&mut self, changes: Layer, lsn: Option<u64>) -> Option<Layer> {
        if let Some(lsn) = lsn {
            self.active_lsn = lsn;
        }
        if changes.is_empty() {
            return None;
        }
        Arc::make_mut(&mut self.active).absorb(changes)
    }

    /// Moves the published groups into `active`, oldest first; returns
    /// what reclaims replaced, to drop after the lock.
    fn absorb_published(&mut self) -> Vec<Layer> {
        let mut replaced = Vec::new();
        for _ in 0..std::mem::take(&mut self.published) {
            if let Some((lsn, changes)) = self.staged.pop_front() {
                replaced.extend(self.absorb(changes, lsn));
            }
        }
        replaced
    }
}

/// A redb snapshot and the layers over it, oldest first: what a reader saw
/// at one moment, kept.
pub(crate) struct Pinned {
    pub(crate) base: Arc<Base>,
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
                base: Arc::new(Base::new(base)),
                frozen: None,
                active: Arc::default(),
                active_lsn: lsn,
                staged: VecDeque::new(),
                published: 0,
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
        // The write guard is a temporary: what a reclaim replaced is
        // dropped after the lock is released.
        let replaced = self.write().absorb(changes, lsn);
        drop(replaced);
    }

    /// `Immediate` mode: keeps a group's changes for the writer's next
    /// groups until its record is synced (`publish`).
    pub(crate) fn stage(&self, changes: Layer, lsn: Option<u64>) {
        self.write().staged.push_back((lsn, changes));
    }

    /// `Immediate` mode: the oldest `groups` unpublished staged groups are
    /// synced: readers see them now. Costs a counter, not a merge, so their
    /// callers are answered sooner; `absorb_published` merges them after.
    pub(crate) fn publish(&self, groups: usize) {
        let mut layers = self.write();
        layers.published = (layers.published + groups).min(layers.staged.len());
    }

    /// `Immediate` mode: moves the published groups into the active layer,
    /// so readers look through fewer layers and a checkpoint finds them.
    /// Returns what reclaims replaced, for the caller to drop: off the
    /// lock.
    pub(crate) fn absorb_published(&self) -> Vec<Layer> {
        self.write().absorb_published()
    }

    /// Roughly the memory the active layer takes: a checkpoint is due once
    /// it reaches `checkpoint_bytes`, like the log.
    pub(crate) fn active_bytes(&self) -> usize {
        self.read().active.bytes()
    }

    /// Checkpoint step 1: the active layer becomes the frozen one.
    pub(crate) fn freeze(&self) -> Freeze {
        let mut layers = self.write();
        // Rare (once per checkpoint or backup): dropped under the lock.
        drop(layers.absorb_published());
        if layers.frozen.is_some() {
            return Freeze::Busy;
        }
        if layers.active.is_empty() {
            return Freeze::Empty(layers.active_lsn);
        }
        let next = Arc::new(layers.active.empty_with_room_of());
        let frozen = std::mem::replace(&mut layers.active, next);
        layers.frozen = Some(frozen.clone());
        Freeze::Frozen(frozen, layers.active_lsn)
    }

    /// Everything a reader sees now, kept for a long read (a backup) without
    /// holding the lock: the base and the layers, oldest first.
    pub(crate) fn pin(&self) -> Pinned {
        let mut layers = self.write();
        // Published groups are not shared layers: move them where a pin
        // can share them.
        // Rare (once per checkpoint or backup): dropped under the lock.
        drop(layers.absorb_published());
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
        layers.base = Arc::new(Base::new(base));
        layers.frozen = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change of a test: table, key, value (`None`: deleted).
    type TestChange<'a> = (TableId, &'a [u8], Option<&'a [u8]>);

    fn layer(changes: &[TestChange<'_>]) -> Layer {
        let mut pending = Pending::default();
        for (table, key, value) in changes {
            pending.put(*table, key, *value);
        }
        pending.into_layer()
    }

    /// `Immediate` mode: a staged group is read by the writer's next
    /// groups only; once published by readers too, before and after it is
    /// absorbed into the active layer; a freeze and a pin take the
    /// published groups along, never an unsynced one.
    #[test]
    fn staged_groups_are_read_once_published() {
        use redb::ReadableDatabase;
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let overlay = Overlay::new(db.begin_read().unwrap(), 0);
        let read = |writer: bool, key: &[u8]| {
            let probe = Probe::new(0, key);
            let layers = overlay.read();
            let found = layers.newest_first(writer).find_map(|l| l.get(&probe));
            found.flatten().map(<[u8]>::to_vec)
        };
        overlay.stage(layer(&[(0, b"a", Some(b"1"))]), Some(1));
        overlay.stage(layer(&[(0, b"b", Some(b"2"))]), Some(2));
        assert_eq!(read(false, b"a"), None, "unsynced: hidden from readers");
        assert_eq!(read(true, b"a"), Some(b"1".to_vec()), "the writer's");

        overlay.publish(1);
        assert_eq!(read(false, b"a"), Some(b"1".to_vec()), "published");
        assert_eq!(read(false, b"b"), None, "the next is not synced yet");
        overlay.absorb_published();
        assert_eq!(overlay.read().staged.len(), 1, "only the unsynced group");
        assert_eq!(read(false, b"a"), Some(b"1".to_vec()), "absorbed");

        let pinned = overlay.pin();
        let in_pin = |key: &[u8]| {
            pinned
                .layers
                .iter()
                .any(|l| l.get(&Probe::new(0, key)).is_some())
        };
        assert!(
            in_pin(b"a") && !in_pin(b"b"),
            "a pin holds what readers see"
        );

        overlay.publish(1);
        match overlay.freeze() {
            Freeze::Frozen(frozen, lsn) => {
                assert_eq!(lsn, 2, "the frozen layer covers the published group");
                assert_eq!(frozen.get(&Probe::new(0, b"b")), Some(Some(&b"2"[..])));
            }
            _ => panic!("the active layer holds two groups"),
        }
        assert!(overlay.read().staged.is_empty());
    }

    #[test]
    fn newer_changes_win_and_deletions_hide() {
        let mut older = layer(&[(0, b"a", Some(b"1")), (0, b"b", Some(b"1"))]);
        older.absorb(layer(&[(0, b"a", Some(b"2")), (0, b"b", None)]));
        assert_eq!(older.get(&Probe::new(0, b"a")), Some(Some(&b"2"[..])));
        assert_eq!(older.get(&Probe::new(0, b"b")), Some(None));
        assert_eq!(older.get(&Probe::new(1, b"a")), None, "tables are apart");
    }

    #[test]
    fn a_transaction_reads_its_newest_change() {
        let mut pending = Pending::default();
        pending.put(0, b"k", Some(b"1"));
        pending.put(1, b"k", Some(b"other table"));
        pending.put(0, b"k", Some(b"2"));
        pending.put(0, b"gone", Some(b"x"));
        pending.put(0, b"gone", None);
        assert_eq!(pending.get(&Probe::new(0, b"k")), Some(Some(&b"2"[..])));
        assert_eq!(pending.get(&Probe::new(0, b"gone")), Some(None));
        assert_eq!(pending.get(&Probe::new(0, b"never")), None);
        let all = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        assert_eq!(
            pending.range(0, all),
            vec![(&b"gone"[..], None), (&b"k"[..], Some(&b"2"[..]))]
        );
        let layer = pending.into_layer();
        assert_eq!(layer.get(&Probe::new(0, b"k")), Some(Some(&b"2"[..])));
        assert_eq!(
            layer.get(&Probe::new(1, b"k")),
            Some(Some(&b"other table"[..]))
        );
    }

    /// Empty keys and values have no bytes in a chunk, and a value larger
    /// than a chunk gets one of its own; all read back, through a
    /// transaction, a layer and a merge of layers.
    #[test]
    fn empty_and_large_keys_and_values_read_back() {
        let large = vec![7u8; 100 * 1024];
        let changes: [TestChange<'_>; 4] = [
            (0, b"", Some(b"empty key")),
            (0, b"empty value", Some(b"")),
            (0, b"large", Some(&large)),
            (0, b"after large", Some(b"small")),
        ];
        let mut pending = Pending::default();
        for (table, key, value) in changes {
            pending.put(table, key, value);
        }
        for (_, key, value) in changes {
            assert_eq!(pending.get(&Probe::new(0, key)), Some(value), "{key:?}");
        }
        let mut merged = layer(&[(0, b"other", Some(b"1"))]);
        merged.absorb(pending.into_layer());
        for (_, key, value) in changes {
            assert_eq!(merged.get(&Probe::new(0, key)), Some(value), "{key:?}");
        }
    }

    /// Many small commits (a bot's pace) and a few large ones: every key
    /// reads its newest value through the merged runs, ranges see each key
    /// once, and the runs stay few.
    #[test]
    fn runs_merge_and_keep_the_newest_change() {
        let mut active = Layer::default();
        let mut expected = std::collections::BTreeMap::new();
        for round in 0u32..2_000 {
            let width = if round % 500 == 499 {
                700
            } else {
                1 + round % 3
            };
            let mut changes = Vec::new();
            for j in 0..width {
                let key = format!("key-{:05}", (round * 7 + j * 13) % 3_000).into_bytes();
                let value = (round % 17 != 0).then(|| format!("v{round}").into_bytes());
                expected.insert(key.clone(), value.clone());
                changes.push((key, value));
            }
            let mut pending = Pending::default();
            for (key, value) in &changes {
                pending.put(0, key, value.as_deref());
            }
            active.absorb(pending.into_layer());
        }
        assert!(active.runs() <= 12, "{} runs", active.runs());
        for (key, value) in &expected {
            assert_eq!(
                active.get(&Probe::new(0, key)),
                Some(value.as_deref()),
                "{key:?}"
            );
        }
        let bounds = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        let mut seen = std::collections::BTreeMap::new();
        for source in active.ranges(0, bounds) {
            for (key, value) in source {
                seen.entry(key.to_vec())
                    .or_insert(value.map(<[u8]>::to_vec));
            }
        }
        assert_eq!(seen, expected);
    }

    /// A layer rewriting the same keys keeps about what it holds, not
    /// everything written to it, and still reads every key's newest value.
    #[test]
    fn replaced_values_are_reclaimed() {
        let mut active = Layer::default();
        let value = |round: usize, key: usize| vec![(round * 31 + key) as u8; 1024];
        for round in 0..300 {
            let mut pending = Pending::default();
            for key in 0..100 {
                pending.put(
                    0,
                    format!("session-{key:03}").as_bytes(),
                    Some(&value(round, key)),
                );
            }
            active.absorb(pending.into_layer());
        }
        // 100 sessions of 1 KiB live; 30 MiB were written.
        assert!(active.bytes() < 4 << 20, "{} bytes", active.bytes());
        for key in 0..100 {
            let newest = value(299, key);
            assert_eq!(
                active.get(&Probe::new(0, format!("session-{key:03}").as_bytes())),
                Some(Some(&newest[..]))
            );
        }
        let all = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        let first = active.ranges(0, all).next().map(|run| run.count());
        assert_eq!(
            first,
            Some(100),
            "one run of the newest entries after a reclaim"
        );
    }

    /// A transaction after one of the same size appends its values into
    /// one chunk (the spare index carries the size over).
    #[test]
    fn a_transaction_like_the_last_takes_one_value_chunk() {
        let key = |k: usize| format!("session-{k:02}").into_bytes();
        let group = |spare: Option<SpareIndex>| {
            let mut pending = Pending::reusing(spare);
            for k in 0..16 {
                pending.put(0, &key(k), Some(&[k as u8; 1024]));
            }
            pending.into_parts()
        };
        let contiguous = |layer: &Layer| {
            let at = |k: usize| {
                let value = layer.get(&Probe::new(0, &key(k))).flatten().unwrap();
                assert_eq!(value, &[k as u8; 1024][..], "key {k}");
                value.as_ptr() as usize
            };
            (1..16).all(|k| at(k) == at(k - 1) + 1024)
        };
        let (first, spare) = group(None);
        assert!(!contiguous(&first), "chunks grow from 512 bytes");
        let (second, _) = group(spare);
        assert!(contiguous(&second), "sixteen values, more than one chunk");
    }

    /// A reclaim shares a chunk whose values are still live instead of
    /// copying them, and copies a live value out of a chunk mostly
    /// replaced; every key still reads its newest value.
    #[test]
    fn a_reclaim_shares_live_chunks_and_copies_out_of_sparse_ones() {
        let key = |k: usize| format!("session-{k:03}").into_bytes();
        let value = |round: usize, k: usize| vec![(round * 31 + k) as u8; 1024];
        // Whether the absorb reclaimed (it returns the layer it replaced).
        let put = |layer: &mut Layer, keys: &[usize], round: usize| {
            let mut pending = Pending::default();
            for &k in keys {
                pending.put(0, &key(k), Some(&value(round, k)));
            }
            layer.absorb(pending.into_layer()).is_some()
        };
        let at = |layer: &Layer, k: usize| {
            let found = layer.get(&Probe::new(0, &key(k)));
            found.flatten().map(|v| (v.to_vec(), v.as_ptr()))
        };
        let mut active = Layer::default();
        // Never rewritten: their chunks stay all live.
        put(&mut active, &[0, 1, 2, 3, 4, 5, 6, 7], 0);
        // 9 and 10 are rewritten below: 8 shares a chunk with 10 (chunks
        // double from 1 KiB), which ends half replaced.
        put(&mut active, &[9, 8, 10], 0);
        let (_, whole) = at(&active, 3).unwrap();
        let (_, sparse) = at(&active, 8).unwrap();
        let rewritten: Vec<usize> = (9..100).collect();
        let mut reclaimed = false;
        for round in 1..100 {
            let before = active.bytes();
            if put(&mut active, &rewritten, round) {
                assert!(active.bytes() < before, "a reclaim that kept every byte");
                reclaimed = true;
                for k in 0..100 {
                    let newest = if k < 9 { value(0, k) } else { value(round, k) };
                    assert_eq!(at(&active, k).map(|(v, _)| v), Some(newest), "key {k}");
                }
                break;
            }
        }
        assert!(reclaimed, "no reclaim after 99 rounds");
        assert_eq!(at(&active, 3).unwrap().1, whole, "a live chunk was copied");
        assert_ne!(at(&active, 8).unwrap().1, sparse, "a sparse chunk was kept");
    }
}
