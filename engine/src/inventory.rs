//! What a store holds: rows and bytes per table and account, read in one
//! snapshot. Works on a live store (a read transaction never blocks the
//! writer), so a bot can report it, and the lab's `inspect` prints it.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableHandle};
use wacore::store::error::StoreError;

use crate::RedbStore;
use crate::keys;
use crate::tables::DATA_TABLES;

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
}

impl RedbStore {
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
                    });
                    usage.rows += 1;
                    usage.key_bytes += key.len() as u64;
                    usage.value_bytes += value.len() as u64;
                }
                out.extend(per_account.into_values());
            }
            Ok(out)
        })
    }
}
