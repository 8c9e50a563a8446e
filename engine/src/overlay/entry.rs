//! A change as the overlay keeps it: where its key and value sit in a chunk
//! of bytes. The changes of a transaction are appended to one chunk, so a
//! change costs no allocation of its own (a map of boxed keys and values
//! spent a third of a batch write's time in the allocator).

use std::cmp::Ordering;

use super::TableId;

/// A change of one key of one table: its key, then its value (if any), at
/// `at` in chunk `chunk` of the layer holding it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    at: usize,
    pub(super) chunk: u32,
    table: u32,
    key_len: u32,
    /// [`DELETED`] for a deletion.
    value_len: u32,
}

/// The `value_len` of a deletion. redb refuses values this large, so no
/// value has it.
const DELETED: u32 = u32::MAX;

/// A chunk takes changes until it holds this much; then a new one starts.
/// Small enough for the allocator to serve chunks from its heap and reuse
/// them: one growing buffer per large batch was served by `mmap`, and each
/// batch faulted its pages in afresh (3x the page faults on 1 KiB rows).
const CHUNK_BYTES: usize = 32 * 1024;

impl Entry {
    /// Appends `key` and `value` to the last of `chunks` (a new one once it
    /// holds [`CHUNK_BYTES`]) and returns the entry that points at them.
    pub(super) fn append(
        chunks: &mut Vec<Vec<u8>>,
        table: TableId,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Entry {
        let size = key.len() + value.map_or(0, <[u8]>::len);
        if chunks
            .last()
            .is_none_or(|c| !c.is_empty() && c.len() + size > CHUNK_BYTES)
        {
            chunks.push(Vec::new());
        }
        let id = u32::try_from(chunks.len() - 1).unwrap_or(u32::MAX);
        let chunk = chunks.last_mut().expect("a chunk was just ensured");
        let at = chunk.len();
        chunk.extend_from_slice(key);
        if let Some(value) = value {
            chunk.extend_from_slice(value);
        }
        Entry {
            at,
            chunk: id,
            table: table as u32,
            key_len: length(key.len()),
            value_len: value.map_or(DELETED, |v| length(v.len()).min(DELETED - 1)),
        }
    }

    /// Its key and value bytes.
    pub(super) fn size(&self) -> usize {
        self.key_len as usize
            + if self.value_len == DELETED {
                0
            } else {
                self.value_len as usize
            }
    }

    pub(super) fn table(&self) -> TableId {
        self.table as TableId
    }

    /// Its key, in the chunk it points into.
    pub(super) fn key<'c>(&self, chunk: &'c [u8]) -> &'c [u8] {
        &chunk[self.at..self.at + self.key_len as usize]
    }

    /// Its value (`None`: a deletion), in the chunk it points into.
    pub(super) fn value<'c>(&self, chunk: &'c [u8]) -> Option<&'c [u8]> {
        if self.value_len == DELETED {
            return None;
        }
        let start = self.at + self.key_len as usize;
        Some(&chunk[start..start + self.value_len as usize])
    }

    /// How this entry orders against `(table, key)`: by table, then key.
    pub(super) fn order(&self, chunk: &[u8], table: TableId, key: &[u8]) -> Ordering {
        self.table()
            .cmp(&table)
            .then_with(|| self.key(chunk).cmp(key))
    }
}

/// A key's or value's length as an entry keeps it. Keys and values reach
/// the overlay through redb's limits (under 4 GiB) and the log's u32
/// lengths, so this never saturates in practice.
fn length(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}
