//! A simulated disk for fault injection into redb-based stores.
//!
//! Test equipment, not part of the engine: a user of the engine never needs it,
//! and any store built on redb can be tested with it (the engine opens on it
//! through `RedbStore::open_on_backend`). It is a crate of its own so that the
//! lab's fault campaign and the fuzz targets share it without the fuzzers
//! building the lab (which compiles SQLite).
//!
//! [`SimulatedDisk`] is a redb [`StorageBackend`] held in memory that models
//! what a real disk keeps and loses:
//!
//! - `current`: what reads see (the OS page cache). Every successful write
//!   and resize lands here at once.
//! - `durable`: what survives a power loss. A `sync_data` copies every write
//!   made since the previous sync into it, in order.
//!
//! One [`Fault`] can be armed at a time. It fires at the `nth` call of one
//! kind of operation (write, sync or resize, counted from 1 since the disk
//! was made):
//!
//! - [`Fault::IoError`]: that call fails with an I/O error and changes
//!   nothing; later calls work again (a transient error, e.g. a full disk).
//! - [`Fault::PowerLoss`]: that call and every later one fail (the machine is
//!   gone). [`SimulatedDisk::after_power_loss`] then gives the disk a
//!   restarted machine sees: the durable image, optionally with the unsynced
//!   writes applied in order and the last one (the write in flight at the
//!   power cut) torn in half.
//!
//! The store is reopened on [`SimulatedDisk::after_crash`] (a process crash:
//! the page cache survives) or on [`SimulatedDisk::after_power_loss`].
//!
//! Invariant: `durable` plus the `unsynced` operations replayed in order is
//! always exactly `current`.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use redb::StorageBackend;

/// A kind of disk operation a [`Fault`] can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `StorageBackend::write`.
    Write,
    /// `StorageBackend::sync_data` (fsync).
    Sync,
    /// `StorageBackend::set_len` (the file grows or shrinks).
    Resize,
}

impl OpKind {
    /// Every kind, in a fixed order.
    pub const ALL: [OpKind; 3] = [OpKind::Write, OpKind::Sync, OpKind::Resize];

    /// A short lower-case name: `write`, `sync`, `resize`.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Write => "write",
            OpKind::Sync => "sync",
            OpKind::Resize => "resize",
        }
    }
}

/// One injected failure, at the `nth` (from 1) operation of kind `op`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The operation fails with an I/O error and has no effect; the disk
    /// works again afterwards.
    IoError {
        /// Which kind of operation fails.
        op: OpKind,
        /// Which one of them (1 = the first since the disk was made).
        nth: u64,
    },
    /// Power is cut during the operation: it and every later operation
    /// fail. A write in flight is kept as the last unsynced write, so
    /// [`Tear::LastWrite`] can tear it.
    PowerLoss {
        /// The operation during which power is lost.
        op: OpKind,
        /// Which one of them (1 = the first since the disk was made).
        nth: u64,
    },
}

/// What survives of the unsynced writes in [`SimulatedDisk::after_power_loss`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tear {
    /// Nothing written since the last sync survives.
    DropUnsynced,
    /// Every unsynced write survives in order, except the last one, of which
    /// only the first half (rounded down to a 512-byte sector) lands.
    LastWrite,
}

/// Operations counted since the disk was made (failed ones included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// `write` calls.
    pub writes: u64,
    /// `sync_data` calls.
    pub syncs: u64,
    /// `set_len` calls.
    pub resizes: u64,
}

impl OpCounts {
    /// The count for one kind.
    pub fn of(&self, op: OpKind) -> u64 {
        match op {
            OpKind::Write => self.writes,
            OpKind::Sync => self.syncs,
            OpKind::Resize => self.resizes,
        }
    }
}

#[derive(Debug, Clone)]
enum Unsynced {
    Write { offset: u64, data: Vec<u8> },
    Resize(u64),
}

#[derive(Debug, Default)]
struct DiskState {
    current: Vec<u8>,
    durable: Vec<u8>,
    unsynced: Vec<Unsynced>,
    counts: OpCounts,
    armed: Option<Fault>,
    fired: Option<Fault>,
    power_lost: bool,
}

/// An in-memory disk that loses unsynced writes on a simulated power cut
/// and fails on command. Clones share the same disk. See the module docs.
#[derive(Clone, Default)]
pub struct SimulatedDisk {
    state: Arc<Mutex<DiskState>>,
}

impl fmt::Debug for SimulatedDisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SimulatedDisk")
            .field("len", &state.current.len())
            .field("unsynced_ops", &state.unsynced.len())
            .field("counts", &state.counts)
            .field("armed", &state.armed)
            .field("fired", &state.fired)
            .finish()
    }
}

impl SimulatedDisk {
    /// An empty disk.
    pub fn new() -> SimulatedDisk {
        SimulatedDisk::default()
    }

    /// A disk holding `bytes`, all of them durable (for example a file to
    /// open, or a fuzzer's input).
    pub fn from_bytes(bytes: Vec<u8>) -> SimulatedDisk {
        let state = DiskState {
            durable: bytes.clone(),
            current: bytes,
            ..DiskState::default()
        };
        SimulatedDisk {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Arms `fault`, replacing any fault armed before and not yet fired.
    pub fn arm(&self, fault: Fault) {
        self.lock().armed = Some(fault);
    }

    /// The fault that has fired, if any.
    pub fn fired(&self) -> Option<Fault> {
        self.lock().fired
    }

    /// Operations counted so far.
    pub fn counts(&self) -> OpCounts {
        self.lock().counts
    }

    /// What reads see now (the page cache).
    pub fn current_bytes(&self) -> Vec<u8> {
        self.lock().current.clone()
    }

    /// A new disk as a restarted process finds it after a crash without
    /// power loss: every successful write survives, synced or not.
    pub fn after_crash(&self) -> SimulatedDisk {
        SimulatedDisk::from_bytes(self.current_bytes())
    }

    /// A new disk as a restarted machine finds it after a power cut now.
    pub fn after_power_loss(&self, tear: Tear) -> SimulatedDisk {
        let state = self.lock();
        let mut image = state.durable.clone();
        if tear == Tear::LastWrite {
            let last_write = state
                .unsynced
                .iter()
                .rposition(|op| matches!(op, Unsynced::Write { .. }));
            for (i, op) in state.unsynced.iter().enumerate() {
                match op {
                    Unsynced::Resize(len) => resize(&mut image, *len),
                    Unsynced::Write { offset, data } if Some(i) == last_write => {
                        let half = (data.len() / 2) / 512 * 512;
                        write_at(&mut image, *offset, &data[..half]);
                    }
                    Unsynced::Write { offset, data } => write_at(&mut image, *offset, data),
                }
            }
        }
        SimulatedDisk::from_bytes(image)
    }

    fn lock(&self) -> MutexGuard<'_, DiskState> {
        // A panic while the lock was held cannot leave the bytes half-updated
        // in a way that matters here; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl DiskState {
    /// Counts one `op` and decides whether it fails. `in_flight` is kept as
    /// the last unsynced operation when power is lost during it.
    fn enter(
        &mut self,
        op: OpKind,
        in_flight: impl FnOnce() -> Option<Unsynced>,
    ) -> io::Result<()> {
        let count = match op {
            OpKind::Write => &mut self.counts.writes,
            OpKind::Sync => &mut self.counts.syncs,
            OpKind::Resize => &mut self.counts.resizes,
        };
        *count += 1;
        let nth_now = *count;
        if self.power_lost {
            return Err(io::Error::other("simulated disk: power is off"));
        }
        match self.armed {
            Some(fault @ Fault::IoError { op: target, nth }) if target == op && nth == nth_now => {
                self.armed = None;
                self.fired = Some(fault);
                Err(io::Error::other(format!(
                    "simulated disk: injected I/O error at {} #{nth}",
                    op.name()
                )))
            }
            Some(fault @ Fault::PowerLoss { op: target, nth })
                if target == op && nth == nth_now =>
            {
                self.armed = None;
                self.fired = Some(fault);
                self.power_lost = true;
                if let Some(pending) = in_flight() {
                    self.unsynced.push(pending);
                }
                Err(io::Error::other(format!(
                    "simulated disk: power lost at {} #{nth}",
                    op.name()
                )))
            }
            _ => Ok(()),
        }
    }
}

fn write_at(image: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let start = offset as usize;
    let end = start + data.len();
    if image.len() < end {
        image.resize(end, 0);
    }
    image[start..end].copy_from_slice(data);
}

fn resize(image: &mut Vec<u8>, len: u64) {
    image.resize(len as usize, 0);
}

fn to_usize(value: u64) -> io::Result<usize> {
    usize::try_from(value).map_err(|_| io::Error::other("simulated disk: offset beyond memory"))
}

impl StorageBackend for SimulatedDisk {
    fn len(&self) -> io::Result<u64> {
        Ok(self.lock().current.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let state = self.lock();
        let start = to_usize(offset)?;
        let end = start
            .checked_add(out.len())
            .filter(|end| *end <= state.current.len())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "simulated disk: read past the end",
                )
            })?;
        out.copy_from_slice(&state.current[start..end]);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.lock();
        let new_len = to_usize(len)?;
        state.enter(OpKind::Resize, || None)?;
        resize(&mut state.current, new_len as u64);
        state.unsynced.push(Unsynced::Resize(len));
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut state = self.lock();
        state.enter(OpKind::Sync, || None)?;
        let DiskState {
            durable, unsynced, ..
        } = &mut *state;
        for op in unsynced.drain(..) {
            match op {
                Unsynced::Write { offset, data } => write_at(durable, offset, &data),
                Unsynced::Resize(len) => resize(durable, len),
            }
        }
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut state = self.lock();
        to_usize(offset)?
            .checked_add(data.len())
            .ok_or_else(|| io::Error::other("simulated disk: offset beyond memory"))?;
        state.enter(OpKind::Write, || {
            Some(Unsynced::Write {
                offset,
                data: data.to_vec(),
            })
        })?;
        write_at(&mut state.current, offset, data);
        state.unsynced.push(Unsynced::Write {
            offset,
            data: data.to_vec(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_writes_are_lost_and_synced_ones_kept() {
        let disk = SimulatedDisk::new();
        disk.set_len(2048).unwrap();
        disk.write(0, &[1; 1024]).unwrap();
        disk.sync_data().unwrap();
        disk.write(1024, &[2; 1024]).unwrap();
        let lost = disk.after_power_loss(Tear::DropUnsynced).current_bytes();
        assert_eq!(lost.len(), 2048);
        assert!(lost[..1024].iter().all(|b| *b == 1));
        assert!(lost[1024..].iter().all(|b| *b == 0));
        let torn = disk.after_power_loss(Tear::LastWrite).current_bytes();
        assert!(torn[1024..1536].iter().all(|b| *b == 2));
        assert!(torn[1536..].iter().all(|b| *b == 0));
        assert_eq!(disk.after_crash().current_bytes(), disk.current_bytes());
    }

    #[test]
    fn an_io_error_fires_once_and_changes_nothing() {
        let disk = SimulatedDisk::new();
        disk.arm(Fault::IoError {
            op: OpKind::Write,
            nth: 2,
        });
        disk.write(0, &[1; 10]).unwrap();
        assert!(disk.write(0, &[2; 10]).is_err());
        assert_eq!(disk.current_bytes(), vec![1; 10]);
        disk.write(0, &[3; 10]).unwrap();
        assert_eq!(disk.counts().writes, 3);
        assert!(disk.fired().is_some());
    }

    #[test]
    fn power_loss_fails_every_later_call_and_keeps_the_write_in_flight_to_tear() {
        let disk = SimulatedDisk::new();
        disk.arm(Fault::PowerLoss {
            op: OpKind::Write,
            nth: 1,
        });
        assert!(disk.write(0, &[7; 1024]).is_err());
        assert!(disk.sync_data().is_err());
        assert!(disk.set_len(10).is_err());
        let torn = disk.after_power_loss(Tear::LastWrite).current_bytes();
        assert_eq!(torn, vec![7; 512]);
        assert!(
            disk.after_power_loss(Tear::DropUnsynced)
                .current_bytes()
                .is_empty()
        );
    }

    #[test]
    fn reads_past_the_end_are_errors() {
        let disk = SimulatedDisk::from_bytes(vec![0; 8]);
        let mut out = [0u8; 4];
        assert!(disk.read(6, &mut out).is_err());
        assert!(disk.read(u64::MAX, &mut out).is_err());
        disk.read(4, &mut out).unwrap();
    }
}
