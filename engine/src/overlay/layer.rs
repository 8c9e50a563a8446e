//! A layer of the overlay: committed changes as sorted runs of entries
//! over shared chunks of bytes.
//!
//! A transaction's changes arrive as their chunks and one sorted run
//! (`Pending::into_layer`). A layer keeps a few runs, oldest first, newer
//! winning on a key both hold; when a run is no more than
//! [`MERGE_RATIO`] times the size of the run after it, the two are merged
//! (their entries, never their bytes). Run sizes then grow geometrically,
//! so a layer holds O(log n) runs for range reads and checkpoints to merge.
//! Point lookups go through a hash index of each key's newest entry, kept
//! by `absorb` (a binary search per run made point reads 40% slower).
//!
//! A replaced value stays in its chunk; once the chunks hold more than
//! twice the bytes of the newest entries (and at least [`RECLAIM_BYTES`]),
//! the layer keeps only its newest entries, in one run: the value chunks
//! still mostly theirs are kept as they are, their values in the others
//! copied into fresh chunks, and the rest dropped (`Chunks::compact`), so
//! a layer that rewrites the same keys stays about the size of what it
//! holds (a map of boxed values freed a replaced value at once; without
//! this, rewriting 4,000 sessions of 1 KiB kept 2.6x the memory).

use std::cmp::Ordering;
use std::ops::Bound;

use bytes::Bytes;
use hashbrown::HashTable;
use redb::WriteTransaction;

use super::entry::{Chunks, Entry};
use super::{META_TABLE, Probe, TableId, hash};
use crate::error::Result;
use crate::tables::{self, DATA_TABLES};

/// An older run at most this many times the size of the newer one after
/// it is merged with it: few runs (a lookup searches each) against
/// merging often. Measured with a point-read and a batch-write benchmark.
const MERGE_RATIO: usize = 4;

/// What an entry costs beyond its key and value bytes, roughly (its
/// place in a run, a share of merged copies, its place in the index).
const ENTRY_OVERHEAD: usize = 2 * size_of::<Entry>() + size_of::<(u64, Entry)>();

/// Replaced bytes are reclaimed only once the chunks hold this much.
const RECLAIM_BYTES: usize = 1 << 20;

/// Changes by table and key, the newest per key.
#[derive(Clone, Default)]
pub(crate) struct Layer {
    /// The bytes of the changes; entries point into them.
    chunks: Chunks<Bytes>,
    /// Oldest first; each sorted by table and key, one entry per key.
    runs: Vec<Vec<Entry>>,
    /// Each key's hash and newest entry, once the layer has absorbed
    /// another (a layer of one run is searched instead). The hash is kept
    /// so growing the table rehashes no key.
    index: HashTable<(u64, Entry)>,
    /// The chunks' bytes.
    stored: usize,
    /// The key and value bytes of the entries in `index`.
    live: usize,
    /// Entries made into this layer (replaced ones included), for the
    /// memory estimate.
    entries: usize,
}

impl Layer {
    /// A layer of one sorted run over `chunks`.
    pub(super) fn of_run(chunks: Chunks<Bytes>, run: Vec<Entry>, entries_made: usize) -> Layer {
        if run.is_empty() {
            return Layer::default();
        }
        Layer {
            stored: chunks.bytes(),
            entries: entries_made,
            chunks,
            runs: vec![run],
            ..Layer::default()
        }
    }

    /// An empty layer whose index has room for as many keys as this one's:
    /// the next active layer after a freeze, which a steady load fills
    /// about as much (grown from empty, its index was rehashed a dozen
    /// times after each checkpoint: 2.5% of a batch's instructions).
    pub(super) fn empty_with_room_of(&self) -> Layer {
        Layer {
            index: HashTable::with_capacity(self.index.len()),
            ..Layer::default()
        }
    }

    /// Roughly the memory it takes: its chunks and its entries.
    pub(crate) fn bytes(&self) -> usize {
        self.stored + self.entries * ENTRY_OVERHEAD
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// How many runs it keeps (tests: they stay few).
    #[cfg(test)]
    pub(super) fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The change of `key`, if this layer has one (`Some(None)`: deleted).
    pub(crate) fn get(&self, probe: &Probe<'_>) -> Option<Option<&[u8]>> {
        let Probe { table, key, hash } = *probe;
        let entry = if self.index.is_empty() {
            let run = self.runs.last()?;
            let at = run
                .binary_search_by(|e| self.chunks.order(e, table, key))
                .ok()?;
            &run[at]
        } else {
            let (_, entry) = self
                .index
                .find(hash, |(_, e)| self.chunks.order(e, table, key).is_eq())?;
            entry
        };
        Some(self.chunks.value(entry))
    }

    /// Makes `entry` its key's newest in the index.
    fn index(&mut self, entry: Entry) {
        let Layer {
            chunks,
            index,
            live,
            ..
        } = self;
        let key = chunks.key(&entry);
        let hashed = hash(entry.table(), key);
        let same = |(_, e): &(u64, Entry)| chunks.order(e, entry.table(), key).is_eq();
        *live += entry.size();
        match index.find_mut(hashed, same) {
            Some((_, slot)) => {
                *live -= slot.size();
                *slot = entry;
            }
            None => {
                index.insert_unique(hashed, (hashed, entry), |&(h, _)| h);
            }
        }
    }

    /// The changes of `table` within `bounds`, one sorted source per run,
    /// newest first (a key may be in several; the first source wins).
    pub(crate) fn ranges<'a>(
        &'a self,
        table: TableId,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> impl Iterator<Item = impl DoubleEndedIterator<Item = Change<'a>> + use<'a>> + use<'a> {
        let spans: Vec<&'a [Entry]> = self
            .runs
            .iter()
            .rev()
            .map(|run| {
                let (start, end) = self.span(run, table, bounds);
                &run[start..end]
            })
            .collect();
        spans.into_iter().map(move |entries| {
            entries
                .iter()
                .map(move |e| (self.chunks.key(e), self.chunks.value(e)))
        })
    }

    /// The entries of `run` in `table` within `bounds`, as an index range.
    fn span(
        &self,
        run: &[Entry],
        table: TableId,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> (usize, usize) {
        let before = |e: &Entry, key: &[u8], inclusive: bool| match self.chunks.order(e, table, key)
        {
            Ordering::Less => true,
            Ordering::Equal => !inclusive,
            Ordering::Greater => false,
        };
        let start = match bounds.0 {
            Bound::Included(k) => run.partition_point(|e| before(e, k, true)),
            Bound::Excluded(k) => run.partition_point(|e| before(e, k, false)),
            Bound::Unbounded => run.partition_point(|e| e.table() < table),
        };
        let end = match bounds.1 {
            Bound::Included(k) => run.partition_point(|e| before(e, k, false)),
            Bound::Excluded(k) => run.partition_point(|e| before(e, k, true)),
            Bound::Unbounded => run.partition_point(|e| e.table() <= table),
        };
        (start, end.max(start))
    }

    /// Moves `newer`'s changes into this layer; they win. Returns what a
    /// reclaim replaced, if one ran, for the caller to drop once it no
    /// longer holds the overlay's lock (freeing its chunks was up to a
    /// third of a reclaim's time, with readers and writers waiting).
    pub(super) fn absorb(&mut self, newer: Layer) -> Option<Layer> {
        if newer.is_empty() {
            return None;
        }
        if self.index.is_empty() {
            // A layer of one run gains its index when it first absorbs.
            self.reindex();
        }
        let shift = self.chunks.extend(newer.chunks);
        self.stored += newer.stored;
        self.entries += newer.entries;
        for mut run in newer.runs {
            for entry in &mut run {
                shift.apply(entry);
                self.index(*entry);
            }
            self.runs.push(run);
            self.merge_tail();
        }
        (self.stored >= RECLAIM_BYTES && self.stored > 2 * self.live).then(|| self.reclaim())
    }

    /// Keeps only the newest entries, in one run, and the chunks they
    /// need (`Chunks::compact`); a pinned copy of the layer keeps its own.
    /// Returns the layer as it was, to drop.
    fn reclaim(&mut self) -> Layer {
        let mut newest = self.all();
        let chunks = self.chunks.compact(&mut newest);
        // The index keeps its room: it indexes the same keys again.
        let index = std::mem::take(&mut self.index);
        let made = newest.len();
        let old = std::mem::replace(self, Layer::of_run(chunks, newest, made));
        self.index = index;
        self.reindex();
        old
    }

    /// Indexes every entry of the runs afresh.
    fn reindex(&mut self) {
        self.index.clear();
        self.live = 0;
        let runs = std::mem::take(&mut self.runs);
        for entry in runs.iter().flatten() {
            self.index(*entry);
        }
        self.runs = runs;
    }

    /// Merges the newest runs while the older is no more than
    /// `MERGE_RATIO` times the newer.
    fn merge_tail(&mut self) {
        while let [.., older, newer] = &self.runs[..]
            && older.len() <= MERGE_RATIO * newer.len()
        {
            let merged = self.merge(older, newer);
            self.runs.truncate(self.runs.len() - 2);
            self.runs.push(merged);
        }
    }

    /// One sorted run of `older` and `newer`; on a key both hold, `newer`'s.
    fn merge(&self, older: &[Entry], newer: &[Entry]) -> Vec<Entry> {
        let mut merged = Vec::with_capacity(older.len() + newer.len());
        let (mut o, mut n) = (older.iter().peekable(), newer.iter().peekable());
        loop {
            let order = match (o.peek(), n.peek()) {
                (Some(a), Some(b)) => self.chunks.order_entries(a, b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => return merged,
            };
            match order {
                Ordering::Less => merged.extend(o.next()),
                Ordering::Greater => merged.extend(n.next()),
                Ordering::Equal => {
                    o.next();
                    merged.extend(n.next());
                }
            }
        }
    }

    /// Every change, newest per key, sorted by table and key.
    fn all(&self) -> Vec<Entry> {
        let mut runs = self.runs.iter();
        let Some(first) = runs.next() else {
            return Vec::new();
        };
        runs.fold(first.clone(), |older, newer| self.merge(&older, newer))
    }

    /// Writes every change into `txn`.
    pub(crate) fn write_to(&self, txn: &WriteTransaction) -> Result<()> {
        for changes in self.all().chunk_by(|a, b| a.table() == b.table()) {
            let id = changes[0].table();
            if id == META_TABLE {
                self.write_meta(txn, changes)?;
                continue;
            }
            let mut table = txn.open_table(DATA_TABLES[id])?;
            for e in changes {
                match self.chunks.value(e) {
                    Some(v) => table.insert(self.chunks.key(e), v)?,
                    None => table.remove(self.chunks.key(e))?,
                };
            }
        }
        Ok(())
    }

    fn write_meta(&self, txn: &WriteTransaction, changes: &[Entry]) -> Result<()> {
        let mut meta = txn.open_table(tables::META)?;
        for e in changes {
            // Only `Tx::set_meta` writes here: UTF-8 names, 8-byte values.
            let key = std::str::from_utf8(self.chunks.key(e)).unwrap_or_default();
            match self
                .chunks
                .value(e)
                .and_then(|v| <[u8; 8]>::try_from(v).ok())
            {
                Some(v) => meta.insert(key, u64::from_be_bytes(v))?,
                None => meta.remove(key)?,
            };
        }
        Ok(())
    }
}

/// A key and its change (`None`: deleted).
pub(crate) type Change<'a> = (&'a [u8], Option<&'a [u8]>);
