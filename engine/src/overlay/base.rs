//! The redb snapshot under the overlay's layers, with its data tables
//! opened once for every reader of it.

use std::ops::Deref;
use std::sync::OnceLock;

use redb::{ReadOnlyTable, ReadTransaction};

use super::TableId;
use crate::error::{Error, Result};
use crate::tables::DATA_TABLES;

/// A data table of a snapshot, opened for reading.
pub(crate) type BaseTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The snapshot of the last checkpoint, shared by the readers of the
/// overlay until the next one. Each data table is opened the first time
/// it is read and kept: opening one per read (a lookup in redb's table
/// tree and a decode of its definition) was ~8% of a point read's
/// samples when the row came from redb.
pub(crate) struct Base {
    txn: ReadTransaction,
    tables: [OnceLock<BaseTable>; DATA_TABLES.len()],
}

impl Base {
    pub(crate) fn new(txn: ReadTransaction) -> Base {
        Base {
            txn,
            tables: [const { OnceLock::new() }; DATA_TABLES.len()],
        }
    }

    /// The data table `id` (an index in [`DATA_TABLES`]), opened now if
    /// not yet.
    pub(crate) fn table(&self, id: TableId) -> Result<&BaseTable> {
        let Some(slot) = self.tables.get(id) else {
            return Err(Error::Database(format!("internal: no data table {id}")));
        };
        if let Some(table) = slot.get() {
            return Ok(table);
        }
        // Two readers may both open it; the first one kept wins.
        let opened = self.txn.open_table(DATA_TABLES[id])?;
        Ok(slot.get_or_init(|| opened))
    }
}

impl Deref for Base {
    type Target = ReadTransaction;

    fn deref(&self) -> &ReadTransaction {
        &self.txn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase};

    #[test]
    fn a_table_is_opened_once_and_reads_the_snapshot() {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        for table in DATA_TABLES {
            txn.open_table(*table).unwrap();
        }
        txn.open_table(DATA_TABLES[0])
            .unwrap()
            .insert(b"k".as_slice(), b"old".as_slice())
            .unwrap();
        txn.commit().unwrap();
        let base = Base::new(db.begin_read().unwrap());
        let txn = db.begin_write().unwrap();
        txn.open_table(DATA_TABLES[0])
            .unwrap()
            .insert(b"k".as_slice(), b"new".as_slice())
            .unwrap();
        txn.commit().unwrap();

        let first = base.table(0).unwrap();
        assert!(std::ptr::eq(first, base.table(0).unwrap()), "opened again");
        let value = first.get(b"k".as_slice()).unwrap().unwrap();
        assert_eq!(value.value(), b"old", "the snapshot's row");
        assert!(base.table(DATA_TABLES.len()).is_err(), "not a data table");
    }
}
