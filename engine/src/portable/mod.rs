//! The portable form of a store: every row of every account as a typed,
//! self-describing value ([`Row`]), written as a versioned stream of JSON
//! lines ([`StreamWriter`], [`StreamReader`]).
//!
//! It moves a store between backends: [`RedbStore::export_rows`] reads every
//! row of a redb file in one snapshot; [`import`] writes rows into any
//! [`Backend`](wacore::store::traits::Backend) through the trait's batch
//! methods; [`verify`] reads a row's key back through the trait and says
//! whether the store holds that value. The lab's `export`, `import`,
//! `migrate` (from SqliteStore) and `inspect --rows` are built on it.
//!
//! What the format does not carry, and why:
//! - the phone-number index of LID mappings: derived, rebuilt by the
//!   importer's `put_lid_mappings` (rows are exported in write order, so
//!   ties on `updated_at` resolve as before);
//! - the cache store's tables: a cache, not state;
//! - `stored_at` of sent messages and pending inbound rows is exported, but
//!   the trait cannot set it: an importer stamps its own clock, which only
//!   delays their expiry.
//!
//! The device row carries the engine's own versioned device record (hex),
//! not wacore's serde form (which skips fields and has no stable layout);
//! [`device_summary`] decodes a few of its fields for people.
//!
//! [`RedbStore::export_rows`]: crate::RedbStore::export_rows

mod convert;
mod export;
mod hex;
mod import;
mod stream;

use serde::{Deserialize, Serialize};

pub use export::{device_of, device_row, device_summary, tables};
pub use hex::Hex;
pub use import::{ImportCounts, Verdict, import, verify};
pub use stream::{FORMAT_NAME, FORMAT_VERSION, StreamError, StreamReader, StreamWriter};

/// One row of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// The account (device id) the row belongs to.
    pub account: i32,
    /// The row, tagged with its table (`"table": "session"`).
    #[serde(flatten)]
    pub row: Row,
}

/// One row of one table, as the store traits see it. The variant names are
/// the engine's table names (`session`, `mutation_mac`, ...), so `inspect`
/// filters and stream lines use the same words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "table", rename_all = "snake_case")]
#[allow(missing_docs)] // fields are named as the trait methods' arguments
pub enum Row {
    /// The account's device: the engine's device record, format v1.
    Device {
        record: Hex,
    },
    Identity {
        address: String,
        key: Hex,
    },
    Session {
        address: String,
        record: Hex,
    },
    Prekey {
        id: u32,
        record: Hex,
        uploaded: bool,
    },
    SignedPrekey {
        id: u32,
        record: Hex,
    },
    SenderKey {
        address: String,
        record: Hex,
    },
    SyncKey {
        key_id: Hex,
        key_data: Hex,
        fingerprint: Hex,
        timestamp: i64,
    },
    /// The key id `get_latest_sync_key_id` answers.
    LatestSyncKey {
        key_id: Hex,
    },
    AppStateVersion {
        collection: String,
        version: u64,
        hash: Hex,
        index_value_map: std::collections::BTreeMap<String, Hex>,
        mac_mismatch_fatal: bool,
    },
    MutationMac {
        collection: String,
        index_mac: Hex,
        value_mac: Hex,
        patch_version: u64,
    },
    SenderKeyDevice {
        group: String,
        device_jid: String,
        has_key: bool,
    },
    LidMapping {
        lid: String,
        phone_number: String,
        created_at: i64,
        updated_at: i64,
        learning_source: String,
    },
    BaseKey {
        address: String,
        message_id: String,
        base_key: Hex,
    },
    DeviceList {
        user: String,
        devices: Vec<ListedDevice>,
        timestamp: i64,
        phash: Option<String>,
        raw_id: Option<u32>,
    },
    GroupMetadata {
        group: String,
        blob: Hex,
    },
    TcToken {
        jid: String,
        token: Hex,
        token_timestamp: i64,
        sender_timestamp: Option<i64>,
    },
    SentMessage {
        chat: String,
        message_id: String,
        payload: Hex,
        stored_at: i64,
    },
    PendingInbound {
        chat: String,
        sender: String,
        id: String,
        message: Hex,
        stored_at: i64,
    },
    MsgSecret {
        chat: String,
        sender: String,
        msg_id: String,
        secret: Hex,
        expires_at: i64,
        message_ts: i64,
    },
}

/// One device of a [`Row::DeviceList`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ListedDevice {
    pub device_id: u32,
    pub key_index: Option<u32>,
    pub is_hosted: bool,
}

/// Fields of a device record for people reading a dump
/// ([`device_summary`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct DeviceSummary {
    pub pn: Option<String>,
    pub lid: Option<String>,
    pub push_name: String,
    pub registration_id: u32,
}

impl Row {
    /// The table the row belongs to (`session`, `mutation_mac`, ...).
    pub fn table(&self) -> &'static str {
        match self {
            Row::Device { .. } => "device",
            Row::Identity { .. } => "identity",
            Row::Session { .. } => "session",
            Row::Prekey { .. } => "prekey",
            Row::SignedPrekey { .. } => "signed_prekey",
            Row::SenderKey { .. } => "sender_key",
            Row::SyncKey { .. } => "sync_key",
            Row::LatestSyncKey { .. } => "latest_sync_key",
            Row::AppStateVersion { .. } => "app_state_version",
            Row::MutationMac { .. } => "mutation_mac",
            Row::SenderKeyDevice { .. } => "sender_key_device",
            Row::LidMapping { .. } => "lid_mapping",
            Row::BaseKey { .. } => "base_key",
            Row::DeviceList { .. } => "device_list",
            Row::GroupMetadata { .. } => "group_metadata",
            Row::TcToken { .. } => "tc_token",
            Row::SentMessage { .. } => "sent_message",
            Row::PendingInbound { .. } => "pending_inbound",
            Row::MsgSecret { .. } => "msg_secret",
        }
    }

    /// The row's key as text, for prefix filters and reports: the first key
    /// component as stored (hex for byte keys, decimal for ids), further
    /// components joined with `/`. The device row's key is empty.
    pub fn key_text(&self) -> String {
        match self {
            Row::Device { .. } | Row::LatestSyncKey { .. } => String::new(),
            Row::Identity { address, .. }
            | Row::Session { address, .. }
            | Row::SenderKey { address, .. } => address.clone(),
            Row::Prekey { id, .. } | Row::SignedPrekey { id, .. } => id.to_string(),
            Row::SyncKey { key_id, .. } => key_id.to_string(),
            Row::AppStateVersion { collection, .. } => collection.clone(),
            Row::MutationMac {
                collection,
                index_mac,
                ..
            } => format!("{collection}/{index_mac}"),
            Row::SenderKeyDevice {
                group, device_jid, ..
            } => format!("{group}/{device_jid}"),
            Row::LidMapping { lid, .. } => lid.clone(),
            Row::BaseKey {
                address,
                message_id,
                ..
            } => format!("{address}/{message_id}"),
            Row::DeviceList { user, .. } => user.clone(),
            Row::GroupMetadata { group, .. } => group.clone(),
            Row::TcToken { jid, .. } => jid.clone(),
            Row::SentMessage {
                chat, message_id, ..
            } => format!("{chat}/{message_id}"),
            Row::PendingInbound {
                chat, sender, id, ..
            } => format!("{chat}/{sender}/{id}"),
            Row::MsgSecret {
                chat,
                sender,
                msg_id,
                ..
            } => format!("{chat}/{sender}/{msg_id}"),
        }
    }
}
