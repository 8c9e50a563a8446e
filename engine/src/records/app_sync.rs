//! Records of the app-state sync domain: sync keys, collection versions, mutation MACs.

use std::collections::HashMap;

use wacore::appstate::hash::HashState;
use wacore::store::traits::AppStateSyncKey;

use super::Record;
use super::codec::{Decoder, Encoder};
use crate::error::Error;

/// Format (v1): `version=1, key_data: bytes, fingerprint: bytes, timestamp: i64`
impl Record for AppStateSyncKey {
    const NAME: &'static str = "sync_key";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, self.key_data.len() + self.fingerprint.len() + 12)
            .bytes(&self.key_data)
            .bytes(&self.fingerprint)
            .i64(self.timestamp)
            .finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let key = AppStateSyncKey {
            key_data: d.bytes()?.to_vec(),
            fingerprint: d.bytes()?.to_vec(),
            timestamp: d.i64()?,
        };
        d.finish()?;
        Ok(key)
    }
}

/// Format (v1): `version=1, version: u64, hash: [u8; 128], mac_mismatch_fatal: bool,
/// entries: u64 count, then count x (index: str, value: bytes)` with entries
/// sorted by index so equal states encode to equal bytes.
impl Record for HashState {
    const NAME: &'static str = "hash_state";
    fn encode(&self) -> Vec<u8> {
        let mut entries: Vec<_> = self.index_value_map.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut e = Encoder::new(1, 160 + entries.len() * 64)
            .u64(self.version)
            .array(&self.hash)
            .bool(self.mac_mismatch_fatal)
            .u64(entries.len() as u64);
        for (index, value) in entries {
            e = e.str(index).bytes(value);
        }
        e.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let version = d.u64()?;
        let hash = d.array::<128>()?;
        let mac_mismatch_fatal = d.bool()?;
        let count = d.u64()?;
        // Each entry takes at least two bytes, so a huge count is corruption,
        // not a reason to reserve gigabytes.
        let mut index_value_map = HashMap::with_capacity((count as usize).min(bytes.len() / 2));
        for _ in 0..count {
            let index = d.str()?.to_owned();
            let value = d.bytes()?.to_vec();
            index_value_map.insert(index, value);
        }
        d.finish()?;
        Ok(HashState {
            version,
            hash,
            index_value_map,
            mac_mismatch_fatal,
        })
    }
}

/// One mutation MAC of a collection.
///
/// Format (v1): `version=1, patch_version: u64, value_mac: rest`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MutationMacRecord {
    pub patch_version: u64,
    pub value_mac: Vec<u8>,
}

impl MutationMacRecord {
    pub(crate) fn encode_parts(patch_version: u64, value_mac: &[u8]) -> Vec<u8> {
        Encoder::new(1, value_mac.len() + 10)
            .u64(patch_version)
            .rest(value_mac)
    }
}

impl Record for MutationMacRecord {
    const NAME: &'static str = "mutation_mac";
    fn encode(&self) -> Vec<u8> {
        MutationMacRecord::encode_parts(self.patch_version, &self.value_mac)
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let patch_version = d.u64()?;
        Ok(MutationMacRecord {
            patch_version,
            value_mac: d.rest().to_vec(),
        })
    }
}
