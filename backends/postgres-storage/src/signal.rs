//! `SignalStore`: identities, sessions, prekeys, signed prekeys, sender keys.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use wacore::store::error::Result;
use wacore::store::traits::SignalStore;

use crate::error::Error;
use crate::store::{PostgresStore, from_u32, last_wins, to_u32};

/// Addresses and values as arrays for `UNNEST`, last duplicate winning.
fn unzip_last(rows: &[(Arc<str>, impl AsRef<[u8]>)]) -> (Vec<&[u8]>, Vec<&[u8]>) {
    last_wins(rows.iter(), |(address, _)| address.clone())
        .into_iter()
        .map(|(address, value)| (address.as_bytes(), value.as_ref()))
        .unzip()
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl SignalStore for PostgresStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.put_identities_batch(&[(address.into(), key)]).await
    }

    /// One statement, whatever the batch size.
    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        if identities.is_empty() {
            return Ok(());
        }
        let (addresses, keys): (Vec<&[u8]>, Vec<&[u8]>) = unzip_last(identities);
        self.execute(
            "INSERT INTO identities (device_id, address, key)
             SELECT $1, * FROM UNNEST($2::bytea[], $3::bytea[])
             ON CONFLICT (device_id, address) DO UPDATE SET key = EXCLUDED.key",
            &[&self.device_id(), &addresses, &keys],
        )
        .await?;
        Ok(())
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        let row = self
            .query_opt(
                "SELECT key FROM identities WHERE device_id = $1 AND address = $2",
                &[&self.device_id(), &address.as_bytes()],
            )
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let key: &[u8] = row.get(0);
                let key = <[u8; 32]>::try_from(key).map_err(|_| {
                    Error::decode("identities", format!("key of {} bytes", key.len()))
                })?;
                Ok(Some(key))
            }
        }
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.execute(
            "DELETE FROM identities WHERE device_id = $1 AND address = $2",
            &[&self.device_id(), &address.as_bytes()],
        )
        .await?;
        Ok(())
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        let row = self
            .query_opt(
                "SELECT record FROM sessions WHERE device_id = $1 AND address = $2",
                &[&self.device_id(), &address.as_bytes()],
            )
            .await?;
        Ok(row.map(|r| Bytes::from(r.get::<_, Vec<u8>>(0))))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO sessions (device_id, address, record) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, address) DO UPDATE SET record = EXCLUDED.record",
            &[&self.device_id(), &address.as_bytes(), &session],
        )
        .await?;
        Ok(())
    }

    /// One statement, whatever the batch size.
    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        let (addresses, records): (Vec<&[u8]>, Vec<&[u8]>) = unzip_last(sessions);
        self.execute(
            "INSERT INTO sessions (device_id, address, record)
             SELECT $1, * FROM UNNEST($2::bytea[], $3::bytea[])
             ON CONFLICT (device_id, address) DO UPDATE SET record = EXCLUDED.record",
            &[&self.device_id(), &addresses, &records],
        )
        .await?;
        Ok(())
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.execute(
            "DELETE FROM sessions WHERE device_id = $1 AND address = $2",
            &[&self.device_id(), &address.as_bytes()],
        )
        .await?;
        Ok(())
    }

    async fn has_session(&self, address: &str) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT 1 FROM sessions WHERE device_id = $1 AND address = $2",
                &[&self.device_id(), &address.as_bytes()],
            )
            .await?;
        Ok(row.is_some())
    }

    /// Exact match on the user part: addresses are `user@server` or
    /// `user:device@server`, so two byte ranges of the primary key
    /// (`user@...`, `user:...`) find exactly that user's sessions and
    /// identities; no wildcards, no case folding.
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        // '@' and 'A', ':' and ';' are adjacent bytes; bytea compares bytewise.
        let range = |first: char, after: char| {
            (
                format!("{user}{first}").into_bytes(),
                format!("{user}{after}").into_bytes(),
            )
        };
        let (at_lo, at_hi) = range('@', 'A');
        let (colon_lo, colon_hi) = range(':', ';');
        let row = self
            .query_opt(
                "SELECT 1 WHERE EXISTS (
                    SELECT 1 FROM sessions WHERE device_id = $1
                      AND ((address >= $2 AND address < $3) OR (address >= $4 AND address < $5)))
                 OR EXISTS (
                    SELECT 1 FROM identities WHERE device_id = $1
                      AND ((address >= $2 AND address < $3) OR (address >= $4 AND address < $5)))",
                &[&self.device_id(), &at_lo, &at_hi, &colon_lo, &colon_hi],
            )
            .await?;
        Ok(row.is_some())
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.store_prekeys_batch(&[(id, Bytes::copy_from_slice(record))], uploaded)
            .await
    }

    /// One statement, whatever the batch size.
    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let (ids, records): (Vec<i64>, Vec<&[u8]>) = last_wins(keys.iter(), |(id, _)| *id)
            .into_iter()
            .map(|(id, record)| (from_u32(*id), record.as_ref()))
            .unzip();
        self.execute(
            "INSERT INTO prekeys (device_id, id, record, uploaded)
             SELECT $1, id, record, $4 FROM UNNEST($2::bigint[], $3::bytea[]) AS t (id, record)
             ON CONFLICT (device_id, id) DO UPDATE
             SET record = EXCLUDED.record, uploaded = EXCLUDED.uploaded",
            &[&self.device_id(), &ids, &records, &uploaded],
        )
        .await?;
        Ok(())
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        let row = self
            .query_opt(
                "SELECT record FROM prekeys WHERE device_id = $1 AND id = $2",
                &[&self.device_id(), &from_u32(id)],
            )
            .await?;
        Ok(row.map(|r| Bytes::from(r.get::<_, Vec<u8>>(0))))
    }

    /// One entry per requested id that exists, in request order; an id
    /// requested twice is returned once.
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = ids.iter().copied().map(from_u32).collect();
        let rows = self
            .query(
                // One primary-key lookup per id, whatever the statistics
                // (see get_mutation_macs).
                "SELECT w.id, p.record FROM UNNEST($2::bigint[]) AS w (id)
                 CROSS JOIN LATERAL (SELECT record FROM prekeys
                     WHERE device_id = $1 AND id = w.id OFFSET 0) p",
                &[&self.device_id(), &wanted],
            )
            .await?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let id = to_u32("prekeys", row.get(0))?;
            found.insert(id, Bytes::from(row.get::<_, Vec<u8>>(1)));
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(id).map(|record| (*id, record)))
            .collect())
    }

    /// UPDATE only: a prekey deleted before this call stays deleted.
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = ids.iter().copied().map(from_u32).collect();
        self.execute(
            // A join with the ids, whatever the statistics (see delete_mutation_macs).
            "UPDATE prekeys p SET uploaded = true FROM UNNEST($2::bigint[]) AS w (id)
             WHERE p.device_id = $1 AND p.id = w.id",
            &[&self.device_id(), &ids],
        )
        .await?;
        Ok(())
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.execute(
            "DELETE FROM prekeys WHERE device_id = $1 AND id = $2",
            &[&self.device_id(), &from_u32(id)],
        )
        .await?;
        Ok(())
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        let row = self
            .query_opt(
                "SELECT max(id) FROM prekeys WHERE device_id = $1",
                &[&self.device_id()],
            )
            .await?;
        match row.and_then(|r| r.get::<_, Option<i64>>(0)) {
            None => Ok(0),
            Some(max) => Ok(to_u32("prekeys", max)?),
        }
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO signed_prekeys (device_id, id, record) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, id) DO UPDATE SET record = EXCLUDED.record",
            &[&self.device_id(), &from_u32(id), &record],
        )
        .await?;
        Ok(())
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "SELECT record FROM signed_prekeys WHERE device_id = $1 AND id = $2",
                &[&self.device_id(), &from_u32(id)],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Ascending by id.
    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        let rows = self
            .query(
                "SELECT id, record FROM signed_prekeys WHERE device_id = $1 ORDER BY id",
                &[&self.device_id()],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((to_u32("signed_prekeys", r.get(0))?, r.get(1))))
            .collect()
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.execute(
            "DELETE FROM signed_prekeys WHERE device_id = $1 AND id = $2",
            &[&self.device_id(), &from_u32(id)],
        )
        .await?;
        Ok(())
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.put_sender_keys_batch(&[(address.into(), Bytes::copy_from_slice(record))])
            .await
    }

    /// One statement, whatever the batch size.
    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        if sender_keys.is_empty() {
            return Ok(());
        }
        let (addresses, records): (Vec<&[u8]>, Vec<&[u8]>) = unzip_last(sender_keys);
        self.execute(
            "INSERT INTO sender_keys (device_id, address, record)
             SELECT $1, * FROM UNNEST($2::bytea[], $3::bytea[])
             ON CONFLICT (device_id, address) DO UPDATE SET record = EXCLUDED.record",
            &[&self.device_id(), &addresses, &records],
        )
        .await?;
        Ok(())
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "SELECT record FROM sender_keys WHERE device_id = $1 AND address = $2",
                &[&self.device_id(), &address.as_bytes()],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.execute(
            "DELETE FROM sender_keys WHERE device_id = $1 AND address = $2",
            &[&self.device_id(), &address.as_bytes()],
        )
        .await?;
        Ok(())
    }
}
