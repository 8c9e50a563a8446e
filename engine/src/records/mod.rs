//! Owned, versioned on-disk records.
//!
//! wacore's serde types are never written with a positional encoding: each
//! value the engine stores has its own encoding here, field by field, behind a
//! version byte (see [`codec`]). A wacore upgrade that adds a field breaks the
//! build of a decoder (struct literals), never a file; a record version this
//! build does not know is a decode error, never a guess.

mod app_sync;
pub(crate) mod codec;
mod device;
mod msg_secret;
mod protocol;
mod signal;

pub(crate) use app_sync::MutationMacRecord;
pub(crate) use device::DeviceRecord;
pub(crate) use msg_secret::MsgSecretRecord;
pub(crate) use protocol::{PnIndexRecord, SenderKeyStatus, StampedBlob};
pub(crate) use signal::{Blob, Identity, PreKeyRecord};

use crate::error::Error;

/// A value type stored in one table.
pub(crate) trait Record: Sized {
    /// Names the record in decode errors.
    const NAME: &'static str;
    /// Encodes the value, version byte first.
    fn encode(&self) -> Vec<u8>;
    /// Decodes a value; any malformed input is an error.
    fn decode(bytes: &[u8]) -> Result<Self, Error>;
}

/// Decodes an arbitrary byte string as the named record type and discards it.
/// Exists for fuzzing and tests: it must return an error, never panic.
pub fn decode_any(record: &str, bytes: &[u8]) -> Result<(), crate::Error> {
    use wacore::appstate::hash::HashState;
    use wacore::store::traits::{
        AppStateSyncKey, DeviceListRecord, LidPnMappingEntry, TcTokenEntry,
    };
    fn check<R: Record>(bytes: &[u8]) -> Result<(), Error> {
        R::decode(bytes).map(drop)
    }
    match record {
        "blob" => check::<Blob>(bytes),
        "identity" => check::<Identity>(bytes),
        "prekey" => check::<PreKeyRecord>(bytes),
        "sync_key" => check::<AppStateSyncKey>(bytes),
        "hash_state" => check::<HashState>(bytes),
        "mutation_mac" => check::<MutationMacRecord>(bytes),
        "sender_key_status" => check::<SenderKeyStatus>(bytes),
        "lid_mapping" => check::<LidPnMappingEntry>(bytes),
        "pn_index" => check::<PnIndexRecord>(bytes),
        "device_list" => check::<DeviceListRecord>(bytes),
        "tc_token" => check::<TcTokenEntry>(bytes),
        "stamped_blob" => check::<StampedBlob>(bytes),
        "msg_secret" => check::<MsgSecretRecord>(bytes),
        "device" => check::<DeviceRecord>(bytes),
        other => Err(Error::InvalidInput(format!(
            "unknown record type {other:?}"
        ))),
    }
}

/// Every record type name [`decode_any`] accepts.
pub const RECORD_TYPES: &[&str] = &[
    "blob",
    "identity",
    "prekey",
    "sync_key",
    "hash_state",
    "mutation_mac",
    "sender_key_status",
    "lid_mapping",
    "pn_index",
    "device_list",
    "tc_token",
    "stamped_blob",
    "msg_secret",
    "device",
];
