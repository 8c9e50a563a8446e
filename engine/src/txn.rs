//! The write transaction every write request gets, and a record of what it
//! changed for the commit log (`crate::log`).
//!
//! It writes either into a layer of pending changes that the writer merges
//! into the overlay once the group's log record is written (the log modes,
//! `crate::overlay`), or into a redb write transaction (`Relaxed` mode and
//! a store without a log); request code cannot tell.
//!
//! [`Tx::open_table`] gives a [`LoggedTable`]: it reads through
//! [`ReadRows`] and its `insert`, `replace` and `remove` also append the
//! change to the transaction's record. Only these methods change a table,
//! so no change can bypass the record.

use std::cell::RefCell;
use std::collections::VecDeque;

use redb::{ReadableTable, TableHandle, WriteTransaction};

use crate::error::Result;
use crate::log::format::RecordBuf;
use crate::overlay::{Layer, Layers, META_TABLE, Pending, Probe, SpareIndex, TableId, table_id};
use crate::tables::{self, Table};
use crate::view::{Bounds, ReadRows, RowIter, Rows, Val};

/// A write transaction and the changes made through it.
pub(crate) struct Tx<'a> {
    target: Target<'a>,
    /// The log record of the changes (after-images), encoded as they are
    /// made; `None` when no log is kept.
    changes: Option<RefCell<RecordBuf>>,
}

/// Where a transaction's changes go.
enum Target<'a> {
    Redb(&'a WriteTransaction),
    /// The overlay's layers (read, never changed here) and this
    /// transaction's own changes.
    Overlay {
        layers: &'a Layers,
        pending: RefCell<Pending>,
    },
}

impl<'a> Tx<'a> {
    /// Wraps `txn` (the modes without a log: no record is kept).
    pub(crate) fn new(txn: &'a WriteTransaction) -> Tx<'a> {
        Tx {
            target: Target::Redb(txn),
            changes: None,
        }
    }

    /// A transaction over the overlay's `layers`; its changes are logged
    /// into `record` (empty) and indexed in `index` (the last one's, if
    /// kept).
    pub(crate) fn over(layers: &'a Layers, record: RecordBuf, index: Option<SpareIndex>) -> Tx<'a> {
        Tx {
            target: Target::Overlay {
                layers,
                pending: RefCell::new(Pending::reusing(index)),
            },
            changes: Some(RefCell::new(record)),
        }
    }

    /// Opens a data table for reading and writing.
    pub(crate) fn open_table(&self, table: Table) -> Result<LoggedTable<'_>> {
        let target = match &self.target {
            Target::Redb(txn) => TableTarget::Redb(txn.open_table(table)?),
            Target::Overlay { layers, pending } => TableTarget::Overlay {
                rows: Rows::with_pending(layers, table, pending),
                pending,
                table: table_id(table),
            },
        };
        Ok(LoggedTable {
            definition: table,
            target,
            changes: self.changes.as_ref(),
        })
    }

    /// Reads a `meta` entry.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<u64>> {
        match &self.target {
            Target::Redb(txn) => Ok(txn.open_table(tables::META)?.get(key)?.map(|v| v.value())),
            Target::Overlay { layers, pending } => {
                let probe = Probe::new(META_TABLE, key.as_bytes());
                let layered = pending
                    .borrow()
                    .get(&probe)
                    .map(|v| v.map(<[u8]>::to_vec))
                    .or_else(|| {
                        layers
                            .newest_first(true)
                            .find_map(|l| l.get(&probe))
                            .map(|v| v.map(<[u8]>::to_vec))
                    });
                match layered {
                    Some(value) => Ok(value
                        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
                        .map(u64::from_be_bytes)),
                    None => Ok(layers
                        .base
                        .open_table(tables::META)?
                        .get(key)?
                        .map(|v| v.value())),
                }
            }
        }
    }

    /// Writes a `meta` entry.
    pub(crate) fn set_meta(&self, key: &'static str, value: u64) -> Result<()> {
        let bytes = value.to_be_bytes();
        match &self.target {
            Target::Redb(txn) => {
                txn.open_table(tables::META)?.insert(key, value)?;
            }
            Target::Overlay { pending, .. } => {
                pending
                    .borrow_mut()
                    .put(META_TABLE, key.as_bytes(), Some(&bytes))
            }
        }
        if let Some(changes) = &self.changes {
            changes
                .borrow_mut()
                .push(tables::META.name(), key.as_bytes(), Some(&bytes));
        }
        Ok(())
    }

    /// The changes made: their log record (empty when not recording) and
    /// the overlay layer (empty for a redb transaction).
    pub(crate) fn into_changes(self) -> (RecordBuf, Layer, Option<SpareIndex>) {
        let record = self
            .changes
            .map_or_else(RecordBuf::new, RefCell::into_inner);
        let (layer, index) = match self.target {
            Target::Redb(_) => (Layer::default(), None),
            Target::Overlay { pending, .. } => pending.into_inner().into_parts(),
        };
        (record, layer, index)
    }
}

/// A data table of a [`Tx`]: reads through [`ReadRows`], writes recorded.
pub(crate) struct LoggedTable<'t> {
    /// Its definition, for the name the log records.
    definition: Table,
    target: TableTarget<'t>,
    changes: Option<&'t RefCell<RecordBuf>>,
}

enum TableTarget<'t> {
    Redb(redb::Table<'t, &'static [u8], &'static [u8]>),
    Overlay {
        rows: Rows<'t>,
        pending: &'t RefCell<Pending>,
        table: TableId,
    },
}

impl LoggedTable<'_> {
    /// Inserts or replaces a row.
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.record(key, Some(value));
        match &mut self.target {
            TableTarget::Redb(table) => {
                table.insert(key, value)?;
            }
            TableTarget::Overlay { pending, table, .. } => {
                pending.borrow_mut().put(*table, key, Some(value))
            }
        }
        Ok(())
    }

    /// Inserts or replaces a row; returns the old value (a lookup more than
    /// `insert` over the overlay, none more in redb).
    pub(crate) fn replace(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Box<[u8]>>> {
        self.change(key, Some(value))
    }

    /// Deletes a row; returns its value if it existed.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Result<Option<Box<[u8]>>> {
        self.change(key, None)
    }

    /// Puts (`Some`) or deletes (`None`) a row; returns the old value.
    fn change(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<Option<Box<[u8]>>> {
        self.record(key, value);
        match &mut self.target {
            TableTarget::Redb(table) => {
                let old = match value {
                    Some(value) => table.insert(key, value)?,
                    None => table.remove(key)?,
                };
                Ok(old.map(|v| v.value().into()))
            }
            TableTarget::Overlay {
                rows,
                pending,
                table,
            } => {
                // Hashed once for the lookup and the change.
                let probe = Probe::new(*table, key);
                let old = rows.get_probed(&probe)?.map(|v| v.value().into());
                pending.borrow_mut().put_probed(&probe, value);
                Ok(old)
            }
        }
    }

    fn record(&self, key: &[u8], value: Option<&[u8]>) {
        if let Some(changes) = self.changes {
            changes
                .borrow_mut()
                .push(self.definition.name(), key, value);
        }
    }
}

impl ReadRows for LoggedTable<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Val<'_>>> {
        match &self.target {
            TableTarget::Redb(table) => Ok(table.get(key)?.map(Val::Stored)),
            TableTarget::Overlay { rows, .. } => rows.get(key),
        }
    }

    fn range(&self, bounds: Bounds<'_>) -> Result<RowIter<'_>> {
        match &self.target {
            TableTarget::Redb(table) => {
                Ok(RowIter::new(table.range::<&[u8]>(bounds)?, VecDeque::new()))
            }
            TableTarget::Overlay { rows, .. } => rows.range(bounds),
        }
    }
}
