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
//! that records in `meta` the LSN they cover and the log position where
//! the records after it start) runs when the log or the overlay holds
//! `checkpoint_bytes` or `checkpoint_interval` has passed since the first
//! record after the last one. The log is a ring: space before the oldest
//! record a checkpoint does not cover is written again, a jump linking the
//! end of one piece to the next, and the file grows only when no such
//! space is free. Writers therefore never wait for a checkpoint to restart
//! the log (before the ring, a log twice `checkpoint_bytes` long made them
//! wait for one covering all of it: stalls of ~85 ms under a sustained
//! batch load). Recovery on open replays the records from the checkpoint's
//! position, following jumps, in one durable transaction; the first record
//! that is torn (short or failing its checksum) or out of sequence ends
//! the log.
//!
//! Invariants:
//! 1. A record is written before its changes become visible: a reader
//!    never sees a write the log does not hold (and in `Immediate` mode,
//!    one a crash can take back).
//! 2. Records are after-images, so replaying one that redb already holds
//!    changes nothing.
//! 3. A record is only written over once a durable checkpoint covers it:
//!    the uncovered records are the pieces in `CommitLog::pieces`.
//! 4. The log restarts at `HEADER_LEN` only behind a durable commit of
//!    `meta.log_pos = HEADER_LEN` with nothing written after it (a
//!    checkpoint covering everything with writers held, or recovery).

pub(crate) mod format;
mod journal;

pub(crate) use journal::Journal;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{StorageBackend, TableHandle};

use crate::error::{Error, Result};
use crate::tables;
use format::{Body, HEADER_LEN, Header, JUMP_LEN, LOG_FORMAT_VERSION, LoggedChange, RECORD_PREFIX};

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
    /// The storage's length: it grows in `growth` steps of written zeros
    /// (which end a scan), so appends overwrite allocated blocks and their
    /// `fdatasync` has no block allocation or size change to write (on ext4
    /// a sync after writing into a hole or an unwritten extent was 20-30%
    /// slower here).
    capacity: u64,
    /// The spans holding records no checkpoint covers yet, oldest first,
    /// jumps included; the last one ends at `pos` (invariant 3).
    pieces: VecDeque<Piece>,
    /// How much the file grows when no space is free ([`growth_for`]).
    growth: u64,
    label: PathBuf,
}

/// A span of the log file: `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    start: u64,
    end: u64,
}

impl Piece {
    fn at(pos: u64) -> Piece {
        Piece {
            start: pos,
            end: pos,
        }
    }
}

/// How much the log file grows when no space is free for a record, for
/// checkpoints every `checkpoint_bytes`: a quarter of that, from 4 KiB to
/// 1 MiB. Checkpoints free space as fast as records take it, so the file
/// settles at a few times `checkpoint_bytes` (and small checkpoints, as in
/// the fault sweep, make the ring wrap often).
pub(crate) fn growth_for(checkpoint_bytes: u64) -> u64 {
    (checkpoint_bytes / 4).clamp(4 << 10, 1 << 20)
}

/// The OS's page, as far as the log's writes are concerned.
const LOG_PAGE_BYTES: u64 = 4096;

/// How much of the log's fresh space [`write_in_pieces`] writes at a time.
const FRESH_PIECE_BYTES: usize = 32 * 1024;

/// Writes `data` at `offset` in pieces of [`FRESH_PIECE_BYTES`]. The log's
/// space is written once as zeros, then overwritten by records, and Linux
/// (ext4 since 6.16) caches it in folios as large as those first writes:
/// each later record's `write` and `fdatasync` walks every block of the
/// folios it touches. Appending a record + `fdatasync` into space written
/// in 1 MiB calls, against 32 KiB ones, here: 1 KiB records 52.7 against
/// 43.2 us, 17 KiB 60.3 against 53.0 us, 100 KiB 110.0 against 94.0 us
/// (4 KiB pieces, another run: 49, 62 and 139 us: folios of one page
/// slow large records). `benches/experiments/log_folios.c` measures it.
fn write_in_pieces(storage: &dyn StorageBackend, offset: u64, data: &[u8]) -> std::io::Result<()> {
    let mut at = offset;
    for piece in data.chunks(FRESH_PIECE_BYTES) {
        storage.write(at, piece)?;
        at += piece.len() as u64;
    }
    Ok(())
}

impl CommitLog {
    /// Opens the log on `storage`, writing a header into an empty one.
    /// Returns it with the records to replay after `checkpoint_lsn`, read
    /// from `checkpoint_pos` (`meta.log_pos`; `None` for a database that
    /// has none yet: from the start). The caller makes them durable and
    /// then `restart`s the log.
    /// A log whose header names another epoch (the log of another
    /// incarnation of the file: a restored backup, a copy) is not replayed:
    /// the caller sets it aside first (`epoch_of`).
    pub(crate) fn open(
        storage: Box<dyn StorageBackend>,
        checkpoint_lsn: u64,
        checkpoint_pos: Option<u64>,
        epoch: u64,
        growth: u64,
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
            let mut first = vec![0u8; growth as usize];
            first[..HEADER_LEN as usize].copy_from_slice(&format::header(epoch));
            storage.set_len(growth).map_err(io("creating"))?;
            write_in_pieces(storage.as_ref(), 0, &first).map_err(io("creating"))?;
            storage.sync_data().map_err(io("creating"))?;
            let log = CommitLog {
                storage: Arc::from(storage),
                pos: HEADER_LEN,
                last_lsn: checkpoint_lsn,
                capacity: growth,
                pieces: VecDeque::from([Piece::at(HEADER_LEN)]),
                growth,
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
        let replay = scan(&*storage, len, checkpoint_lsn, checkpoint_pos).map_err(io("reading"))?;
        let last_lsn = replay.last().map_or(checkpoint_lsn, |(lsn, _)| *lsn);
        // Until the caller restarts the log, records go after everything
        // in the file: never over the records just read.
        let log = CommitLog {
            storage: Arc::from(storage),
            pos: len,
            last_lsn,
            capacity: len,
            pieces: VecDeque::from([Piece {
                start: HEADER_LEN,
                end: len,
            }]),
            growth,
            label,
        };
        Ok((log, replay))
    }

    /// Writes a record of `changes` (to the OS; not synced) and returns its
    /// LSN: at `pos` if it fits before the next uncovered piece or the end
    /// of the file (with room left for a jump), else after a jump to the
    /// start of the file if that much is free there, else to the end of the
    /// grown file.
    pub(crate) fn append(&mut self, changes: &mut format::RecordBuf) -> Result<u64> {
        let lsn = self.last_lsn + 1;
        let len = changes.seal(lsn).len() as u64;
        let need = len + JUMP_LEN;
        if self.pos + need > self.limit() {
            self.make_room(lsn, need)?;
        }
        let zeros = self.zeros_after(self.pos + len);
        self.storage
            .write(self.pos, changes.with_zeros_after(zeros))
            .map_err(|e| self.error("appending to", e))?;
        self.pos += len;
        self.last_lsn = lsn;
        if let Some(last) = self.pieces.back_mut() {
            last.end = self.pos;
        }
        Ok(lsn)
    }

    /// How many zeros to write after a record ending at `end`: up to the
    /// end of its last page, within free space. The page is then written
    /// whole the first time: a write covering part of a page the OS no
    /// longer caches (after a restart, or evicted once synced) first reads
    /// it from the disk, on the caller's thread (1 KiB records + `fdatasync`
    /// into space evicted with `POSIX_FADV_DONTNEED`: 58.5 us against 52.1
    /// us cached, and 51.2 us written with these zeros, here:
    /// `benches/experiments/log_folios.c`). The ring's next pages are the
    /// ones it wrote longest ago, the first evicted under memory pressure.
    /// The next record overwrites the zeros.
    fn zeros_after(&self, end: u64) -> usize {
        let page_end = end.next_multiple_of(LOG_PAGE_BYTES);
        page_end.min(self.limit()).saturating_sub(end) as usize
    }

    /// Where free space after `pos` ends: the next uncovered piece after
    /// it, or the end of the file.
    fn limit(&self) -> u64 {
        self.pieces
            .iter()
            .rev()
            .skip(1)
            .filter(|p| p.start < p.end)
            .map(|p| p.start)
            .filter(|&start| start >= self.pos)
            .fold(self.capacity, u64::min)
    }

    /// Makes room for `need` bytes: a jump at `pos` to the start of the
    /// file if that much is free there; else the file grows, and if records
    /// follow `pos` (the ring has wrapped), a jump to the grown space.
    fn make_room(&mut self, next_lsn: u64, need: u64) -> Result<()> {
        // The start of the file is free up to the first uncovered byte (the
        // jump itself will sit at `pos`).
        let free_from_start = self
            .pieces
            .iter()
            .filter(|p| p.start < p.end)
            .map(|p| p.start)
            .fold(self.pos, u64::min);
        let wrapped = self.limit() < self.capacity;
        let target = if free_from_start >= HEADER_LEN + need {
            HEADER_LEN
        } else {
            let from = if wrapped { self.capacity } else { self.pos };
            self.grow((from + need).max(self.capacity + self.growth))?;
            if !wrapped {
                return Ok(());
            }
            from
        };
        self.storage
            .write(self.pos, &format::jump(next_lsn, target))
            .map_err(|e| self.error("appending to", e))?;
        if let Some(last) = self.pieces.back_mut() {
            last.end = self.pos + JUMP_LEN;
        }
        self.pieces.retain(|p| p.start < p.end);
        self.pieces.push_back(Piece::at(target));
        self.pos = target;
        Ok(())
    }

    /// Extends the file to `capacity` with written zeros (see `capacity`).
    fn grow(&mut self, capacity: u64) -> Result<()> {
        let zeros = vec![0u8; (capacity - self.capacity) as usize];
        self.storage
            .set_len(capacity)
            .and_then(|()| write_in_pieces(self.storage.as_ref(), self.capacity, &zeros))
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

    /// Where the record after the last one goes: a checkpoint covering
    /// every record so far records it, so recovery reads from there.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes of records (and jumps) no checkpoint covers.
    pub(crate) fn uncovered_bytes(&self) -> u64 {
        self.pieces.iter().map(|p| p.end - p.start).sum()
    }

    /// A durable checkpoint now covers every record before `pos` (a
    /// position `position` returned): that space may be written again.
    pub(crate) fn covered_up_to(&mut self, pos: u64) {
        while let Some(oldest) = self.pieces.front_mut() {
            if (oldest.start..=oldest.end).contains(&pos) {
                oldest.start = pos;
                return;
            }
            if self.pieces.len() == 1 {
                // Not a position of this log's records: keep all of them.
                debug_assert!(false, "covered_up_to({pos}) outside the log's records");
                return;
            }
            self.pieces.pop_front();
        }
    }

    /// A durable commit records `meta.log_pos = HEADER_LEN` and covers
    /// every record: write the next one at the start (invariant 4).
    pub(crate) fn restart(&mut self) {
        self.pos = HEADER_LEN;
        self.pieces = VecDeque::from([Piece::at(HEADER_LEN)]);
    }

    /// Restarts after recovery, where the checkpoint recorded `lsn`
    /// (`apply_replay`).
    pub(crate) fn restart_after_recovery(&mut self, lsn: u64) {
        self.last_lsn = lsn;
        self.restart();
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

/// LSNs skipped each time the store opens: after a crash, a record of the
/// lost tail (written, never synced, kept by the disk while an earlier one
/// was lost or torn) may still sit in the file with the LSN a new record
/// would take, right where the new record's successor would go; new records
/// carry LSNs it can never have, so a scan never takes it for one. Every
/// open pays for it (one durable commit), since nothing in the file tells a
/// clean close from a crash that lost every record after the last restart.
pub(crate) const LSN_GAP_AT_OPEN: u64 = 1 << 32;

/// Applies `replay` to `db` in one durable transaction that also records
/// its last LSN (or `checkpoint_lsn`), plus [`LSN_GAP_AT_OPEN`], as the
/// checkpoint, with the log to restart at its start (records are
/// after-images: invariant 2). Returns the LSN recorded, which the log
/// goes on from.
pub(crate) fn apply_replay(
    db: &redb::Database,
    replay: &Replay,
    checkpoint_lsn: u64,
) -> Result<u64> {
    let last = replay.last().map_or(checkpoint_lsn, |(lsn, _)| *lsn);
    let last = last.saturating_add(LSN_GAP_AT_OPEN);
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::Immediate)?;
    for (lsn, changes) in replay {
        for change in changes {
            apply_change(&txn, *lsn, change)?;
        }
    }
    let mut meta = txn.open_table(tables::META)?;
    meta.insert(tables::META_LOG_LSN, last)?;
    meta.insert(tables::META_LOG_POS, HEADER_LEN)?;
    drop(meta);
    txn.commit()?;
    Ok(last)
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

/// The records to replay, read one at a time from `from` (`meta.log_pos`),
/// following jumps (a clean log costs one short read). The first must be
/// the record after `checkpoint_lsn`, and each the one after the last.
/// Without a position (a database from before the ring), the log is read
/// from its start, whose first record's LSN is at most `checkpoint_lsn + 1`
/// (a checkpoint may cover a prefix of it; a first record past that is
/// older and already in redb, left from before a restart); records up to
/// `checkpoint_lsn` are skipped.
fn scan(
    storage: &dyn StorageBackend,
    len: u64,
    checkpoint_lsn: u64,
    from: Option<u64>,
) -> std::io::Result<Replay> {
    let mut replay = Vec::new();
    let mut pos = from.unwrap_or(HEADER_LEN);
    // The LSN the next record must carry, once known.
    let mut expected = from.map(|_| checkpoint_lsn + 1);
    let mut prefix = [0u8; RECORD_PREFIX];
    // A jump moves the scan to a span it has not read: at most as many as
    // the file has records, but bounded against a cycle of stale jumps.
    let mut jumps_left = len / JUMP_LEN;
    while pos >= HEADER_LEN && pos + RECORD_PREFIX as u64 <= len {
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
        let Some(body) = format::decode(&body) else {
            break;
        };
        let lsn = match &body {
            Body::Record(lsn, _) | Body::Jump(lsn, _) => *lsn,
        };
        let follows = match expected {
            Some(expected) => lsn == expected,
            None => lsn <= checkpoint_lsn + 1,
        };
        if !follows {
            break;
        }
        match body {
            Body::Jump(_, target) => {
                if jumps_left == 0 {
                    break;
                }
                jumps_left -= 1;
                expected = Some(lsn);
                pos = target;
            }
            Body::Record(lsn, changes) => {
                if lsn > checkpoint_lsn {
                    replay.push((lsn, changes));
                }
                expected = Some(lsn + 1);
                pos = start + u64::from(body_len);
            }
        }
    }
    Ok(replay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::backends::InMemoryBackend;

    const GROWTH: u64 = 1 << 20;

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
        reopen_at(disk, checkpoint, None)
    }

    fn reopen_at(disk: &Shared, checkpoint: u64, pos: Option<u64>) -> (CommitLog, Replay) {
        CommitLog::open(
            Box::new(disk.clone()),
            checkpoint,
            pos,
            1,
            GROWTH,
            "log".into(),
        )
        .unwrap()
    }

    fn lsns(replay: &Replay) -> Vec<u64> {
        replay.iter().map(|(lsn, _)| *lsn).collect()
    }

    fn big(key: &str, len: usize) -> format::RecordBuf {
        let mut record = format::RecordBuf::new();
        record.push("session", key.as_bytes(), Some(&vec![7u8; len]));
        record
    }

    /// A record that, written right after the header, ends with the
    /// first page.
    fn filling_the_first_page(key: &str) -> format::RecordBuf {
        let empty = big(key, 0).seal(1).len() as u64;
        big(key, (LOG_PAGE_BYTES - HEADER_LEN - empty) as usize)
    }

    #[test]
    fn zeros_fill_a_records_last_page_but_never_reach_an_uncovered_record() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        let page = LOG_PAGE_BYTES;
        let mut stale = vec![0xEEu8; 3 * page as usize];
        stale[..HEADER_LEN as usize].copy_from_slice(&format::header(1));
        disk.write(0, &stale).unwrap();
        // A record ending mid-page: zeros up to the page's end, none after.
        log.append(&mut change("a")).unwrap();
        let end = log.position();
        let mut tail = vec![0u8; (2 * page - end) as usize];
        disk.read(end, &mut tail).unwrap();
        let (zeros, after) = tail.split_at((page - end) as usize);
        assert!(zeros.iter().all(|&b| b == 0), "zeros to the page's end");
        assert!(after.iter().all(|&b| b == 0xEE), "nothing past it");
        // The ring wrapped: an uncovered record starts in the page where
        // the next record ends. The zeros stop at it.
        let next = log.position();
        let uncovered_at = next + 100;
        log.pieces = VecDeque::from([
            Piece {
                start: uncovered_at,
                end: uncovered_at + 50,
            },
            Piece::at(next),
        ]);
        disk.write(uncovered_at, &[0xEE; 50]).unwrap();
        let mut small = format::RecordBuf::new();
        small.push("s", b"", None);
        let len = small.seal(1).len() as u64;
        assert!(next + len + JUMP_LEN <= uncovered_at, "fits before it");
        log.append(&mut small).unwrap();
        let mut gap = vec![0u8; (uncovered_at - (next + len)) as usize];
        disk.read(next + len, &mut gap).unwrap();
        assert!(gap.iter().all(|&b| b == 0));
        let mut kept = [0u8; 8];
        disk.read(uncovered_at, &mut kept).unwrap();
        assert_eq!(kept, [0xEE; 8], "the uncovered record is untouched");
    }

    #[test]
    fn the_ring_writes_over_covered_records_and_grows_only_when_none_are_free() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        // Three records of ~300 KB fill most of the first MiB.
        for key in ["1", "2"] {
            log.append(&mut big(key, 300_000)).unwrap();
        }
        let after_2 = log.position();
        log.append(&mut big("3", 300_000)).unwrap();
        assert_eq!(log.uncovered_bytes(), log.position() - HEADER_LEN);
        // A checkpoint covers records 1 and 2: record 4 goes to the start.
        log.covered_up_to(after_2);
        log.append(&mut big("4", 300_000)).unwrap();
        assert_eq!(disk.len().unwrap(), GROWTH, "written over, not grown");
        let after_4 = log.position();
        assert!(after_4 < after_2);
        // Record 5 fits neither before record 3 nor at the start: the file grows.
        log.append(&mut big("5", 300_000)).unwrap();
        assert!(disk.len().unwrap() > GROWTH);
        // Recovery follows both jumps from the checkpoint's position.
        let (_, replay) = reopen_at(&disk, 2, Some(after_2));
        assert_eq!(lsns(&replay), [3, 4, 5]);
        assert_eq!(replay[1].1[0].key, b"4");
        // The first record must be the checkpoint's next one.
        let (_, replay) = reopen_at(&disk, 0, Some(HEADER_LEN));
        assert!(
            replay.is_empty(),
            "record 4 sits at the start, not record 1"
        );
        // A checkpoint covering record 4 leaves its jump and record 5.
        log.covered_up_to(after_4);
        assert!(log.uncovered_bytes() > 300_000 && log.uncovered_bytes() < 300_100);
        // A torn record ends the log, jumps or not.
        disk.write(HEADER_LEN + 100, &[0xAA]).unwrap();
        let (_, replay) = reopen_at(&disk, 2, Some(after_2));
        assert_eq!(lsns(&replay), [3]);
    }

    #[test]
    fn after_a_crash_a_stale_record_of_the_lost_tail_is_never_replayed() {
        // Records 1 and 2 were written, never synced; the power cut kept
        // record 2 and tore record 1. Record 1 (and the new record below)
        // ends where the first page does, so no zeros follow it: zeros
        // after the new record would erase record 2, hiding what this test
        // is about (a record ending mid-page would be followed by them).
        let lost_tail = |gap: u64| {
            let disk = Shared::default();
            let (mut log, _) = reopen(&disk, 0);
            log.restart();
            log.append(&mut filling_the_first_page("a")).unwrap();
            log.append(&mut change("b")).unwrap();
            disk.write(HEADER_LEN + 10, &[0xAA]).unwrap();
            let (mut log, replay) = reopen_at(&disk, 0, Some(HEADER_LEN));
            assert!(replay.is_empty());
            // Recovery restarts the log; a new record of the same size
            // lands where record 1 was, and is synced before the next crash.
            log.restart_after_recovery(gap);
            let first = log.append(&mut filling_the_first_page("x")).unwrap();
            let (_, replay) = reopen_at(&disk, gap, Some(HEADER_LEN));
            assert_eq!(lsns(&replay)[0], first);
            replay
        };
        let replay = lost_tail(LSN_GAP_AT_OPEN);
        assert_eq!(replay.len(), 1, "record 2 of the lost tail is not replayed");
        // Without the gap, record 2 would look like the new record's next.
        assert_eq!(lsns(&lost_tail(0)), [1, 2]);
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
        assert_eq!(lsns(&replay), [1, 2, 3]);
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
    fn after_a_restart_older_records_are_not_replayed() {
        let disk = Shared::default();
        let (mut log, _) = reopen(&disk, 0);
        for key in ["a", "b", "c"] {
            log.append(&mut change(key)).unwrap();
        }
        let end = log.position();
        log.restart();
        log.append(&mut change("d")).unwrap(); // LSN 4, over LSN 1
        drop(log);
        // Without a position (format 2), and from the restart's position.
        let (_, replay) = reopen(&disk, 3);
        assert_eq!(replay.len(), 1);
        assert_eq!(replay[0].0, 4);
        let (_, replay) = reopen_at(&disk, 3, Some(HEADER_LEN));
        assert_eq!(lsns(&replay), [4]);
        // The checkpoint itself lost nothing to replay.
        let (_, replay) = reopen(&disk, 4);
        assert!(replay.is_empty());
        // The position of a checkpoint before the restart finds no record 4.
        let (_, replay) = reopen_at(&disk, 3, Some(end));
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
        let err = CommitLog::open(Box::new(newer), 0, None, 1, GROWTH, "log".into())
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::NewerLogFormat { found, .. } if found == LOG_FORMAT_VERSION + 1),
            "{err}"
        );
        let foreign = Shared::default();
        foreign.set_len(64).unwrap();
        foreign.write(0, b"SQLite format 3\0 and more").unwrap();
        let err = CommitLog::open(Box::new(foreign), 0, None, 1, GROWTH, "log".into())
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
