//! The write transaction every write request gets: redb's, plus a record
//! of what it changed for the commit log (`crate::log`).
//!
//! [`Tx::open_table`] gives a [`LoggedTable`]: reads go straight to redb's
//! table (it derefs to it, read-only: pass `&*table` to the read helpers),
//! and its `insert` and `remove` also
//! append the change to the transaction's record. Only these two methods
//! can change a table (the deref gives `&Table`, whose writers take `&mut`),
//! so no change can bypass the record.

use std::cell::RefCell;
use std::ops::Deref;

use redb::{AccessGuard, ReadableTable, StorageError, TableError, TableHandle, WriteTransaction};

use crate::error::Result;
use crate::log::format::RecordBuf;
use crate::tables::{self, Table};

/// A redb write transaction and the changes made through it.
pub(crate) struct Tx<'a> {
    txn: &'a WriteTransaction,
    /// The log record of the changes (after-images), encoded as they are
    /// made; `None` when no log is kept.
    changes: Option<RefCell<RecordBuf>>,
}

impl<'a> Tx<'a> {
    /// Wraps `txn`; `record` says whether changes are kept for the log.
    pub(crate) fn new(txn: &'a WriteTransaction, record: bool) -> Tx<'a> {
        Tx {
            txn,
            changes: record.then(|| RefCell::new(RecordBuf::new())),
        }
    }

    /// Opens a data table for reading and writing.
    pub(crate) fn open_table(&self, table: Table) -> Result<LoggedTable<'_>, TableError> {
        Ok(LoggedTable {
            definition: table,
            table: self.txn.open_table(table)?,
            changes: self.changes.as_ref(),
        })
    }

    /// Reads a `meta` entry.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<u64>> {
        Ok(self
            .txn
            .open_table(tables::META)?
            .get(key)?
            .map(|v| v.value()))
    }

    /// Writes a `meta` entry.
    pub(crate) fn set_meta(&self, key: &'static str, value: u64) -> Result<()> {
        self.txn.open_table(tables::META)?.insert(key, value)?;
        if let Some(changes) = &self.changes {
            changes.borrow_mut().push(
                tables::META.name(),
                key.as_bytes(),
                Some(&value.to_be_bytes()),
            );
        }
        Ok(())
    }

    /// The record of the changes so far (empty when not recording).
    pub(crate) fn take_changes(&self) -> RecordBuf {
        self.changes
            .as_ref()
            .map(|c| std::mem::replace(&mut *c.borrow_mut(), RecordBuf::new()))
            .unwrap_or_else(RecordBuf::new)
    }
}

/// A data table of a [`Tx`]: reads through `Deref`, writes recorded.
pub(crate) struct LoggedTable<'t> {
    /// Its definition, for the name the log records.
    definition: Table,
    table: redb::Table<'t, &'static [u8], &'static [u8]>,
    changes: Option<&'t RefCell<RecordBuf>>,
}

impl<'t> LoggedTable<'t> {
    /// Inserts or replaces a row; returns the old value.
    pub(crate) fn insert(
        &mut self,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<AccessGuard<'_, &'static [u8]>>, StorageError> {
        self.record(key, Some(value));
        self.table.insert(key, value)
    }

    /// Deletes a row; returns its value if it existed.
    pub(crate) fn remove(
        &mut self,
        key: &[u8],
    ) -> Result<Option<AccessGuard<'_, &'static [u8]>>, StorageError> {
        self.record(key, None);
        self.table.remove(key)
    }

    fn record(&self, key: &[u8], value: Option<&[u8]>) {
        if let Some(changes) = self.changes {
            changes
                .borrow_mut()
                .push(self.definition.name(), key, value);
        }
    }
}

impl<'t> Deref for LoggedTable<'t> {
    type Target = redb::Table<'t, &'static [u8], &'static [u8]>;

    fn deref(&self) -> &Self::Target {
        &self.table
    }
}
