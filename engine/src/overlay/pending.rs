//! A write transaction's own changes, before they join the overlay: one
//! chunk of bytes they are appended to, and a hash index for reading them
//! back (a request reads its own writes: read-modify-write batches look up
//! every key they write).

use std::hash::{BuildHasher, RandomState};
use std::ops::{Bound, RangeBounds};

use hashbrown::HashTable;

use super::TableId;
use super::entry::Entry;
use super::layer::{Change, Layer};

/// A transaction's changes, in the order made.
pub(crate) struct Pending {
    chunk: Vec<u8>,
    /// Every change made; a later change of a key supersedes the earlier.
    entries: Vec<Entry>,
    /// The index in `entries` of each key's newest change.
    newest: HashTable<usize>,
    /// Keyed per transaction: keys come from the network, so a fixed hash
    /// would let crafted keys collide.
    hasher: RandomState,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            chunk: Vec::new(),
            entries: Vec::new(),
            newest: HashTable::new(),
            hasher: RandomState::new(),
        }
    }
}

impl Pending {
    /// Records a change (replacing an earlier one of the same key).
    pub(crate) fn put(&mut self, table: TableId, key: &[u8], value: Option<&[u8]>) {
        let index = self.entries.len();
        self.entries
            .push(Entry::append(&mut self.chunk, 0, table, key, value));
        let hash = self.hasher.hash_one((table, key));
        let Pending {
            chunk,
            entries,
            newest,
            hasher,
        } = self;
        let same = |&i: &usize| entries[i].table() == table && entries[i].key(chunk) == key;
        match newest.find_mut(hash, same) {
            Some(slot) => *slot = index,
            None => {
                newest.insert_unique(hash, index, |&i| {
                    hasher.hash_one((entries[i].table(), entries[i].key(chunk)))
                });
            }
        }
    }

    /// The change of `key`, if this transaction made one (`Some(None)`:
    /// deleted).
    pub(crate) fn get(&self, table: TableId, key: &[u8]) -> Option<Option<&[u8]>> {
        let hash = self.hasher.hash_one((table, key));
        let e = &self.entries[*self.newest.find(hash, |&i| {
            self.entries[i].table() == table && self.entries[i].key(&self.chunk) == key
        })?];
        Some(e.value(&self.chunk))
    }

    /// The changes of `table` within `bounds`, in key order.
    pub(crate) fn range(&self, table: TableId, bounds: (Bound<&[u8]>, Bound<&[u8]>)) -> Vec<Change<'_>> {
        let mut found: Vec<Change<'_>> = self
            .newest
            .iter()
            .map(|&i| &self.entries[i])
            .filter(|e| e.table() == table)
            .map(|e| (e.key(&self.chunk), e.value(&self.chunk)))
            .filter(|(key, _)| RangeBounds::<[u8]>::contains(&bounds, *key))
            .collect();
        found.sort_unstable_by(|a, b| a.0.cmp(b.0));
        found
    }

    /// The changes as a layer: the newest per key, sorted.
    pub(crate) fn into_layer(self) -> Layer {
        let Pending {
            chunk,
            entries,
            newest,
            ..
        } = self;
        let made = entries.len();
        let mut run: Vec<Entry> = if newest.len() == made {
            entries
        } else {
            newest.iter().map(|&i| entries[i]).collect()
        };
        run.sort_unstable_by(|a, b| a.order(&chunk, b.table(), b.key(&chunk)));
        Layer::of_run(chunk, run, made)
    }
}
