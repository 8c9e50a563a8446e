//! User-tunable settings of a [`RedbStore`](crate::RedbStore).

use std::time::Duration;

/// When a write call returns relative to its data reaching the disk.
///
/// | mode | a write returns after | a SIGKILL loses | a power cut loses |
/// |---|---|---|---|
/// | `Immediate` (default) | its log record is `fdatasync`ed | nothing acknowledged | nothing acknowledged |
/// | `ProcessCrashSafe` | its log record is written to the OS | nothing acknowledged | at most `sync_interval` of acknowledged writes |
/// | `Relaxed` | its transaction is committed in memory | at most `flush_interval` | at most `flush_interval` |
///
/// Every mode loses whole write calls only (batches are all-or-nothing) and
/// leaves the file consistent. The first two keep a commit log next to the
/// file (`<file>-log`, `docs/SEMANTICS.md`) and hold the changes since the
/// last checkpoint in memory too (an overlay readers read first; see
/// [`StoreConfig::checkpoint_bytes`]); a store opened on a custom
/// [`StorageBackend`](redb::StorageBackend) without a log falls back to a
/// durable redb commit per write group in `Immediate` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// The default. A write call returns only after its changes are in the
    /// commit log and the log is `fdatasync`ed; then they are visible to
    /// readers (no reader sees a write before its record is synced). A
    /// crash (process or power) loses no acknowledged write. Concurrent
    /// writers share one record and one `fdatasync` (group commit).
    Immediate,
    /// A write call returns once its changes are written to the commit log
    /// (in the operating system's cache) and visible to readers. The log is `fdatasync`ed at most `sync_interval` later
    /// (or at [`RedbStore::flush`](crate::RedbStore::flush)). A process crash
    /// (panic, OOM kill, SIGKILL) loses nothing acknowledged: the operating
    /// system still writes the log. A power cut or kernel crash can lose the
    /// last `sync_interval` of acknowledged writes.
    ProcessCrashSafe {
        /// The longest time an acknowledged write stays only in the OS cache.
        sync_interval: Duration,
    },
    /// A write call returns once its transaction is committed in memory and
    /// visible to readers; the writer thread fsyncs at most `flush_interval`
    /// later (or at [`RedbStore::flush`](crate::RedbStore::flush) /
    /// [`RedbStore::close`](crate::RedbStore::close)). A process crash or power
    /// loss can lose the writes acknowledged in the last `flush_interval`, as
    /// whole transactions: batches stay all-or-nothing and the file stays
    /// consistent.
    Relaxed {
        /// The longest time an acknowledged write stays only in memory.
        flush_interval: Duration,
    },
}

impl Durability {
    /// Relaxed durability with a one-second flush interval.
    pub const fn relaxed() -> Self {
        Durability::Relaxed {
            flush_interval: Duration::from_secs(1),
        }
    }

    /// Process-crash-safe durability, the log synced every 100 ms.
    pub const fn process_crash_safe() -> Self {
        Durability::ProcessCrashSafe {
            sync_interval: Duration::from_millis(100),
        }
    }

    /// Whether this mode writes the commit log.
    pub(crate) fn logs(self) -> bool {
        !matches!(self, Durability::Relaxed { .. })
    }
}

/// Settings for [`RedbStore::open_with`](crate::RedbStore::open_with).
///
/// Build it from [`StoreConfig::default`] and the `with_*` methods:
///
/// ```
/// use whatsapp_rust_redb_storage::{Durability, StoreConfig};
/// let config = StoreConfig::default()
///     .with_durability(Durability::relaxed())
///     .with_cache_size(16 << 20);
/// assert_eq!(config.device_id, 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreConfig {
    /// When writes are acknowledged. Default: [`Durability::Immediate`].
    pub durability: Durability,
    /// Bytes of redb page cache (shared by every account in the file).
    /// Default: 16 MiB, chosen on measurement (`docs/BENCHMARKS.md`, "Memory
    /// and the page cache"): on a 285 MB store, 64 MiB cost 54 MB more
    /// resident memory than 16 MiB for the same steady and random-read
    /// rates; the operating system's page cache serves the misses. Raise it
    /// towards the file size for read-heavy stores.
    pub cache_size_bytes: usize,
    /// The account (device id) the returned handle works on. Default: 1, the id
    /// the bundled SQLite store uses for its first device.
    pub device_id: i32,
    /// The most write requests the writer applies in one transaction. Default: 1024.
    pub max_group_size: usize,
    /// Log modes: checkpoint (a durable redb commit of the changes held in
    /// memory, after which their space in the log is written again) once
    /// the log records no checkpoint covers, or the in-memory overlay of
    /// changes since the last checkpoint, reach this many bytes. Bounds the
    /// log file (a few times this), the replay at open and the overlay's
    /// memory (one to two times this while a checkpoint writes under a
    /// sustained write load, and writers wait for a checkpoint at four
    /// times; about `checkpoint_interval` of writes otherwise). Default:
    /// 64 MiB.
    pub checkpoint_bytes: u64,
    /// Log modes: checkpoint at least this often while writes come in.
    /// Default: 1 s.
    pub checkpoint_interval: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            durability: Durability::Immediate,
            cache_size_bytes: 16 << 20,
            device_id: 1,
            max_group_size: 1024,
            checkpoint_bytes: 64 << 20,
            checkpoint_interval: Duration::from_secs(1),
        }
    }
}

impl StoreConfig {
    /// Sets [`StoreConfig::durability`].
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets [`StoreConfig::cache_size_bytes`].
    pub fn with_cache_size(mut self, bytes: usize) -> Self {
        self.cache_size_bytes = bytes;
        self
    }

    /// Sets [`StoreConfig::device_id`].
    pub fn with_device_id(mut self, device_id: i32) -> Self {
        self.device_id = device_id;
        self
    }

    /// Sets [`StoreConfig::checkpoint_bytes`] and
    /// [`StoreConfig::checkpoint_interval`].
    pub fn with_checkpoints(mut self, bytes: u64, interval: Duration) -> Self {
        self.checkpoint_bytes = bytes;
        self.checkpoint_interval = interval;
        self
    }

    /// Sets [`StoreConfig::max_group_size`].
    pub fn with_max_group_size(mut self, requests: usize) -> Self {
        self.max_group_size = requests;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), crate::Error> {
        if self.max_group_size == 0 {
            return Err(crate::Error::InvalidInput(
                "max_group_size must be at least 1".into(),
            ));
        }
        if let Durability::ProcessCrashSafe { sync_interval } = self.durability
            && sync_interval.is_zero()
        {
            return Err(crate::Error::InvalidInput(
                "a process-crash-safe sync_interval must be longer than zero; use \
                 Durability::Immediate to sync before every acknowledgement"
                    .into(),
            ));
        }
        if self.checkpoint_interval.is_zero() {
            return Err(crate::Error::InvalidInput(
                "checkpoint_interval must be longer than zero".into(),
            ));
        }
        if let Durability::Relaxed { flush_interval } = self.durability
            && flush_interval.is_zero()
        {
            return Err(crate::Error::InvalidInput(
                "a relaxed flush_interval must be longer than zero; use Durability::Immediate \
                 to fsync every commit"
                    .into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_builder_sets_its_field_and_only_it() {
        let base = StoreConfig::default();
        let set = base
            .clone()
            .with_cache_size(1 << 20)
            .with_device_id(7)
            .with_max_group_size(3)
            .with_durability(Durability::relaxed());
        assert_eq!(set.cache_size_bytes, 1 << 20);
        assert_eq!(set.device_id, 7);
        assert_eq!(set.max_group_size, 3);
        assert_ne!(set.durability, base.durability);
        assert_eq!(
            base.clone().with_device_id(-2).cache_size_bytes,
            base.cache_size_bytes
        );
    }
}
