//! A change as the overlay keeps it: where its key and value sit in chunks
//! of bytes. A transaction's changes are appended to its chunks, so a
//! change costs no allocation of its own (a map of boxed keys and values
//! spent a third of a batch write's time in the allocator).
//!
//! Keys and values go to chunks of their own: sorting, merging and index
//! lookups compare keys, and keys packed together stay in the CPU's cache
//! where keys between 1 KiB values did not (key comparisons were a fifth
//! of a batch of sessions' time).

use std::cmp::Ordering;

use bytes::Bytes;

use super::TableId;

/// A change of one key of one table: where its key and its value (if
/// any) are in the [`Chunks`] of the layer holding it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    key: Span,
    value: Span,
    table: u32,
}

/// Bytes in one chunk: its index, offset and length.
#[derive(Clone, Copy, Debug)]
struct Span {
    chunk: u32,
    at: u32,
    len: u32,
}

impl Span {
    /// Whether it points into a chunk: a deletion's value and an empty key
    /// or value have none.
    fn in_chunk(&self) -> bool {
        self.len != 0 && self.len != DELETED
    }
}

/// The `len` of a deletion's value. redb refuses values this large, so no
/// value has it.
const DELETED: u32 = u32::MAX;

/// The first chunk of a list holds this much; each next one twice the
/// last, up to [`CHUNK_BYTES`]: a transaction of one small change takes
/// little, a large batch few allocations.
const FIRST_CHUNK: usize = 512;

/// The most a chunk holds, unless one key or value is larger. Small enough
/// for the allocator to serve chunks from its heap and reuse them: one
/// growing buffer per large batch was served by `mmap`, and each batch
/// faulted its pages in afresh (3x the page faults on 1 KiB rows).
const CHUNK_BYTES: usize = 32 * 1024;

/// The chunks entries point into: keys and values apart. `C` is `Vec<u8>`
/// while a transaction appends to them, [`Bytes`] once they are a layer's
/// (shared with its pinned copies, never copied).
#[derive(Clone, Debug)]
pub(super) struct Chunks<C> {
    keys: Vec<C>,
    values: Vec<C>,
}

impl<C> Default for Chunks<C> {
    fn default() -> Self {
        Chunks {
            keys: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<C: AsRef<[u8]>> Chunks<C> {
    /// `entry`'s key.
    pub(super) fn key(&self, entry: &Entry) -> &[u8] {
        slice(&self.keys, entry.key)
    }

    /// `entry`'s value (`None`: a deletion).
    pub(super) fn value(&self, entry: &Entry) -> Option<&[u8]> {
        (entry.value.len != DELETED).then(|| slice(&self.values, entry.value))
    }

    /// How `entry` orders against `(table, key)`: by table, then key.
    pub(super) fn order(&self, entry: &Entry, table: TableId, key: &[u8]) -> Ordering {
        entry
            .table()
            .cmp(&table)
            .then_with(|| self.key(entry).cmp(key))
    }

    /// How `a` orders against `b`, both in these chunks.
    pub(super) fn order_entries(&self, a: &Entry, b: &Entry) -> Ordering {
        self.order(a, b.table(), self.key(b))
    }
}

impl Chunks<Vec<u8>> {
    /// Empty, with a first key chunk and a first value chunk of room for
    /// `(keys, values)` bytes (at most [`CHUNK_BYTES`]; none for 0).
    pub(super) fn with_room((keys, values): (usize, usize)) -> Self {
        let first = |bytes: usize| {
            (bytes > 0)
                .then(|| Vec::with_capacity(bytes.min(CHUNK_BYTES)))
                .into_iter()
                .collect()
        };
        Chunks {
            keys: first(keys),
            values: first(values),
        }
    }

    /// [`Chunks::with_room`], each chunk written once over its whole
    /// capacity (then emptied): the memory is in the CPU's cache when the
    /// appends come soon after.
    pub(super) fn warmed(room: (usize, usize)) -> Self {
        let mut chunks = Chunks::with_room(room);
        for chunk in chunks.keys.iter_mut().chain(&mut chunks.values) {
            chunk.resize(chunk.capacity(), 0);
            chunk.clear();
        }
        chunks
    }

    /// Where the last value chunk's bytes start, for tests.
    #[cfg(test)]
    pub(super) fn last_value_chunk(&self) -> Option<*const u8> {
        self.values.last().map(|chunk| chunk.as_ptr())
    }

    /// The key and value bytes appended.
    pub(super) fn appended(&self) -> (usize, usize) {
        let total = |list: &[Vec<u8>]| list.iter().map(Vec::len).sum();
        (total(&self.keys), total(&self.values))
    }

    /// Appends `key` and `value` and returns the entry that points at them.
    pub(super) fn append(&mut self, table: TableId, key: &[u8], value: Option<&[u8]>) -> Entry {
        let key = push(&mut self.keys, key);
        let value = match value {
            Some(value) => push(&mut self.values, value),
            None => Span {
                chunk: 0,
                at: 0,
                len: DELETED,
            },
        };
        Entry {
            key,
            value,
            table: table as u32,
        }
    }

    /// Shareable, each chunk shrunk to its length: a layer keeps its
    /// chunks until the checkpoint (in place for the allocator: a shrink
    /// splits the block).
    pub(super) fn share(self) -> Chunks<Bytes> {
        let share = |list: Vec<Vec<u8>>| -> Vec<Bytes> {
            list.into_iter()
                .map(|mut chunk| {
                    chunk.shrink_to_fit();
                    Bytes::from(chunk)
                })
                .collect()
        };
        Chunks {
            keys: share(self.keys),
            values: share(self.values),
        }
    }
}

impl Chunks<Bytes> {
    /// Their bytes.
    pub(super) fn bytes(&self) -> usize {
        self.keys.iter().chain(&self.values).map(Bytes::len).sum()
    }

    /// Takes `newer`'s chunks after its own; returns how to move its
    /// entries (`Shift::apply`).
    pub(super) fn extend(&mut self, newer: Chunks<Bytes>) -> Shift {
        let shift = Shift {
            keys: index(self.keys.len()),
            values: index(self.values.len()),
        };
        self.keys.extend(newer.keys);
        self.values.extend(newer.values);
        shift
    }

    /// Chunks holding only what `entries` point at, with `entries`
    /// pointed into them: a value chunk whose bytes are at least
    /// [`KEEP_LIVE`] theirs is kept as it is (shared, not copied); their
    /// values in the other chunks, and all their keys (small), are copied
    /// into fresh chunks. A layer rewriting the same keys leaves chunks
    /// whose values are all replaced: those cost no copy and no fresh
    /// memory (copying every live value faulted in fresh pages for each
    /// byte: 2-7 ms for 5 MB of sessions, on the leading writer's thread).
    pub(super) fn compact(&self, entries: &mut [Entry]) -> Chunks<Bytes> {
        let mut live = vec![0usize; self.values.len()];
        for entry in entries.iter().filter(|e| e.value.in_chunk()) {
            live[entry.value.chunk as usize] += entry.value.len as usize;
        }
        let (kept_num, kept_den) = KEEP_LIVE;
        let mut moved_to = vec![None; self.values.len()];
        let mut values = Vec::new();
        for (i, chunk) in self.values.iter().enumerate() {
            if live[i] > 0 && live[i] * kept_den >= chunk.len() * kept_num {
                moved_to[i] = Some(index(values.len()));
                values.push(chunk.clone());
            }
        }
        let first_fresh = index(values.len());
        let mut fresh = Chunks::<Vec<u8>>::default();
        for entry in entries.iter_mut() {
            entry.key = push(&mut fresh.keys, slice(&self.keys, entry.key));
            if !entry.value.in_chunk() {
                continue;
            }
            entry.value = match moved_to[entry.value.chunk as usize] {
                Some(chunk) => Span {
                    chunk,
                    ..entry.value
                },
                None => {
                    let span = push(&mut fresh.values, slice(&self.values, entry.value));
                    Span {
                        chunk: span.chunk + first_fresh,
                        ..span
                    }
                }
            };
        }
        let fresh = fresh.share();
        values.extend(fresh.values);
        Chunks {
            keys: fresh.keys,
            values,
        }
    }
}

/// How full of live values a chunk must be for a compaction to keep it:
/// 3/4, so a compacted layer holds at most 4/3 of its live bytes and
/// writes several times that before the next.
const KEEP_LIVE: (usize, usize) = (3, 4);

/// How far an entry's chunks moved when their list joined another.
#[derive(Clone, Copy)]
pub(super) struct Shift {
    keys: u32,
    values: u32,
}

impl Shift {
    pub(super) fn apply(self, entry: &mut Entry) {
        entry.key.chunk += self.keys;
        entry.value.chunk += self.values;
    }
}

impl Entry {
    /// Its key and value bytes.
    pub(super) fn size(&self) -> usize {
        self.key.len as usize
            + if self.value.len == DELETED {
                0
            } else {
                self.value.len as usize
            }
    }

    pub(super) fn table(&self) -> TableId {
        self.table as TableId
    }
}

/// Appends `bytes` to the last chunk of `list` (a new one if they do not
/// fit) and says where they are.
fn push(list: &mut Vec<Vec<u8>>, bytes: &[u8]) -> Span {
    let len = index(bytes.len()).min(DELETED - 1);
    if bytes.is_empty() {
        return Span {
            chunk: 0,
            at: 0,
            len,
        };
    }
    if list
        .last()
        .is_none_or(|c| c.len() + bytes.len() > c.capacity())
    {
        // Allocated whole: growing a chunk by doubling copied its bytes
        // about once more and took the allocator's lock at each step.
        let next = list
            .last()
            .map_or(FIRST_CHUNK, |c| 2 * c.capacity())
            .min(CHUNK_BYTES);
        list.push(Vec::with_capacity(next.max(bytes.len())));
    }
    let chunk = index(list.len() - 1);
    let Some(last) = list.last_mut() else {
        unreachable!("a chunk was just ensured")
    };
    let at = index(last.len());
    last.extend_from_slice(bytes);
    Span { chunk, at, len }
}

/// The bytes `span` points at (none for an empty span, which has no chunk).
fn slice<C: AsRef<[u8]>>(list: &[C], span: Span) -> &[u8] {
    if span.len == 0 {
        return &[];
    }
    let at = span.at as usize;
    &list[span.chunk as usize].as_ref()[at..at + span.len as usize]
}

/// A length, offset or index as an entry keeps it. Keys and values reach
/// the overlay through redb's limits (under 4 GiB) and the log's u32
/// lengths, and a chunk holds at most one of them past [`CHUNK_BYTES`], so
/// this never saturates in practice.
fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
