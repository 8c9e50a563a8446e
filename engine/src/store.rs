//! [`RedbStore`]: opening a file, accounts, and the read/write paths every
//! trait implementation goes through.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLockReadGuard};

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableHandle};
use wacore::store::error::StoreError;

use crate::config::StoreConfig;
use crate::error::{Error, Result};
use crate::keys::Key;
use crate::log::{CommitLog, Journal};
use crate::overlay::{Base, Layers, Pinned};
use crate::tables::{self, DATA_TABLES, FORMAT_VERSION, META, META_FORMAT_VERSION};
use crate::txn::Tx;
use crate::view::View;
use crate::writer::{Writer, WriterStats};

/// A whatsapp-rust storage backend on one redb file.
///
/// One value is one account (device id) of the file; [`RedbStore::for_device`]
/// gives handles to other accounts of the same open file. Clones share the
/// file and the writer thread. The file is closed when the last handle drops.
///
/// ```no_run
/// # async fn demo() -> Result<(), wacore::store::error::StoreError> {
/// use wacore::store::traits::SignalStore;
/// use whatsapp_rust_redb_storage::RedbStore;
///
/// let store = RedbStore::open("whatsapp.redb")?;
/// store.put_session("123@s.whatsapp.net", b"session").await?;
/// assert!(store.get_session("123@s.whatsapp.net").await?.is_some());
/// let second_account = store.for_device(2);
/// assert!(second_account.get_session("123@s.whatsapp.net").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedbStore {
    shared: Arc<Shared>,
    device_id: i32,
}

/// Where one read reads: a snapshot opened for this read, or the overlay's
/// layers over their snapshot (the log modes).
enum Snapshot<'a> {
    Fresh(ReadTransaction),
    Layered(RwLockReadGuard<'a, Layers>),
}

impl Snapshot<'_> {
    fn view(&self) -> View<'_> {
        match self {
            Snapshot::Fresh(snapshot) => View::Plain(snapshot),
            Snapshot::Layered(layers) => View::Layered(layers),
        }
    }
}

/// State shared by every handle on one file.
struct Shared {
    // Field order matters: the writer (which joins its thread, the other
    // owner of the Database) drops before `db`, so the file is closed when
    // the last handle is gone.
    writer: Writer,
    db: ClosingDb,
    /// `None` when opened on a custom [`redb::StorageBackend`].
    path: Option<PathBuf>,
    config: StoreConfig,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.shared.path)
            .field("device_id", &self.device_id)
            .field("durability", &self.shared.config.durability)
            .finish()
    }
}

impl RedbStore {
    /// Creates or opens the file at `path` with the default [`StoreConfig`]
    /// (fsync before every acknowledgement), as account (device id) 1.
    pub fn open(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        RedbStore::open_with(path, StoreConfig::default())
    }

    /// Creates or opens the file at `path` with `config`.
    ///
    /// Errors (never panics): a path that cannot be created or written
    /// ([`Error::Io`]), a file that is not a redb database or is damaged
    /// ([`Error::Corrupt`]), a redb file of another program
    /// ([`Error::ForeignDatabase`]), a file written by a newer release
    /// ([`Error::NewerFormat`]), a file already open ([`Error::AlreadyOpen`]).
    /// The `StoreError`'s source is the [`Error`]; see [`Error::from_store_error`].
    ///
    /// A file whose creation never finished (the process or machine died
    /// during the very first open) holds no data, but redb refuses it; it is
    /// renamed to `<file>.unfinished-<unix secs>` and a new file is created.
    pub fn open_with(path: impl AsRef<Path>, config: StoreConfig) -> Result<RedbStore, StoreError> {
        let path = path.as_ref();
        set_aside_unfinished_file(path)?;
        let log = crate::log::path_for(path);
        let log_storage = || -> Result<Option<(Box<dyn redb::StorageBackend>, bool)>> {
            // Relaxed mode keeps no log, but replays one a log mode left.
            if !config.durability.logs() && !log.exists() {
                return Ok(None);
            }
            Ok(Some((
                open_log_file(&log)? as Box<dyn redb::StorageBackend>,
                true,
            )))
        };
        Ok(RedbStore::open_inner(
            |builder| builder.create(path),
            path,
            Some(path.to_path_buf()),
            config.clone(),
            log_storage,
        )?)
    }

    /// Creates or opens a store on a custom redb [`StorageBackend`](redb::StorageBackend)
    /// instead of a file: an in-memory store, an encrypted or remote block
    /// device, or a disk that injects faults (the `fault-injection` feature's
    /// [`SimulatedDisk`](crate::fault::SimulatedDisk)).
    ///
    /// Errors are those of [`RedbStore::open_with`]; they name the file
    /// `<storage backend>`. Such a store has no [`path`](RedbStore::path), so
    /// `snapshot_db` fails with [`Error::InvalidInput`].
    ///
    /// A backend left by a creation that never finished (see
    /// [`RedbStore::open_with`]) is emptied with `set_len(0)` and created again.
    pub fn open_on_backend(
        backend: impl redb::StorageBackend,
        config: StoreConfig,
    ) -> Result<RedbStore, StoreError> {
        RedbStore::on_backend(backend, None, config)
    }

    /// Like [`RedbStore::open_on_backend`], with the commit log on a second
    /// backend (`log`), so the log modes work there too (the fault campaign
    /// runs both on simulated disks).
    pub fn open_on_backends(
        backend: impl redb::StorageBackend,
        log: impl redb::StorageBackend,
        config: StoreConfig,
    ) -> Result<RedbStore, StoreError> {
        RedbStore::on_backend(backend, Some(Box::new(log)), config)
    }

    fn on_backend(
        backend: impl redb::StorageBackend,
        log: Option<Box<dyn redb::StorageBackend>>,
        config: StoreConfig,
    ) -> Result<RedbStore, StoreError> {
        reset_unfinished_backend(&backend)?;
        Ok(RedbStore::open_inner(
            |builder| builder.create_with_backend(backend),
            Path::new(BACKEND_LABEL),
            None,
            config,
            move || Ok(log.map(|log| (log, false))),
        )?)
    }

    fn open_inner(
        create: impl FnOnce(&redb::Builder) -> Result<Database, redb::DatabaseError>,
        label: &Path,
        path: Option<PathBuf>,
        config: StoreConfig,
        log_storage: impl FnOnce() -> Result<Option<(Box<dyn redb::StorageBackend>, bool)>>,
    ) -> Result<RedbStore> {
        config.validate()?;
        // Wrapped at once: if anything below fails, closing a damaged file
        // must not panic either (see `ClosingDb`).
        let db = ClosingDb::new(open_database(create, label, &config)?);
        // A damaged file can make redb panic on its first table lookup.
        catch_unwind(AssertUnwindSafe(|| {
            probe_tables(&db)?;
            init_format(&db, label)
        }))
        .map_err(|_| {
            db.mark_damaged();
            redb_panicked(label, "reading the tables")
        })??;
        let journal = match log_storage()? {
            Some((storage, is_file)) => recover(&db, storage, is_file, label, &config)?,
            None if matches!(
                config.durability,
                crate::Durability::ProcessCrashSafe { .. }
            ) =>
            {
                return Err(Error::InvalidInput(
                    "process-crash-safe durability needs a commit log: open a file, or use \
                     RedbStore::open_on_backends"
                        .into(),
                ));
            }
            None => None,
        };
        let writer = Writer::spawn(Arc::clone(&db), &config, journal)?;
        let device_id = config.device_id;
        Ok(RedbStore {
            shared: Arc::new(Shared {
                writer,
                db,
                path,
                config,
            }),
            device_id,
        })
    }

    /// A handle on another account of the same open file. Accounts are fully
    /// isolated: no read of one account sees another's rows.
    pub fn for_device(&self, device_id: i32) -> RedbStore {
        RedbStore {
            shared: self.shared.clone(),
            device_id,
        }
    }

    /// The account (device id) this handle reads and writes.
    pub fn device_id(&self) -> i32 {
        self.device_id
    }

    /// The path of the open file; `None` for a store opened with
    /// [`RedbStore::open_on_backend`].
    pub fn path(&self) -> Option<&Path> {
        self.shared.path.as_deref()
    }

    /// The configuration the file was opened with.
    pub fn config(&self) -> &StoreConfig {
        &self.shared.config
    }

    /// Resolves once every write acknowledged before the call is on disk. A
    /// no-op wait in [`Durability::Immediate`](crate::Durability::Immediate) mode.
    pub async fn flush(&self) -> Result<(), StoreError> {
        Ok(self.shared.writer.flush().await?)
    }

    /// Flushes, then drops this handle. When it was the last handle the file
    /// is closed and can be reopened at once; the final fsync happens on the
    /// writer thread, never on the caller's.
    pub async fn close(self) -> Result<(), StoreError> {
        self.flush().await?;
        drop(self);
        Ok(())
    }

    /// Counters of the file's writer thread (shared by every account).
    pub fn writer_stats(&self) -> WriterStats {
        self.shared.writer.stats()
    }

    /// Checks the file's internal structure (redb `check_integrity`). Needs
    /// exclusive access: it fails with `Error::InvalidInput` while other
    /// handles on the file exist. Blocking; call it from a blocking context.
    pub fn check_integrity(self) -> Result<bool, StoreError> {
        self.exclusively("check_integrity", "checking the file", |db| {
            Ok(db.check_integrity()?)
        })
    }

    /// Compacts the file offline: redb moves live pages down and truncates
    /// the free space at the end, pass after pass until nothing moves.
    /// Needs exclusive access like [`RedbStore::check_integrity`]; blocking.
    /// Returns the number of passes that moved something.
    pub fn compact(self) -> Result<u32, StoreError> {
        self.exclusively("compact", "compacting the file", |db| {
            let mut passes = 0;
            while db.compact().map_err(|e| Error::Database(e.to_string()))? {
                passes += 1;
            }
            Ok(passes)
        })
    }

    /// Runs `f` on the database once this is the only handle on the file
    /// (the writer thread is stopped first). A panic inside redb marks the
    /// file damaged and is an error, never a panic in the caller.
    fn exclusively<T>(
        self,
        what: &str,
        during: &str,
        f: impl FnOnce(&mut Database) -> Result<T>,
    ) -> Result<T, StoreError> {
        let shared = Arc::into_inner(self.shared).ok_or_else(|| {
            Error::InvalidInput(format!("{what} needs the only handle on the file"))
        })?;
        let Shared {
            writer,
            mut db,
            path,
            ..
        } = shared;
        drop(writer);
        let damaged = || redb_panicked(label(&path), during);
        // On every early return `db` drops as a `ClosingDb`: closed inside a
        // guard, or leaked once redb has panicked on it.
        if db.is_damaged() {
            return Err(damaged().into());
        }
        let Some(inner) = db.db.as_mut().and_then(Arc::get_mut) else {
            return Err(Error::Database("internal: database still shared".into()).into());
        };
        // `f` borrows the database, so a panic in it does not close the file
        // while unwinding.
        match catch_unwind(AssertUnwindSafe(|| f(inner))) {
            Ok(result) => Ok(result?),
            Err(_) => {
                db.mark_damaged();
                Err(damaged().into())
            }
        }
    }

    /// The key prefix of this handle's account.
    pub(crate) fn key(&self) -> Key {
        Key::account(self.device_id)
    }

    /// Where readers read: in the log modes the overlay's layers over their
    /// snapshot (`crate::overlay`; in `Immediate` mode only changes whose
    /// records are synced); otherwise the newest commit.
    fn snapshot(&self) -> Result<Snapshot<'_>> {
        match self.shared.writer.overlay() {
            Some(overlay) => Ok(Snapshot::Layered(overlay.read())),
            None => Ok(Snapshot::Fresh(self.shared.db.begin_read()?)),
        }
    }

    /// What [`RedbStore::read`] would read now, to keep (a backup).
    pub(crate) fn read_snapshot(&self) -> Result<Pinned> {
        if let Some(overlay) = self.shared.writer.overlay() {
            return Ok(overlay.pin());
        }
        Ok(Pinned {
            base: Arc::new(Base::new(self.shared.db.begin_read()?)),
            layers: Vec::new(),
        })
    }

    /// Runs `f` in a read snapshot on the caller's thread. Readers never
    /// wait for the writer (MVCC). A panic inside redb becomes `Error::Corrupt`.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&View<'_>) -> Result<T>) -> Result<T, StoreError> {
        let snapshot = self.snapshot()?;
        // redb may panic on a damaged page instead of returning an error;
        // the caller gets `Error::Corrupt`, not a panic in its task.
        let result = catch_unwind(AssertUnwindSafe(|| f(&snapshot.view()))).map_err(|_| {
            self.shared.db.mark_damaged();
            redb_panicked(label(&self.shared.path), "reading")
        })?;
        Ok(result?)
    }

    /// Commits `op` in a group (on this thread or the writer thread, see
    /// `writer` invariant 6) and waits for the group's commit.
    /// `op` may run more than once (see `writer` invariant 2): it must only
    /// depend on its captures and the transaction.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Tx<'_>) -> Result<T> + Send + 'static,
    {
        Ok(self.shared.writer.submit(op).await?)
    }
}

/// How errors name a store opened with [`RedbStore::open_on_backend`].
const BACKEND_LABEL: &str = "<storage backend>";

/// The name errors give the store: its path, or [`BACKEND_LABEL`].
fn label(path: &Option<PathBuf>) -> &Path {
    path.as_deref().unwrap_or(Path::new(BACKEND_LABEL))
}

/// The error for a panic inside redb `during` some step: the file is damaged.
fn redb_panicked(path: &Path, during: &str) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        detail: format!("redb panicked while {during}: the file is damaged"),
    }
}

/// The open database of a [`Shared`]. Its drop closes the file inside
/// `catch_unwind`: redb's close commits, and on a damaged file that commit can
/// panic; dropping a store must never take the caller's thread down. Once
/// redb has panicked on this file (`mark_damaged`), the database is not
/// closed at all but leaked: on some damaged files redb's commit panics and
/// then panics again in a destructor while unwinding, which aborts the
/// process, and no guard can catch that. Leaking keeps the file locked for
/// the rest of the process, which is the lesser harm.
struct ClosingDb {
    db: Option<Arc<Database>>,
    damaged: AtomicBool,
}

impl ClosingDb {
    fn new(db: Database) -> ClosingDb {
        ClosingDb {
            db: Some(Arc::new(db)),
            damaged: AtomicBool::new(false),
        }
    }

    /// Records that redb panicked on this file: never run its close.
    fn mark_damaged(&self) {
        self.damaged.store(true, Ordering::Relaxed);
    }

    fn is_damaged(&self) -> bool {
        self.damaged.load(Ordering::Relaxed)
    }
}

impl std::ops::Deref for ClosingDb {
    type Target = Arc<Database>;
    fn deref(&self) -> &Arc<Database> {
        self.db
            .as_ref()
            .expect("the database is only taken when the store is consumed")
    }
}

impl Drop for ClosingDb {
    fn drop(&mut self) {
        let Some(db) = self.db.take() else { return };
        if self.is_damaged() {
            log::error!("redb panicked on this file earlier: not closing it (leaked)");
            std::mem::forget(db);
        } else if catch_unwind(AssertUnwindSafe(move || drop(db))).is_err() {
            log::error!("redb panicked while closing a damaged file");
        }
    }
}

/// redb's file header, as redb 4.6 lays it out
/// (`tree_store/page_store/header.rs`, whose names these are):
/// ```text
/// 0..9     MAGICNUMBER, written last when a file is created
/// 64..192  commit slot 0 (TRANSACTION_0_OFFSET), TRANSACTION_SIZE bytes
/// 192..320 commit slot 1 (TRANSACTION_1_OFFSET); DB_HEADER_SIZE = 320
/// within a slot:
///   0      version
///   1      USER_ROOT_NON_NULL: 1 when the slot names a user-table root page
///   2      SYSTEM_ROOT_NON_NULL: 1 when it names a system-table root page
/// ```
mod redb_header {
    pub(super) const MAGICNUMBER_LEN: usize = 9;
    pub(super) const TRANSACTION_SIZE: usize = 128;
    pub(super) const TRANSACTION_0_OFFSET: usize = 64;
    pub(super) const TRANSACTION_1_OFFSET: usize = TRANSACTION_0_OFFSET + TRANSACTION_SIZE;
    pub(super) const USER_ROOT_NON_NULL_OFFSET: usize = 1;
    pub(super) const SYSTEM_ROOT_NON_NULL_OFFSET: usize = 2;
}

/// The first bytes of a redb file that say whether it ever finished its
/// creation: through slot 1's SYSTEM_ROOT_NON_NULL byte.
const REDB_HEADER_LEN: usize =
    redb_header::TRANSACTION_1_OFFSET + redb_header::SYSTEM_ROOT_NON_NULL_OFFSET + 1;

/// Whether `header` (a file's first [`REDB_HEADER_LEN`] bytes) is a redb file
/// whose creation never finished. redb writes its magic number last when it
/// creates a file, after syncing the rest; until then no transaction can
/// commit. So a zero magic number with both commit slots naming no root page
/// has never held data. A damaged file of ours has roots in its slots and is
/// refused as corrupt instead.
fn is_unfinished_creation(header: &[u8]) -> bool {
    use redb_header::*;
    let no_root = |slot: usize| {
        header[slot + USER_ROOT_NON_NULL_OFFSET] == 0
            && header[slot + SYSTEM_ROOT_NON_NULL_OFFSET] == 0
    };
    header.len() >= REDB_HEADER_LEN
        && header[..MAGICNUMBER_LEN].iter().all(|b| *b == 0)
        && no_root(TRANSACTION_0_OFFSET)
        && no_root(TRANSACTION_1_OFFSET)
}

/// Renames a file left by an unfinished creation out of the way (never
/// deletes it: a file this check misjudged stays recoverable).
fn set_aside_unfinished_file(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut header = Vec::with_capacity(REDB_HEADER_LEN);
    match std::fs::File::open(path) {
        Ok(file) => {
            file.take(REDB_HEADER_LEN as u64)
                .read_to_end(&mut header)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        }
        // Missing or unreadable: creation (or redb's own error) takes over.
        Err(_) => return Ok(()),
    }
    if !is_unfinished_creation(&header) {
        return Ok(());
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".unfinished-{secs}"));
    log::warn!(
        "{} was never fully created (a crash during its first open); moved to {} and creating it again",
        path.display(),
        Path::new(&aside).display()
    );
    std::fs::rename(path, &aside)
        .map_err(|e| Error::io(format!("moving aside unfinished {}", path.display()), e))
}

/// Empties a custom backend left by an unfinished creation.
fn reset_unfinished_backend(backend: &impl redb::StorageBackend) -> Result<()> {
    let io = |e| Error::io("reading the storage backend's header", e);
    if backend.len().map_err(io)? < REDB_HEADER_LEN as u64 {
        return Ok(());
    }
    let mut header = [0u8; REDB_HEADER_LEN];
    backend.read(0, &mut header).map_err(io)?;
    if is_unfinished_creation(&header) {
        log::warn!("the storage backend was never fully created; creating it again");
        backend
            .set_len(0)
            .map_err(|e| Error::io("emptying an unfinished storage backend", e))?;
    }
    Ok(())
}

/// Opens the database with `create`; `path` only names the file in errors.
fn open_database(
    create: impl FnOnce(&redb::Builder) -> Result<Database, redb::DatabaseError>,
    path: &Path,
    config: &StoreConfig,
) -> Result<Database> {
    let mut builder = redb::Builder::new();
    builder.set_cache_size(config.cache_size_bytes);
    // redb should report a bad file as an error; a panic on hostile bytes is
    // still turned into one rather than taking the caller down.
    let opened = catch_unwind(AssertUnwindSafe(|| create(&builder)))
        .map_err(|_| redb_panicked(path, "opening the file"))?;
    opened.map_err(|e| match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::AlreadyOpen {
            path: path.to_path_buf(),
        },
        redb::DatabaseError::UpgradeRequired(v) => Error::UnsupportedRedbFormat {
            path: path.to_path_buf(),
            detail: format!("file format version {v}"),
        },
        // redb reports a wrong magic number or a short header as InvalidData.
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            Error::Corrupt {
                path: path.to_path_buf(),
                detail: io.to_string(),
            }
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => {
            Error::io(format!("opening {}", path.display()), io)
        }
        other => Error::Corrupt {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    })
}

/// Walks the table directory (every table's definition) in a read
/// transaction before anything writes: a few page reads, whatever the file's
/// size. redb may panic on a damaged directory page; a panic here unwinds
/// through read-only handles only, while the same panic inside a write
/// transaction can panic again in redb's table destructor and abort the
/// process.
fn probe_tables(db: &Database) -> Result<()> {
    let txn = db.begin_read()?;
    for handle in txn.list_tables()? {
        txn.open_untyped_table(handle)?;
    }
    Ok(())
}

/// Stamps a new file with the format version, refuses foreign or newer files,
/// and creates every table so readers never meet a missing one.
fn init_format(db: &Database, path: &Path) -> Result<()> {
    let txn = db.begin_write()?;
    {
        let mut meta = txn.open_table(META)?;
        let stored = meta.get(META_FORMAT_VERSION)?.map(|v| v.value());
        match stored {
            Some(found) if found > FORMAT_VERSION => {
                return Err(Error::NewerFormat {
                    path: path.to_path_buf(),
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            Some(_) => {}
            None => {
                let ours: Vec<&str> = DATA_TABLES.iter().map(|t| t.name()).collect();
                let foreign = txn
                    .list_tables()?
                    .any(|t| t.name() != "meta" && !ours.contains(&t.name()));
                if foreign {
                    return Err(Error::ForeignDatabase {
                        path: path.to_path_buf(),
                    });
                }
                meta.insert(META_FORMAT_VERSION, FORMAT_VERSION)?;
            }
        }
        if meta.get(tables::META_LOG_EPOCH)?.is_none() {
            meta.insert(tables::META_LOG_EPOCH, new_log_epoch())?;
        }
    }
    for table in DATA_TABLES {
        txn.open_table(*table)?;
    }
    txn.commit()?;
    Ok(())
}

/// Opens the commit log, replays what follows the last checkpoint into the
/// database, and returns the journal for the writer in the log modes.
fn recover(
    db: &Database,
    storage: Box<dyn redb::StorageBackend>,
    file_log: bool,
    label: &Path,
    config: &StoreConfig,
) -> Result<Option<Journal>> {
    let (checkpoint, epoch, pos) = {
        let meta = db.begin_read()?.open_table(META)?;
        let get = |key| Ok::<_, Error>(meta.get(key)?.map(|v| v.value()));
        (
            get(tables::META_LOG_LSN)?.unwrap_or(0),
            get(tables::META_LOG_EPOCH)?.unwrap_or(0),
            get(tables::META_LOG_POS)?,
        )
    };
    let log_path = crate::log::path_for(label);
    let stale = crate::log::epoch_of(&*storage)
        .map_err(|e| Error::io(format!("reading the commit log {}", log_path.display()), e))?
        .is_some_and(|found| found != epoch);
    let storage = if stale {
        set_aside_stale_log(storage, file_log.then_some(log_path.as_path()))?
    } else {
        storage
    };
    let growth = crate::log::growth_for(config.checkpoint_bytes);
    let (mut log, replay) = CommitLog::open(storage, checkpoint, pos, epoch, growth, log_path)?;
    if !replay.is_empty() {
        log::info!(
            "redb-storage: {}: replaying {} commit-log records",
            label.display(),
            replay.len()
        );
    }
    let lsn = crate::log::apply_replay(db, &replay, checkpoint)?;
    // Every record in the log is now covered by a checkpoint that says the
    // log starts over (log invariant 4).
    log.restart_after_recovery(lsn);
    Ok(config
        .durability
        .logs()
        .then(|| Journal::new(log, config.checkpoint_bytes, config.checkpoint_interval)))
}

/// A log whose epoch is not the database's belongs to another incarnation
/// of the file (a restored backup or a copy put in place of the store): its
/// records must not be replayed here. A log file is renamed to
/// `<log>.stale-<unix secs>` (never deleted) and a new one created; a log
/// on a custom backend is refused, since only its owner can say what it is.
fn set_aside_stale_log(
    storage: Box<dyn redb::StorageBackend>,
    path: Option<&Path>,
) -> Result<Box<dyn redb::StorageBackend>> {
    let Some(path) = path else {
        return Err(Error::Database(
            "the commit log backend holds the log of another database (its epoch differs); \
             pass an empty backend"
                .into(),
        ));
    };
    drop(storage);
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".stale-{}", wacore::time::now_secs()));
    std::fs::rename(path, &aside).map_err(|e| {
        Error::io(
            format!("setting aside the stale commit log {}", path.display()),
            e,
        )
    })?;
    log::warn!(
        "redb-storage: {} belonged to another incarnation of the store (a restored backup or a \
         copy?); moved to {}",
        path.display(),
        std::path::Path::new(&aside).display()
    );
    open_log_file(path).map(|file| file as Box<dyn redb::StorageBackend>)
}

/// Opens (creating) the log file at `path`.
fn open_log_file(path: &Path) -> Result<Box<redb::backends::FileBackend>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(format!("opening the commit log {}", path.display()), e))?;
    let backend = redb::backends::FileBackend::new(file)
        .map_err(|e| Error::Database(format!("the commit log: {e}")))?;
    Ok(Box::new(backend))
}

/// A fresh `meta.log_epoch`: random per call (std's per-process random hash
/// keys mixed with the clock), so two files never share one in practice.
pub(crate) fn new_log_epoch() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Hands out write sequence numbers (see `tables::META_WRITE_SEQ`).
pub(crate) fn next_write_seq(txn: &Tx<'_>, count: u64) -> Result<u64> {
    let last = txn.meta(tables::META_WRITE_SEQ)?.unwrap_or(0);
    txn.set_meta(tables::META_WRITE_SEQ, last + count)?;
    Ok(last + 1)
}
