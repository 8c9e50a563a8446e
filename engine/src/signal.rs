//! `SignalStore`: identities, sessions, prekeys, signed prekeys, sender keys.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use wacore::store::error::Result;
use wacore::store::traits::SignalStore;

use crate::RedbStore;
use crate::keys::{self, Key};
use crate::records::{Blob, Identity, PreKeyRecord, Record};
use crate::rows::{get, scan};
use crate::tables::{IDENTITIES, PREKEYS, SENDER_KEYS, SESSIONS, SIGNED_PREKEYS, Table};
use crate::view::ReadRows;

impl RedbStore {
    fn blob_rows(&self, rows: &[(Arc<str>, Bytes)]) -> Vec<(Key, Vec<u8>)> {
        rows.iter()
            .map(|(address, data)| (self.key().named(&**address), Blob::encode_slice(data)))
            .collect()
    }

    fn get_blob(&self, table: Table, key: Key) -> Result<Option<Vec<u8>>> {
        Ok(self.get_record::<Blob>(table, key)?.map(|b| b.0))
    }

    /// Whether any key under `a, last(user + "@")` or `a, last(user + ":")` exists in `table`.
    fn any_address_of_user(
        table: &impl ReadRows,
        prefix: Key,
        user: &str,
    ) -> crate::error::Result<bool> {
        for separator in ["@", ":"] {
            let probe = prefix.clone().named(format!("{user}{separator}"));
            let range = keys::PrefixRange::new(&probe);
            if table.range(range.bounds())?.next().is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl SignalStore for RedbStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        let row = (self.key().named(address), Identity(key).encode());
        self.put_row(IDENTITIES, row).await
    }

    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        let rows = identities
            .iter()
            .map(|(address, key)| (self.key().named(&**address), Identity(*key).encode()))
            .collect();
        self.put_rows(IDENTITIES, rows).await
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        Ok(self
            .get_record::<Identity>(IDENTITIES, self.key().named(address))?
            .map(|i| i.0))
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.delete_rows(IDENTITIES, vec![self.key().named(address)])
            .await
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        Ok(self
            .get_blob(SESSIONS, self.key().named(address))?
            .map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        let row = (self.key().named(address), Blob::encode_slice(session));
        self.put_row(SESSIONS, row).await
    }

    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.put_rows(SESSIONS, self.blob_rows(sessions)).await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.delete_rows(SESSIONS, vec![self.key().named(address)])
            .await
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        self.contains(SESSIONS, self.key().named(address))
    }

    /// Exact match on the user part: addresses are `user@server` or
    /// `user:device@server`, so two prefix scans (`user@`, `user:`) find
    /// exactly that user's rows; no wildcards, no case folding.
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        self.read(|txn| {
            Ok(
                Self::any_address_of_user(&txn.open_table(SESSIONS)?, self.key(), user)?
                    || Self::any_address_of_user(&txn.open_table(IDENTITIES)?, self.key(), user)?,
            )
        })
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        let row = (
            self.key().numbered(id),
            PreKeyRecord::encode_parts(uploaded, record),
        );
        self.put_row(PREKEYS, row).await
    }

    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        let rows = keys
            .iter()
            .map(|(id, record)| {
                (
                    self.key().numbered(*id),
                    PreKeyRecord::encode_parts(uploaded, record),
                )
            })
            .collect();
        self.put_rows(PREKEYS, rows).await
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        Ok(self
            .get_record::<PreKeyRecord>(PREKEYS, self.key().numbered(id))?
            .map(|p| Bytes::from(p.record)))
    }

    /// One entry per requested id that exists, in request order; an id
    /// requested twice is returned once.
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        self.read(|txn| {
            let table = txn.open_table(PREKEYS)?;
            // Ids come strictly ascending from the client (one upload's
            // range); only other orders need the duplicate filter.
            let ascending = ids.windows(2).all(|w| w[0] < w[1]);
            let mut seen = HashSet::new();
            let mut out = Vec::with_capacity(ids.len());
            for &id in ids {
                if !ascending && !seen.insert(id) {
                    continue;
                }
                if let Some(p) = get::<PreKeyRecord>(&table, &self.key().numbered(id))? {
                    out.push((id, Bytes::from(p.record)));
                }
            }
            Ok(out)
        })
    }

    /// UPDATE only: a prekey deleted before this call stays deleted.
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let keys: Vec<Key> = ids.iter().map(|&id| self.key().numbered(id)).collect();
        self.write(move |txn| {
            let mut table = txn.open_table(PREKEYS)?;
            for key in &keys {
                let Some(mut prekey) = get::<PreKeyRecord>(&table, key)? else {
                    continue;
                };
                if !prekey.uploaded {
                    prekey.uploaded = true;
                    table.insert(key.as_slice(), prekey.encode().as_slice())?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.delete_rows(PREKEYS, vec![self.key().numbered(id)])
            .await
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        self.read(|txn| {
            let table = txn.open_table(PREKEYS)?;
            let range = keys::PrefixRange::new(&self.key());
            let last = table.range(range.bounds())?.next_back();
            match last {
                None => Ok(0),
                Some(row) => keys::id_of(row?.0.value(), "prekey key"),
            }
        })
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        let row = (self.key().numbered(id), Blob::encode_slice(record));
        self.put_row(SIGNED_PREKEYS, row).await
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.get_blob(SIGNED_PREKEYS, self.key().numbered(id))
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        self.read(|txn| {
            let mut out = Vec::new();
            scan(&txn.open_table(SIGNED_PREKEYS)?, &self.key(), |k, v| {
                out.push((keys::id_of(k, "signed prekey key")?, Blob::decode(v)?.0));
                Ok(())
            })?;
            Ok(out)
        })
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.delete_rows(SIGNED_PREKEYS, vec![self.key().numbered(id)])
            .await
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        let row = (self.key().named(address), Blob::encode_slice(record));
        self.put_row(SENDER_KEYS, row).await
    }

    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.put_rows(SENDER_KEYS, self.blob_rows(sender_keys))
            .await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.get_blob(SENDER_KEYS, self.key().named(address))
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.delete_rows(SENDER_KEYS, vec![self.key().named(address)])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The uploaded flag is write-only through the trait (no method reads
    /// it), so only the engine's own test can see that marking sets it.
    #[test]
    fn mark_prekeys_uploaded_sets_the_stored_flag_of_existing_prekeys_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path().join("s.redb")).unwrap();
        futures::executor::block_on(async {
            store.store_prekey(1, b"a", false).await.unwrap();
            store.store_prekey(2, b"b", true).await.unwrap();
            store.mark_prekeys_uploaded(&[1, 2, 3]).await.unwrap();
        });
        let stored = |id| {
            store
                .get_record::<PreKeyRecord>(PREKEYS, store.key().numbered(id))
                .unwrap()
        };
        assert_eq!(
            stored(1).map(|r| (r.uploaded, r.record)),
            Some((true, b"a".to_vec()))
        );
        assert_eq!(
            stored(2).map(|r| (r.uploaded, r.record)),
            Some((true, b"b".to_vec()))
        );
        assert_eq!(stored(3), None, "marking never creates a prekey");
    }
}
