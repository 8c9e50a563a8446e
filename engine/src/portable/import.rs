//! Writing [`Row`]s into any store through the trait, and reading them back.
//!
//! [`import`] groups one account's rows by table and writes each group with
//! the trait's batch method where there is one (sessions, identities,
//! prekeys, sender keys, LID mappings, device lists, message secrets,
//! pending inbound, mutation MACs per collection and version). [`verify`]
//! reads one row's key through the trait's getters.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::StoreError;
use wacore::store::traits::{
    AppStateSyncKey, Backend, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry,
    PendingInboundRow, TcTokenEntry,
};

use super::convert::{array, device_list, hash_state, invalid};
use super::{Hex, Row, tables};

/// Rows written per table by [`import`].
pub type ImportCounts = BTreeMap<&'static str, u64>;

/// What [`verify`] found for one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The store returns the row's value for its key.
    Equal,
    /// The store returns something else (what, in words).
    Differs(String),
    /// The trait has no non-destructive read for this row (sent messages,
    /// whose only read is `take_sent_message`) or for part of it (a
    /// prekey's `uploaded` flag); what could be read is equal.
    NotReadable(&'static str),
}

/// Writes one account's `rows` into `store` (a handle on that account),
/// table by table in [`tables`] order; later rows win over earlier ones with
/// the same key, as in the trait. Returns the rows written per table.
///
/// The latest sync key id is restored by writing its key last (the trait
/// has no setter for it); sent messages and pending inbound rows get the
/// store's clock as their `stored_at` (the trait cannot set it).
pub async fn import(store: &dyn Backend, rows: &[Row]) -> Result<ImportCounts, StoreError> {
    let mut by_table: BTreeMap<usize, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        let position = tables().position(|t| t == row.table()).unwrap_or(0);
        by_table.entry(position).or_default().push(row);
    }
    let mut counts = ImportCounts::new();
    for group in by_table.into_values() {
        import_group(store, &group, rows).await?;
        counts.insert(group[0].table(), group.len() as u64);
    }
    Ok(counts)
}

/// Writes the rows of one table (`all` is every row of the account, for
/// the latest sync key).
async fn import_group(store: &dyn Backend, group: &[&Row], all: &[Row]) -> Result<(), StoreError> {
    let mut identities = Vec::new();
    let mut sessions = Vec::new();
    let mut sender_keys = Vec::new();
    let mut prekeys: [Vec<(u32, Bytes)>; 2] = Default::default();
    let mut macs: BTreeMap<(&str, u64), Vec<AppStateMutationMAC>> = BTreeMap::new();
    let mut key_statuses: BTreeMap<&str, Vec<(&str, bool)>> = BTreeMap::new();
    let mut lids = Vec::new();
    let mut lists = Vec::new();
    let mut pending = Vec::new();
    let mut secrets = Vec::new();
    for row in group {
        match row {
            Row::Device { record } => {
                store
                    .save(&super::device_of(record).map_err(to_store)?)
                    .await?
            }
            Row::Identity { address, key } => {
                identities.push((Arc::from(address.as_str()), array(key, "identity key")?))
            }
            Row::Session { address, record } => {
                sessions.push((Arc::from(address.as_str()), Bytes::from(record.0.clone())))
            }
            Row::Prekey {
                id,
                record,
                uploaded,
            } => prekeys[usize::from(*uploaded)].push((*id, Bytes::from(record.0.clone()))),
            Row::SignedPrekey { id, record } => store.store_signed_prekey(*id, &record.0).await?,
            Row::SenderKey { address, record } => {
                sender_keys.push((Arc::from(address.as_str()), Bytes::from(record.0.clone())))
            }
            Row::SyncKey { key_id, .. } => sync_key(store, key_id, all).await?,
            Row::LatestSyncKey { key_id } => sync_key(store, key_id, all).await?,
            Row::AppStateVersion {
                collection,
                version,
                hash,
                index_value_map,
                mac_mismatch_fatal,
            } => {
                let state = hash_state(*version, hash, index_value_map, *mac_mismatch_fatal)?;
                store.set_version(collection, state).await?
            }
            Row::MutationMac {
                collection,
                index_mac,
                value_mac,
                patch_version,
            } => macs
                .entry((collection.as_str(), *patch_version))
                .or_default()
                .push(AppStateMutationMAC {
                    index_mac: index_mac.0.clone(),
                    value_mac: value_mac.0.clone(),
                }),
            Row::SenderKeyDevice {
                group,
                device_jid,
                has_key,
            } => key_statuses
                .entry(group.as_str())
                .or_default()
                .push((device_jid.as_str(), *has_key)),
            Row::LidMapping {
                lid,
                phone_number,
                created_at,
                updated_at,
                learning_source,
            } => lids.push(LidPnMappingEntry {
                lid: lid.clone(),
                phone_number: phone_number.clone(),
                created_at: *created_at,
                updated_at: *updated_at,
                learning_source: learning_source.clone(),
            }),
            Row::BaseKey {
                address,
                message_id,
                base_key,
            } => {
                store
                    .save_base_key(address, message_id, &base_key.0)
                    .await?
            }
            Row::DeviceList {
                user,
                devices,
                timestamp,
                phash,
                raw_id,
            } => lists.push(device_list(user, devices, *timestamp, phash, *raw_id)),
            Row::GroupMetadata { group, blob } => store.put_group_metadata(group, &blob.0).await?,
            Row::TcToken {
                jid,
                token,
                token_timestamp,
                sender_timestamp,
            } => {
                let entry = TcTokenEntry {
                    token: token.0.clone(),
                    token_timestamp: *token_timestamp,
                    sender_timestamp: *sender_timestamp,
                };
                store.put_tc_token(jid, &entry).await?
            }
            Row::SentMessage {
                chat,
                message_id,
                payload,
                ..
            } => {
                store
                    .store_sent_message(chat, message_id, &payload.0)
                    .await?
            }
            Row::PendingInbound {
                chat,
                sender,
                id,
                message,
                ..
            } => pending.push(PendingInboundRow {
                chat,
                sender,
                id,
                message: &message.0,
            }),
            Row::MsgSecret {
                chat,
                sender,
                msg_id,
                secret,
                expires_at,
                message_ts,
            } => secrets.push(MsgSecretEntry {
                chat: Arc::from(chat.as_str()),
                sender: Arc::from(sender.as_str()),
                msg_id: Arc::from(msg_id.as_str()),
                secret: array(secret, "message secret")?,
                expires_at: *expires_at,
                message_ts: *message_ts,
            }),
        }
    }
    if !identities.is_empty() {
        store.put_identities_batch(&identities).await?;
    }
    if !sessions.is_empty() {
        store.put_sessions_batch(&sessions).await?;
    }
    if !sender_keys.is_empty() {
        store.put_sender_keys_batch(&sender_keys).await?;
    }
    for (uploaded, keys) in prekeys.iter().enumerate() {
        if !keys.is_empty() {
            store.store_prekeys_batch(keys, uploaded == 1).await?;
        }
    }
    for ((collection, version), macs) in &macs {
        store.put_mutation_macs(collection, *version, macs).await?;
    }
    for (group, entries) in &key_statuses {
        store.set_sender_key_status(group, entries).await?;
    }
    if !lids.is_empty() {
        store.put_lid_mappings(&lids).await?;
    }
    if !lists.is_empty() {
        store.update_device_lists(lists).await?;
    }
    if !pending.is_empty() {
        store.store_pending_inbound_batch(&pending).await?;
    }
    if !secrets.is_empty() {
        store.put_msg_secrets(secrets).await?;
    }
    Ok(())
}

/// Writes the sync key `key_id` from its row in `all` (for the latest sync
/// key row: writes it again, last, so `get_latest_sync_key_id` names it).
async fn sync_key(store: &dyn Backend, key_id: &Hex, all: &[Row]) -> Result<(), StoreError> {
    let found = all.iter().rev().find_map(|r| match r {
        Row::SyncKey {
            key_id: id,
            key_data,
            fingerprint,
            timestamp,
        } if id == key_id => Some(AppStateSyncKey {
            key_data: key_data.0.clone(),
            fingerprint: fingerprint.0.clone(),
            timestamp: *timestamp,
        }),
        _ => None,
    });
    match found {
        Some(key) => store.set_sync_key(&key_id.0, key).await,
        None => Err(invalid(&format!(
            "latest sync key {key_id} has no sync_key row"
        ))),
    }
}

fn to_store(e: crate::Error) -> StoreError {
    StoreError::Serialization(Box::new(e))
}

/// Reads `row`'s key from `store` through the trait and compares.
pub async fn verify(store: &dyn Backend, row: &Row) -> Result<Verdict, StoreError> {
    fn compare<T: PartialEq + std::fmt::Debug>(got: T, want: T) -> Verdict {
        if got == want {
            Verdict::Equal
        } else {
            Verdict::Differs(format!("store has {got:?}, row has {want:?}"))
        }
    }
    Ok(match row {
        Row::Device { .. } => match store.load().await? {
            Some(device) => compare(super::device_row(&device), row.clone()),
            None => Verdict::Differs("store has no device".into()),
        },
        Row::Identity { address, key } => compare(
            store.load_identity(address).await?.map(|k| k.to_vec()),
            Some(key.0.clone()),
        ),
        Row::Session { address, record } => compare(
            store.get_session(address).await?.map(|b| b.to_vec()),
            Some(record.0.clone()),
        ),
        Row::Prekey { id, record, .. } => {
            match compare(
                store.load_prekey(*id).await?.map(|b| b.to_vec()),
                Some(record.0.clone()),
            ) {
                Verdict::Equal => Verdict::NotReadable("the uploaded flag has no getter"),
                other => other,
            }
        }
        Row::SignedPrekey { id, record } => {
            compare(store.load_signed_prekey(*id).await?, Some(record.0.clone()))
        }
        Row::SenderKey { address, record } => {
            compare(store.get_sender_key(address).await?, Some(record.0.clone()))
        }
        Row::SyncKey {
            key_id,
            key_data,
            fingerprint,
            timestamp,
        } => compare(
            store
                .get_sync_key(&key_id.0)
                .await?
                .map(|k| (k.key_data, k.fingerprint, k.timestamp)),
            Some((key_data.0.clone(), fingerprint.0.clone(), *timestamp)),
        ),
        Row::LatestSyncKey { key_id } => compare(
            store.get_latest_sync_key_id().await?,
            Some(key_id.0.clone()),
        ),
        Row::AppStateVersion {
            collection,
            version,
            hash,
            index_value_map,
            mac_mismatch_fatal,
        } => {
            let got = store.get_version(collection).await?;
            let want = hash_state(*version, hash, index_value_map, *mac_mismatch_fatal)?;
            let key = |s: &HashState| {
                let map: BTreeMap<_, _> = s.index_value_map.iter().collect();
                (
                    s.version,
                    s.hash.to_vec(),
                    format!("{map:?}"),
                    s.mac_mismatch_fatal,
                )
            };
            compare(key(&got), key(&want))
        }
        Row::MutationMac {
            collection,
            index_mac,
            value_mac,
            ..
        } => compare(
            store.get_mutation_mac(collection, &index_mac.0).await?,
            Some(value_mac.0.clone()),
        ),
        Row::SenderKeyDevice {
            group,
            device_jid,
            has_key,
        } => {
            let devices = store.get_sender_key_devices(group).await?;
            let got = devices.into_iter().find(|(jid, _)| jid == device_jid);
            compare(got, Some((device_jid.clone(), *has_key)))
        }
        Row::LidMapping {
            lid,
            phone_number,
            created_at,
            updated_at,
            learning_source,
        } => compare(
            store.get_lid_mapping(lid).await?.map(|e| {
                (
                    e.phone_number,
                    e.created_at,
                    e.updated_at,
                    e.learning_source,
                )
            }),
            Some((
                phone_number.clone(),
                *created_at,
                *updated_at,
                learning_source.clone(),
            )),
        ),
        Row::BaseKey {
            address,
            message_id,
            base_key,
        } => compare(
            store
                .has_same_base_key(address, message_id, &base_key.0)
                .await?,
            true,
        ),
        Row::DeviceList {
            user,
            devices,
            timestamp,
            phash,
            raw_id,
        } => {
            let shape = |r: &DeviceListRecord| {
                let devices: Vec<_> = r
                    .devices
                    .iter()
                    .map(|d| (d.device_id, d.key_index, d.is_hosted))
                    .collect();
                (devices, r.timestamp, r.phash.clone(), r.raw_id)
            };
            let want = device_list(user, devices, *timestamp, phash, *raw_id);
            compare(
                store.get_devices(user).await?.as_ref().map(shape),
                Some(shape(&want)),
            )
        }
        Row::GroupMetadata { group, blob } => {
            compare(store.get_group_metadata(group).await?, Some(blob.0.clone()))
        }
        Row::TcToken {
            jid,
            token,
            token_timestamp,
            sender_timestamp,
        } => compare(
            store
                .get_tc_token(jid)
                .await?
                .map(|e| (e.token, e.token_timestamp, e.sender_timestamp)),
            Some((token.0.clone(), *token_timestamp, *sender_timestamp)),
        ),
        Row::SentMessage { .. } => {
            Verdict::NotReadable("sent messages are only read by take_sent_message")
        }
        Row::PendingInbound {
            chat,
            sender,
            id,
            message,
            ..
        } => compare(
            store.get_pending_inbound(chat, sender, id).await?,
            Some(message.0.clone()),
        ),
        Row::MsgSecret {
            chat,
            sender,
            msg_id,
            secret,
            message_ts,
            ..
        } => compare(
            store.get_msg_secret_with_ts(chat, sender, msg_id).await?,
            Some((secret.0.clone(), *message_ts)),
        ),
    })
}
