//! [`Recording`]: a `Backend` wrapper that notes which trait methods were
//! called. The kit uses it to prove every method is exercised; a backend
//! author can use it to see what a workload calls.
//!
//! Every method forwards explicitly (generated once by
//! `ci/gen/forwarding.py`; `ci/check_overrides.py` keeps it complete): a
//! method left to its trait default would silently change behaviour.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::Result;
use wacore::store::traits::{
    AppStateSyncKey, AppSyncStore, Backend, DeviceListRecord, DeviceStore, LidPnMappingEntry,
    MsgSecretEntry, MsgSecretStore, PendingInboundKey, PendingInboundRow, ProtocolStore,
    SignalStore, TcTokenEntry,
};

/// Every method of the five store traits of wacore 0.7.0 (checked against
/// wacore's sources by `ci/check_overrides.py`).
pub const TRAIT_METHODS: &[&str] = &[
    "put_identity",
    "put_identities_batch",
    "load_identity",
    "delete_identity",
    "get_session",
    "put_session",
    "put_sessions_batch",
    "delete_session",
    "has_session",
    "has_signal_state_for_user",
    "store_prekey",
    "store_prekeys_batch",
    "load_prekey",
    "load_prekeys_batch",
    "mark_prekeys_uploaded",
    "remove_prekey",
    "get_max_prekey_id",
    "store_signed_prekey",
    "load_signed_prekey",
    "load_all_signed_prekeys",
    "remove_signed_prekey",
    "put_sender_key",
    "put_sender_keys_batch",
    "get_sender_key",
    "delete_sender_key",
    "get_sync_key",
    "set_sync_key",
    "get_version",
    "set_version",
    "put_mutation_macs",
    "get_mutation_mac",
    "get_mutation_macs",
    "delete_mutation_macs",
    "clear_mutation_macs",
    "get_latest_sync_key_id",
    "get_sender_key_devices",
    "set_sender_key_status",
    "clear_sender_key_devices",
    "delete_sender_key_device_rows",
    "clear_all_sender_key_devices",
    "get_lid_mapping",
    "get_pn_mapping",
    "put_lid_mapping",
    "put_lid_mappings",
    "get_all_lid_mappings",
    "save_base_key",
    "has_same_base_key",
    "delete_base_key",
    "update_device_list",
    "update_device_lists",
    "get_devices",
    "delete_devices",
    "get_group_metadata",
    "put_group_metadata",
    "delete_group_metadata",
    "get_tc_token",
    "put_tc_token",
    "delete_tc_token",
    "get_all_tc_token_jids",
    "delete_expired_tc_tokens",
    "touch_tc_token_sender_timestamp",
    "store_received_tc_token",
    "store_sent_message",
    "take_sent_message",
    "delete_expired_sent_messages",
    "store_pending_inbound",
    "get_pending_inbound",
    "delete_pending_inbound",
    "delete_expired_pending_inbound",
    "store_pending_inbound_batch",
    "delete_pending_inbound_batch",
    "save",
    "load",
    "exists",
    "create",
    "snapshot_db",
    "resource_report",
    "put_msg_secret",
    "put_msg_secrets",
    "get_msg_secret",
    "get_msg_secret_with_ts",
    "delete_expired_msg_secrets",
];

/// Forwards every call to `inner` and records the method names.
pub struct Recording {
    inner: Arc<dyn Backend>,
    seen: Arc<Mutex<BTreeSet<&'static str>>>,
}

impl Recording {
    /// Wraps `inner`; calls are recorded into `seen` (shared, so several
    /// wrapped stores can feed one set).
    pub fn new(inner: Arc<dyn Backend>, seen: Arc<Mutex<BTreeSet<&'static str>>>) -> Self {
        Recording { inner, seen }
    }

    fn note(&self, method: &'static str) {
        self.seen.lock().expect("recording lock").insert(method);
    }
}

#[async_trait]
impl SignalStore for Recording {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.note("put_identity");
        self.inner.put_identity(address, key).await
    }
    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        self.note("put_identities_batch");
        self.inner.put_identities_batch(identities).await
    }
    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        self.note("load_identity");
        self.inner.load_identity(address).await
    }
    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.note("delete_identity");
        self.inner.delete_identity(address).await
    }
    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        self.note("get_session");
        self.inner.get_session(address).await
    }
    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.note("put_session");
        self.inner.put_session(address, session).await
    }
    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.note("put_sessions_batch");
        self.inner.put_sessions_batch(sessions).await
    }
    async fn delete_session(&self, address: &str) -> Result<()> {
        self.note("delete_session");
        self.inner.delete_session(address).await
    }
    async fn has_session(&self, address: &str) -> Result<bool> {
        self.note("has_session");
        self.inner.has_session(address).await
    }
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        self.note("has_signal_state_for_user");
        self.inner.has_signal_state_for_user(user).await
    }
    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.note("store_prekey");
        self.inner.store_prekey(id, record, uploaded).await
    }
    async fn store_prekeys_batch(&self, keys: &[(u32, Bytes)], uploaded: bool) -> Result<()> {
        self.note("store_prekeys_batch");
        self.inner.store_prekeys_batch(keys, uploaded).await
    }
    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        self.note("load_prekey");
        self.inner.load_prekey(id).await
    }
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        self.note("load_prekeys_batch");
        self.inner.load_prekeys_batch(ids).await
    }
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        self.note("mark_prekeys_uploaded");
        self.inner.mark_prekeys_uploaded(ids).await
    }
    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.note("remove_prekey");
        self.inner.remove_prekey(id).await
    }
    async fn get_max_prekey_id(&self) -> Result<u32> {
        self.note("get_max_prekey_id");
        self.inner.get_max_prekey_id().await
    }
    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.note("store_signed_prekey");
        self.inner.store_signed_prekey(id, record).await
    }
    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.note("load_signed_prekey");
        self.inner.load_signed_prekey(id).await
    }
    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        self.note("load_all_signed_prekeys");
        self.inner.load_all_signed_prekeys().await
    }
    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.note("remove_signed_prekey");
        self.inner.remove_signed_prekey(id).await
    }
    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.note("put_sender_key");
        self.inner.put_sender_key(address, record).await
    }
    async fn put_sender_keys_batch(&self, sender_keys: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.note("put_sender_keys_batch");
        self.inner.put_sender_keys_batch(sender_keys).await
    }
    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.note("get_sender_key");
        self.inner.get_sender_key(address).await
    }
    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.note("delete_sender_key");
        self.inner.delete_sender_key(address).await
    }
}

#[async_trait]
impl AppSyncStore for Recording {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.note("get_sync_key");
        self.inner.get_sync_key(key_id).await
    }
    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        self.note("set_sync_key");
        self.inner.set_sync_key(key_id, key).await
    }
    async fn get_version(&self, name: &str) -> Result<HashState> {
        self.note("get_version");
        self.inner.get_version(name).await
    }
    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        self.note("set_version");
        self.inner.set_version(name, state).await
    }
    async fn put_mutation_macs(
        &self,
        name: &str,
        version: u64,
        mutations: &[AppStateMutationMAC],
    ) -> Result<()> {
        self.note("put_mutation_macs");
        self.inner.put_mutation_macs(name, version, mutations).await
    }
    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        self.note("get_mutation_mac");
        self.inner.get_mutation_mac(name, index_mac).await
    }
    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<std::collections::HashMap<[u8; 32], Vec<u8>>> {
        self.note("get_mutation_macs");
        self.inner.get_mutation_macs(name, index_macs).await
    }
    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        self.note("delete_mutation_macs");
        self.inner.delete_mutation_macs(name, index_macs).await
    }
    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.note("clear_mutation_macs");
        self.inner.clear_mutation_macs(name).await
    }
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        self.note("get_latest_sync_key_id");
        self.inner.get_latest_sync_key_id().await
    }
}

#[async_trait]
impl ProtocolStore for Recording {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        self.note("get_sender_key_devices");
        self.inner.get_sender_key_devices(group_jid).await
    }
    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        self.note("set_sender_key_status");
        self.inner.set_sender_key_status(group_jid, entries).await
    }
    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        self.note("clear_sender_key_devices");
        self.inner.clear_sender_key_devices(group_jid).await
    }
    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        self.note("delete_sender_key_device_rows");
        self.inner.delete_sender_key_device_rows(device_jids).await
    }
    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.note("clear_all_sender_key_devices");
        self.inner.clear_all_sender_key_devices().await
    }
    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.note("get_lid_mapping");
        self.inner.get_lid_mapping(lid).await
    }
    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        self.note("get_pn_mapping");
        self.inner.get_pn_mapping(phone).await
    }
    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        self.note("put_lid_mapping");
        self.inner.put_lid_mapping(entry).await
    }
    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        self.note("put_lid_mappings");
        self.inner.put_lid_mappings(entries).await
    }
    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.note("get_all_lid_mappings");
        self.inner.get_all_lid_mappings().await
    }
    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.note("save_base_key");
        self.inner
            .save_base_key(address, message_id, base_key)
            .await
    }
    async fn has_same_base_key(
        &self,
        address: &str,
        message_id: &str,
        current_base_key: &[u8],
    ) -> Result<bool> {
        self.note("has_same_base_key");
        self.inner
            .has_same_base_key(address, message_id, current_base_key)
            .await
    }
    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.note("delete_base_key");
        self.inner.delete_base_key(address, message_id).await
    }
    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.note("update_device_list");
        self.inner.update_device_list(record).await
    }
    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        self.note("update_device_lists");
        self.inner.update_device_lists(records).await
    }
    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.note("get_devices");
        self.inner.get_devices(user).await
    }
    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.note("delete_devices");
        self.inner.delete_devices(user).await
    }
    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        self.note("get_group_metadata");
        self.inner.get_group_metadata(group_jid).await
    }
    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        self.note("put_group_metadata");
        self.inner.put_group_metadata(group_jid, blob).await
    }
    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.note("delete_group_metadata");
        self.inner.delete_group_metadata(group_jid).await
    }
    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.note("get_tc_token");
        self.inner.get_tc_token(jid).await
    }
    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        self.note("put_tc_token");
        self.inner.put_tc_token(jid, entry).await
    }
    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.note("delete_tc_token");
        self.inner.delete_tc_token(jid).await
    }
    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        self.note("get_all_tc_token_jids");
        self.inner.get_all_tc_token_jids().await
    }
    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        self.note("delete_expired_tc_tokens");
        self.inner
            .delete_expired_tc_tokens(token_cutoff, sender_cutoff)
            .await
    }
    async fn touch_tc_token_sender_timestamp(
        &self,
        jid: &str,
        sender_timestamp: i64,
    ) -> Result<()> {
        self.note("touch_tc_token_sender_timestamp");
        self.inner
            .touch_tc_token_sender_timestamp(jid, sender_timestamp)
            .await
    }
    async fn store_received_tc_token(
        &self,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
    ) -> Result<()> {
        self.note("store_received_tc_token");
        self.inner
            .store_received_tc_token(jid, token, token_timestamp)
            .await
    }
    async fn store_sent_message(
        &self,
        chat_jid: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<()> {
        self.note("store_sent_message");
        self.inner
            .store_sent_message(chat_jid, message_id, payload)
            .await
    }
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.note("take_sent_message");
        self.inner.take_sent_message(chat_jid, message_id).await
    }
    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.note("delete_expired_sent_messages");
        self.inner
            .delete_expired_sent_messages(cutoff_timestamp)
            .await
    }
    async fn store_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
        message: &[u8],
    ) -> Result<()> {
        self.note("store_pending_inbound");
        self.inner
            .store_pending_inbound(chat, sender, id, message)
            .await
    }
    async fn get_pending_inbound(
        &self,
        chat: &str,
        sender: &str,
        id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.note("get_pending_inbound");
        self.inner.get_pending_inbound(chat, sender, id).await
    }
    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.note("delete_pending_inbound");
        self.inner.delete_pending_inbound(chat, sender, id).await
    }
    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.note("delete_expired_pending_inbound");
        self.inner
            .delete_expired_pending_inbound(cutoff_timestamp)
            .await
    }
    async fn store_pending_inbound_batch(&self, rows: &[PendingInboundRow<'_>]) -> Result<()> {
        self.note("store_pending_inbound_batch");
        self.inner.store_pending_inbound_batch(rows).await
    }
    async fn delete_pending_inbound_batch(&self, keys: &[PendingInboundKey<'_>]) -> Result<()> {
        self.note("delete_pending_inbound_batch");
        self.inner.delete_pending_inbound_batch(keys).await
    }
}

#[async_trait]
impl DeviceStore for Recording {
    async fn save(&self, device: &wacore::store::Device) -> Result<()> {
        self.note("save");
        self.inner.save(device).await
    }
    async fn load(&self) -> Result<Option<wacore::store::Device>> {
        self.note("load");
        self.inner.load().await
    }
    async fn exists(&self) -> Result<bool> {
        self.note("exists");
        self.inner.exists().await
    }
    async fn create(&self) -> Result<i32> {
        self.note("create");
        self.inner.create().await
    }
    async fn snapshot_db(&self, name: &str, extra_content: Option<&[u8]>) -> Result<()> {
        self.note("snapshot_db");
        self.inner.snapshot_db(name, extra_content).await
    }
    async fn resource_report(&self) -> wacore::stats::StorageResourceReport {
        self.note("resource_report");
        self.inner.resource_report().await
    }
}

#[async_trait]
impl MsgSecretStore for Recording {
    async fn put_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
        secret: &[u8; wacore::reporting_token::MESSAGE_SECRET_SIZE],
    ) -> Result<()> {
        self.note("put_msg_secret");
        self.inner
            .put_msg_secret(chat, sender, msg_id, secret)
            .await
    }
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        self.note("put_msg_secrets");
        self.inner.put_msg_secrets(entries).await
    }
    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        self.note("get_msg_secret");
        self.inner.get_msg_secret(chat, sender, msg_id).await
    }
    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        self.note("get_msg_secret_with_ts");
        self.inner
            .get_msg_secret_with_ts(chat, sender, msg_id)
            .await
    }
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.note("delete_expired_msg_secrets");
        self.inner
            .delete_expired_msg_secrets(cutoff_timestamp)
            .await
    }
}
