//! Key encoding: every table key starts with the account, so account scoping
//! lives here and nowhere else.
//!
//! Format of a key:
//! ```text
//! account: 4 bytes, big-endian of (device_id as u32 ^ 0x8000_0000), so keys sort by device_id
//! then the components, each one of:
//!   str/bytes (not last): u32 big-endian length, then the bytes
//!   str/bytes (last):     the bytes, unprefixed (so a prefix scan over it is exact)
//!   u32:                  4 bytes big-endian (so ids sort numerically, including >= 2^31)
//! ```
//! Invariants:
//! 1. Two different tuples of components never encode to the same key (lengths
//!    are explicit for every component but the last, which runs to the end).
//! 2. All keys of one account share the 4-byte account prefix, and all keys
//!    of one (account, first components...) share the encoding of those
//!    components as a prefix, so `prefix_range` scans exactly them.

use std::ops::Bound;

/// Builds one key. Start with [`Key::account`], then add components.
#[derive(Debug, Clone)]
pub(crate) struct Key(Vec<u8>);

impl Key {
    /// A key (or prefix) holding only the account.
    pub(crate) fn account(device_id: i32) -> Key {
        let mut buf = Vec::with_capacity(48);
        buf.extend_from_slice(&account_bytes(device_id));
        Key(buf)
    }

    /// Adds a component that other components follow (length-prefixed).
    pub(crate) fn part(mut self, bytes: impl AsRef<[u8]>) -> Key {
        let bytes = bytes.as_ref();
        // Keys longer than 4 GiB cannot reach here: redb caps values and keys well below.
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Adds the last component (unprefixed).
    pub(crate) fn last(mut self, bytes: impl AsRef<[u8]>) -> Key {
        self.0.extend_from_slice(bytes.as_ref());
        self
    }

    /// Adds a u32 as the last component, big-endian so ids sort numerically.
    pub(crate) fn id(mut self, id: u32) -> Key {
        self.0.extend_from_slice(&id.to_be_bytes());
        self
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The exclusive upper bound of [`Key::prefix_range`], if there is one.
    pub(crate) fn prefix_end(&self) -> Option<Vec<u8>> {
        let mut end = self.0.clone();
        while let Some(last) = end.pop() {
            if last != u8::MAX {
                end.push(last + 1);
                return Some(end);
            }
        }
        None
    }
}

pub(crate) fn account_bytes(device_id: i32) -> [u8; 4] {
    ((device_id as u32) ^ 0x8000_0000).to_be_bytes()
}

/// The part of a key after its account and `skip` more bytes.
pub(crate) fn tail(key: &[u8], skip: usize) -> &[u8] {
    &key[(4 + skip).min(key.len())..]
}

/// The u32 id of a key built as `Key::account(..).id(id)` (see `Key::id`).
pub(crate) fn id_of(key: &[u8], what: &'static str) -> crate::error::Result<u32> {
    let id: [u8; 4] = tail(key, 0)
        .try_into()
        .map_err(|_| crate::Error::decode(what, "id key is not account + 4 bytes"))?;
    Ok(u32::from_be_bytes(id))
}

/// Splits a length-prefixed component off the front of `bytes`.
pub(crate) fn split_part(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let rest = &bytes[4..];
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A `[start, end)` byte range over every key beginning with `prefix`.
pub(crate) struct PrefixRange {
    start: Vec<u8>,
    end: Option<Vec<u8>>,
}

impl PrefixRange {
    pub(crate) fn new(prefix: &Key) -> Self {
        PrefixRange {
            start: prefix.as_slice().to_vec(),
            end: prefix.prefix_end(),
        }
    }

    pub(crate) fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (
            Bound::Included(self.start.as_slice()),
            match &self.end {
                Some(end) => Bound::Excluded(end.as_slice()),
                None => Bound::Unbounded,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_sort_by_signed_id() {
        let ids = [i32::MIN, -1, 0, 1, 2, i32::MAX];
        let keys: Vec<_> = ids.iter().map(|&i| account_bytes(i)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn ids_sort_numerically_across_the_sign_bit() {
        let a = Key::account(1).id(5);
        let b = Key::account(1).id(0x8000_0001);
        assert!(a.as_slice() < b.as_slice());
    }

    #[test]
    fn parts_do_not_collide() {
        let a = Key::account(1).part("ab").last("c");
        let b = Key::account(1).part("a").last("bc");
        assert_ne!(a.as_slice(), b.as_slice());
    }

    #[test]
    fn prefix_end_carries_over_ff() {
        let k = Key(vec![1, 0xFF, 0xFF]);
        assert_eq!(k.prefix_end(), Some(vec![2]));
        assert_eq!(Key(vec![0xFF]).prefix_end(), None);
    }

    #[test]
    fn split_part_round_trips_and_rejects_truncation() {
        let k = Key::account(3).part("chat").last("id");
        let (chat, rest) = split_part(tail(k.as_slice(), 0)).unwrap();
        assert_eq!((chat, rest), (&b"chat"[..], &b"id"[..]));
        assert!(split_part(&[0, 0, 0, 9, 1]).is_none());
    }
}
