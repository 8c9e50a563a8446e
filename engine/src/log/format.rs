//! The commit log's bytes. Little-endian throughout.
//!
//! ```text
//! file:   header, then records from HEADER_LEN on
//! header: magic "WRSLOG\r\n" (8 bytes), format version: u32, reserved: u32 (0),
//!         epoch: u64 (the database's `meta.log_epoch`: whose log this is)
//! record: body_len: u32, crc32(body): u32, body
//! body:   lsn: u64, changes: u32, then each change:
//!         table_len: u8, table name (UTF-8), key_len: u32, key,
//!         kind: u8 (0 = delete, 1 = put), [value_len: u32, value]
//! jump:   a body of lsn: u64 (the next record's), u32::MAX, target: u64:
//!         the next record is at offset `target`
//! ```
//! A record is whole only if its length fits the file and its checksum
//! matches; the first record that is not whole, or whose LSN does not follow
//! the previous one, ends the log (a torn tail, or older records left from
//! an earlier pass).
//!
//! Versions: 1, the log starts with the record after the checkpoint's LSN;
//! 2 (same bytes), it may start with records the checkpoint already covers
//! (a process-crash-safe checkpoint covers a prefix of the log while
//! writers append, `crate::overlay`); 3, the log is a ring: records go on
//! after a checkpoint's position instead of restarting at `HEADER_LEN`,
//! jumps link its pieces, and the database's `meta.log_pos` says where
//! the records after `meta.log_lsn` start. A build that reads an older
//! version would replay the wrong records from a newer log, so it must
//! refuse it: opening an older log rewrites its header first.

/// The log format this build writes and the newest it reads.
pub(crate) const LOG_FORMAT_VERSION: u32 = 3;
/// Bytes before the first record.
pub(crate) const HEADER_LEN: u64 = 24;
const MAGIC: &[u8; 8] = b"WRSLOG\r\n";
/// Bytes of a record's length and checksum.
pub(crate) const RECORD_PREFIX: usize = 8;
/// The change count that marks a jump.
const JUMP_MARK: u32 = u32::MAX;
/// Bytes of a jump, prefix included.
pub(crate) const JUMP_LEN: u64 = RECORD_PREFIX as u64 + 20;

/// A jump to `target`, where the record `next_lsn` is: sealed as a
/// record is ([`RecordBuf::seal`]), with [`JUMP_MARK`] for its count.
pub(crate) fn jump(next_lsn: u64, target: u64) -> Vec<u8> {
    let mut jump = RecordBuf::new();
    jump.bytes.extend_from_slice(&target.to_le_bytes());
    jump.changes = JUMP_MARK;
    jump.seal(next_lsn);
    jump.bytes
}

/// The header of a log of this build's format for the database whose
/// `meta.log_epoch` is `epoch`.
pub(crate) fn header(epoch: u64) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&LOG_FORMAT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&epoch.to_le_bytes());
    h
}

/// What a header says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// A log this build reads: its format version and epoch.
    Ours(u32, u64),
    /// A log of a newer format.
    Newer(u32),
    /// Not a log header (or too short).
    Foreign,
}

pub(crate) fn parse_header(bytes: &[u8]) -> Header {
    if bytes.len() < HEADER_LEN as usize || &bytes[..8] != MAGIC {
        return Header::Foreign;
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
    let epoch = u64::from_le_bytes(bytes[16..24].try_into().unwrap_or_default());
    if version > LOG_FORMAT_VERSION {
        Header::Newer(version)
    } else {
        Header::Ours(version, epoch)
    }
}

/// A record being built: changes are encoded in place as a transaction
/// makes them, behind room for the record's length, checksum, LSN and
/// count, so sealing it copies nothing.
#[derive(Debug)]
pub(crate) struct RecordBuf {
    bytes: Vec<u8>,
    changes: u32,
}

/// Bytes before the first change: length, checksum, LSN, change count.
const HEAD: usize = RECORD_PREFIX + 12;

impl RecordBuf {
    pub(crate) fn new() -> RecordBuf {
        RecordBuf {
            bytes: vec![0; HEAD],
            changes: 0,
        }
    }

    /// Empty again, keeping its allocation for the next record.
    pub(crate) fn emptied(mut self) -> RecordBuf {
        self.bytes.clear();
        self.bytes.resize(HEAD, 0);
        self.changes = 0;
        self
    }

    /// Bytes it can hold without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Adds a change: `value` is the row's new value, `None` deletes it.
    /// `table` is one of the engine's short table names (< 256 bytes).
    pub(crate) fn push(&mut self, table: &str, key: &[u8], value: Option<&[u8]>) {
        let b = &mut self.bytes;
        b.reserve(10 + table.len() + key.len() + value.map_or(0, |v| 4 + v.len()));
        b.push(table.len() as u8);
        b.extend_from_slice(table.as_bytes());
        b.extend_from_slice(&(key.len() as u32).to_le_bytes());
        b.extend_from_slice(key);
        match value {
            None => b.push(0),
            Some(value) => {
                b.push(1);
                b.extend_from_slice(&(value.len() as u32).to_le_bytes());
                b.extend_from_slice(value);
            }
        }
        self.changes += 1;
    }

    /// The record sealed last, followed by `zeros` zero bytes that are
    /// written with it but are not part of it (`CommitLog::append`).
    pub(crate) fn with_zeros_after(&mut self, zeros: usize) -> &[u8] {
        self.bytes.resize(self.bytes.len() + zeros, 0);
        &self.bytes
    }

    /// Whether no change was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.changes == 0
    }

    /// Fills in the head for `lsn` and returns the whole record.
    pub(crate) fn seal(&mut self, lsn: u64) -> &[u8] {
        let body_len = (self.bytes.len() - RECORD_PREFIX) as u32;
        self.bytes[8..16].copy_from_slice(&lsn.to_le_bytes());
        self.bytes[16..20].copy_from_slice(&self.changes.to_le_bytes());
        let crc = crc32fast::hash(&self.bytes[RECORD_PREFIX..]);
        self.bytes[0..4].copy_from_slice(&body_len.to_le_bytes());
        self.bytes[4..8].copy_from_slice(&crc.to_le_bytes());
        &self.bytes
    }
}

/// The length and checksum of a record, from its first `RECORD_PREFIX` bytes.
pub(crate) fn prefix(bytes: &[u8]) -> (u32, u32) {
    let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap_or_default());
    (word(0), word(4))
}

/// A change as decoded, with the table name as read (checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoggedChange {
    pub table: String,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// What a body whose checksum matched holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// A record: its LSN and changes.
    Record(u64, Vec<LoggedChange>),
    /// A jump: the next record's LSN, and where it is.
    Jump(u64, u64),
}

/// Decodes a body whose checksum matched; `None` if it is malformed (a
/// record that cannot be from this format is treated as the log's end).
pub(crate) fn decode(body: &[u8]) -> Option<Body> {
    if body.len() == 20 && body[8..12] == JUMP_MARK.to_le_bytes() {
        let word = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().unwrap_or_default());
        return Some(Body::Jump(word(0), word(12)));
    }
    decode_body(body).map(|(lsn, changes)| Body::Record(lsn, changes))
}

fn decode_body(body: &[u8]) -> Option<(u64, Vec<LoggedChange>)> {
    let mut rest = body;
    let mut take = |n: usize| -> Option<&[u8]> {
        if rest.len() < n {
            return None;
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    };
    let lsn = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let mut changes = Vec::with_capacity((count as usize).min(body.len() / 10));
    for _ in 0..count {
        let table_len = take(1)?[0] as usize;
        let table = String::from_utf8(take(table_len)?.to_vec()).ok()?;
        let key_len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let key = take(key_len)?.to_vec();
        let value = match take(1)?[0] {
            0 => None,
            1 => {
                let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
                Some(take(len)?.to_vec())
            }
            _ => return None,
        };
        changes.push(LoggedChange { table, key, value });
    }
    if !rest.is_empty() {
        return None;
    }
    Some((lsn, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_checksums_catch_a_flipped_bit() {
        let mut buf = RecordBuf::new();
        assert!(buf.is_empty());
        buf.push("session", b"k", Some(b"v"));
        buf.push("meta", b"write_seq", None);
        let record = buf.seal(42).to_vec();
        let (len, crc) = prefix(&record);
        let body = &record[RECORD_PREFIX..];
        assert_eq!(len as usize, body.len());
        assert_eq!(crc, crc32fast::hash(body));
        let Some(Body::Record(lsn, decoded)) = decode(body) else {
            panic!("not a record")
        };
        assert_eq!(lsn, 42);
        assert_eq!(decoded[0].table, "session");
        assert_eq!(decoded[1].value, None);
        let mut flipped = body.to_vec();
        flipped[9] ^= 1;
        assert_ne!(crc32fast::hash(&flipped), crc);
        assert_eq!(decode(&body[..body.len() - 1]), None);
    }

    #[test]
    fn jumps_round_trip() {
        let j = jump(7, 1 << 40);
        assert_eq!(j.len() as u64, JUMP_LEN);
        let (len, crc) = prefix(&j);
        let body = &j[RECORD_PREFIX..];
        assert_eq!(len as usize, body.len());
        assert_eq!(crc, crc32fast::hash(body));
        assert_eq!(decode(body), Some(Body::Jump(7, 1 << 40)));
    }

    #[test]
    fn headers_are_recognised() {
        assert_eq!(
            parse_header(&header(7)),
            Header::Ours(LOG_FORMAT_VERSION, 7)
        );
        let mut newer = header(7);
        newer[8] = 9;
        assert_eq!(parse_header(&newer), Header::Newer(9));
        assert_eq!(parse_header(b"SQLite format 3\0"), Header::Foreign);
        assert_eq!(parse_header(b"short"), Header::Foreign);
    }
}
