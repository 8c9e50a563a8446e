//! `ProtocolStore`: sender-key tracking, LID/PN mappings, base keys, device
//! lists, group metadata, tc tokens, sent messages and the pending-inbound
//! buffer.
//!
//! The read-modify-write methods (`touch_tc_token_sender_timestamp`,
//! `store_received_tc_token`, `take_sent_message`, `put_lid_mappings`) run
//! their read inside the writer's transaction, so they are atomic against
//! every other writer.

use std::collections::HashSet;

use async_trait::async_trait;
use wacore::store::error::Result;
use wacore::store::traits::{
    DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow, ProtocolStore,
    TcTokenEntry,
};

use crate::RedbStore;
use crate::error::Error;
use crate::keys::{self, Key};
use crate::records::{Blob, PnIndexRecord, Record, SenderKeyStatus, StampedBlob};
use crate::rows::{delete_where, get, scan};
use crate::store::next_write_seq;
use crate::tables::{
    BASE_KEYS, DEVICE_LISTS, GROUP_METADATA, LID_MAPPINGS, PENDING_INBOUND, PN_INDEX,
    SENDER_KEY_DEVICES, SENT_MESSAGES, TC_TOKENS,
};

fn utf8(bytes: &[u8], what: &'static str) -> crate::error::Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::decode(what, "key is not UTF-8"))
}

impl RedbStore {
    fn sent_key(&self, chat: &str, message_id: &str) -> Key {
        self.key().scoped(chat, message_id)
    }

    fn pending_key(&self, chat: &str, sender: &str, id: &str) -> Key {
        self.key().message(chat, sender, id)
    }

    fn base_key_key(&self, address: &str, message_id: &str) -> Key {
        self.key().scoped(address, message_id)
    }
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ProtocolStore for RedbStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        self.read(|txn| {
            let mut out = Vec::new();
            let prefix = self.key().scope(group_jid);
            scan(&txn.open_table(SENDER_KEY_DEVICES)?, &prefix, |k, v| {
                let (_group, device) = keys::scoped_of(k, "sender key device key")?;
                let device = utf8(device, "sender key device")?;
                out.push((device, SenderKeyStatus::decode(v)?.0));
                Ok(())
            })?;
            Ok(out)
        })
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        let rows = entries
            .iter()
            .map(|(device, has_key)| {
                (
                    self.key().scoped(group_jid, device),
                    SenderKeyStatus(*has_key).encode(),
                )
            })
            .collect();
        self.put_rows(SENDER_KEY_DEVICES, rows).await
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.delete_prefix(SENDER_KEY_DEVICES, self.key().scope(group_jid))
            .await
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        if device_jids.is_empty() {
            return Ok(());
        }
        let doomed: HashSet<Vec<u8>> = device_jids.iter().map(|d| d.as_bytes().to_vec()).collect();
        let prefix = self.key();
        self.write(move |txn| {
            delete_where(txn, SENDER_KEY_DEVICES, &prefix, |k, _| {
                let (_group, device) = keys::scoped_of(k, "sender key device key")?;
                Ok(doomed.contains(device))
            })
            .map(drop)
        })
        .await
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.delete_prefix(SENDER_KEY_DEVICES, self.key()).await
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.get_record(LID_MAPPINGS, self.key().named(lid))
    }

    /// The mapping with the greatest `updated_at` among every LID mapped to
    /// `phone`; equal `updated_at` goes to the one written last.
    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.read(|txn| {
            let mut best: Option<(PnIndexRecord, Vec<u8>)> = None;
            scan(
                &txn.open_table(PN_INDEX)?,
                &self.key().scope(phone),
                |k, v| {
                    let rank = PnIndexRecord::decode(v)?;
                    if best.as_ref().is_none_or(|(b, _)| rank > *b) {
                        let (_phone, lid) = keys::scoped_of(k, "pn index key")?;
                        best = Some((rank, lid.to_vec()));
                    }
                    Ok(())
                },
            )?;
            match best {
                None => Ok(None),
                Some((_, lid)) => get(&txn.open_table(LID_MAPPINGS)?, &self.key().named(lid)),
            }
        })
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.put_lid_mappings(std::slice::from_ref(entry)).await
    }

    /// One transaction. A LID remapped to another phone number leaves the old
    /// number's index; the last duplicate LID in a batch wins, except
    /// `created_at`: "when the mapping was first learned", so a re-put keeps
    /// the stored one (and a duplicate in one batch keeps the first's).
    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let account = self.key();
        let entries = entries.to_vec();
        self.write(move |txn| {
            let first_seq = next_write_seq(txn, entries.len() as u64)?;
            let mut mappings = txn.open_table(LID_MAPPINGS)?;
            let mut index = txn.open_table(PN_INDEX)?;
            for (offset, entry) in entries.iter().enumerate() {
                let lid_key = account.clone().named(&entry.lid);
                let old: Option<LidPnMappingEntry> = get(&mappings, &lid_key)?;
                let created_at = old.as_ref().map_or(entry.created_at, |o| o.created_at);
                let row = LidPnMappingEntry {
                    created_at,
                    ..entry.clone()
                };
                mappings.insert(lid_key.as_slice(), row.encode().as_slice())?;
                if let Some(old) = old
                    && old.phone_number != entry.phone_number
                {
                    let stale = account.clone().scoped(&old.phone_number, &entry.lid);
                    index.remove(stale.as_slice())?;
                }
                let rank = PnIndexRecord {
                    updated_at: entry.updated_at,
                    write_seq: first_seq + offset as u64,
                };
                let index_key = account.clone().scoped(&entry.phone_number, &entry.lid);
                index.insert(index_key.as_slice(), rank.encode().as_slice())?;
            }
            Ok(())
        })
        .await
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.read(|txn| {
            let mut out = Vec::new();
            scan(&txn.open_table(LID_MAPPINGS)?, &self.key(), |_, v| {
                out.push(LidPnMappingEntry::decode(v)?);
                Ok(())
            })?;
            Ok(out)
        })
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        let row = (
            self.base_key_key(address, message_id),
            Blob::encode_slice(base_key),
        );
        self.put_row(BASE_KEYS, row).await
    }

    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        let stored = self.get_record::<Blob>(BASE_KEYS, self.base_key_key(address, message_id))?;
        Ok(stored.is_some_and(|b| b.0 == current_base_key))
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.delete_rows(BASE_KEYS, vec![self.base_key_key(address, message_id)])
            .await
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.update_device_lists(vec![record]).await
    }

    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        let rows = records
            .iter()
            .map(|r| (self.key().named(&r.user), r.encode()))
            .collect();
        self.put_rows(DEVICE_LISTS, rows).await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.get_record(DEVICE_LISTS, self.key().named(user))
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.delete_rows(DEVICE_LISTS, vec![self.key().named(user)])
            .await
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_record::<Blob>(GROUP_METADATA, self.key().named(group_jid))?
            .map(|b| b.0))
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        let row = (self.key().named(group_jid), Blob::encode_slice(blob));
        self.put_row(GROUP_METADATA, row).await
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.delete_rows(GROUP_METADATA, vec![self.key().named(group_jid)])
            .await
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.get_record(TC_TOKENS, self.key().named(jid))
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        let row = (self.key().named(jid), entry.encode());
        self.put_row(TC_TOKENS, row).await
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.delete_rows(TC_TOKENS, vec![self.key().named(jid)])
            .await
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        self.read(|txn| {
            let mut out = Vec::new();
            scan(&txn.open_table(TC_TOKENS)?, &self.key(), |k, _| {
                out.push(utf8(keys::name_of(k), "tc token")?);
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// Deletes a row only when its token is expired or absent
    /// (`token_timestamp < token_cutoff` or empty) AND its sender bucket is
    /// expired or absent (`sender_timestamp < sender_cutoff` or none).
    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        let prefix = self.key();
        self.write(move |txn| {
            delete_where(txn, TC_TOKENS, &prefix, |_, v| {
                let entry = TcTokenEntry::decode(v)?;
                let token_live = !entry.token.is_empty() && entry.token_timestamp >= token_cutoff;
                let sender_live = entry.sender_timestamp.is_some_and(|ts| ts >= sender_cutoff);
                Ok(!token_live && !sender_live)
            })
        })
        .await
    }

    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        let key = self.key().named(jid);
        self.write(move |txn| {
            let mut table = txn.open_table(TC_TOKENS)?;
            let entry = match get::<TcTokenEntry>(&table, &key)? {
                Some(mut existing) => {
                    existing.sender_timestamp = Some(
                        existing
                            .sender_timestamp
                            .map_or(sender_timestamp, |e| e.max(sender_timestamp)),
                    );
                    existing
                }
                None => TcTokenEntry {
                    token: Vec::new(),
                    token_timestamp: sender_timestamp,
                    sender_timestamp: Some(sender_timestamp),
                },
            };
            table.insert(key.as_slice(), entry.encode().as_slice())?;
            Ok(())
        })
        .await
    }

    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        let key = self.key().named(jid);
        let token = token.to_vec();
        self.write(move |txn| {
            let mut table = txn.open_table(TC_TOKENS)?;
            let existing = get::<TcTokenEntry>(&table, &key)?;
            // Newer-wins: keep a fresher real token; a placeholder never blocks.
            if let Some(existing) = &existing
                && !existing.token.is_empty()
                && token_timestamp < existing.token_timestamp
            {
                return Ok(());
            }
            let entry = TcTokenEntry {
                token: token.clone(),
                token_timestamp,
                sender_timestamp: existing.and_then(|e| e.sender_timestamp),
            };
            table.insert(key.as_slice(), entry.encode().as_slice())?;
            Ok(())
        })
        .await
    }

    /// Stamped with `wacore::time::now_secs()`. Unbounded: pruning is the
    /// caller's `delete_expired_sent_messages` sweep, never silent eviction.
    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        let row = (
            self.sent_key(chat_jid, message_id),
            StampedBlob::encode_parts(wacore::time::now_secs(), payload),
        );
        self.put_row(SENT_MESSAGES, row).await
    }

    /// Atomic read-and-delete: of two racing takers exactly one gets the payload.
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        let key = self.sent_key(chat_jid, message_id);
        self.write(move |txn| {
            let mut table = txn.open_table(SENT_MESSAGES)?;
            let removed = table.remove(key.as_slice())?;
            match removed {
                None => Ok(None),
                Some(v) => Ok(Some(StampedBlob::decode(&v)?.payload)),
            }
        })
        .await
    }

    /// Deletes messages stored strictly before `cutoff_timestamp`.
    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        let prefix = self.key();
        self.write(move |txn| {
            delete_where(txn, SENT_MESSAGES, &prefix, |_, v| {
                Ok(StampedBlob::stored_at(v)? < cutoff_timestamp)
            })
        })
        .await
    }

    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        let row = (
            self.pending_key(chat, sender, id),
            StampedBlob::encode_parts(wacore::time::now_secs(), message),
        );
        self.put_row(PENDING_INBOUND, row).await
    }

    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_record::<StampedBlob>(PENDING_INBOUND, self.pending_key(chat, sender, id))?
            .map(|s| s.payload))
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.delete_rows(PENDING_INBOUND, vec![self.pending_key(chat, sender, id)])
            .await
    }

    /// Deletes buffered messages stored strictly before `cutoff_timestamp`.
    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        let prefix = self.key();
        self.write(move |txn| {
            delete_where(txn, PENDING_INBOUND, &prefix, |_, v| {
                Ok(StampedBlob::stored_at(v)? < cutoff_timestamp)
            })
        })
        .await
    }

    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        let now = wacore::time::now_secs();
        let rows = rows
            .iter()
            .map(|r| {
                (
                    self.pending_key(r.chat, r.sender, r.id),
                    StampedBlob::encode_parts(now, r.message),
                )
            })
            .collect();
        self.put_rows(PENDING_INBOUND, rows).await
    }

    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        let keys = keys
            .iter()
            .map(|k| self.pending_key(k.chat, k.sender, k.id))
            .collect();
        self.delete_rows(PENDING_INBOUND, keys).await
    }
}
