//! `AppSyncStore`: app-state sync keys, collection versions, mutation MACs.

use std::collections::HashMap;

use async_trait::async_trait;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::Result;
use wacore::store::traits::{AppStateSyncKey, AppSyncStore};

use crate::RedbStore;
use crate::keys::Key;
use crate::records::{Blob, MutationMacRecord, Record};
use crate::rows::get;
use crate::tables::{APP_STATE_VERSIONS, LATEST_SYNC_KEY, MUTATION_MACS, SYNC_KEYS};

impl RedbStore {
    fn mac_key(&self, collection: &str, index_mac: &[u8]) -> Key {
        self.key().scoped(collection, index_mac)
    }
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl AppSyncStore for RedbStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.get_record(SYNC_KEYS, self.key().named(key_id))
    }

    /// Also records `key_id` as the latest key, in the same transaction.
    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        let row_key = self.key().named(key_id);
        let latest_key = self.key();
        let record = key.encode();
        let latest = Blob::encode_slice(key_id);
        self.write(move |txn| {
            txn.open_table(SYNC_KEYS)?
                .insert(row_key.as_slice(), record.as_slice())?;
            txn.open_table(LATEST_SYNC_KEY)?
                .insert(latest_key.as_slice(), latest.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        Ok(self
            .get_record::<HashState>(APP_STATE_VERSIONS, self.key().named(name))?
            .unwrap_or_default())
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        let row = (self.key().named(name), state.encode());
        self.put_row(APP_STATE_VERSIONS, row).await
    }

    /// All rows in one transaction, whatever the batch size.
    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        let rows = mutations
            .iter()
            .map(|m| {
                (
                    self.mac_key(name, &m.index_mac),
                    MutationMacRecord::encode_parts(version, &m.value_mac),
                )
            })
            .collect();
        self.put_rows(MUTATION_MACS, rows).await
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_record::<MutationMacRecord>(MUTATION_MACS, self.mac_key(name, index_mac))?
            .map(|r| r.value_mac))
    }

    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<u8>>> {
        self.read(|txn| {
            let table = txn.open_table(MUTATION_MACS)?;
            let account = self.key();
            let mut out = HashMap::with_capacity(index_macs.len());
            for index_mac in index_macs {
                let key = account.clone().scoped(name, index_mac);
                if let Some(r) = get::<MutationMacRecord>(&table, &key)? {
                    out.insert(*index_mac, r.value_mac);
                }
            }
            Ok(out)
        })
    }

    /// All rows in one transaction, whatever the batch size.
    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        let keys = index_macs.iter().map(|m| self.mac_key(name, m)).collect();
        self.delete_rows(MUTATION_MACS, keys).await
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.delete_prefix(MUTATION_MACS, self.key().scope(name))
            .await
    }

    /// The key id most recently passed to `set_sync_key`.
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_record::<Blob>(LATEST_SYNC_KEY, self.key())?
            .map(|b| b.0))
    }
}
