//! Owned, versioned on-disk records.
//!
//! wacore's serde types are never written with a positional encoding: each
//! value the engine stores has its own encoding here, field by field, behind a
//! version byte (see [`codec`]). A wacore upgrade that adds a field breaks the
//! build of a decoder (struct literals), never a file; a record version this
//! build does not know is a decode error, never a guess.

mod app_sync;
mod cache;
pub(crate) mod codec;
mod device;
mod msg_secret;
mod protocol;
mod signal;

pub(crate) use app_sync::MutationMacRecord;
pub(crate) use cache::{CacheEntryRecord, CacheUsageRecord};
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

type Check = fn(&[u8]) -> Result<(), Error>;

fn check<R: Record>(bytes: &[u8]) -> Result<(), Error> {
    R::decode(bytes).map(drop)
}

/// Every stored record type, by its `Record::NAME`.
const DECODERS: &[(&str, Check)] = {
    use wacore::appstate::hash::HashState;
    use wacore::store::traits::{
        AppStateSyncKey, DeviceListRecord, LidPnMappingEntry, TcTokenEntry,
    };
    &[
        (Blob::NAME, check::<Blob>),
        (Identity::NAME, check::<Identity>),
        (PreKeyRecord::NAME, check::<PreKeyRecord>),
        (AppStateSyncKey::NAME, check::<AppStateSyncKey>),
        (HashState::NAME, check::<HashState>),
        (MutationMacRecord::NAME, check::<MutationMacRecord>),
        (SenderKeyStatus::NAME, check::<SenderKeyStatus>),
        (LidPnMappingEntry::NAME, check::<LidPnMappingEntry>),
        (PnIndexRecord::NAME, check::<PnIndexRecord>),
        (DeviceListRecord::NAME, check::<DeviceListRecord>),
        (TcTokenEntry::NAME, check::<TcTokenEntry>),
        (StampedBlob::NAME, check::<StampedBlob>),
        (MsgSecretRecord::NAME, check::<MsgSecretRecord>),
        (DeviceRecord::NAME, check::<DeviceRecord>),
        (CacheEntryRecord::NAME, check::<CacheEntryRecord>),
        (CacheUsageRecord::NAME, check::<CacheUsageRecord>),
    ]
};

/// Decodes an arbitrary byte string as the named record type and discards it.
/// Exists for fuzzing and tests: it must return an error, never panic.
pub fn decode_any(record: &str, bytes: &[u8]) -> Result<(), crate::Error> {
    match DECODERS.iter().find(|(name, _)| *name == record) {
        Some((_, decode)) => decode(bytes),
        None => Err(Error::InvalidInput(format!(
            "unknown record type {record:?}"
        ))),
    }
}

/// Every record type name [`decode_any`] accepts.
pub fn record_types() -> impl Iterator<Item = &'static str> {
    DECODERS.iter().map(|(name, _)| *name)
}
