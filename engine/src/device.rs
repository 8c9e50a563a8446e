//! `DeviceStore`: the account's device row, snapshots and the resource report.

use async_trait::async_trait;
use wacore::stats::StorageResourceReport;
use wacore::store::Device;
use wacore::store::error::Result;
use wacore::store::traits::DeviceStore;

use crate::RedbStore;
use crate::records::DeviceRecord;
use crate::snapshot;
use crate::tables::DEVICES;
use crate::view::ReadRows;

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl DeviceStore for RedbStore {
    async fn save(&self, device: &Device) -> Result<()> {
        let row = (self.key(), DeviceRecord::encode_device(device));
        self.put_row(DEVICES, row).await
    }

    /// `device_props`, `client_profile` and `nct_salt_sync_seen` are runtime
    /// state: they come back as `DEVICE_PROPS`, `ClientProfile::web()` and `false`.
    async fn load(&self) -> Result<Option<Device>> {
        Ok(self
            .get_record::<DeviceRecord>(DEVICES, self.key())?
            .map(|d| d.0))
    }

    async fn exists(&self) -> Result<bool> {
        self.contains(DEVICES, self.key())
    }

    /// Creates this account's device row with fresh keys and returns its
    /// device id. Idempotent: if the row exists it is kept untouched (its
    /// identity keys are never replaced) and the same id is returned.
    async fn create(&self) -> Result<i32> {
        let key = self.key();
        let fresh = DeviceRecord::encode_device(&Device::new());
        let device_id = self.device_id();
        self.write(move |txn| {
            let mut table = txn.open_table(DEVICES)?;
            if table.get(key.as_slice())?.is_none() {
                table.insert(key.as_slice(), fresh.as_slice())?;
            }
            Ok(device_id)
        })
        .await
    }

    /// Writes a consistent copy of the whole file (every account, one read
    /// snapshot) to `<file>.snapshot-<unix secs>-<name>`, and `extra_content`
    /// beside it as `<that>.json`. Runs on its own thread, never the caller's.
    async fn snapshot_db(&self, name: &str, extra_content: Option<&[u8]>) -> Result<()> {
        let Some(path) = self.path() else {
            return Err(crate::Error::InvalidInput(
                "snapshot_db needs a store opened on a file".into(),
            )
            .into());
        };
        let target = snapshot::target_path(path, name)?;
        let extra = extra_content.map(<[u8]>::to_vec);
        Ok(snapshot::spawn(self.read_snapshot()?, target, extra).await?)
    }

    /// `memory_bytes`: an upper bound of the redb page cache, the smaller of
    /// its configured capacity and the file size (the cache never holds more
    /// than the file), shared by every account of the file; the same bound
    /// the SQLite backend reports. redb counts the exact figure only with its
    /// `cache_metrics` feature, which costs atomics on every page access.
    /// `pages`: the file size in 4 KiB pages. I/O counters are not kept, so
    /// they stay `None`. Both are `None` if the file size cannot be read.
    async fn resource_report(&self) -> StorageResourceReport {
        let file_bytes = self
            .path()
            .and_then(|path| std::fs::metadata(path).ok())
            .map(|m| m.len());
        let cache_cap = self.config().cache_size_bytes as u64;
        StorageResourceReport {
            memory_bytes: file_bytes.map(|len| len.min(cache_cap)),
            pages: file_bytes.map(|len| len / 4096),
            io_read_bytes: None,
            io_write_bytes: None,
        }
    }
}
