//! A deliberately small third-party backend: every table a `BTreeMap` behind
//! one mutex. It implements the 57 required trait methods plus three whose
//! defaults would be wrong for it:
//!
//! - `has_signal_state_for_user`: the default always answers `true`;
//! - `touch_tc_token_sender_timestamp` and `store_received_tc_token`: the
//!   defaults are read-modify-write races; here they run under the lock.
//!
//! Everything else (batches, pending inbound, group metadata, ...) is left to
//! the trait defaults, and the kit shows what that means (see
//! `validate_btree_store`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::Device;
use wacore::store::error::Result;
use wacore::store::traits::{
    AppStateSyncKey, AppSyncStore, DeviceListRecord, DeviceStore, LidPnMappingEntry,
    MsgSecretEntry, MsgSecretStore, ProtocolStore, SignalStore, TcTokenEntry,
    merge_msg_secret_expiry, merge_msg_secret_message_ts,
};

type Key3 = (String, String, String);

#[derive(Default)]
struct State {
    identities: BTreeMap<String, [u8; 32]>,
    sessions: BTreeMap<String, Bytes>,
    prekeys: BTreeMap<u32, (Bytes, bool)>,
    signed_prekeys: BTreeMap<u32, Vec<u8>>,
    sender_keys: BTreeMap<String, Vec<u8>>,
    sync_keys: BTreeMap<Vec<u8>, AppStateSyncKey>,
    latest_sync_key: Option<Vec<u8>>,
    versions: BTreeMap<String, HashState>,
    macs: BTreeMap<(String, Vec<u8>), Vec<u8>>,
    sender_key_devices: BTreeMap<(String, String), bool>,
    lid_mappings: BTreeMap<String, LidPnMappingEntry>,
    base_keys: BTreeMap<(String, String), Vec<u8>>,
    device_lists: BTreeMap<String, DeviceListRecord>,
    tc_tokens: BTreeMap<String, TcTokenEntry>,
    sent: BTreeMap<(String, String), (i64, Vec<u8>)>,
    secrets: BTreeMap<Key3, ([u8; 32], i64, i64)>,
    device: Option<Device>,
}

/// The store. Not persistent, one account.
#[derive(Default)]
pub struct BTreeStore {
    state: Mutex<State>,
}

impl BTreeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T> {
        let mut state = self.state.lock().expect("lock poisoned");
        Ok(f(&mut state))
    }
}

fn user_of(address: &str) -> &str {
    address.split(['@', ':']).next().unwrap_or(address)
}

#[async_trait]
impl SignalStore for BTreeStore {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.with(|s| {
            s.identities.insert(address.into(), key);
        })
    }
    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        self.with(|s| s.identities.get(address).copied())
    }
    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.with(|s| {
            s.identities.remove(address);
        })
    }
    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        self.with(|s| s.sessions.get(address).cloned())
    }
    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.with(|s| {
            drop(
                s.sessions
                    .insert(address.into(), Bytes::copy_from_slice(session)),
            )
        })
    }
    async fn delete_session(&self, address: &str) -> Result<()> {
        self.with(|s| {
            s.sessions.remove(address);
        })
    }
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        self.with(|s| {
            s.sessions
                .keys()
                .chain(s.identities.keys())
                .any(|a| user_of(a) == user)
        })
    }
    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.with(|s| {
            drop(
                s.prekeys
                    .insert(id, (Bytes::copy_from_slice(record), uploaded)),
            )
        })
    }
    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        self.with(|s| s.prekeys.get(&id).map(|(r, _)| r.clone()))
    }
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        self.with(|s| {
            for id in ids {
                if let Some((_, uploaded)) = s.prekeys.get_mut(id) {
                    *uploaded = true;
                }
            }
        })
    }
    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.with(|s| {
            s.prekeys.remove(&id);
        })
    }
    async fn get_max_prekey_id(&self) -> Result<u32> {
        self.with(|s| s.prekeys.keys().next_back().copied().unwrap_or(0))
    }
    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.with(|s| {
            s.signed_prekeys.insert(id, record.to_vec());
        })
    }
    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.with(|s| s.signed_prekeys.get(&id).cloned())
    }
    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        self.with(|s| {
            s.signed_prekeys
                .iter()
                .map(|(k, v)| (*k, v.clone()))
                .collect()
        })
    }
    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.with(|s| {
            s.signed_prekeys.remove(&id);
        })
    }
    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.with(|s| {
            s.sender_keys.insert(address.into(), record.to_vec());
        })
    }
    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.with(|s| s.sender_keys.get(address).cloned())
    }
    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.with(|s| {
            s.sender_keys.remove(address);
        })
    }
}

#[async_trait]
impl AppSyncStore for BTreeStore {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.with(|s| s.sync_keys.get(key_id).cloned())
    }
    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        self.with(|s| {
            s.sync_keys.insert(key_id.to_vec(), key);
            s.latest_sync_key = Some(key_id.to_vec());
        })
    }
    async fn get_version(&self, name: &str) -> Result<HashState> {
        self.with(|s| s.versions.get(name).cloned().unwrap_or_default())
    }
    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        self.with(|s| {
            s.versions.insert(name.into(), state);
        })
    }
    async fn put_mutation_macs(
        &self,
        name: &str,
        _version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        self.with(|s| {
            for m in mutations {
                s.macs
                    .insert((name.into(), m.index_mac.clone()), m.value_mac.clone());
            }
        })
    }
    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        self.with(|s| s.macs.get(&(name.to_owned(), index_mac.to_vec())).cloned())
    }
    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        self.with(|s| {
            for m in index_macs {
                s.macs.remove(&(name.to_owned(), m.clone()));
            }
        })
    }
    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.with(|s| s.macs.retain(|(n, _), _| n != name))
    }
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        self.with(|s| s.latest_sync_key.clone())
    }
}

#[async_trait]
impl ProtocolStore for BTreeStore {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        self.with(|s| {
            s.sender_key_devices
                .iter()
                .filter(|((g, _), _)| g == group_jid)
                .map(|((_, d), has)| (d.clone(), *has))
                .collect()
        })
    }
    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        self.with(|s| {
            for (device, has) in entries {
                s.sender_key_devices
                    .insert((group_jid.into(), (*device).into()), *has);
            }
        })
    }
    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.with(|s| s.sender_key_devices.retain(|(g, _), _| g != group_jid))
    }
    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        self.with(|s| {
            s.sender_key_devices
                .retain(|(_, d), _| !device_jids.contains(&d.as_str()))
        })
    }
    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.with(|s| s.sender_key_devices.clear())
    }
    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.with(|s| s.lid_mappings.get(lid).cloned())
    }
    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.with(|s| {
            s.lid_mappings
                .values()
                .filter(|m| m.phone_number == phone)
                .max_by_key(|m| m.updated_at)
                .cloned()
        })
    }
    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.with(|s| {
            // created_at is when the mapping was first learned: keep it.
            let created_at = s
                .lid_mappings
                .get(&entry.lid)
                .map_or(entry.created_at, |first| first.created_at);
            let entry = LidPnMappingEntry {
                created_at,
                ..entry.clone()
            };
            s.lid_mappings.insert(entry.lid.clone(), entry);
        })
    }
    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.with(|s| s.lid_mappings.values().cloned().collect())
    }
    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.with(|s| {
            drop(
                s.base_keys
                    .insert((address.into(), message_id.into()), base_key.to_vec()),
            )
        })
    }
    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current: &[u8],
    ) -> Result<bool> {
        self.with(|s| {
            s.base_keys
                .get(&(address.into(), message_id.into()))
                .is_some_and(|k| k == current)
        })
    }
    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.with(|s| {
            s.base_keys.remove(&(address.into(), message_id.into()));
        })
    }
    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.with(|s| {
            s.device_lists.insert(record.user.clone(), record);
        })
    }
    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.with(|s| s.device_lists.get(user).cloned())
    }
    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.with(|s| {
            s.device_lists.remove(user);
        })
    }
    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.with(|s| s.tc_tokens.get(jid).cloned())
    }
    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.with(|s| {
            s.tc_tokens.insert(jid.into(), entry.clone());
        })
    }
    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.with(|s| {
            s.tc_tokens.remove(jid);
        })
    }
    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        self.with(|s| s.tc_tokens.keys().cloned().collect())
    }
    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        self.with(|s| {
            let before = s.tc_tokens.len();
            s.tc_tokens.retain(|_, e| {
                (!e.token.is_empty() && e.token_timestamp >= token_cutoff)
                    || e.sender_timestamp.is_some_and(|t| t >= sender_cutoff)
            });
            (before - s.tc_tokens.len()) as u32
        })
    }
    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        self.with(|s| {
            let e = s.tc_tokens.entry(jid.into()).or_insert(TcTokenEntry {
                token: Vec::new(),
                token_timestamp: sender_timestamp,
                sender_timestamp: None,
            });
            e.sender_timestamp = Some(
                e.sender_timestamp
                    .map_or(sender_timestamp, |t| t.max(sender_timestamp)),
            );
        })
    }
    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        self.with(|s| match s.tc_tokens.get_mut(jid) {
            Some(e) if !e.token.is_empty() && token_timestamp < e.token_timestamp => {}
            Some(e) => {
                e.token = token.to_vec();
                e.token_timestamp = token_timestamp;
            }
            None => {
                s.tc_tokens.insert(
                    jid.into(),
                    TcTokenEntry {
                        token: token.to_vec(),
                        token_timestamp,
                        sender_timestamp: None,
                    },
                );
            }
        })
    }
    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        let now = wacore::time::now_secs();
        self.with(|s| {
            drop(s.sent.insert(
                (chat_jid.into(), message_id.into()),
                (now, payload.to_vec()),
            ))
        })
    }
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.with(|s| {
            s.sent
                .remove(&(chat_jid.into(), message_id.into()))
                .map(|(_, p)| p)
        })
    }
    async fn delete_expired_sent_messages(&self, cutoff: i64) -> Result<u32> {
        self.with(|s| {
            let before = s.sent.len();
            s.sent.retain(|_, (ts, _)| *ts >= cutoff);
            (before - s.sent.len()) as u32
        })
    }
}

#[async_trait]
impl MsgSecretStore for BTreeStore {
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        self.with(|s| {
            let n = entries.len();
            for e in entries {
                let key = (
                    e.chat.to_string(),
                    e.sender.to_string(),
                    e.msg_id.to_string(),
                );
                let merged = match s.secrets.get(&key) {
                    Some((_, exp, ts)) => (
                        e.secret,
                        merge_msg_secret_expiry(*exp, e.expires_at),
                        merge_msg_secret_message_ts(*ts, e.message_ts),
                    ),
                    None => (e.secret, e.expires_at, e.message_ts),
                };
                s.secrets.insert(key, merged);
            }
            n
        })
    }
    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.with(|s| {
            s.secrets
                .get(&(chat.into(), sender.into(), msg_id.into()))
                .map(|(k, _, _)| k.to_vec())
        })
    }
    async fn delete_expired_msg_secrets(&self, cutoff: i64) -> Result<u32> {
        self.with(|s| {
            let before = s.secrets.len();
            s.secrets
                .retain(|_, (_, exp, _)| *exp == 0 || *exp > cutoff);
            (before - s.secrets.len()) as u32
        })
    }
}

#[async_trait]
impl DeviceStore for BTreeStore {
    async fn save(&self, device: &Device) -> Result<()> {
        self.with(|s| s.device = Some(device.clone()))
    }
    async fn load(&self) -> Result<Option<Device>> {
        self.with(|s| s.device.clone())
    }
    async fn exists(&self) -> Result<bool> {
        self.with(|s| s.device.is_some())
    }
    async fn create(&self) -> Result<i32> {
        self.with(|s| {
            s.device.get_or_insert_with(Device::new);
            1
        })
    }
}
