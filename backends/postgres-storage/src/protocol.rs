//! `ProtocolStore`: sender-key tracking, LID/PN mappings, base keys, device
//! lists, group metadata, trusted-contact tokens, sent messages, pending
//! inbound messages.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio_postgres::Row;
use wacore::store::error::Result;
use wacore::store::traits::{
    DeviceInfo, DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow,
    ProtocolStore, TcTokenEntry,
};

use crate::error::Error;
use crate::store::{PostgresStore, from_u32, last_wins, text, to_u32};

fn lid_mapping(row: &Row) -> std::result::Result<LidPnMappingEntry, Error> {
    Ok(LidPnMappingEntry {
        lid: text("lid_mappings", row.get("lid"))?,
        phone_number: text("lid_mappings", row.get("phone_number"))?,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        learning_source: row.get("learning_source"),
    })
}

/// A device list's devices as JSON (our own shape, not wacore's serde):
/// `[{"id": 0, "key_index": null, "hosted": false}, ...]`.
fn devices_to_json(devices: &[DeviceInfo]) -> Value {
    Value::Array(
        devices
            .iter()
            .map(|d| json!({"id": d.device_id, "key_index": d.key_index, "hosted": d.is_hosted}))
            .collect(),
    )
}

fn devices_from_json(value: &Value) -> std::result::Result<Vec<DeviceInfo>, Error> {
    let bad = |what: &str| Error::decode("device_lists", format!("devices: {what}"));
    let u32_of = |v: &Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    value
        .as_array()
        .ok_or_else(|| bad("not an array"))?
        .iter()
        .map(|d| {
            let id = d.get("id").and_then(u32_of).ok_or_else(|| bad("id"))?;
            let key_index = match d.get("key_index") {
                None | Some(Value::Null) => None,
                Some(v) => Some(u32_of(v).ok_or_else(|| bad("key_index"))?),
            };
            let hosted = d.get("hosted").and_then(Value::as_bool).unwrap_or(false);
            Ok(DeviceInfo::new(id, key_index).with_hosting(hosted))
        })
        .collect()
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ProtocolStore for PostgresStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        let rows = self
            .query(
                "SELECT device_jid, has_key FROM sender_key_devices
                 WHERE device_id = $1 AND group_jid = $2 ORDER BY device_jid",
                &[&self.device_id(), &group_jid.as_bytes()],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((text("sender_key_devices", r.get(0))?, r.get(1))))
            .collect()
    }

    /// One statement, whatever the batch size.
    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let (devices, flags): (Vec<&[u8]>, Vec<bool>) = last_wins(entries.iter().copied(), |e| e.0)
            .into_iter()
            .map(|(device, has_key)| (device.as_bytes(), has_key))
            .unzip();
        self.execute(
            "INSERT INTO sender_key_devices (device_id, group_jid, device_jid, has_key)
             SELECT $1, $2, * FROM UNNEST($3::bytea[], $4::boolean[])
             ON CONFLICT (device_id, group_jid, device_jid) DO UPDATE SET has_key = EXCLUDED.has_key",
            &[&self.device_id(), &group_jid.as_bytes(), &devices, &flags],
        )
        .await?;
        Ok(())
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.execute(
            "DELETE FROM sender_key_devices WHERE device_id = $1 AND group_jid = $2",
            &[&self.device_id(), &group_jid.as_bytes()],
        )
        .await?;
        Ok(())
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        if device_jids.is_empty() {
            return Ok(());
        }
        let device_jids: Vec<&[u8]> = device_jids.iter().map(|d| d.as_bytes()).collect();
        self.execute(
            // A join with the JIDs, whatever the statistics (see delete_mutation_macs).
            "DELETE FROM sender_key_devices s USING UNNEST($2::bytea[]) AS w (device_jid)
             WHERE s.device_id = $1 AND s.device_jid = w.device_jid",
            &[&self.device_id(), &device_jids],
        )
        .await?;
        Ok(())
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.execute(
            "DELETE FROM sender_key_devices WHERE device_id = $1",
            &[&self.device_id()],
        )
        .await?;
        Ok(())
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        let row = self
            .query_opt(
                "SELECT * FROM lid_mappings WHERE device_id = $1 AND lid = $2",
                &[&self.device_id(), &lid.as_bytes()],
            )
            .await?;
        Ok(row.as_ref().map(lid_mapping).transpose()?)
    }

    /// The mapping with the greatest `updated_at` among every LID mapped to
    /// `phone`; equal `updated_at` goes to the one written last.
    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        let row = self
            .query_opt(
                "SELECT * FROM lid_mappings WHERE device_id = $1 AND phone_number = $2
                 ORDER BY updated_at DESC, write_order DESC LIMIT 1",
                &[&self.device_id(), &phone.as_bytes()],
            )
            .await?;
        Ok(row.as_ref().map(lid_mapping).transpose()?)
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.put_lid_mappings(std::slice::from_ref(entry)).await
    }

    /// One statement. The last duplicate LID in a batch wins, except
    /// `created_at`: "when the mapping was first learned", so a re-put keeps
    /// the stored one (and a duplicate in one batch keeps the first's).
    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut first_created: HashMap<&str, i64> = HashMap::new();
        for e in entries {
            first_created.entry(e.lid.as_str()).or_insert(e.created_at);
        }
        let merged = last_wins(entries.iter(), |e| e.lid.as_str());
        let lids: Vec<&[u8]> = merged.iter().map(|e| e.lid.as_bytes()).collect();
        let phones: Vec<&[u8]> = merged.iter().map(|e| e.phone_number.as_bytes()).collect();
        let created: Vec<i64> = merged
            .iter()
            .map(|e| first_created[e.lid.as_str()])
            .collect();
        let updated: Vec<i64> = merged.iter().map(|e| e.updated_at).collect();
        let sources: Vec<&str> = merged.iter().map(|e| e.learning_source.as_str()).collect();
        // WITH ORDINALITY + ORDER BY: write_order follows the batch's order.
        self.execute(
            "INSERT INTO lid_mappings
                 (device_id, lid, phone_number, created_at, updated_at, learning_source)
             SELECT $1, lid, phone, created, updated, source
             FROM UNNEST($2::bytea[], $3::bytea[], $4::bigint[], $5::bigint[], $6::text[])
                  WITH ORDINALITY AS t (lid, phone, created, updated, source, n)
             ORDER BY n
             ON CONFLICT (device_id, lid) DO UPDATE SET phone_number = EXCLUDED.phone_number,
                 updated_at = EXCLUDED.updated_at, learning_source = EXCLUDED.learning_source,
                 write_order = nextval('write_order')",
            &[
                &self.device_id(),
                &lids,
                &phones,
                &created,
                &updated,
                &sources,
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        let rows = self
            .query(
                "SELECT * FROM lid_mappings WHERE device_id = $1 ORDER BY lid",
                &[&self.device_id()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(lid_mapping)
            .collect::<std::result::Result<_, _>>()?)
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO base_keys (device_id, address, message_id, base_key) VALUES ($1, $2, $3, $4)
             ON CONFLICT (device_id, address, message_id) DO UPDATE SET base_key = EXCLUDED.base_key",
            &[&self.device_id(), &address.as_bytes(), &message_id.as_bytes(), &base_key],
        )
        .await?;
        Ok(())
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT 1 FROM base_keys
                 WHERE device_id = $1 AND address = $2 AND message_id = $3 AND base_key = $4",
                &[
                    &self.device_id(),
                    &address.as_bytes(),
                    &message_id.as_bytes(),
                    &current_base_key,
                ],
            )
            .await?;
        Ok(row.is_some())
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.execute(
            "DELETE FROM base_keys WHERE device_id = $1 AND address = $2 AND message_id = $3",
            &[
                &self.device_id(),
                &address.as_bytes(),
                &message_id.as_bytes(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.update_device_lists(vec![record]).await
    }

    /// One statement, whatever the batch size.
    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let records = last_wins(records, |r| r.user.clone());
        let users: Vec<&[u8]> = records.iter().map(|r| r.user.as_bytes()).collect();
        let devices: Vec<Value> = records
            .iter()
            .map(|r| devices_to_json(&r.devices))
            .collect();
        let stamps: Vec<i64> = records.iter().map(|r| r.timestamp).collect();
        let phashes: Vec<Option<&str>> = records.iter().map(|r| r.phash.as_deref()).collect();
        let raw_ids: Vec<Option<i64>> = records.iter().map(|r| r.raw_id.map(from_u32)).collect();
        self.execute(
            "INSERT INTO device_lists (device_id, user_id, devices, timestamp, phash, raw_id)
             SELECT $1, * FROM UNNEST($2::bytea[], $3::jsonb[], $4::bigint[], $5::text[], $6::bigint[])
             ON CONFLICT (device_id, user_id) DO UPDATE SET devices = EXCLUDED.devices,
                 timestamp = EXCLUDED.timestamp, phash = EXCLUDED.phash, raw_id = EXCLUDED.raw_id",
            &[&self.device_id(), &users, &devices, &stamps, &phashes, &raw_ids],
        )
        .await?;
        Ok(())
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        let row = self
            .query_opt(
                "SELECT devices, timestamp, phash, raw_id FROM device_lists
                 WHERE device_id = $1 AND user_id = $2",
                &[&self.device_id(), &user.as_bytes()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(DeviceListRecord {
            user: user.to_owned(),
            devices: devices_from_json(&row.get::<_, Value>(0))?,
            timestamp: row.get(1),
            phash: row.get(2),
            raw_id: row
                .get::<_, Option<i64>>(3)
                .map(|id| to_u32("device_lists", id))
                .transpose()?,
        }))
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.execute(
            "DELETE FROM device_lists WHERE device_id = $1 AND user_id = $2",
            &[&self.device_id(), &user.as_bytes()],
        )
        .await?;
        Ok(())
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "SELECT blob FROM group_metadata WHERE device_id = $1 AND group_jid = $2",
                &[&self.device_id(), &group_jid.as_bytes()],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO group_metadata (device_id, group_jid, blob) VALUES ($1, $2, $3)
             ON CONFLICT (device_id, group_jid) DO UPDATE SET blob = EXCLUDED.blob",
            &[&self.device_id(), &group_jid.as_bytes(), &blob],
        )
        .await?;
        Ok(())
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.execute(
            "DELETE FROM group_metadata WHERE device_id = $1 AND group_jid = $2",
            &[&self.device_id(), &group_jid.as_bytes()],
        )
        .await?;
        Ok(())
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        let row = self
            .query_opt(
                "SELECT token, token_timestamp, sender_timestamp FROM tc_tokens
                 WHERE device_id = $1 AND jid = $2",
                &[&self.device_id(), &jid.as_bytes()],
            )
            .await?;
        Ok(row.map(|r| TcTokenEntry {
            token: r.get(0),
            token_timestamp: r.get(1),
            sender_timestamp: r.get(2),
        }))
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.execute(
            "INSERT INTO tc_tokens (device_id, jid, token, token_timestamp, sender_timestamp)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (device_id, jid) DO UPDATE SET token = EXCLUDED.token,
                 token_timestamp = EXCLUDED.token_timestamp,
                 sender_timestamp = EXCLUDED.sender_timestamp",
            &[
                &self.device_id(),
                &jid.as_bytes(),
                &entry.token,
                &entry.token_timestamp,
                &entry.sender_timestamp,
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.execute(
            "DELETE FROM tc_tokens WHERE device_id = $1 AND jid = $2",
            &[&self.device_id(), &jid.as_bytes()],
        )
        .await?;
        Ok(())
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        let rows = self
            .query(
                "SELECT jid FROM tc_tokens WHERE device_id = $1 ORDER BY jid",
                &[&self.device_id()],
            )
            .await?;
        rows.iter()
            .map(|r| Ok(text("tc_tokens", r.get(0))?))
            .collect()
    }

    /// Deletes a row only when its token is expired or absent
    /// (`token_timestamp < token_cutoff` or empty) AND its sender bucket is
    /// expired or absent (`sender_timestamp < sender_cutoff` or none).
    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        let deleted = self
            .execute(
                "DELETE FROM tc_tokens WHERE device_id = $1
                   AND (token = ''::bytea OR token_timestamp < $2)
                   AND (sender_timestamp IS NULL OR sender_timestamp < $3)",
                &[&self.device_id(), &token_cutoff, &sender_cutoff],
            )
            .await?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    /// One statement (atomic against any other writer, in any process): the
    /// sender timestamp only moves forward and the token bytes stay; a
    /// missing row becomes a placeholder with an empty token.
    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO tc_tokens (device_id, jid, token, token_timestamp, sender_timestamp)
             VALUES ($1, $2, ''::bytea, $3, $3)
             ON CONFLICT (device_id, jid) DO UPDATE
             SET sender_timestamp = GREATEST(tc_tokens.sender_timestamp, EXCLUDED.sender_timestamp)",
            &[&self.device_id(), &jid.as_bytes(), &sender_timestamp],
        )
        .await?;
        Ok(())
    }

    /// One statement (atomic against any other writer): newer wins, a
    /// placeholder never blocks, and the sender timestamp stays.
    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO tc_tokens (device_id, jid, token, token_timestamp, sender_timestamp)
             VALUES ($1, $2, $3, $4, NULL)
             ON CONFLICT (device_id, jid) DO UPDATE
             SET token = EXCLUDED.token, token_timestamp = EXCLUDED.token_timestamp
             WHERE tc_tokens.token = ''::bytea
                OR EXCLUDED.token_timestamp >= tc_tokens.token_timestamp",
            &[&self.device_id(), &jid.as_bytes(), &token, &token_timestamp],
        )
        .await?;
        Ok(())
    }

    /// Stamped with `wacore::time::now_secs()`. Unbounded: pruning is the
    /// caller's `delete_expired_sent_messages` sweep, never silent eviction.
    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        self.execute(
            "INSERT INTO sent_messages (device_id, chat_jid, message_id, payload, stored_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (device_id, chat_jid, message_id) DO UPDATE
             SET payload = EXCLUDED.payload, stored_at = EXCLUDED.stored_at",
            &[
                &self.device_id(),
                &chat_jid.as_bytes(),
                &message_id.as_bytes(),
                &payload,
                &wacore::time::now_secs(),
            ],
        )
        .await?;
        Ok(())
    }

    /// `DELETE .. RETURNING`: of two racing takers, in any processes,
    /// exactly one gets the payload.
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "DELETE FROM sent_messages
                 WHERE device_id = $1 AND chat_jid = $2 AND message_id = $3 RETURNING payload",
                &[
                    &self.device_id(),
                    &chat_jid.as_bytes(),
                    &message_id.as_bytes(),
                ],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Deletes messages stored strictly before `cutoff_timestamp`.
    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        let deleted = self
            .execute(
                "DELETE FROM sent_messages WHERE device_id = $1 AND stored_at < $2",
                &[&self.device_id(), &cutoff_timestamp],
            )
            .await?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        self.store_pending_inbound_batch(&[PendingInboundRow {
            chat,
            sender,
            id,
            message,
        }])
        .await
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let row = self
            .query_opt(
                "SELECT message FROM pending_inbound
                 WHERE device_id = $1 AND chat = $2 AND sender = $3 AND id = $4",
                &[
                    &self.device_id(),
                    &chat.as_bytes(),
                    &sender.as_bytes(),
                    &id.as_bytes(),
                ],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.delete_pending_inbound_batch(&[PendingInboundKey { chat, sender, id }])
            .await
    }

    /// Deletes buffered messages stored strictly before `cutoff_timestamp`.
    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        let deleted = self
            .execute(
                "DELETE FROM pending_inbound WHERE device_id = $1 AND stored_at < $2",
                &[&self.device_id(), &cutoff_timestamp],
            )
            .await?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }

    /// One statement, whatever the batch size; stamped with `wacore::time::now_secs()`.
    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = last_wins(rows.iter(), |r| (r.chat, r.sender, r.id));
        let chats: Vec<&[u8]> = rows.iter().map(|r| r.chat.as_bytes()).collect();
        let senders: Vec<&[u8]> = rows.iter().map(|r| r.sender.as_bytes()).collect();
        let ids: Vec<&[u8]> = rows.iter().map(|r| r.id.as_bytes()).collect();
        let messages: Vec<&[u8]> = rows.iter().map(|r| r.message).collect();
        self.execute(
            "INSERT INTO pending_inbound (device_id, chat, sender, id, message, stored_at)
             SELECT $1, chat, sender, id, message, $6
             FROM UNNEST($2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[]) AS t (chat, sender, id, message)
             ON CONFLICT (device_id, chat, sender, id) DO UPDATE
             SET message = EXCLUDED.message, stored_at = EXCLUDED.stored_at",
            &[
                &self.device_id(),
                &chats,
                &senders,
                &ids,
                &messages,
                &wacore::time::now_secs(),
            ],
        )
        .await?;
        Ok(())
    }

    /// One statement, whatever the batch size.
    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let chats: Vec<&[u8]> = keys.iter().map(|k| k.chat.as_bytes()).collect();
        let senders: Vec<&[u8]> = keys.iter().map(|k| k.sender.as_bytes()).collect();
        let ids: Vec<&[u8]> = keys.iter().map(|k| k.id.as_bytes()).collect();
        self.execute(
            "DELETE FROM pending_inbound p USING UNNEST($2::bytea[], $3::bytea[], $4::bytea[]) AS t (chat, sender, id)
             WHERE p.device_id = $1 AND p.chat = t.chat AND p.sender = t.sender AND p.id = t.id",
            &[&self.device_id(), &chats, &senders, &ids],
        )
        .await?;
        Ok(())
    }
}
