//! What a store holds (rows, bytes and a digest per table and account, read
//! in one snapshot), and online backups. Both work on a live store (a read
//! transaction never blocks the writer): a bot can call them, and the lab's
//! `inspect` and `backup` print them.

use std::collections::BTreeMap;

use redb::TableHandle;
use wacore::store::error::StoreError;

use crate::RedbStore;
use crate::keys;
use crate::tables::DATA_TABLES;
use crate::view::ReadRows;

/// Rows and bytes of one table for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableUsage {
    /// The table's name in the file (`session`, `identity`, ...).
    pub table: String,
    /// The account (device id) the rows belong to.
    pub device_id: i32,
    /// How many rows.
    pub rows: u64,
    /// Bytes of their keys (the account prefix included).
    pub key_bytes: u64,
    /// Bytes of their values (records, version byte included).
    pub value_bytes: u64,
    /// FNV-1a (64-bit) of every row in key order (each key and value with
    /// its length): two files whose usages are equal hold the same rows, up
    /// to a hash collision.
    pub digest: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl RedbStore {
    /// Writes a consistent copy of the whole file (every account, as of one
    /// read snapshot, taken while writers go on) to a new file at `target`,
    /// synced before this returns; the copy is a store `RedbStore::open`
    /// opens. Runs on a thread of its own, never the caller's. Refuses an
    /// existing `target`.
    pub async fn backup(&self, target: impl AsRef<std::path::Path>) -> Result<(), StoreError> {
        Ok(crate::snapshot::spawn(self.read_snapshot()?, target.as_ref().to_owned(), None).await?)
    }

    /// Rows and bytes per table and account, every account of the file, in
    /// one read snapshot, ordered by table (file order) then account. Tables
    /// with no rows are left out. Reads every row: seconds on a large file.
    pub fn inventory(&self) -> Result<Vec<TableUsage>, StoreError> {
        self.read(|txn| {
            let mut out = Vec::new();
            for definition in DATA_TABLES {
                let table = txn.open_table(*definition)?;
                let mut per_account: BTreeMap<i32, TableUsage> = BTreeMap::new();
                for row in table.iter()? {
                    let (key, value) = row?;
                    let (key, value) = (key.value(), value.value());
                    let device_id = keys::device_id_of(key, definition.name())?;
                    let usage = per_account.entry(device_id).or_insert_with(|| TableUsage {
                        table: definition.name().to_owned(),
                        device_id,
                        rows: 0,
                        key_bytes: 0,
                        value_bytes: 0,
                        digest: FNV_OFFSET,
                    });
                    usage.rows += 1;
                    usage.key_bytes += key.len() as u64;
                    usage.value_bytes += value.len() as u64;
                    for part in [key, value] {
                        usage.digest = fnv(usage.digest, &(part.len() as u64).to_be_bytes());
                        usage.digest = fnv(usage.digest, part);
                    }
                }
                out.extend(per_account.into_values());
            }
            Ok(out)
        })
    }
}
