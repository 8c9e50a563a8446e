//! `AppSyncStore`: app-state sync keys, collection versions, mutation MACs.

use std::collections::HashMap;

use async_trait::async_trait;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::Result;
use wacore::store::traits::{AppStateSyncKey, AppSyncStore};

use crate::error::Error;
use crate::store::{PostgresStore, last_wins, text};

/// `u64` versions travel as `bigint` bit for bit (values past `i64::MAX`
/// read back unchanged, though SQL sees them negative).
fn version_to_sql(version: u64) -> i64 {
    version as i64
}

fn version_from_sql(version: i64) -> u64 {
    version as u64
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl AppSyncStore for PostgresStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        let row = self
            .query_opt(
                "SELECT key_data, fingerprint, timestamp FROM app_state_keys
                 WHERE device_id = $1 AND key_id = $2",
                &[&self.device_id(), &key_id],
            )
            .await?;
        Ok(row.map(|r| AppStateSyncKey {
            key_data: r.get(0),
            fingerprint: r.get(1),
            timestamp: r.get(2),
        }))
    }

    /// Also makes `key_id` the latest key (a fresh `set_order`), in the same statement.
    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        self.execute(
            "INSERT INTO app_state_keys (device_id, key_id, key_data, fingerprint, timestamp)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (device_id, key_id) DO UPDATE SET key_data = EXCLUDED.key_data,
                 fingerprint = EXCLUDED.fingerprint, timestamp = EXCLUDED.timestamp,
                 set_order = nextval('write_order')",
            &[
                &self.device_id(),
                &key_id,
                &key.key_data,
                &key.fingerprint,
                &key.timestamp,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        let row = self
            .query_opt(
                "SELECT version, hash, index_keys, index_values, mac_mismatch_fatal
                 FROM app_state_versions WHERE device_id = $1 AND name = $2",
                &[&self.device_id(), &name.as_bytes()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(HashState::default());
        };
        let hash: Vec<u8> = row.get(1);
        let hash = <[u8; 128]>::try_from(hash.as_slice()).map_err(|_| {
            Error::decode(
                "app_state_versions",
                format!("hash of {} bytes", hash.len()),
            )
        })?;
        let keys = row
            .get::<_, Vec<Vec<u8>>>(2)
            .into_iter()
            .map(|k| text("app_state_versions", k))
            .collect::<std::result::Result<Vec<String>, Error>>()?;
        let values: Vec<Vec<u8>> = row.get(3);
        if keys.len() != values.len() {
            return Err(Error::decode(
                "app_state_versions",
                format!("{} index keys but {} values", keys.len(), values.len()),
            )
            .into());
        }
        Ok(HashState {
            version: version_from_sql(row.get(0)),
            hash,
            index_value_map: keys.into_iter().zip(values).collect(),
            mac_mismatch_fatal: row.get(4),
        })
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        let (keys, values): (Vec<&[u8]>, Vec<&[u8]>) = state
            .index_value_map
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_slice()))
            .unzip();
        self.execute(
            "INSERT INTO app_state_versions
                 (device_id, name, version, hash, index_keys, index_values, mac_mismatch_fatal)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (device_id, name) DO UPDATE SET version = EXCLUDED.version,
                 hash = EXCLUDED.hash, index_keys = EXCLUDED.index_keys,
                 index_values = EXCLUDED.index_values,
                 mac_mismatch_fatal = EXCLUDED.mac_mismatch_fatal",
            &[
                &self.device_id(),
                &name.as_bytes(),
                &version_to_sql(state.version),
                &state.hash.as_slice(),
                &keys,
                &values,
                &state.mac_mismatch_fatal,
            ],
        )
        .await?;
        Ok(())
    }

    /// One statement, whatever the batch size.
    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        if mutations.is_empty() {
            return Ok(());
        }
        let (index_macs, value_macs): (Vec<&[u8]>, Vec<&[u8]>) =
            last_wins(mutations.iter(), |m| m.index_mac.as_slice())
                .into_iter()
                .map(|m| (m.index_mac.as_slice(), m.value_mac.as_slice()))
                .unzip();
        self.execute(
            "INSERT INTO mutation_macs (device_id, name, index_mac, version, value_mac)
             SELECT $1, $2, index_mac, $3, value_mac
             FROM UNNEST($4::bytea[], $5::bytea[]) AS t (index_mac, value_mac)
             ON CONFLICT (device_id, name, index_mac) DO UPDATE
             SET version = EXCLUDED.version, value_mac = EXCLUDED.value_mac",
            &[
                &self.device_id(),
                &name.as_bytes(),
                &version_to_sql(version),
                &index_macs,
                &value_macs,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "SELECT value_mac FROM mutation_macs
                 WHERE device_id = $1 AND name = $2 AND index_mac = $3",
                &[&self.device_id(), &name.as_bytes(), &index_mac],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// One query, whatever the number of MACs asked for.
    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<HashMap<[u8; 32], Vec<u8>>> {
        if index_macs.is_empty() {
            return Ok(HashMap::new());
        }
        let wanted: Vec<&[u8]> = index_macs.iter().map(|m| m.as_slice()).collect();
        let rows = self
            .query(
                // One primary-key lookup per MAC (LATERAL .. OFFSET 0 keeps
                // the planner from folding it into a scan): `index_mac =
                // ANY($3)` scanned the whole collection, 0.6 s for 500 MACs
                // among 100k rows, until ANALYZE had run.
                "SELECT w.index_mac, m.value_mac FROM UNNEST($3::bytea[]) AS w (index_mac)
                 CROSS JOIN LATERAL (SELECT value_mac FROM mutation_macs
                     WHERE device_id = $1 AND name = $2 AND index_mac = w.index_mac OFFSET 0) m",
                &[&self.device_id(), &name.as_bytes(), &wanted],
            )
            .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let index: &[u8] = row.get(0);
            // Only 32-byte MACs can match a 32-byte key.
            if let Ok(index) = <[u8; 32]>::try_from(index) {
                out.insert(index, row.get(1));
            }
        }
        Ok(out)
    }

    /// One statement, whatever the batch size.
    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        if index_macs.is_empty() {
            return Ok(());
        }
        let doomed: Vec<&[u8]> = index_macs.iter().map(Vec::as_slice).collect();
        self.execute(
            // A join with the keys, not `= ANY($3)`: on a collection ANALYZE
            // has not seen, 500 deletes among 100k rows took 878 ms that way,
            // 22 ms this way (EXPLAIN ANALYZE).
            "DELETE FROM mutation_macs m USING UNNEST($3::bytea[]) AS w (index_mac)
             WHERE m.device_id = $1 AND m.name = $2 AND m.index_mac = w.index_mac",
            &[&self.device_id(), &name.as_bytes(), &doomed],
        )
        .await?;
        Ok(())
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.execute(
            "DELETE FROM mutation_macs WHERE device_id = $1 AND name = $2",
            &[&self.device_id(), &name.as_bytes()],
        )
        .await?;
        Ok(())
    }

    /// The key id most recently passed to `set_sync_key`.
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "SELECT key_id FROM app_state_keys WHERE device_id = $1
                 ORDER BY set_order DESC LIMIT 1",
                &[&self.device_id()],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
