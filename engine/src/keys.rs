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
//! Every table uses one of four layouts, each built and decoded here and
//! nowhere else (`tables.rs` says which table uses which):
//! ```text
//! account:  a                                   the device row, the latest sync key id
//! named:    a, last(name)                       sessions, identities, LID mappings, ...
//! numbered: a, id(n)                            prekeys, signed prekeys
//! sequenced: a, seq(n)                          the cache's write order
//! scoped:   a, part(scope), last(name)          mutation MACs (collection), sender-key
//!                                               devices (group), PN index (phone), base
//!                                               keys (address), sent messages (chat)
//! message:  a, part(chat), part(sender), last(id)   pending inbound, message secrets
//! ```
//! Invariants:
//! 1. Two different tuples of components never encode to the same key (lengths
//!    are explicit for every component but the last, which runs to the end).
//! 2. All keys of one account share the 4-byte account prefix, and all keys
//!    of one (account, first components...) share the encoding of those
//!    components as a prefix, so `prefix_range` scans exactly them.

use std::ops::Bound;

/// Builds one key. Start with [`Key::account`], then add components.
#[derive(Debug)]
pub(crate) struct Key(Vec<u8>);

impl Clone for Key {
    /// Keeps room for the components a clone is usually extended with
    /// (a derived clone has none: each component would reallocate).
    fn clone(&self) -> Key {
        let mut buf = Vec::with_capacity(self.0.len() + KEY_ROOM);
        buf.extend_from_slice(&self.0);
        Key(buf)
    }
}

/// Room a new or cloned key keeps for the components added to it: a
/// scope and a name, or a 32-byte MAC under a collection name (a key that
/// outgrows it is copied once more as it grows).
const KEY_ROOM: usize = 60;

impl Key {
    /// A key (or prefix) holding only the account.
    pub(crate) fn account(device_id: i32) -> Key {
        let mut buf = Vec::with_capacity(ACCOUNT_LEN + KEY_ROOM);
        buf.extend_from_slice(&account_bytes(device_id));
        Key(buf)
    }

    /// `a, last(name)`.
    pub(crate) fn named(self, name: impl AsRef<[u8]>) -> Key {
        self.last(name)
    }

    /// `a, id(n)`: ids sort numerically.
    pub(crate) fn numbered(self, id: u32) -> Key {
        self.id(id)
    }

    /// `a, seq(n)`: a u64, big-endian, so sequence numbers sort numerically.
    pub(crate) fn sequenced(mut self, seq: u64) -> Key {
        self.0.extend_from_slice(&seq.to_be_bytes());
        self
    }

    /// `a, part(scope)`: the prefix of every `scoped` key of `scope`.
    pub(crate) fn scope(self, scope: impl AsRef<[u8]>) -> Key {
        self.part(scope)
    }

    /// `a, part(scope), last(name)`.
    pub(crate) fn scoped(self, scope: impl AsRef<[u8]>, name: impl AsRef<[u8]>) -> Key {
        self.part(scope).last(name)
    }

    /// `a, part(chat), part(sender), last(id)`, after this key (the
    /// account). Allocated at its exact size: message keys outgrow
    /// [`KEY_ROOM`], and growing a clone cost a `realloc` and a copy per
    /// key (11% of `put_msg_secrets`' instructions under callgrind).
    pub(crate) fn message(&self, chat: &str, sender: &str, id: &str) -> Key {
        let mut buf = Vec::with_capacity(self.0.len() + 8 + chat.len() + sender.len() + id.len());
        buf.extend_from_slice(&self.0);
        Key(buf).part(chat).part(sender).last(id)
    }

    /// Adds a component that other components follow (length-prefixed).
    fn part(mut self, bytes: impl AsRef<[u8]>) -> Key {
        let bytes = bytes.as_ref();
        // Keys longer than 4 GiB cannot reach here: redb caps values and keys well below.
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Adds the last component (unprefixed).
    fn last(mut self, bytes: impl AsRef<[u8]>) -> Key {
        self.0.extend_from_slice(bytes.as_ref());
        self
    }

    /// Adds a u32 as the last component, big-endian so ids sort numerically.
    fn id(mut self, id: u32) -> Key {
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

/// The device id of any key (its account prefix).
pub(crate) fn device_id_of(key: &[u8], table: &'static str) -> crate::error::Result<i32> {
    let prefix: [u8; ACCOUNT_LEN] = key
        .get(..ACCOUNT_LEN)
        .and_then(|p| p.try_into().ok())
        .ok_or_else(|| crate::Error::decode(table, "key shorter than an account prefix"))?;
    Ok((u32::from_be_bytes(prefix) ^ 0x8000_0000) as i32)
}

/// Bytes of the account prefix.
const ACCOUNT_LEN: usize = 4;
/// Bytes of a component's length prefix.
const PART_LEN_LEN: usize = 4;

/// Everything after the account prefix (empty for a short key).
fn after_account(key: &[u8]) -> &[u8] {
    key.get(ACCOUNT_LEN..).unwrap_or_default()
}

/// The name of a `named` key.
pub(crate) fn name_of(key: &[u8]) -> &[u8] {
    after_account(key)
}

/// The id of a `numbered` key.
pub(crate) fn id_of(key: &[u8], what: &'static str) -> crate::error::Result<u32> {
    let id: [u8; 4] = after_account(key)
        .try_into()
        .map_err(|_| crate::Error::decode(what, "id key is not account + 4 bytes"))?;
    Ok(u32::from_be_bytes(id))
}

/// The `(scope, name)` of a `scoped` key.
pub(crate) fn scoped_of<'k>(
    key: &'k [u8],
    what: &'static str,
) -> crate::error::Result<(&'k [u8], &'k [u8])> {
    split_part(after_account(key)).ok_or_else(|| crate::Error::decode(what, "truncated key"))
}

/// The `(chat, sender, id)` of a `message` key.
pub(crate) fn message_of<'k>(
    key: &'k [u8],
    what: &'static str,
) -> crate::error::Result<(&'k [u8], &'k [u8], &'k [u8])> {
    let (chat, rest) = scoped_of(key, what)?;
    let (sender, id) =
        split_part(rest).ok_or_else(|| crate::Error::decode(what, "truncated key"))?;
    Ok((chat, sender, id))
}

/// Splits a length-prefixed component off the front of `bytes`.
fn split_part(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(bytes.get(..PART_LEN_LEN)?.try_into().ok()?) as usize;
    let rest = &bytes[PART_LEN_LEN..];
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
    fn layouts_round_trip_and_reject_truncation() {
        let k = Key::account(3).scoped("chat", "id");
        assert_eq!(
            scoped_of(k.as_slice(), "t").unwrap(),
            (&b"chat"[..], &b"id"[..])
        );
        assert!(scoped_of(&[0, 0, 0, 1, 0, 0, 0, 9, 1], "t").is_err());
        assert_eq!(name_of(Key::account(3).named("jid").as_slice()), b"jid");
        assert_eq!(
            id_of(Key::account(3).numbered(7).as_slice(), "t").unwrap(),
            7
        );
        assert!(id_of(&[0, 0], "t").is_err());
        let m = Key::account(3).message("c", "s", "i");
        assert_eq!(
            message_of(m.as_slice(), "t").unwrap(),
            (&b"c"[..], &b"s"[..], &b"i"[..])
        );
        assert!(Key::account(3).scope("chat").as_slice().len() < k.as_slice().len());
        let (early, late) = (
            Key::account(3).sequenced(255),
            Key::account(3).sequenced(256),
        );
        assert!(early.as_slice() < late.as_slice());
    }
}
