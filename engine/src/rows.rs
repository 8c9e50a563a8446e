//! Row-level helpers shared by the trait implementations: typed gets, scans
//! over a key prefix, and the common "put these rows" / "delete these keys"
//! requests. Domain files stay thin by going through these.

use crate::txn::Tx;
use wacore::store::error::StoreError;

use crate::RedbStore;
use crate::error::Result;
use crate::keys::{Key, PrefixRange};
use crate::records::Record;
use crate::tables::Table;
use crate::view::ReadRows;

/// Reads and decodes one row.
pub(crate) fn get<R: Record>(table: &impl ReadRows, key: &Key) -> Result<Option<R>> {
    match table.get(key.as_slice())? {
        Some(v) => R::decode(v.value()).map(Some),
        None => Ok(None),
    }
}

/// Calls `f(key, value)` for every row whose key starts with `prefix`, in key order.
pub(crate) fn scan(
    table: &impl ReadRows,
    prefix: &Key,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let range = PrefixRange::new(prefix);
    for row in table.range(range.bounds())? {
        let (k, v) = row?;
        f(k.value(), v.value())?;
    }
    Ok(())
}

/// Deletes every row under `prefix` for which `doomed(key, value)` holds;
/// returns how many were deleted.
pub(crate) fn delete_where(
    txn: &Tx<'_>,
    table: Table,
    prefix: &Key,
    mut doomed: impl FnMut(&[u8], &[u8]) -> Result<bool>,
) -> Result<u32> {
    let mut table = txn.open_table(table)?;
    let mut keys = Vec::new();
    scan(&table, prefix, |k, v| {
        if doomed(k, v)? {
            keys.push(k.to_vec());
        }
        Ok(())
    })?;
    for k in &keys {
        table.remove(k.as_slice())?;
    }
    Ok(u32::try_from(keys.len()).unwrap_or(u32::MAX))
}

impl RedbStore {
    /// Reads one record of this account.
    pub(crate) fn get_record<R: Record>(
        &self,
        table: Table,
        key: Key,
    ) -> Result<Option<R>, StoreError> {
        self.read(|view| get(&view.open_table(table)?, &key))
    }

    /// Whether a row exists, without decoding it.
    pub(crate) fn contains(&self, table: Table, key: Key) -> Result<bool, StoreError> {
        self.read(|view| Ok(view.open_table(table)?.get(key.as_slice())?.is_some()))
    }

    /// Upserts `rows` (encoded key, encoded record) in one transaction; in a
    /// batch the last duplicate key wins.
    pub(crate) async fn put_rows(
        &self,
        table: Table,
        rows: Vec<(Key, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.write(move |txn| {
            let mut t = txn.open_table(table)?;
            for (k, v) in &rows {
                t.insert(k.as_slice(), v.as_slice())?;
            }
            Ok(())
        })
        .await
    }

    /// Upserts one row (encoded key, encoded record): [`Self::put_rows`]
    /// without a list to allocate, on the path of every single-row write.
    pub(crate) async fn put_row(
        &self,
        table: Table,
        (key, value): (Key, Vec<u8>),
    ) -> Result<(), StoreError> {
        self.write(move |txn| {
            txn.open_table(table)?
                .insert(key.as_slice(), value.as_slice())
        })
        .await
    }

    /// Deletes `keys` in one transaction; missing keys are not an error.
    pub(crate) async fn delete_rows(&self, table: Table, keys: Vec<Key>) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.write(move |txn| {
            let mut t = txn.open_table(table)?;
            for k in &keys {
                t.remove(k.as_slice())?;
            }
            Ok(())
        })
        .await
    }

    /// Deletes every row under `prefix` in one transaction.
    pub(crate) async fn delete_prefix(&self, table: Table, prefix: Key) -> Result<(), StoreError> {
        self.write(move |txn| delete_where(txn, table, &prefix, |_, _| Ok(true)).map(drop))
            .await
    }
}
