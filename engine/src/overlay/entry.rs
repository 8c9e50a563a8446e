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

impl Entry {
    /// Appends `key` and `value` to `chunk` (number `chunk_id`) and returns
    /// the entry that points at them.
    pub(super) fn append(
        chunk: &mut Vec<u8>,
        chunk_id: u32,
        table: TableId,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Entry {
        let at = chunk.len();
        chunk.extend_from_slice(key);
        if let Some(value) = value {
            chunk.extend_from_slice(value);
        }
        Entry {
            at,
            chunk: chunk_id,
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
