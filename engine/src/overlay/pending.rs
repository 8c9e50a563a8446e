//! A write transaction's own changes, before they join the overlay: chunks
//! of bytes they are appended to, and a hash index for reading them back
//! (a request reads its own writes: read-modify-write batches look up
//! every key they write).

use std::ops::{Bound, RangeBounds};

use hashbrown::HashTable;

use super::entry::{Chunks, Entry};
use super::layer::{Change, Layer};
use super::{Probe, TableId};

/// A transaction's changes, in the order made.
pub(crate) struct Pending {
    chunks: Chunks<Vec<u8>>,
    /// Every change made; a later change of a key supersedes the earlier.
    entries: Vec<Entry>,
    /// Each key's hash and the index in `entries` of its newest change
    /// (the hash kept so growing the table rehashes no key: rehashing was
    /// a sixth of a 10,000-row batch's instructions).
    newest: HashTable<(u64, usize)>,
}

impl Default for Pending {
    fn default() -> Self {
        Pending::reusing(None)
    }
}

/// A transaction's hash index, emptied, for the next transaction (grown
/// from empty, a 10,000-row batch's index was rehashed a dozen times:
/// 2.5% of its instructions under callgrind), and how many key and value
/// bytes it made: the next one's first chunks are that large, so a steady
/// load of groups allocates one chunk of each per group (from 512 bytes
/// doubling, a group of sixteen 1 KiB sessions took five value chunks).
/// Those chunks may be made ahead, warm ([`SpareIndex::warm_chunks`]).
pub(crate) struct SpareIndex {
    index: HashTable<(u64, usize)>,
    room: (usize, usize),
    /// The next transaction's first chunks, if [`SpareIndex::warm_chunks`]
    /// made them already.
    chunks: Option<Chunks<Vec<u8>>>,
}

impl SpareIndex {
    /// Makes the next transaction's first chunks now and writes them once,
    /// so its appends find them in the CPU's cache: a chunk fresh from the
    /// allocator is memory a reclaim freed long before, and copying a
    /// group's values into it was half of a 16-request group's `apply`
    /// (tmpfs, `round_phases.patch`: 7.4 -> 4.0 us with the chunk warmed
    /// off the path). For a leader to call while the sync thread syncs.
    pub(crate) fn warm_chunks(&mut self) {
        if self.chunks.is_none() {
            self.chunks = Some(Chunks::warmed(self.room));
        }
    }

    /// Where the warmed value chunk's bytes start, for tests.
    #[cfg(test)]
    pub(crate) fn warmed_value_chunk(&self) -> Option<*const u8> {
        self.chunks.as_ref()?.last_value_chunk()
    }
}

/// The largest index kept for the next transaction, in entries.
const SPARE_INDEX_ENTRIES: usize = 1 << 16;

impl Pending {
    /// An empty transaction's changes, with `spare`'s room if given.
    pub(crate) fn reusing(spare: Option<SpareIndex>) -> Pending {
        let (newest, chunks) = match spare {
            Some(SpareIndex {
                index,
                room,
                chunks,
            }) => (index, chunks.unwrap_or_else(|| Chunks::with_room(room))),
            None => (HashTable::new(), Chunks::default()),
        };
        Pending {
            chunks,
            entries: Vec::new(),
            newest,
        }
    }

    /// Records a change (replacing an earlier one of the same key).
    pub(crate) fn put(&mut self, table: TableId, key: &[u8], value: Option<&[u8]>) {
        self.put_probed(&Probe::new(table, key), value);
    }

    /// [`Pending::put`] of a key already hashed (a read-modify-write looked
    /// it up first: hashing it again was ~3% of a message-secret batch's
    /// instructions under callgrind).
    pub(crate) fn put_probed(&mut self, probe: &Probe<'_>, value: Option<&[u8]>) {
        let Pending {
            chunks,
            entries,
            newest,
        } = self;
        let Probe { table, key, hash } = *probe;
        entries.push(chunks.append(table, key, value));
        let index = entries.len() - 1;
        let same = |&(_, i): &(u64, usize)| chunks.order(&entries[i], table, key).is_eq();
        match newest.find_mut(hash, same) {
            Some(slot) => slot.1 = index,
            None => {
                newest.insert_unique(hash, (hash, index), |&(h, _)| h);
            }
        }
    }

    /// The change of `key`, if this transaction made one (`Some(None)`:
    /// deleted).
    pub(crate) fn get(&self, probe: &Probe<'_>) -> Option<Option<&[u8]>> {
        let (_, i) = self.newest.find(probe.hash, |&(_, i)| {
            self.chunks
                .order(&self.entries[i], probe.table, probe.key)
                .is_eq()
        })?;
        Some(self.chunks.value(&self.entries[*i]))
    }

    /// The changes of `table` within `bounds`, in key order.
    pub(crate) fn range(
        &self,
        table: TableId,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
    ) -> Vec<Change<'_>> {
        let mut found: Vec<Change<'_>> = self
            .newest
            .iter()
            .map(|&(_, i)| &self.entries[i])
            .filter(|e| e.table() == table)
            .map(|e| (self.chunks.key(e), self.chunks.value(e)))
            .filter(|(key, _)| RangeBounds::<[u8]>::contains(&bounds, *key))
            .collect();
        found.sort_unstable_by(|a, b| a.0.cmp(b.0));
        found
    }

    /// Where the value chunk appended to last starts, for tests.
    #[cfg(test)]
    pub(crate) fn last_value_chunk(&self) -> Option<*const u8> {
        self.chunks.last_value_chunk()
    }

    /// The changes as a layer: the newest per key, sorted.
    #[cfg(test)]
    pub(crate) fn into_layer(self) -> Layer {
        self.into_parts().0
    }

    /// The changes as a layer, and the index emptied for the next
    /// transaction (unless it grew past [`SPARE_INDEX_ENTRIES`]).
    pub(crate) fn into_parts(self) -> (Layer, Option<SpareIndex>) {
        let Pending {
            chunks,
            entries,
            mut newest,
        } = self;
        let made = entries.len();
        let room = chunks.appended();
        let mut run: Vec<Entry> = if newest.len() == made {
            entries
        } else {
            newest.iter().map(|&(_, i)| entries[i]).collect()
        };
        run.sort_unstable_by(|a, b| chunks.order_entries(a, b));
        let spare = (newest.capacity() <= SPARE_INDEX_ENTRIES).then(|| {
            newest.clear();
            SpareIndex {
                index: newest,
                room,
                chunks: None,
            }
        });
        (Layer::of_run(chunks.share(), run, made), spare)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction appends into the chunks its spare index warmed (the
    /// leader warms them while the sync thread syncs), not into chunks of
    /// its own, and reads its writes back from them.
    #[test]
    fn a_transaction_appends_into_the_chunks_its_spare_warmed() {
        let mut last = Pending::default();
        for k in 0..16_u8 {
            last.put(0, &[k], Some(&[k; 1024]));
        }
        let mut spare = last.into_parts().1.expect("a small index is kept");
        assert_eq!(spare.warmed_value_chunk(), None, "warmed only when asked");
        spare.warm_chunks();
        let warmed = spare.warmed_value_chunk().expect("a value chunk");
        spare.warm_chunks();
        assert_eq!(spare.warmed_value_chunk(), Some(warmed), "warmed once");
        // Chunks of its own would now be none until the first append.
        spare.room = (0, 0);
        let mut next = Pending::reusing(Some(spare));
        assert_eq!(next.last_value_chunk(), Some(warmed));
        next.put(0, b"session", Some(&[7; 1024]));
        assert_eq!(next.last_value_chunk(), Some(warmed));
        let probe = Probe::new(0, b"session");
        assert_eq!(next.get(&probe), Some(Some(&[7_u8; 1024][..])));
        let (layer, _) = next.into_parts();
        assert_eq!(layer.get(&probe), Some(Some(&[7_u8; 1024][..])));
    }
}
