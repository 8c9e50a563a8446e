//! The commit log: an append-only file of checksummed records in front of
//! redb, next to the store file (`<store file>-log`).
//!
//! In the log modes ([`Durability::Immediate`](crate::Durability) and
//! [`Durability::ProcessCrashSafe`](crate::Durability)), for each group of
//! write requests (the writer thread, or a caller on the direct path):
//!
//! 1. the requests are applied to a pending layer over the in-memory
//!    overlay (`crate::overlay`), recording every change they make
//!    (`crate::txn`);
//! 2. one record with those changes (after-images) is appended to the log;
//! 3. the changes join the overlay, visible to readers at once
//!    (`ProcessCrashSafe`) or once the sync thread has `fdatasync`ed the
//!    record (`Immediate`);
//! 4. the callers are answered.
//!
//! A checkpoint (the overlay's changes written to redb in a durable commit
//! that records the LSN they cover in `meta`) runs when the log or the
//! overlay holds `checkpoint_bytes` or `checkpoint_interval` has passed
//! since the first record after the last one; once one covers every
//! record, the next record goes to the start of the log again. Recovery on
//! open skips the records a checkpoint covers and replays the rest in one
//! durable transaction; the first record that is torn (short or failing its
//! checksum) or out of sequence ends the log.
//!
//! Invariants:
//! 1. A record is written before its changes become visible: a reader
//!    never sees a write the log does not hold (and in `Immediate` mode,
//!    one a crash can take back).
//! 2. Records are after-images, so replaying one that redb already holds
//!    changes nothing.
//! 3. The log is only rewritten from its start after a durable checkpoint
//!    covers every record in it.

pub(crate) mod format;
mod journal;

pub(crate) use journal::Journal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{StorageBackend, TableHandle};

use crate::error::{Error, Result};
use crate::tables;
use format::{HEADER_LEN, Header, LOG_FORMAT_VERSION, LoggedChange, RECORD_PREFIX};

/// The commit log's file for the store file at `store` (`<store>-log`):
/// back it up with the store, or use `RedbStore::backup`, which needs none.
pub fn path_for(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-log");
    PathBuf::from(name)
}

/// The epoch a log's header names, if it is a log of this format with a
/// header (`None`: empty, never written, newer or foreign; `open` says which).
pub(crate) fn epoch_of(storage: &dyn StorageBackend) -> std::io::Result<Option<u64>> {
    if storage.len()? < HEADER_LEN {
        return Ok(None);
    }
    let mut header = [0u8; HEADER_LEN as usize];
    storage.read(0, &mut header)?;
    Ok(match format::parse_header(&header) {
        Header::Ours(_, epoch) if header != [0u8; HEADER_LEN as usize] => Some(epoch),
        _ => None,
    })
}

/// Records to replay at open: `(lsn, changes)`, in order.
pub(crate) type Replay = Vec<(u64, Vec<LoggedChange>)>;

/// The open commit log.
pub(crate) struct CommitLog {
    /// Shared with the writer's sync thread, which `fdatasync`s it while
    /// the next records are appended (`crate::writer`).
    storage: Arc<dyn StorageBackend>,
    /// Where the next record goes.
    pos: u64,
    /// The LSN of the last record appended, or of the last checkpoint.
    last_lsn: u64,
    /// The storage's length: it grows in `GROWTH` steps of written zeros
    /// (which end a scan), so appends overwrite allocated blocks and their
    /// `fdatasync` has no block allocation or size change to write (on ext4
    /// a sync after writing into a hole or an unwritten extent was 20-30%
    /// slower here).
    capacity: u64,
    label: PathBuf,
}

/// How much the log file grows when a record does not fit.
const GROWTH: u64 = 1 << 20;

impl CommitLog {
    /// Opens the log on `storage`, writing a header into an empty one.
    /// Returns it with the records to replay after `checkpoint_lsn`; the
    /// next record is written after them.
    /// A log whose header names another epoch (the log of another
    /// incarnation of the file: a restored backup, a copy) is not replayed:
    /// the caller sets it aside first (`epoch_of`).
    pub(crate) fn open(
        storage: Box<dyn StorageBackend>,
        checkpoint_lsn: u64,
        epoch: u64,
        label: PathBuf,
    ) -> Result<(CommitLog, Replay)> {
        let io = |what: &str| {
            let what = format!("{what} the commit log {}", label.display());
            move |e| Error::io(what, e)
        };
        let len = storage.len().map_err(io("reading"))?;
        let mut header = [0u8; HEADER_LEN as usize];
        if len >= HEADER_LEN {
            storage.read(0, &mut header).map_err(io("reading"))?;
        }
        // Short, or a header never written (creation cut short: the header
        // is written and synced before any record): start a new log.
        if len < HEADER_LEN || header == [0u8; HEADER_LEN as usize] {
            let mut first = vec![0u8; GROWTH as usize];
            first[..HEADER_LEN as usize].copy_from_slice(&format::header(epoch));
            storage.set_len(GROWTH).map_err(io("creating"))?;
            storage.write(0, &first).map_err(io("creating"))?;
            storage.sync_data().map_err(io("creating"))?;
            let log = CommitLog {
                storage: Arc::from(storage),
                pos: HEADER_LEN,
                last_lsn: checkpoint_lsn,
                capacity: GROWTH,
                label,
            };
            return Ok((log, Vec::new()));
        }
        match format::parse_header(&header) {
            Header::Ours(version, found) if found == epoch => {
                if version < LOG_FORMAT_VERSION {
                    // Before anything is appended (see `format`'s versions).
                    storage
                        .write(0, &format::header(epoch))
                        .and_then(|()| storage.sync_data())
                        .map_err(io("upgrading"))?;
                }
            }
            Header::Ours(_, found) => {
                return Err(Error::Database(format!(
                    "internal: the commit log {} belongs to epoch {found}, the database to {epoch}",
                    label.display()
                )));
            }
            Header::Newer(found) => {
                return Err(Error::NewerLogFormat {
                    path: label,
                    found,
                    supported: LOG_FORMAT_VERSION,
                });
            }
            Header::Foreign => return Err(Error::ForeignLog { path: label }),
        }
        let (replay, end) = scan(&*storage, len, checkpoint_lsn).map_err(io("reading"))?;
        let last_lsn = replay.last().map_or(checkpoint_lsn, |(lsn, _)| *lsn);
        let log = CommitLog {
            storage: Arc::from(storage),
            pos: end,
            last_lsn,
            capacity: len,
            label,
        };
        Ok((log, replay))
    }

    /// Writes a record of `changes` at the end of the log (to the OS; not
    /// synced) and returns its LSN.
    pub(crate) fn append(&mut self, changes: &mut format::RecordBuf) -> Result<u64> {
        let lsn = self.last_lsn + 1;
        let record = changes.seal(lsn);
        let end = self.pos + record.len() as u64;
        if end > self.capacity {
            self.grow(end.max(self.capacity + GROWTH))?;
        }
        self.storage
            .write(self.pos, record)
            .map_err(|e| self.error("appending to", e))?;
        self.pos += record.len() as u64;
        self.last_lsn = lsn;
        Ok(lsn)
    }

    /// Extends the file to `capacity` with written zeros (see `capacity`).
    fn grow(&mut self, capacity: u64) -> Result<()> {
        let zeros = vec![0u8; (capacity - self.capacity) as usize];
        self.storage
            .set_len(capacity)
            .and_then(|()| self.storage.write(self.capacity, &zeros))
            .map_err(|e| self.error("growing", e))?;
        self.capacity = capacity;
        Ok(())
    }

    /// A handle that syncs the log from another thread.
    pub(crate) fn syncer(&self) -> LogSyncer {
        LogSyncer {
            storage: self.storage.clone(),
            label: self.label.clone(),
        }
    }

    /// After a failed `append`: zeroes the prefix where the record was
    /// going (best effort: the journal refuses writes from now on, and a
    /// partly written record fails its checksum anyway), so a record the
    /// OS did take whole is not replayed for a caller told it failed.
    pub(crate) fn discard_unfinished(&mut self) {
        if self.pos + RECORD_PREFIX as u64 <= self.capacity {
            let _ = self.storage.write(self.pos, &[0u8; RECORD_PREFIX]);
        }
    }

    /// The LSN of the last record appended.
    pub(crate) fn last_lsn(&self) -> u64 {
        self.last_lsn
    }

    /// Bytes of records written since the last checkpoint.
    pub(crate) fn bytes_since_checkpoint(&self) -> u64 {
        self.pos - HEADER_LEN
    }

    /// A durable checkpoint now covers every record: write the next one at
    /// the start (invariant 3).
    pub(crate) fn checkpointed(&mut self) {
        self.pos = HEADER_LEN;
    }

    fn error(&self, what: &str, e: std::io::Error) -> Error {
        log_error(&self.label, what, e)
    }
}

/// Syncs the commit log from the writer's sync thread while the writer
/// thread appends: a sync covers every record whose append returned before
/// it started.
pub(crate) struct LogSyncer {
    storage: Arc<dyn StorageBackend>,
    label: PathBuf,
}

impl LogSyncer {
    /// `fdatasync`s the log.
    pub(crate) fn sync(&self) -> Result<()> {
        self.storage
            .sync_data()
            .map_err(|e| log_error(&self.label, "syncing", e))
    }
}

/// An I/O error on the commit log at `label`, saying what failed.
fn log_error(label: &Path, what: &str, e: std::io::Error) -> Error {
    Error::io(format!("{what} the commit log {}", label.display()), e)
}

/// Applies `replay` to `db` in one durable transaction that also records
/// its last LSN as the checkpoint (records are after-images: invariant 2).
pub(crate) fn apply_replay(db: &redb::Database, replay: &Replay) -> Result<()> {
    let Some((last, _)) = replay.last() else {
        return Ok(());
    };
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    for (lsn, changes) in replay {
        for change in changes {
            apply_change(&txn, *lsn, change)?;
        }
    }
    txn.open_table(tables::META)?
        .insert(tables::META_LOG_LSN, *last)?;
    txn.commit()?;
    Ok(())
}

fn apply_change(txn: &redb::WriteTransaction, lsn: u64, change: &LoggedChange) -> Result<()> {
    let bad = |reason: String| Error::Decode {
        record: "commit log",
        reason: format!("record {lsn}: {reason}"),
    };
    if change.table == tables::META.name() {
        let key =
            std::str::from_utf8(&change.key).map_err(|_| bad("a meta key is not UTF-8".into()))?;
        let mut meta = txn.open_table(tables::META)?;
        match &change.value {
            Some(v) => {
                let value: [u8; 8] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad("a meta value is not 8 bytes".into()))?;
                meta.insert(key, u64::from_be_bytes(value))?;
            }
            None => {
                meta.remove(key)?;
            }
        }
        return Ok(());
    }
    let table = tables::DATA_TABLES
        .iter()
        .find(|t| t.name() == change.table)
        .ok_or_else(|| bad(format!("table {:?} is unknown to this build", change.table)))?;
    let mut table = txn.open_table(*table)?;
    match &change.value {
        Some(v) => {
            table.insert(change.key.as_slice(), v.as_slice())?;
        }
        None => {
            table.remove(change.key.as_slice())?;
        }
    }
    Ok(())
}

/// The records to replay, read one at a time from the start of the log
/// (a clean log costs one short read), and where they end (the next record
/// goes there). The log holds consecutive LSNs from its start: a checkpoint
/// covering all of it restarts it there (invariant 3), one covering a
/// prefix leaves it (`crate::overlay`), so the first record's LSN is at most
/// `checkpoint_lsn + 1` and records up to `checkpoint_lsn` are skipped;
/// a first record past that is older and already in redb (left from before
/// a restart).
fn scan(
    storage: &dyn StorageBackend,
    len: u64,
    checkpoint_lsn: u64,
) -> std::io::Result<(Replay, u64)> {
    let mut replay = Vec::new();
    let mut pos = HEADER_LEN;
    // The LSN the next record must carry, once the first is read.
    let mut expected: Option<u64> = None;
    let mut prefix = [0u8; RECORD_PREFIX];
    while pos + RECORD_PREFIX as u64 <= len {
        storage.read(pos, &mut prefix)?;
        let (body_len, crc) = format::prefix(&prefix);
        let start = pos + RECORD_PREFIX as u64;
        if body_len < 12 || start + u64::from(body_len) > len {
            break;
        }
        let mut body = vec![0u8; body_len as usize];
        storage.read(start, &mut body)?;
        if crc32fast::hash(&body) != crc {
            break;
        }
        let Some((lsn, changes)) = format::decode_body(&body) else {
            break;
        };
        let follows = match expected {
            Some(expected) => lsn == expected,
            None => lsn <= checkpoint_lsn + 1,
        };
        if !follows {
            break;
        }
        if lsn > checkpoint_lsn {
            replay.push((lsn, changes));
        }
        expected = Some(lsn + 1);
        pos = start + u64::from(body_len);
    }
    Ok((replay, pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::backends::InMemoryBackend;

    fn change(key: &str) -> format::RecordBuf {
        let mut record = format::RecordBuf::new();
        record.push("session", key.as_bytes(), Some(b"v"));
        record
    }

    /// A storage that shares its bytes, so a log can be reopened over it.
    #[derive(Debug, Clone, Default)]
    struct Shared(std::sync::Arc<InMemoryBackend>);

    impl StorageBackend for Shared {
        fn len(&self) -> std::io::Result<u64> {
            self.0.len()
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
            self.0.read(offset, out)
        }
        fn set_len(&self, len: u64) -> std::io::Result<()> {
            self.0.set_len(len)
        }
        fn sync_data(&self) -> std::io::Result<()> {
            self.0.sync_data()
        }
        fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            self.0.write(offset, data)
        }
    }

    fn reopen(disk: &Shared, checkpoint: u64) -> (CommitLog, Replay) {
        CommitLog::open(Box::new(disk.clone()), checkpoint, 1, "log".into()).unwrap()
    }

    #[test]
    fn replays_what_follows_the_checkpoint_and_drops_a_torn_tail() {
        let disk = Shared::default();
        let (mut log, replay) = reopen(&disk, 0);
        assert!(replay.is_empty());
        for key in ["a", "b", "c"] {
            log.append(&mut change(key)).unwrap();
        }
        let end = log.pos;
        drop(log);
        let (_, replay) = reopen(&disk, 0);
        let lsns: Vec<u64> = replay.iter().map(|(lsn, _)| *lsn).collect();
        assert_eq!(lsns, [1, 2, 3]);
        // Records a checkpoint covered are not replayed.
        let (_, replay) = reopen(&disk, 3);
        assert!(replay.is_empty());
        // Tear the last record: it is dropped; the next append goes there.
        disk.write(end - 1, &[0xAA]).unwrap();
        let (mut log, replay) = reopen(&disk, 0);
        assert_eq!(replay.len(), 2);
        assert_eq!(log.append(&mut change("d")).unwrap(), 3);
    }

    #[test]
    fn after_a_checkpoint_older_records_are_not_replayed() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        for key in ["a", "b", "c"] {
            log.append(&mut change(key)).unwrap();
        }
        log.checkpointed();
        log.append(&mut change("d")).unwrap(); // LSN 4, over LSN 1
        drop(log);
        let (_, replay) = reopen(&disk, 3);
        assert_eq!(replay.len(), 1);
        assert_eq!(replay[0].0, 4);
        // The checkpoint itself lost nothing to replay.
        let (_, replay) = reopen(&disk, 4);
        assert!(replay.is_empty());
    }

    #[test]
    fn an_erased_record_is_not_replayed_and_newer_or_foreign_logs_are_refused() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        log.append(&mut change("a")).unwrap();
        log.append(&mut change("c")).unwrap();
        // A record erased as earlier builds did after a failed commit (its
        // length and checksum zeroed), or by `discard_unfinished`.
        let erased = log.pos;
        log.append(&mut change("e")).unwrap();
        disk.write(erased, &[0u8; RECORD_PREFIX]).unwrap();
        drop(log);
        let (_, replay) = reopen(&disk, 0);
        assert_eq!(replay.len(), 2);
        assert_eq!(replay[1].1[0].key, b"c");

        let newer = Shared::default();
        newer.set_len(64).unwrap();
        let mut header = format::header(1);
        header[8..12].copy_from_slice(&(LOG_FORMAT_VERSION + 1).to_le_bytes());
        newer.write(0, &header).unwrap();
        let err = CommitLog::open(Box::new(newer), 0, 1, "log".into())
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::NewerLogFormat { found, .. } if found == LOG_FORMAT_VERSION + 1),
            "{err}"
        );
        let foreign = Shared::default();
        foreign.set_len(64).unwrap();
        foreign.write(0, b"SQLite format 3\0 and more").unwrap();
        let err = CommitLog::open(Box::new(foreign), 0, 1, "log".into())
            .err()
            .unwrap();
        assert!(matches!(err, Error::ForeignLog { .. }), "{err}");
    }

    #[test]
    fn a_checkpoint_covering_a_prefix_replays_only_the_rest() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        for key in ["a", "b", "c", "d"] {
            log.append(&mut change(key)).unwrap();
        }
        drop(log);
        // A checkpoint covered records 1 and 2 while 3 and 4 were appended.
        let (_, replay) = reopen(&disk, 2);
        let keys: Vec<_> = replay.iter().map(|(_, c)| c[0].key.clone()).collect();
        assert_eq!(keys, [b"c".to_vec(), b"d".to_vec()]);
        assert_eq!(replay[0].0, 3);
        // One covering all of it replays nothing.
        let (_, replay) = reopen(&disk, 4);
        assert!(replay.is_empty());
    }

    #[test]
    fn a_version_1_log_is_replayed_and_upgraded_before_anything_is_appended() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        log.append(&mut change("a")).unwrap();
        drop(log);
        let mut header = [0u8; HEADER_LEN as usize];
        disk.read(0, &mut header).unwrap();
        header[8..12].copy_from_slice(&1u32.to_le_bytes());
        disk.write(0, &header).unwrap();
        let (_, replay) = reopen(&disk, 0);
        assert_eq!(replay.len(), 1);
        disk.read(0, &mut header).unwrap();
        assert_eq!(
            format::parse_header(&header),
            format::Header::Ours(LOG_FORMAT_VERSION, 1)
        );
    }
}
