//! Rows from and to the trait's own types, written once for every side that
//! needs them: the engine's export and the lab's SQLite source build rows
//! from wacore's types; `import` and `verify` turn rows back into them.

use std::collections::{BTreeMap, HashMap};

use wacore::appstate::hash::HashState;
use wacore::store::error::StoreError;
use wacore::store::traits::{
    AppStateSyncKey, DeviceInfo, DeviceListRecord, LidPnMappingEntry, TcTokenEntry,
};

use super::{Hex, ListedDevice, Row};

impl Row {
    /// The row of a sync key stored under `key_id`.
    pub fn from_sync_key(key_id: Vec<u8>, key: AppStateSyncKey) -> Row {
        Row::SyncKey {
            key_id: Hex(key_id),
            key_data: Hex(key.key_data),
            fingerprint: Hex(key.fingerprint),
            timestamp: key.timestamp,
        }
    }

    /// The row of a collection's app-state version.
    pub fn from_app_state_version(collection: String, state: HashState) -> Row {
        Row::AppStateVersion {
            collection,
            version: state.version,
            hash: Hex(state.hash.to_vec()),
            index_value_map: state
                .index_value_map
                .into_iter()
                .map(|(k, v)| (k, Hex(v)))
                .collect(),
            mac_mismatch_fatal: state.mac_mismatch_fatal,
        }
    }

    /// The row of a LID-PN mapping.
    pub fn from_lid_mapping(entry: LidPnMappingEntry) -> Row {
        Row::LidMapping {
            lid: entry.lid,
            phone_number: entry.phone_number,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
            learning_source: entry.learning_source,
        }
    }

    /// The row of a user's device list.
    pub fn from_device_list(record: DeviceListRecord) -> Row {
        Row::DeviceList {
            user: record.user,
            devices: record
                .devices
                .into_iter()
                .map(|d| ListedDevice {
                    device_id: d.device_id,
                    key_index: d.key_index,
                    is_hosted: d.is_hosted,
                })
                .collect(),
            timestamp: record.timestamp,
            phash: record.phash,
            raw_id: record.raw_id,
        }
    }

    /// The row of a tc-token stored under `jid`.
    pub fn from_tc_token(jid: String, entry: TcTokenEntry) -> Row {
        Row::TcToken {
            jid,
            token: Hex(entry.token),
            token_timestamp: entry.token_timestamp,
            sender_timestamp: entry.sender_timestamp,
        }
    }
}

pub(super) fn invalid(what: &str) -> StoreError {
    StoreError::Validation(what.to_owned())
}

/// Bytes of a fixed length, or a validation error naming `what`.
pub(super) fn array<const N: usize>(bytes: &Hex, what: &str) -> Result<[u8; N], StoreError> {
    bytes
        .0
        .as_slice()
        .try_into()
        .map_err(|_| invalid(&format!("{what}: {} bytes, expected {N}", bytes.0.len())))
}

/// The `HashState` of an app-state version row's fields.
pub(super) fn hash_state(
    version: u64,
    hash: &Hex,
    index_value_map: &BTreeMap<String, Hex>,
    mac_mismatch_fatal: bool,
) -> Result<HashState, StoreError> {
    Ok(HashState {
        version,
        hash: array(hash, "app_state_version hash")?,
        index_value_map: index_value_map
            .iter()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect::<HashMap<_, _>>(),
        mac_mismatch_fatal,
    })
}

/// The `DeviceListRecord` of a device-list row's fields.
pub(super) fn device_list(
    user: &str,
    devices: &[ListedDevice],
    timestamp: i64,
    phash: &Option<String>,
    raw_id: Option<u32>,
) -> DeviceListRecord {
    DeviceListRecord {
        user: user.to_owned(),
        devices: devices
            .iter()
            .map(|d| DeviceInfo {
                device_id: d.device_id,
                key_index: d.key_index,
                is_hosted: d.is_hosted,
            })
            .collect(),
        timestamp,
        phash: phash.clone(),
        raw_id,
    }
}
